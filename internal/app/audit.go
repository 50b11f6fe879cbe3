package app

import (
	"context"

	"github.com/evcrm/evcrm/api"
	"github.com/evcrm/evcrm/audit"
	"github.com/evcrm/evcrm/audit/auditlog"
	"github.com/evcrm/evcrm/queries"
)

// attachAudit builds the transparency log (package audit): its tables,
// the builder that logs every event (a task), the checkpoints signed every
// EVCRM_AUDIT_CHECKPOINT_INTERVAL with the key kept outside the database
// (a task; none without a key), and the /v1/audit operations.
func (a *App) attachAudit(ctx context.Context) error {
	if err := auditlog.Migrate(ctx, a.Pool); err != nil {
		return err
	}
	signer, publicKey, err := audit.LoadKey(a.Config.Audit.KeyFile, a.Config.Audit.Key)
	if err != nil {
		return err
	}
	l, err := auditlog.New(auditlog.Config{Pool: a.Pool, Signer: signer, Logger: a.Logger})
	if err != nil {
		return err
	}
	a.Audit = l
	b, err := auditlog.NewBuilder(auditlog.BuilderConfig{Pool: a.Pool, Store: a.StoredEvents, Logger: a.Logger})
	if err != nil {
		return err
	}
	a.GoOnce("audit-log", b.Run)
	a.GoOnce("audit-checkpoints", func(ctx context.Context) error {
		return l.RunCheckpoints(ctx, a.Config.Audit.CheckpointInterval)
	})
	return api.RegisterAudit(a.Server, api.AuditOptions{Log: l, PublicKey: publicKey, BackdatedAfter: a.Config.Audit.BackdatedAfter,
		Queries: queries.New(a.Pool)})
}
