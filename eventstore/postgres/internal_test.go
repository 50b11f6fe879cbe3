package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/internal/pgtest"
	"github.com/google/uuid"
)

// TestDatabaseRejectsMapToInvalidEvent: values that pass Go validation by
// mistake but that PostgreSQL refuses come back as ErrInvalidEvent, not
// as a raw database error.
func TestDatabaseRejectsMapToInvalidEvent(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	if err := Migrate(ctx, db.Pool); err != nil {
		t.Fatal(err)
	}
	s, err := New(ctx, db.Pool, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for name, data := range map[string]string{
		"NULEscape":     `{"a": "x\u0000y"}`,
		"LoneSurrogate": `{"a": "\ud800"}`,
		"NotJSON":       `{"a": `,
		"BadUTF8":       "{\"a\": \"\xff\"}",
	} {
		e := eventstore.EventData{ID: uuid.New(), Type: "T", SchemaVersion: 1, Data: json.RawMessage(data)}
		_, err := s.append(ctx, "a-"+name, eventstore.Any, []eventstore.EventData{e})
		if !errors.Is(err, eventstore.ErrInvalidEvent) {
			t.Errorf("%s: %v, want ErrInvalidEvent", name, err)
		}
	}
	e := eventstore.EventData{ID: uuid.New(), Type: "T\x00", SchemaVersion: 1, Data: json.RawMessage(`{}`)}
	if _, err := s.append(ctx, "a-type", eventstore.Any, []eventstore.EventData{e}); !errors.Is(err, eventstore.ErrInvalidEvent) {
		t.Errorf("NUL in type: %v, want ErrInvalidEvent", err)
	}
}
