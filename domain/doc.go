// Package domain holds the core of evcrm's ubiquitous language: the event
// registry with schema versions and upcasters, the domain error type, and
// small value types (Money, Currency) shared by the aggregates.
//
// Each aggregate lives in its own subpackage (domain/customer,
// domain/opportunity, domain/servicecase, ...). An aggregate has:
//
//   - a State whose zero value means "does not exist yet";
//   - Apply(domain.Event) — evolve: fold one event into the state, never fails;
//   - decide methods — one per command, taking the command (and the time the
//     decision is made) and returning the events to record, or a *domain.Error.
//
// Both are deterministic and do no I/O. Packages here import only the
// standard library and github.com/google/uuid.
package domain
