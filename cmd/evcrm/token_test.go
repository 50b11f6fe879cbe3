package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/evcrm/evcrm/internal/apistore"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/evcrm/evcrm/internal/pgtest"
)

func runCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err = root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func TestTokenCommands(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	if err := apistore.Migrate(ctx, db.Pool, nil); err != nil {
		t.Fatal(err)
	}
	url := "--database-url=" + db.URL

	secret, note, err := runCLI(t, "token", "create", url, "--role", "auditor", "--name", "iso-audit", "--tenant", "acme")
	if err != nil {
		t.Fatal(err)
	}
	secret = strings.TrimSpace(secret)
	if !auth.WellFormed(secret) || !strings.Contains(note, "shown only now") {
		t.Fatalf("create printed %q / %q", secret, note)
	}
	p, err := apistore.NewTokens(db.Pool).Authenticate(ctx, secret)
	if err != nil || p.Role != auth.Auditor || p.Name != "iso-audit" || p.Tenant != "acme" {
		t.Fatalf("the printed token authenticates as %+v, %v", p, err)
	}

	list, _, err := runCLI(t, "token", "list", url)
	if err != nil || !strings.Contains(list, "iso-audit") || !strings.Contains(list, "active") || strings.Contains(list, secret) {
		t.Fatalf("list: %v\n%s", err, list)
	}

	if out, _, err := runCLI(t, "token", "revoke", url, "iso-audit"); err != nil || !strings.Contains(out, "1 token(s) revoked") {
		t.Fatalf("revoke: %q, %v", out, err)
	}
	if _, err := apistore.NewTokens(db.Pool).Authenticate(ctx, secret); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("revoked token still authenticates: %v", err)
	}
	if _, _, err := runCLI(t, "token", "create", url, "--role", "root", "--name", "x"); err == nil {
		t.Fatal("created a token with an unknown role")
	}
	if _, _, err := runCLI(t, "token", "revoke", url, "nobody"); !errors.Is(err, apistore.ErrTokenNotFound) {
		t.Fatalf("revoking an unknown token: %v", err)
	}
}
