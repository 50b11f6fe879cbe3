package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"

	"github.com/evcrm/evcrm/audit"
	"github.com/evcrm/evcrm/audit/auditlog"
	"github.com/evcrm/evcrm/audit/pack"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/queries"
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
	cmd.AddCommand(newAuditKeygenCmd(), newAuditCheckpointCmd(), newAuditVerifyCmd(), newAuditExportCmd(), newAuditVerifyPackCmd())
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

// catchUpSigned brings the log up to date, for signing: it fails without
// a signing key.
func catchUpSigned(ctx context.Context, l *auditlog.Log, store eventstore.Store) error {
	if l.Signer() == nil {
		return auditlog.ErrNoKey
	}
	b, err := auditlog.NewBuilder(auditlog.BuilderConfig{Pool: l.Pool(), Store: store, Logger: cfg.Logger()})
	if err != nil {
		return err
	}
	return b.CatchUp(ctx)
}

func newAuditCheckpointCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "checkpoint",
		Short: "Bring the log up to date and sign a checkpoint now; print it (or write it to --out)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withAuditLog(cmd.Context(), func(l *auditlog.Log, store eventstore.Store, _ string) error {
				if err := catchUpSigned(cmd.Context(), l, store); err != nil {
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

func newAuditExportCmd() *cobra.Command {
	var from, to, since, out, tenantID string
	cmd := &cobra.Command{
		Use:   "export --from D1 --to D2 --out pack.zip",
		Short: "Write the audit pack of a period: events with inclusion proofs, signed checkpoint, quality report (CSV, PDF)",
		Long: "Brings the log up to date, signs a checkpoint, and writes the audit pack of one tenant's events\n" +
			"recorded from --from to --to (dates are whole days: --to 2026-03-31 includes that day; or RFC 3339\n" +
			"times, --to excluded). --since-checkpoint adds the proof that the log extends the checkpoint the\n" +
			"auditor kept. The auditor checks the pack offline with evcrm audit verify-pack. See docs/audit.md.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := parsePeriod(from, to)
			if err != nil {
				return err
			}
			var previous []byte
			if since != "" {
				if previous, err = os.ReadFile(since); err != nil {
					return fmt.Errorf("reading --since-checkpoint: %w", err)
				}
			}
			if tenantID == "" {
				tenantID = cfg.Tenant
			}
			return withAuditLog(cmd.Context(), func(l *auditlog.Log, store eventstore.Store, publicKey string) error {
				if err := catchUpSigned(cmd.Context(), l, store); err != nil {
					return err
				}
				f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
				if err != nil {
					return fmt.Errorf("writing the pack: %w", err)
				}
				src := pack.Source{Log: l, Queries: queries.New(l.Pool()), PublicKey: publicKey, BackdatedAfter: cfg.Audit.BackdatedAfter}
				sum, err := pack.Write(cmd.Context(), f, src, pack.Options{Tenant: tenantID, Period: p, Previous: previous})
				if cerr := f.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					_ = os.Remove(out)
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %d events of tenant %s (%d backdated), proven against the checkpoint of %d leaves; %d files\n",
					out, sum.Events, sum.Tenant, sum.Backdated, sum.TreeSize, sum.Files)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "start of the period: a date (2006-01-02) or an RFC 3339 time (required)")
	cmd.Flags().StringVar(&to, "to", "", "end of the period: a date (that day included) or an RFC 3339 time (excluded) (required)")
	cmd.Flags().StringVar(&since, "since-checkpoint", "", "the signed checkpoint the auditor kept from the previous audit")
	cmd.Flags().StringVar(&out, "out", "audit-pack.zip", "the pack to write (never overwritten)")
	cmd.Flags().StringVar(&tenantID, "tenant", "", "the tenant whose events and report the pack holds (default EVCRM_TENANT)")
	_ = cmd.MarkFlagRequired("from")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}

// parsePeriod reads --from and --to: dates are whole UTC days (to
// included), RFC 3339 times are taken as they are (to excluded).
func parsePeriod(from, to string) (queries.Period, error) {
	var p queries.Period
	parse := func(flag, s string, end bool) (time.Time, error) {
		if d, err := time.Parse(time.DateOnly, s); err == nil {
			if end {
				d = d.AddDate(0, 0, 1)
			}
			return d, nil
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return t, fmt.Errorf("--%s %q is neither a date (2006-01-02) nor an RFC 3339 time", flag, s)
		}
		return t, nil
	}
	var err error
	if p.From, err = parse("from", from, false); err != nil {
		return p, err
	}
	if p.To, err = parse("to", to, true); err != nil {
		return p, err
	}
	if !p.From.Before(p.To) {
		return p, fmt.Errorf("--from %s is not before --to %s", from, to)
	}
	return p, nil
}

func newAuditVerifyPackCmd() *cobra.Command {
	var key string
	cmd := &cobra.Command{
		Use:   "verify-pack pack.zip --key PUBKEY",
		Short: "Check an audit pack offline (no database): signatures, SHA-256 sums, inclusion and consistency proofs",
		Long: "Checks the pack's signed manifest and every file's SHA-256 (none missing or added), the signed\n" +
			"checkpoint, every event's inclusion proof, period and tenant, the backdated marks, and the\n" +
			"consistency proof from the previous checkpoint when the pack has one, all with --key: the log's\n" +
			"public key as you got it by another channel. Exits 0 only when all of it holds; otherwise names\n" +
			"the first broken thing and exits 1.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(key) == "" {
				return errors.New("--key is required: the log's public key, as you got it by another channel than the pack")
			}
			v, err := verifierFor(cmd.ErrOrStderr(), key, "")
			if err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				return err
			}
			sum, err := pack.Verify(f, st.Size(), v)
			if err != nil {
				return fmt.Errorf("not verified: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "verified: %d events of tenant %s recorded %s to %s (%d backdated), each in the signed checkpoint of %d leaves; %d files match the signed manifest\n",
				sum.Events, sum.Tenant, sum.Period.From.Format(time.RFC3339), sum.Period.To.Format(time.RFC3339), sum.Backdated, sum.TreeSize, sum.Files)
			if sum.Previous > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "verified: the log extends your previous checkpoint of %d leaves\n", sum.Previous)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "the log's public verifier key (name+hash+key), or a file holding it (required)")
	return cmd
}
