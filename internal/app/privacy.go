package app

import (
	"context"

	"github.com/evcrm/evcrm/api"
	"github.com/evcrm/evcrm/internal/privacy"
)

// attachPrivacy wraps the event store in the privacy decorator when a
// master key is configured (EVCRM_PRIVACY_KEY_FILE or EVCRM_PRIVACY_KEY):
// personal fields are then encrypted per data subject before they are
// stored, and decrypted for the command handlers, projections and API.
// StoredEvents keeps the store as stored, for the audit log and the bus.
func (a *App) attachPrivacy(ctx context.Context) error {
	a.StoredEvents = a.Store
	p, err := privacy.Setup(ctx, a.Pool, a.Store, a.Config.Privacy.KeyFile, a.Config.Privacy.Key, a.Logger)
	if err != nil {
		return err
	}
	if p == nil {
		a.Logger.Warn("no privacy master key (EVCRM_PRIVACY_KEY_FILE): personal data is stored in plaintext and erasure cannot shred it")
		return nil
	}
	a.Privacy, a.Store = p, p
	return nil
}

// attachExport adds the right-of-access export (GET /v1/customers/{id}/export).
func (a *App) attachExport() error {
	return api.RegisterPrivacy(a.Server, api.PrivacyOptions{Exporter: privacy.Exporter{Pool: a.Pool, Store: a.Store}})
}

// openEvent decrypts the data of an event as the bus carries it.
func (a *App) openEvent() func(ctx context.Context, data []byte) ([]byte, error) {
	if a.Privacy == nil {
		return nil
	}
	return func(ctx context.Context, data []byte) ([]byte, error) { return a.Privacy.Open(ctx, data) }
}
