package audit_test

import (
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/audit"
	"github.com/evcrm/evcrm/eventstore"
)

// The encoding of a fixed event, byte for byte: what docs/audit.md
// specifies, for outside verifiers to test their implementation against.
func TestLeafEncodingGolden(t *testing.T) {
	e := eventstore.RecordedEvent{
		ID: uuid.MustParse("0195b2c4-7f5e-7d1a-9c3b-5a4e2f1d0c9b"), StreamID: "case-0195b2c4-7f5e-7d1a-9c3b-5a4e2f1d0c9b",
		Version: 3, Type: "CaseOpened", SchemaVersion: 2,
		Data: json.RawMessage(`{ "z": [1.50, true, null, {"b": "\u003c&\u2028\t\u0001é\"\\", "a": -0e3}], "a": {} }`),
		Metadata: eventstore.Metadata{
			CorrelationID: uuid.MustParse("11111111-2222-3333-4444-555555555555"), Actor: "alice", ActorRole: "service",
			Source: "web", Tenant: "acme", OccurredAt: time.Date(2026, 3, 1, 9, 30, 0, 120000000, time.FixedZone("CET", 3600)),
			Extra: map[string]string{"y": "2", "x": "1"},
		},
		RecordedAt: time.Date(2026, 3, 1, 8, 31, 0, 0, time.UTC),
	}
	got, err := audit.LeafOf(e).Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"data":{"a":{},"z":[1.50,true,null,{"a":-0e3,"b":"<&` + "\u2028" + `\t\u0001é\"\\"}]},` +
		`"event_id":"0195b2c4-7f5e-7d1a-9c3b-5a4e2f1d0c9b","leaf_format":1,` +
		`"metadata":{"actor":"alice","actor_role":"service","correlation_id":"11111111-2222-3333-4444-555555555555","extra":{"x":"1","y":"2"},"occurred_at":"2026-03-01T08:30:00.12Z","source":"web","tenant":"acme"},` +
		`"recorded_at":"2026-03-01T08:31:00Z","schema_version":2,"stream":"case-0195b2c4-7f5e-7d1a-9c3b-5a4e2f1d0c9b","type":"CaseOpened","version":3}`
	if string(got) != want {
		t.Fatalf("encoding\n got %s\nwant %s", got, want)
	}
	h, _ := audit.LeafOf(e).Hash()
	t.Logf("leaf hash %s", hex.EncodeToString(h[:]))
	back, err := audit.DecodeLeaf(got)
	if err != nil {
		t.Fatal(err)
	}
	again, err := audit.LeafOf(back).Encode()
	if err != nil || string(again) != want {
		t.Fatalf("decode/encode round trip: %s %v", again, err)
	}
	// The same event through the API's JSON (HTML-escaped, indented) gives the same leaf.
	api, _ := json.MarshalIndent(map[string]any{"id": e.ID, "version": e.Version, "type": e.Type, "schema_version": e.SchemaVersion,
		"data": e.Data, "metadata": e.Metadata, "recorded_at": e.RecordedAt, "position": "1/1"}, "", "  ")
	var ae audit.APIEvent
	if err := json.Unmarshal(api, &ae); err != nil {
		t.Fatal(err)
	}
	viaAPI, err := audit.LeafFromAPI(e.StreamID, ae).Encode()
	if err != nil || string(viaAPI) != want {
		t.Fatalf("via the API's JSON: %s %v", viaAPI, err)
	}
}

func TestCanonicalJSONRejectsTrailingData(t *testing.T) {
	for _, bad := range []string{`{} {}`, `{`, ``, `{"a":1}x`} {
		if _, err := audit.AppendCanonicalJSON(nil, []byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	skey, vkey, err := audit.GenerateKey("example.com/log")
	if err != nil {
		t.Fatal(err)
	}
	s, pub, err := audit.LoadKey("", skey)
	if err != nil || pub != vkey {
		t.Fatalf("LoadKey: %v %q %q", err, pub, vkey)
	}
	c := audit.Checkpoint{Origin: "example.com/log", Size: 42, Root: [32]byte{1, 2, 3}, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	signed, err := c.Sign(s)
	if err != nil {
		t.Fatal(err)
	}
	v, err := audit.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	back, err := audit.OpenCheckpoint(signed, v)
	if err != nil || back != c {
		t.Fatalf("open: %+v %v", back, err)
	}
	// Altered text, or another key: refused.
	tampered := []byte(string(signed[:len("example.com/log\n")]) + "43" + string(signed[len("example.com/log\n")+2:]))
	if _, err := audit.OpenCheckpoint(tampered, v); err == nil {
		t.Fatal("altered checkpoint opened")
	}
	_, other, _ := audit.GenerateKey("example.com/log")
	ov, _ := audit.NewVerifier(other)
	if _, err := audit.OpenCheckpoint(signed, ov); err == nil {
		t.Fatal("checkpoint opened with another key")
	}
	if _, _, err := audit.LoadKey("", "not a key"); err == nil {
		t.Fatal("bad key loaded")
	}
}
