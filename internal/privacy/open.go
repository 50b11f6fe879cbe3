package privacy

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/evcrm/evcrm/eventstore"
)

// Setup loads the master keys (file, or inline text) and, when there are
// any, migrates the key tables and wraps inner in the privacy decorator.
// Without keys it returns nil: personal data is then stored in plaintext.
func Setup(ctx context.Context, pool *pgxpool.Pool, inner eventstore.Store, file, inline string, logger *slog.Logger) (*Store, error) {
	masters, err := LoadMasterKeys(file, inline)
	if err != nil || len(masters) == 0 {
		return nil, err
	}
	if err := Migrate(ctx, pool, logger); err != nil {
		return nil, err
	}
	keys, err := NewKeyring(pool, masters)
	if err != nil {
		return nil, err
	}
	return Wrap(inner, Config{Keyring: keys, Logger: logger})
}
