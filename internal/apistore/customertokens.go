package apistore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/evcrm/evcrm/internal/auth"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// CustomerToken describes a stored customer access token (never the secret).
type CustomerToken struct {
	ID         uuid.UUID  `json:"id"`
	CustomerID uuid.UUID  `json:"customer_id"`
	Hint       string     `json:"hint"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// CreateCustomerToken makes an access token for customer of tenant, valid
// until expiresAt, and returns the secret (shown once) with its description.
func (s *Tokens) CreateCustomerToken(ctx context.Context, tenant string, customer uuid.UUID, createdBy string, expiresAt time.Time) (string, CustomerToken, error) {
	if tenant == "" || customer == uuid.Nil || createdBy == "" || expiresAt.IsZero() {
		return "", CustomerToken{}, errors.New("customer token: tenant, customer, creator and expiry are required")
	}
	secret, hash := auth.NewCustomerToken()
	t := CustomerToken{ID: uuid.New(), CustomerID: customer, Hint: secret[:len(auth.CustomerTokenPrefix)+4] + "…", CreatedBy: createdBy}
	err := s.pool.QueryRow(ctx, `
		INSERT INTO customer_access_tokens (id, tenant, customer_id, token_hash, hint, created_by, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING created_at, expires_at`,
		t.ID, tenant, customer, hash, t.Hint, createdBy, expiresAt).Scan(&t.CreatedAt, &t.ExpiresAt)
	if err != nil {
		return "", CustomerToken{}, fmt.Errorf("creating customer token: %w", err)
	}
	return secret, t, nil
}

// RevokeCustomerToken revokes the active token id of customer in tenant
// (ErrTokenNotFound when there is none).
func (s *Tokens) RevokeCustomerToken(ctx context.Context, tenant string, customer, id uuid.UUID) error {
	tag, err := s.pool.Exec(ctx, `UPDATE customer_access_tokens SET revoked_at = now()
		WHERE id = $1 AND tenant = $2 AND customer_id = $3 AND revoked_at IS NULL`, id, tenant, customer)
	if err != nil {
		return fmt.Errorf("revoking customer token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: %s", ErrTokenNotFound, id)
	}
	return nil
}

// authenticateCustomer returns the customer principal of an active
// customer access token.
func (s *Tokens) authenticateCustomer(ctx context.Context, token string) (auth.Principal, error) {
	if !auth.WellFormedCustomer(token) {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	hash := auth.HashToken(token)
	p := auth.Principal{Role: auth.Customer}
	var stored []byte
	var lastUsed *time.Time
	err := s.pool.QueryRow(ctx, `
		SELECT id, tenant, customer_id, token_hash, last_used_at FROM customer_access_tokens
		WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now()`,
		hash).Scan(&p.TokenID, &p.Tenant, &p.CustomerID, &stored, &lastUsed)
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	if err != nil {
		return auth.Principal{}, fmt.Errorf("authenticating: %w", err)
	}
	if !auth.HashEqual(stored, hash) {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	p.Name = "customer:" + p.CustomerID.String()
	if lastUsed == nil || time.Since(*lastUsed) > s.LastUsedGranularity {
		_, _ = s.pool.Exec(ctx, `UPDATE customer_access_tokens SET last_used_at = now() WHERE id = $1`, p.TokenID)
	}
	return p, nil
}
