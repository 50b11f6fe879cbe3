package commands_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/eventstore/memory"
	"github.com/google/uuid"
)

// FuzzDecodeCommand feeds arbitrary JSON, as every command type of the
// domain, through the command path of the bus and the API (decode, bounds,
// decide, append to an in-memory store): nothing panics, and every
// command is either recorded or refused with a domain error, never an
// internal one. Whatever is recorded is within the bounds every read model
// can hold.
func FuzzDecodeCommand(f *testing.F) {
	store := memory.New()
	f.Cleanup(store.Close)
	now := time.Date(2026, 3, 3, 9, 30, 0, 0, time.UTC)
	d, err := commands.NewDispatcher(store, commands.Config{Clock: func() time.Time { return now }})
	if err != nil {
		f.Fatal(err)
	}
	if err := commands.RegisterDomain(d, commands.Deps{Sequences: &counter{}}); err != nil {
		f.Fatal(err)
	}
	types := d.CommandTypes()
	f.Add(uint16(0), []byte(`{}`))
	f.Add(uint16(1), []byte(`{"customer_id":"0195b2c4-7f5e-7d1a-9c3b-5a4e2f1d0c9b","kind":"person","display_name":"Ann"}`))
	f.Add(uint16(2), []byte(`{"amount":{"amount_minor":9223372036854775807,"currency":"EUR"}}`))
	f.Add(uint16(3), []byte(`{"items":[{"ref":"R\u00001","description":"\ud800"}]}`))
	f.Add(uint16(4), []byte("{\"name\":\"\xff\"}"))
	f.Add(uint16(5), []byte(`{"expected_close":"0000-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, typ uint16, data []byte) {
		name := types[int(typ)%len(types)]
		cmd, err := d.DecodeCommand(name, data)
		if err != nil {
			if domain.KindOf(err) != domain.KindValidation {
				t.Fatalf("%s: decoding %q: not a validation error: %v", name, data, err)
			}
			return
		}
		if cmd.AggregateID() == uuid.Nil {
			return
		}
		_, err = d.Dispatch(context.Background(), cmd, commands.Metadata{Actor: "user:fuzz", Role: "admin", Tenant: "t"})
		var de *domain.Error
		if err != nil && !errors.As(err, &de) {
			t.Fatalf("%s %s: not a domain error: %v", name, data, err)
		}
		if de != nil && de.Kind == domain.KindInternal {
			t.Fatalf("%s %s: internal error: %v", name, data, err)
		}
		if err == nil {
			if berr := domain.CheckValues(cmd); berr != nil {
				t.Fatalf("%s recorded values out of bounds: %v", name, berr)
			}
		}
	})
}
