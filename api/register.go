package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/evcrm/evcrm/internal/tenant"
)

// RolesExtension is the OpenAPI extension listing the roles an operation
// admits, e.g. "x-evcrm-roles": ["admin", "service"].
const RolesExtension = "x-evcrm-roles"

// SecurityScheme is the name of the bearer-token scheme in the OpenAPI document.
const SecurityScheme = "bearer"

const metaRoles = "evcrm.roles"

var errNoCredentials = fmt.Errorf("%w: no bearer token", auth.ErrUnauthenticated)

// Register adds an operation that admits only the given roles; every
// evcrm operation is registered through it (the read side too):
//
//	api.Register(hapi, huma.Operation{
//		OperationID: "getPipeline", Method: http.MethodGet, Path: "/v1/pipeline",
//		Summary: "Sales pipeline",
//	}, []auth.Role{auth.Admin, auth.Sales, auth.Analyst}, h.pipeline)
//
// The roles become data on the operation (its metadata, and the
// x-evcrm-roles extension of the OpenAPI document); the server's
// authentication middleware enforces them before the input is read: no or
// bad token → 401, role not listed → 403. Errors returned by handler are
// mapped to problems by ToProblem. It panics when roles is empty.
func Register[I, O any](hapi huma.API, op huma.Operation, roles []auth.Role, handler func(context.Context, *I) (*O, error)) {
	if len(roles) == 0 {
		panic("api: operation " + op.OperationID + " admits no role")
	}
	for _, r := range roles {
		if r == auth.Customer {
			continue
		}
		if _, err := auth.ParseRole(string(r)); err != nil {
			panic("api: operation " + op.OperationID + ": " + err.Error())
		}
	}
	roles = slices.Clone(roles)
	if op.Metadata == nil {
		op.Metadata = map[string]any{}
	}
	op.Metadata[metaRoles] = roles
	if op.Extensions == nil {
		op.Extensions = map[string]any{}
	}
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	op.Extensions[RolesExtension] = names
	op.Security = []map[string][]string{{SecurityScheme: {}}}
	note := "Roles: " + strings.Join(names, ", ") + "."
	if op.Description == "" {
		op.Description = note
	} else {
		op.Description += "\n\n" + note
	}
	for _, code := range []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusServiceUnavailable} {
		if !slices.Contains(op.Errors, code) {
			op.Errors = append(op.Errors, code)
		}
	}
	huma.Register(hapi, op, func(ctx context.Context, in *I) (*O, error) {
		out, err := handler(ctx, in)
		if err != nil {
			return nil, ToProblem(ctx, err)
		}
		return out, nil
	})
}

// OperationRoles returns the roles an operation admits (nil if it was not
// registered with Register).
func OperationRoles(op *huma.Operation) []auth.Role {
	roles, _ := op.Metadata[metaRoles].([]auth.Role)
	return roles
}

// Authenticator checks bearer tokens.
type Authenticator interface {
	// Authenticate returns the token's principal, or an error wrapping
	// auth.ErrUnauthenticated.
	Authenticate(ctx context.Context, token string) (auth.Principal, error)
}

// authenticate is the huma middleware enforcing each operation's roles.
func authenticate(hapi huma.API, authn Authenticator) func(huma.Context, func(huma.Context)) {
	return func(hctx huma.Context, next func(huma.Context)) {
		ctx := hctx.Context()
		roles := OperationRoles(hctx.Operation())
		token, ok := auth.BearerToken(hctx.Header("Authorization"))
		var err error
		var p auth.Principal
		switch {
		case !ok:
			err = errNoCredentials
		case len(roles) == 0:
			// Not registered through Register: refuse (fail closed).
			Logger(ctx).ErrorContext(ctx, "operation declares no roles", "operation", hctx.Operation().OperationID)
			err = auth.ErrForbidden
		default:
			p, err = authn.Authenticate(ctx, token)
			if err == nil && !p.Allowed(roles) {
				err = fmt.Errorf("%w: %s may not use %s", auth.ErrForbidden, p.Role, hctx.Operation().OperationID)
			}
		}
		if err != nil {
			if errors.Is(err, auth.ErrForbidden) || errors.Is(err, auth.ErrUnauthenticated) {
				Logger(ctx).InfoContext(ctx, "access refused", errAttr(err))
			}
			writeHumaProblem(hapi, hctx, ToProblem(ctx, err))
			return
		}
		if info, ok := ctx.Value(keyRequestInfo).(*requestInfo); ok {
			info.principal, info.role = p.Name, string(p.Role)
		}
		// The token's tenant scopes everything the request reads.
		next(huma.WithContext(hctx, tenant.WithContext(auth.WithPrincipal(ctx, p), p.Tenant)))
	}
}

// writeHumaProblem writes a problem from a huma middleware.
func writeHumaProblem(_ huma.API, hctx huma.Context, p *Problem) {
	for k, vs := range p.headers {
		for _, v := range vs {
			hctx.AppendHeader(k, v)
		}
	}
	hctx.SetHeader("Content-Type", "application/problem+json")
	hctx.SetHeader("Cache-Control", "no-store")
	hctx.SetStatus(p.Status)
	_ = json.NewEncoder(hctx.BodyWriter()).Encode(p)
}
