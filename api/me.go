package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/complaint"
	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/domain/order"
	"github.com/evcrm/evcrm/domain/servicecase"
	"github.com/evcrm/evcrm/internal/apistore"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/evcrm/evcrm/queries"
	"github.com/google/uuid"
)

// CustomerTokenStore keeps customer access tokens (apistore.Tokens).
type CustomerTokenStore interface {
	CreateCustomerToken(ctx context.Context, tenant string, customer uuid.UUID, createdBy string, expiresAt time.Time) (string, apistore.CustomerToken, error)
	RevokeCustomerToken(ctx context.Context, tenant string, customer, id uuid.UUID) error
}

// Customer access tokens: who may hand them out, and for how long.
var (
	CustomerTokenIssuers = []auth.Role{auth.Admin, auth.Sales, auth.Service}
	// DefaultCustomerTokenTTL and MaxCustomerTokenTTL bound expires_in.
	DefaultCustomerTokenTTL = 30 * 24 * time.Hour
	MaxCustomerTokenTTL     = 180 * 24 * time.Hour
)

var errNotCustomer = fmt.Errorf("%w: only a customer access token reads /v1/me", auth.ErrForbidden)

type createCustomerTokenInput struct {
	ID   string `path:"id" format:"uuid" doc:"Customer ID"`
	Body struct {
		ExpiresIn string `json:"expires_in,omitempty" maxLength:"20" doc:"How long the token is valid, a Go duration (e.g. 720h); default 720h (30 days), at most 4320h (180 days)" example:"720h"`
	}
}

type createCustomerTokenOutput struct {
	Body struct {
		Token string `json:"token" doc:"The secret, shown only now; give it to the customer"`
		apistore.CustomerToken
	}
}

type revokeCustomerTokenInput struct {
	ID      string `path:"id" format:"uuid" doc:"Customer ID"`
	TokenID string `path:"token_id" format:"uuid" doc:"Access token ID"`
}

type meInput struct{}

type myOrdersOutput struct {
	Body struct {
		Orders []queries.MyOrder `json:"orders"`
	}
}
type myCasesOutput struct {
	Body struct {
		Cases []queries.MyCase `json:"cases"`
	}
}
type myComplaintsOutput struct {
	Body struct {
		Complaints []queries.MyComplaint `json:"complaints"`
	}
}

// customerTokens is the configured store: Options.CustomerTokens, else the
// authenticator when it keeps customer tokens too.
func (s *Server) customerTokens() (CustomerTokenStore, bool) {
	if s.opts.CustomerTokens != nil {
		return s.opts.CustomerTokens, true
	}
	c, ok := s.opts.Auth.(CustomerTokenStore)
	return c, ok
}

func (r *queryRoutes) registerMe() {
	store, ok := r.s.customerTokens()
	if ok {
		r.registerCustomerTokens(store)
	}
	tags := []string{"Customer access"}
	me := []auth.Role{auth.Customer}
	Register(r.s.api, huma.Operation{
		OperationID: "listMyOrders", Method: http.MethodGet, Path: "/v1/me/orders", Tags: tags,
		Summary:     "My orders (customer token)",
		Description: "The orders of the customer the access token belongs to, newest first: status, dates and the next expected step. Every read is recorded.",
	}, me, func(ctx context.Context, _ *meInput) (*myOrdersOutput, error) {
		p, err := customerPrincipal(ctx)
		if err != nil {
			return nil, err
		}
		items, err := r.opts.Queries.MyOrders(ctx, p.CustomerID)
		if err != nil {
			return nil, err
		}
		recs := []string{customer.StreamID(p.CustomerID)}
		for _, o := range items {
			recs = append(recs, order.StreamID(o.OrderID))
		}
		if err := r.s.recordCustomerRead(ctx, p, "listMyOrders", recs); err != nil {
			return nil, err
		}
		out := &myOrdersOutput{}
		out.Body.Orders = items
		return out, nil
	})
	Register(r.s.api, huma.Operation{
		OperationID: "listMyCases", Method: http.MethodGet, Path: "/v1/me/cases", Tags: tags,
		Summary:     "My service cases (customer token)",
		Description: "The service cases of the customer the access token belongs to, newest first: status, dates and the next expected step. Every read is recorded.",
	}, me, func(ctx context.Context, _ *meInput) (*myCasesOutput, error) {
		p, err := customerPrincipal(ctx)
		if err != nil {
			return nil, err
		}
		items, err := r.opts.Queries.MyCases(ctx, p.CustomerID)
		if err != nil {
			return nil, err
		}
		recs := []string{customer.StreamID(p.CustomerID)}
		for _, c := range items {
			recs = append(recs, servicecase.StreamID(c.CaseID))
		}
		if err := r.s.recordCustomerRead(ctx, p, "listMyCases", recs); err != nil {
			return nil, err
		}
		out := &myCasesOutput{}
		out.Body.Cases = items
		return out, nil
	})
	Register(r.s.api, huma.Operation{
		OperationID: "listMyComplaints", Method: http.MethodGet, Path: "/v1/me/complaints", Tags: tags,
		Summary:     "My complaints (customer token)",
		Description: "The complaints of the customer the access token belongs to, newest first: status, dates and the next expected step. Every read is recorded.",
	}, me, func(ctx context.Context, _ *meInput) (*myComplaintsOutput, error) {
		p, err := customerPrincipal(ctx)
		if err != nil {
			return nil, err
		}
		items, err := r.opts.Queries.MyComplaints(ctx, p.CustomerID)
		if err != nil {
			return nil, err
		}
		recs := []string{customer.StreamID(p.CustomerID)}
		for _, c := range items {
			recs = append(recs, complaint.StreamID(c.ComplaintID))
		}
		if err := r.s.recordCustomerRead(ctx, p, "listMyComplaints", recs); err != nil {
			return nil, err
		}
		out := &myComplaintsOutput{}
		out.Body.Complaints = items
		return out, nil
	})
}

