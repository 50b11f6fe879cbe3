package commands

import "github.com/evcrm/evcrm/domain/access"

// accessCatalogue declares the read log's command. It has no route and no
// role: the server records reads itself (api.Server.RecordRead), so no
// client can write or forge one over HTTP.
func accessCatalogue(*Dispatcher, Deps) Catalogue {
	return NewCatalogue[access.State](access.Category, "Read log", access.Commands(), []Spec{
		{Command: access.RecordRead{}},
	})
}
