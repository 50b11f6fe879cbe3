package importer

import (
	"fmt"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/commands"
)

// RecordID is the evcrm ID of the record a row of kind k with this
// external ID becomes in tenant: the same on every run, different in every
// tenant (stream IDs are global). Each part is length-prefixed, so no two
// different triples give the same name.
func RecordID(tenant string, k Kind, externalID string) uuid.UUID {
	return uuid.NewSHA1(commands.Namespace, fmt.Appendf(nil, "import/record/%d:%s/%s/%d:%s", len(tenant), tenant, k, len(externalID), externalID))
}

// CommandID is the ID of the command a row sends in one of its steps
// ("register", "open", "resolve"...): the same on every run, so a repeated
// row finds its events and records nothing.
func CommandID(tenant string, k Kind, externalID, step string) uuid.UUID {
	return uuid.NewSHA1(commands.Namespace, fmt.Appendf(nil, "import/command/%d:%s/%s/%d:%s/%s", len(tenant), tenant, k, len(externalID), externalID, step))
}
