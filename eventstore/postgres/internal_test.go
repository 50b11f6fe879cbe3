package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/internal/pgtest"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
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

// TestDecodeWithScan: rows that do not arrive in binary format are read
// through Scan, with the same result.
func TestDecodeWithScan(t *testing.T) {
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
	e := eventstore.EventData{ID: uuid.New(), Type: "T", SchemaVersion: 2, Data: json.RawMessage(`{"a": [1, "x"]}`),
		Metadata: eventstore.Metadata{Actor: "a", Extra: map[string]string{"k": "v"}}}
	if _, err := s.Append(ctx, "a-1", eventstore.NoStream, e); err != nil {
		t.Fatal(err)
	}
	read := func(binary bool) eventstore.RecordedEvent {
		rows, err := db.Pool.Query(ctx, readForwardsSQL, "a-1", 1, nil) // a stream read: no wait for other transactions
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		if !rows.Next() {
			t.Fatal("no row")
		}
		var got eventstore.RecordedEvent
		dec := newRowDecoder(rows, 0)
		if !dec.binary {
			t.Fatal("pgx's default exec mode gives text for fixed-size columns")
		}
		dec.binary = binary
		if err := dec.decode(rows, &got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	fast, slow := read(true), read(false)
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("binary decode %+v\nscan %+v", fast, slow)
	}
	if fast.ID != e.ID || fast.SchemaVersion != 2 || fast.Metadata.Extra["k"] != "v" || fast.Position.IsZero() || fast.RecordedAt.Location() != time.UTC {
		t.Fatalf("decoded %+v", fast)
	}
}

// TestPoolWithoutDescribe: a pool that would guess parameter types is
// refused.
func TestPoolWithoutDescribe(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	cfg := db.Pool.Config()
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := New(context.Background(), pool, Config{}); err == nil {
		t.Fatal("simple-protocol pool accepted")
	}
}
