// Package auth holds evcrm's access model: roles, the principal a request
// acts as, and bearer API tokens (generated, hashed, parsed). Storage of
// tokens lives in internal/apistore; enforcement per operation in api.
//
// Tokens are 32 random bytes, base64url-encoded behind the prefix "evcrm_".
// Only their SHA-256 is stored: with that much entropy a fast hash is the
// right choice (a slow password hash protects low-entropy secrets, which
// these are not).
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// Role is what a principal may do.
type Role string

// The roles. Each API operation lists the roles it admits.
const (
	Admin     Role = "admin"     // everything, including token administration
	Sales     Role = "sales"     // leads, opportunities, orders, customers
	Service   Role = "service"   // cases, complaints, feedback, customers
	Marketing Role = "marketing" // campaigns, leads, customers
	Quality   Role = "quality"   // complaints, nonconformities, feedback
	Auditor   Role = "auditor"   // read-only: streams, audit history, read models
	Analyst   Role = "analyst"   // read models only
)

// Customer is the role of a customer access token: one customer of one
// tenant reading its own orders, cases and complaints (GET /v1/me/...).
// It is not in Roles: an API token is never made for it (ParseRole refuses
// it), and no staff operation lists it, so a customer token is refused
// (403) everywhere else.
const Customer Role = "customer"

// Roles lists every role, in a stable order.
var Roles = []Role{Admin, Sales, Service, Marketing, Quality, Auditor, Analyst}

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if !slices.Contains(Roles, r) {
		names := make([]string, len(Roles))
		for i, r := range Roles {
			names[i] = string(r)
		}
		return "", fmt.Errorf("unknown role %q (want one of %s)", s, strings.Join(names, ", "))
	}
	return r, nil
}

// Errors of authentication and authorisation; the HTTP layer maps them to
// 401 and 403.
var (
	ErrUnauthenticated = errors.New("missing or invalid bearer token")
	ErrForbidden       = errors.New("role not allowed")
)

// Principal is who a request acts as.
type Principal struct {
	TokenID uuid.UUID
	Name    string // the token's name: a user or an app ("webshop")
	Role    Role
	Tenant  string
	// CustomerID is the customer a customer access token speaks for
	// (Role == Customer); uuid.Nil otherwise.
	CustomerID uuid.UUID
}

// Allowed reports whether p's role is among roles.
func (p Principal) Allowed(roles []Role) bool { return slices.Contains(roles, p.Role) }

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal of the request, if authenticated.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// TokenPrefix starts every token, so leaked tokens are easy to recognise
// (secret scanners) and easy to tell from other credentials.
const TokenPrefix = "evcrm_"

// CustomerTokenPrefix starts every customer access token; it tells the
// authenticator which table to look in, and a leaked one from an API token.
const CustomerTokenPrefix = "evcrmc_"

// tokenBytes of entropy per token.
const tokenBytes = 32

// NewToken returns a fresh random token and its hash.
func NewToken() (token string, hash []byte) { return newToken(TokenPrefix) }

// NewCustomerToken returns a fresh random customer access token and its hash.
func NewCustomerToken() (token string, hash []byte) { return newToken(CustomerTokenPrefix) }

func newToken(prefix string) (token string, hash []byte) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	token = prefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken returns the SHA-256 of a token, the only form that is stored.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// WellFormed reports whether s looks like a token NewToken makes, so a
// malformed credential is refused without a database round trip.
func WellFormed(s string) bool { return wellFormed(s, TokenPrefix) }

// WellFormedCustomer reports whether s looks like a token NewCustomerToken makes.
func WellFormedCustomer(s string) bool { return wellFormed(s, CustomerTokenPrefix) }

func wellFormed(s, prefix string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || len(rest) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(rest)
	return err == nil
}

// HashEqual compares two hashes in constant time.
func HashEqual(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// BearerToken extracts the token of an "Authorization: Bearer <token>" header.
func BearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
