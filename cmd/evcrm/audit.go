package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"

	"github.com/evcrm/evcrm/audit"
	"github.com/evcrm/evcrm/audit/auditlog"
	"github.com/evcrm/evcrm/eventstore"
)

func init() {
	subcommands = append(subcommands, newAuditCmd)
	migrationSteps = append(migrationSteps, migrationStep{Name: "audit", Run: auditlog.Migrate})
}

func newAuditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "The transparency log: signing keys, checkpoints, verification (docs/audit.md)",
		Long: "Every recorded event is a leaf of an RFC 6962 Merkle tree; signed checkpoints of the tree\n" +
			"let an auditor check, without trusting the operator, that no event was changed, removed,\n" +
			"inserted or reordered. See docs/audit.md.",
	}
	cmd.AddCommand(newAuditKeygenCmd(), newAuditCheckpointCmd(), newAuditVerifyCmd())
	return cmd
}

func newAuditKeygenCmd() *cobra.Command {
	var name, out string
	cmd := &cobra.Command{
		Use:   "keygen",
		Short: "Create a checkpoint signing key (ed25519) and print its public key for auditors",
		Long: "Writes a new signing key to --out (mode 0600; never overwrites) and prints the public\n" +
			"verifier key on standard output. Point EVCRM_AUDIT_KEY_FILE at the file, keep it out of the\n" +
			"database and its backups, and give the public key to your auditors by another channel.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			skey, vkey, err := audit.GenerateKey(name)
			if err != nil {
				return fmt.Errorf("generating the key: %w", err)
			}
			f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return fmt.Errorf("writing the key: %w", err)
			}
			if _, err := fmt.Fprintln(f, skey); err != nil {
				f.Close()
				return fmt.Errorf("writing the key: %w", err)
			}
			if err := f.Close(); err != nil {
				return fmt.Errorf("writing the key: %w", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), vkey)
			fmt.Fprintf(cmd.ErrOrStderr(), "signing key written to %s; set EVCRM_AUDIT_KEY_FILE=%s. The line above is the public key for auditors.\n", out, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "evcrm-audit", "name of the log (the checkpoints' origin), e.g. crm.example.com/audit")
	cmd.Flags().StringVar(&out, "out", "evcrm-audit.key", "file to write the signing key to")
	return cmd
}

// withAuditLog opens the database, the event store and the transparency
// log (signing with the configured key, if any), for f.
func withAuditLog(ctx context.Context, f func(l *auditlog.Log, store eventstore.Store, publicKey string) error) error {
	signer, publicKey, err := audit.LoadKey(cfg.Audit.KeyFile, cfg.Audit.Key)
	if err != nil {
		return err
	}
	pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("connecting to the database: %w", err)
	}
	defer pool.Close()
	store, err := openEventStore(ctx, pool)
	if err != nil {
		return err
	}
	defer store.Close()
	l, err := auditlog.New(auditlog.Config{Pool: pool, Signer: signer, Logger: cfg.Logger()})
	if err != nil {
		return err
	}
	return f(l, store, publicKey)
}

func newAuditCheckpointCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "checkpoint",
		Short: "Bring the log up to date and sign a checkpoint now; print it (or write it to --out)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withAuditLog(cmd.Context(), func(l *auditlog.Log, store eventstore.Store, _ string) error {
				if l.Signer() == nil {
					return auditlog.ErrNoKey
				}
				b, err := auditlog.NewBuilder(auditlog.BuilderConfig{Pool: l.Pool(), Store: store, Logger: cfg.Logger()})
				if err != nil {
					return err
				}
				if err := b.CatchUp(cmd.Context()); err != nil {
					return err
				}
				c, err := l.Publish(cmd.Context())
				if err != nil {
					return err
				}
				if out != "" {
					return os.WriteFile(out, c.Note, 0o644)
				}
				_, err = cmd.OutOrStdout().Write(c.Note)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "write the signed checkpoint to this file (keep it for the next audit)")
	return cmd
}

