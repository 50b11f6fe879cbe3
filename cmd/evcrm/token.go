package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/evcrm/evcrm/internal/apistore"
	"github.com/evcrm/evcrm/internal/auth"
)

func init() { subcommands = append(subcommands, newTokenCmd) }

func newTokenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke API tokens",
		Long: "API tokens authenticate clients of the HTTP API (Authorization: Bearer <token>). Each token\n" +
			"acts in one role: admin, sales, service, marketing, quality, auditor (read-only) or analyst\n" +
			"(read models only). Only a hash of the token is stored: it is printed once, at creation.",
	}
	cmd.AddCommand(newTokenCreateCmd(), newTokenListCmd(), newTokenRevokeCmd())
	return cmd
}

// withTokens runs f with the token store of --database-url.
func withTokens(ctx context.Context, f func(*apistore.Tokens) error) error {
	pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("connecting to the database: %w", err)
	}
	defer pool.Close()
	return f(apistore.NewTokens(pool))
}

func newTokenCreateCmd() *cobra.Command {
	var role, name, tenant string
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "create --role ROLE --name NAME",
		Short: "Create a token and print it (once)",
		Example: "  evcrm token create --role sales --name webshop\n" +
			"  evcrm token create --role auditor --name iso-audit-2026 --expires-in 720h",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := auth.ParseRole(role)
			if err != nil {
				return err
			}
			var expires time.Time
			if ttl > 0 {
				expires = time.Now().Add(ttl)
			}
			return withTokens(cmd.Context(), func(s *apistore.Tokens) error {
				secret, t, err := s.Create(cmd.Context(), name, r, tenant, expires)
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), secret)
				fmt.Fprintf(cmd.ErrOrStderr(), "token %s for %q (role %s, tenant %s) created; it is shown only now.\n", t.ID, t.Name, t.Role, t.Tenant)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&role, "role", "", "role the token acts in (required)")
	f.StringVar(&name, "name", "", "who or what uses the token: a user or an app (required)")
	f.StringVar(&tenant, "tenant", cfg.Tenant, "tenant stamped on the events the token records (EVCRM_TENANT)")
	f.DurationVar(&ttl, "expires-in", 0, "lifetime of the token (default: no expiry)")
	_ = cmd.MarkFlagRequired("role")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func newTokenListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withTokens(cmd.Context(), func(s *apistore.Tokens) error {
				list, err := s.List(cmd.Context())
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				if asJSON {
					enc := json.NewEncoder(out)
					enc.SetIndent("", "  ")
					return enc.Encode(list)
				}
				w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "ID\tNAME\tROLE\tTENANT\tTOKEN\tCREATED\tLAST USED\tSTATUS")
				for _, t := range list {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, t.Tenant, t.Hint,
						t.CreatedAt.Format(time.DateTime), when(t.LastUsedAt), status(t))
				}
				return w.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newTokenRevokeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID|NAME",
		Short: "Revoke a token by ID, or every active token with a name",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withTokens(cmd.Context(), func(s *apistore.Tokens) error {
				n, err := s.Revoke(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%d token(s) revoked\n", n)
				return nil
			})
		},
	}
}

func when(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.Format(time.DateTime)
}

func status(t apistore.Token) string {
	switch {
	case t.RevokedAt != nil:
		return "revoked " + t.RevokedAt.Format(time.DateOnly)
	case t.ExpiresAt != nil && t.ExpiresAt.Before(time.Now()):
		return "expired"
	case t.ExpiresAt != nil:
		return "expires " + t.ExpiresAt.Format(time.DateOnly)
	}
	return "active"
}
