// Package tenant carries the tenant a piece of work acts for through a
// context.Context, from where it is known (a request's token, the metadata
// of the event a process manager reacts to) to where it scopes data: the
// command side (commands), the read side (queries) and the stream API.
//
// A tenant is an opaque, non-empty string chosen by the operator when making
// a token (evcrm token create --tenant). Every event records the tenant of
// the command that wrote it (eventstore.Metadata.Tenant); the tenant of a
// stream is the tenant of its first event.
package tenant

import "context"

type key struct{}

// WithContext returns ctx acting for tenant t.
func WithContext(ctx context.Context, t string) context.Context {
	return context.WithValue(ctx, key{}, t)
}

// FromContext returns the tenant ctx acts for; false when none was set.
func FromContext(ctx context.Context) (string, bool) {
	t, ok := ctx.Value(key{}).(string)
	return t, ok
}
