package auth_test

import (
	"context"
	"strings"
	"testing"

	"github.com/evcrm/evcrm/internal/auth"
)

func TestTokens(t *testing.T) {
	t.Parallel()
	tok, hash := auth.NewToken()
	if !strings.HasPrefix(tok, auth.TokenPrefix) || !auth.WellFormed(tok) {
		t.Fatalf("token %q is not well formed", tok)
	}
	if !auth.HashEqual(hash, auth.HashToken(tok)) || len(hash) != 32 {
		t.Fatal("hash differs")
	}
	other, _ := auth.NewToken()
	if other == tok {
		t.Fatal("two tokens are equal")
	}
	for _, bad := range []string{"", "evcrm_", "evcrm_short", "xxxxx_" + tok[6:], tok + "A", tok[:len(tok)-1] + "*"} {
		if auth.WellFormed(bad) {
			t.Errorf("WellFormed(%q) = true", bad)
		}
	}
}

func TestBearerToken(t *testing.T) {
	t.Parallel()
	for header, want := range map[string]string{
		"Bearer abc":    "abc",
		"bearer  abc ":  "abc",
		"Basic abc":     "",
		"Bearer":        "",
		"Bearer ":       "",
		"abc":           "",
		"BEARER x y":    "x y",
		" Bearer tok  ": "tok",
	} {
		got, ok := auth.BearerToken(header)
		if got != want || ok != (want != "") {
			t.Errorf("BearerToken(%q) = %q, %v; want %q", header, got, ok, want)
		}
	}
}

func TestRoles(t *testing.T) {
	t.Parallel()
	for _, r := range auth.Roles {
		got, err := auth.ParseRole(" " + strings.ToUpper(string(r)))
		if err != nil || got != r {
			t.Errorf("ParseRole(%s) = %s, %v", r, got, err)
		}
	}
	if _, err := auth.ParseRole("root"); err == nil {
		t.Error("ParseRole(root) succeeded")
	}
	p := auth.Principal{Name: "ann", Role: auth.Sales}
	if !p.Allowed([]auth.Role{auth.Admin, auth.Sales}) || p.Allowed([]auth.Role{auth.Admin}) {
		t.Error("Allowed is wrong")
	}
	ctx := auth.WithPrincipal(context.Background(), p)
	if got, ok := auth.FromContext(ctx); !ok || got != p {
		t.Error("principal lost in context")
	}
	if _, ok := auth.FromContext(context.Background()); ok {
		t.Error("principal in an empty context")
	}
}
