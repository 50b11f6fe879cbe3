package apistore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/evcrm/evcrm/internal/auth"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Token describes a stored API token (never the secret itself).
type Token struct {
	ID         uuid.UUID  `json:"id"`
	Name       string     `json:"name"`
	Role       auth.Role  `json:"role"`
	Tenant     string     `json:"tenant"`
	Hint       string     `json:"hint"` // the token's first characters
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// ErrTokenNotFound: no active token has the given ID or name.
var ErrTokenNotFound = errors.New("token not found")

// Tokens stores API tokens in the api_tokens table.
type Tokens struct {
	pool *pgxpool.Pool
	// LastUsedGranularity: last_used_at is refreshed at most this often per
	// token, so authenticating does not write on every request.
	LastUsedGranularity time.Duration
}

// NewTokens returns the token store over pool (migrated with Migrate).
func NewTokens(pool *pgxpool.Pool) *Tokens {
	return &Tokens{pool: pool, LastUsedGranularity: time.Minute}
}

// Create makes a token for name acting in role within tenant and returns the
// secret — shown once, never stored — with its description. A zero
// expiresAt means it never expires.
func (s *Tokens) Create(ctx context.Context, name string, role auth.Role, tenant string, expiresAt time.Time) (string, Token, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return "", Token{}, errors.New("token name must be 1..200 characters")
	}
	if _, err := auth.ParseRole(string(role)); err != nil {
		return "", Token{}, err
	}
	if tenant == "" {
		return "", Token{}, errors.New("token tenant is required")
	}
	secret, hash := auth.NewToken()
	t := Token{ID: uuid.New(), Name: name, Role: role, Tenant: tenant, Hint: secret[:len(auth.TokenPrefix)+4] + "…"}
	var exp *time.Time
	if !expiresAt.IsZero() {
		exp = &expiresAt
	}
	err := s.pool.QueryRow(ctx, `
		INSERT INTO api_tokens (id, name, role, tenant, token_hash, hint, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		RETURNING created_at, expires_at`,
		t.ID, t.Name, string(t.Role), t.Tenant, hash, t.Hint, exp).Scan(&t.CreatedAt, &t.ExpiresAt)
	if err != nil {
		return "", Token{}, fmt.Errorf("creating token: %w", err)
	}
	return secret, t, nil
}

// List returns every token, newest first, revoked ones included.
func (s *Tokens) List(ctx context.Context) ([]Token, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, name, role, tenant, hint, created_at, expires_at, revoked_at, last_used_at
		FROM api_tokens ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Token, error) {
		var t Token
		var role string
		err := row.Scan(&t.ID, &t.Name, &role, &t.Tenant, &t.Hint, &t.CreatedAt, &t.ExpiresAt, &t.RevokedAt, &t.LastUsedAt)
		t.Role = auth.Role(role)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	return out, nil
}

// Revoke revokes the active token with the given ID, or every active token
// with the given name, and returns how many it revoked (ErrTokenNotFound
// when none).
func (s *Tokens) Revoke(ctx context.Context, idOrName string) (int64, error) {
	var tag interface{ RowsAffected() int64 }
	var err error
	if id, perr := uuid.Parse(idOrName); perr == nil {
		tag, err = s.pool.Exec(ctx, `UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, id)
	} else {
		tag, err = s.pool.Exec(ctx, `UPDATE api_tokens SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL`, idOrName)
	}
	if err != nil {
		return 0, fmt.Errorf("revoking token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return 0, fmt.Errorf("%w: %q", ErrTokenNotFound, idOrName)
	}
	return tag.RowsAffected(), nil
}

// Authenticate returns the principal of an active (not revoked, not
// expired) token, or auth.ErrUnauthenticated.
func (s *Tokens) Authenticate(ctx context.Context, token string) (auth.Principal, error) {
	if strings.HasPrefix(token, auth.CustomerTokenPrefix) {
		return s.authenticateCustomer(ctx, token)
	}
	if !auth.WellFormed(token) {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	hash := auth.HashToken(token)
	var p auth.Principal
	var role string
	var stored []byte
	var lastUsed *time.Time
	err := s.pool.QueryRow(ctx, `
		SELECT id, name, role, tenant, token_hash, last_used_at FROM api_tokens
		WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
		hash).Scan(&p.TokenID, &p.Name, &role, &p.Tenant, &stored, &lastUsed)
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	if err != nil {
		return auth.Principal{}, fmt.Errorf("authenticating: %w", err)
	}
	if !auth.HashEqual(stored, hash) {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	p.Role = auth.Role(role)
	if lastUsed == nil || time.Since(*lastUsed) > s.LastUsedGranularity {
		// Best effort: a failure here must not refuse a valid token.
		_, _ = s.pool.Exec(ctx, `UPDATE api_tokens SET last_used_at = now() WHERE id = $1`, p.TokenID)
	}
	return p, nil
}
