package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/internal/privacy"
)

func init() {
	subcommands = append(subcommands, newPrivacyCmd, newCustomerCmd)
	migrationSteps = append(migrationSteps, migrationStep{Name: "privacy", Run: func(ctx context.Context, pool *pgxpool.Pool) error {
		return privacy.Migrate(ctx, pool, cfg.Logger())
	}})
}

func newPrivacyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "privacy",
		Short: "Personal data encryption: master keys and their rotation (docs/privacy.md)",
	}
	var out string
	keygen := &cobra.Command{
		Use:   "keygen",
		Short: "Create a master key for EVCRM_PRIVACY_KEY_FILE",
		Long: "Writes a new random master key (base64 of 32 bytes) to --out (mode 0600; never overwrites).\n" +
			"Keep it outside the database and its backups: without it no personal data can be read.\n" +
			"To rotate: put the new key on the first line of the key file and the old one below it,\n" +
			"run `evcrm privacy rotate-master-key`, then remove the old line.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return fmt.Errorf("writing the key: %w", err)
			}
			if _, err := fmt.Fprintln(f, privacy.NewMasterKeyText()); err != nil {
				f.Close()
				return fmt.Errorf("writing the key: %w", err)
			}
			if err := f.Close(); err != nil {
				return fmt.Errorf("writing the key: %w", err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "master key written to %s; set EVCRM_PRIVACY_KEY_FILE=%s\n", out, out)
			return nil
		},
	}
	keygen.Flags().StringVar(&out, "out", "evcrm-privacy.key", "file to write the master key to")
	rotate := &cobra.Command{
		Use:   "rotate-master-key",
		Short: "Rewrap every data key under the current (first) master key",
		Long: "Every data key wrapped by an earlier master key (a later line of the key file) is unwrapped\n" +
			"and wrapped again by the first one. Safe to run again and while evcrm serves; afterwards\n" +
			"the earlier keys can be removed from the key file.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			masters, err := privacy.LoadMasterKeys(cfg.Privacy.KeyFile, cfg.Privacy.Key)
			if err != nil {
				return err
			}
			pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
			if err != nil {
				return fmt.Errorf("connecting to the database: %w", err)
			}
			defer pool.Close()
			if err := privacy.Migrate(ctx, pool, cfg.Logger()); err != nil {
				return err
			}
			keys, err := privacy.NewKeyring(pool, masters)
			if err != nil {
				return err
			}
			n, err := keys.RotateMasterKey(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d data keys rewrapped under master key %s\n", n, keys.MasterKeyID())
			return nil
		},
	}
	cmd.AddCommand(keygen, rotate)
	return cmd
}

func newCustomerCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "customer", Short: "Customers' personal data: export (right of access)"}
	var format, tenant string
	export := &cobra.Command{
		Use:   "export CUSTOMER_ID",
		Short: "Print everything held about a customer, decrypted (JSON or a readable HTML document)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := uuid.Parse(args[0])
			if err != nil {
				return fmt.Errorf("invalid customer id %q: want a UUID", args[0])
			}
			if format != "json" && format != "html" {
				return fmt.Errorf("unknown format %q (want json or html)", format)
			}
			if tenant == "" {
				tenant = cfg.Tenant
			}
			ctx := cmd.Context()
			var e *privacy.Export
			err = withReadableStore(ctx, func(pool *pgxpool.Pool, store eventstore.Store) error {
				var err error
				e, err = privacy.Exporter{Pool: pool, Store: store}.Export(ctx, tenant, id)
				return err
			})
			if err != nil {
				return err
			}
			if format == "html" {
				return e.HTML(cmd.OutOrStdout())
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(e)
		},
	}
	export.Flags().StringVar(&format, "format", "json", "json or html")
	export.Flags().StringVar(&tenant, "tenant", "", "the customer's tenant (default EVCRM_TENANT)")
	cmd.AddCommand(export)
	return cmd
}