func newAuditVerifyCmd() *cobra.Command {
	var trustedFile, key string
	var allowPending bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check the whole log against the events: leaves, tree, signed checkpoints, and a checkpoint you kept",
		Long: "Recomputes every leaf from the events in the store, the tree from the leaves, checks every\n" +
			"stored checkpoint's signature with --key and that each extends the one before, and that\n" +
			"today's tree extends the checkpoint in --trusted-checkpoint (one you kept from an earlier\n" +
			"audit). Exits 0 only when all of it holds and every event is under a signed checkpoint;\n" +
			"otherwise names the first broken (or unverified) thing and exits 1. Without any public key, or\n" +
			"with no signed checkpoint, nothing is verified: exit 1. --allow-pending tolerates events newer\n" +
			"than the latest signed checkpoint (reported as NOT VERIFIED).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var trusted []byte
			if trustedFile != "" {
				var err error
				if trusted, err = os.ReadFile(trustedFile); err != nil {
					return fmt.Errorf("reading the trusted checkpoint: %w", err)
				}
			}
			return withAuditLog(cmd.Context(), func(l *auditlog.Log, store eventstore.Store, configured string) error {
				v, err := verifierFor(cmd.ErrOrStderr(), key, configured)
				if err != nil {
					return err
				}
				rep, err := auditlog.Verify(cmd.Context(), l, store, auditlog.VerifyOptions{Key: v, Trusted: trusted})
				if err != nil {
					return err
				}
				printReport(cmd.OutOrStdout(), rep)
				if err := rep.Complete(allowPending); err != nil {
					return fmt.Errorf("not verified: %w", err)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&trustedFile, "trusted-checkpoint", "", "a signed checkpoint kept from an earlier audit; today's tree must extend it")
	cmd.Flags().StringVar(&key, "key", "", "public verifier key of the log (name+hash+key), or a file holding it (default: the operator's configured key)")
	cmd.Flags().BoolVar(&allowPending, "allow-pending", false, "exit 0 even when events newer than the latest signed checkpoint are not verified yet (a live log)")
	return cmd
}

// verifierFor parses the --key flag (a key or a file holding one), or
// falls back to the configured key's public half, with a warning.
func verifierFor(stderr io.Writer, flag, configured string) (note.Verifier, error) {
	vkey := strings.TrimSpace(flag)
	if _, err := note.NewVerifier(vkey); vkey != "" && err != nil {
		b, err := os.ReadFile(vkey)
		if err != nil {
			return nil, fmt.Errorf("--key is neither a verifier key (name+hash+key) nor a readable file: %w", err)
		}
		vkey = strings.TrimSpace(string(b))
	}
	if vkey == "" {
		if configured == "" {
			return nil, nil
		}
		fmt.Fprintln(stderr, "warning: checking signatures with the operator's configured key; pass --key with the key you got by another channel")
		vkey = configured
	}
	return audit.NewVerifier(vkey)
}

func printReport(w io.Writer, rep auditlog.Report) {
	fmt.Fprintf(w, "events:      %d in the store, %d in the log (every leaf recomputed from its event, the tree from the leaves)\n", rep.Events, rep.Leaves)
	fmt.Fprintf(w, "root:        %s (tree of %d leaves)\n", rep.Root, rep.Leaves)
	if rep.Checkpoints > 0 {
		fmt.Fprintf(w, "checkpoints: %d signed, each verified and extending the one before; latest covers %d leaves\n", rep.Checkpoints, rep.Signed)
	} else {
		fmt.Fprintln(w, "checkpoints: none signed (no key configured?): nothing is vouched for by a signature")
	}
	if rep.Trusted > 0 {
		fmt.Fprintf(w, "trusted:     today's tree extends your checkpoint of %d leaves\n", rep.Trusted)
	}
	if !rep.KeyChecked {
		fmt.Fprintln(w, "verified:    0 events (no public key: no signature checked)")
	} else if rep.Signed > 0 {
		fmt.Fprintf(w, "verified:    %d events (leaves 0..%d, under a signed checkpoint)\n", rep.Signed, rep.Signed-1)
	} else {
		fmt.Fprintln(w, "verified:    0 events (no signed checkpoint)")
	}
	if rep.Unsigned > 0 || rep.Unlogged > 0 {
		fmt.Fprintf(w, "NOT VERIFIED: %d events in the log but not yet in a signed checkpoint; %d events appended but not yet in the log\n", rep.Unsigned, rep.Unlogged)
	}
}