// customerPrincipal is the customer a /v1/me request speaks for (fail
// closed: the role check already admits only customer tokens).
func customerPrincipal(ctx context.Context) (auth.Principal, error) {
	p, ok := auth.FromContext(ctx)
	if !ok || p.Role != auth.Customer || p.CustomerID == uuid.Nil || p.Tenant == "" {
		return auth.Principal{}, errNotCustomer
	}
	return p, nil
}

func (s *Server) recordCustomerRead(ctx context.Context, p auth.Principal, operation string, records []string) error {
	return s.RecordRead(ctx, Read{Operation: operation, Records: records,
		Actor: "customer:" + p.CustomerID.String(), Role: string(auth.Customer), Tenant: p.Tenant})
}

func (r *queryRoutes) registerCustomerTokens(store CustomerTokenStore) {
	tags := []string{"Customer access"}
	Register(r.s.api, huma.Operation{
		OperationID: "createCustomerAccessToken", Method: http.MethodPost, Path: "/v1/customers/{id}/access-tokens", Tags: tags,
		Summary:       "Create a customer access token",
		Description:   "A bearer token for the customer itself, to read its own orders, cases and complaints (GET /v1/me/...) and nothing else. The secret is returned once; it expires (expires_in, default 30 days) and can be revoked.",
		DefaultStatus: http.StatusCreated,
		Errors:        []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}, CustomerTokenIssuers, func(ctx context.Context, in *createCustomerTokenInput) (*createCustomerTokenOutput, error) {
		id, err := uuid.Parse(in.ID)
		if err != nil {
			return nil, queryError("id", "must be a UUID")
		}
		ttl := DefaultCustomerTokenTTL
		if in.Body.ExpiresIn != "" {
			ttl, err = time.ParseDuration(in.Body.ExpiresIn)
			if err != nil || ttl < time.Minute || ttl > MaxCustomerTokenTTL {
				return nil, queryError("body.expires_in", fmt.Sprintf("must be a duration from 1m to %s", MaxCustomerTokenTTL))
			}
		}
		p, _ := auth.FromContext(ctx)
		exists, err := r.opts.Queries.CustomerExists(ctx, id)
		if err != nil {
			return nil, err
		}
		if !exists {
			return nil, fmt.Errorf("%w: %s", queries.ErrCustomerNotFound, id)
		}
		secret, tok, err := store.CreateCustomerToken(ctx, p.Tenant, id, p.Name, time.Now().Add(ttl))
		if err != nil {
			return nil, err
		}
		Logger(ctx).LogAttrs(ctx, slog.LevelInfo, "customer access token created", slog.String("token_id", tok.ID.String()),
			slog.String("customer_id", id.String()), slog.String("by", p.Name), slog.Time("expires_at", tok.ExpiresAt))
		out := &createCustomerTokenOutput{}
		out.Body.Token, out.Body.CustomerToken = secret, tok
		return out, nil
	})
	Register(r.s.api, huma.Operation{
		OperationID: "revokeCustomerAccessToken", Method: http.MethodDelete, Path: "/v1/customers/{id}/access-tokens/{token_id}", Tags: tags,
		Summary:       "Revoke a customer access token",
		DefaultStatus: http.StatusNoContent,
		Errors:        []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}, CustomerTokenIssuers, func(ctx context.Context, in *revokeCustomerTokenInput) (*struct{}, error) {
		id, err := uuid.Parse(in.ID)
		if err != nil {
			return nil, queryError("id", "must be a UUID")
		}
		tid, err := uuid.Parse(in.TokenID)
		if err != nil {
			return nil, queryError("token_id", "must be a UUID")
		}
		p, _ := auth.FromContext(ctx)
		if err := store.RevokeCustomerToken(ctx, p.Tenant, id, tid); err != nil {
			if errors.Is(err, apistore.ErrTokenNotFound) {
				return nil, fmt.Errorf("%w: %s", domain.NotFound("customer access token"), tid)
			}
			return nil, err
		}
		Logger(ctx).LogAttrs(ctx, slog.LevelInfo, "customer access token revoked", slog.String("token_id", tid.String()),
			slog.String("customer_id", id.String()), slog.String("by", p.Name))
		return nil, nil
	})
}
