package privacy_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	_ "github.com/evcrm/evcrm/domain/all"
	"github.com/evcrm/evcrm/domain/contactinfo"
	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/domain/lead"
	"github.com/evcrm/evcrm/domain/servicecase"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/memory"
	"github.com/evcrm/evcrm/eventstore/storetest"
	"github.com/evcrm/evcrm/internal/pgtest"
	"github.com/evcrm/evcrm/internal/privacy"
)

const tenant = "acme-tenant"

var now = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

type bundle struct {
	db    *pgtest.DB
	inner *memory.Store
	store *privacy.Store
	keys  []privacy.MasterKey
}

func setup(t *testing.T, masterText ...string) *bundle {
	t.Helper()
	ctx := context.Background()
	db := pgtest.New(t)
	if err := privacy.Migrate(ctx, db.Pool, nil); err != nil {
		t.Fatal(err)
	}
	if len(masterText) == 0 {
		masterText = []string{privacy.NewMasterKeyText()}
	}
	masters, err := privacy.ParseMasterKeys(strings.Join(masterText, "\n"))
	if err != nil {
		t.Fatal(err)
	}
	b := &bundle{db: db, inner: memory.New(), keys: masters}
	b.store = b.wrap(t, masters)
	t.Cleanup(b.inner.Close)
	return b
}

func (b *bundle) wrap(t *testing.T, masters []privacy.MasterKey) *privacy.Store {
	t.Helper()
	kr, err := privacy.NewKeyring(b.db.Pool, masters)
	if err != nil {
		t.Fatal(err)
	}
	s, err := privacy.Wrap(b.inner, privacy.Config{Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func encode(t *testing.T, e domain.Event) eventstore.EventData {
	t.Helper()
	typ, v, data, err := domain.Events.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	return eventstore.EventData{ID: uuid.New(), Type: typ, SchemaVersion: v, Data: data,
		Metadata: eventstore.Metadata{Tenant: tenant, Actor: "dpo"}}
}

func (b *bundle) append(t *testing.T, stream string, es ...domain.Event) []eventstore.EventData {
	t.Helper()
	var data []eventstore.EventData
	for _, e := range es {
		data = append(data, encode(t, e))
	}
	if _, err := b.store.Append(context.Background(), stream, eventstore.Any, data...); err != nil {
		t.Fatalf("append to %s: %v", stream, err)
	}
	return data
}

func (b *bundle) raw(t *testing.T) string {
	t.Helper()
	events, err := b.inner.ReadAll(context.Background(), eventstore.ReadAllOptions{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, e := range events {
		sb.Write(e.Data)
		sb.WriteByte('\n')
	}
	return sb.String()
}

func decode(t *testing.T, r eventstore.RecordedEvent) domain.Event {
	t.Helper()
	e, err := domain.Events.Decode(r.Type, r.SchemaVersion, r.Data)
	if err != nil {
		t.Fatalf("decode %s: %v (%s)", r.Type, err, r.Data)
	}
	return e
}

var (
	custID  = uuid.MustParse("0f3c2b1a-1111-4a4a-8b8b-000000000001")
	leadID  = uuid.MustParse("0f3c2b1a-1111-4a4a-8b8b-000000000002")
	caseID  = uuid.MustParse("0f3c2b1a-1111-4a4a-8b8b-000000000003")
	details = customer.Details{Kind: customer.KindPerson, DisplayName: "Erika Mustermann", Emails: []string{"erika@example.org"},
		Phones: []string{"+49 30 1234567"}, TaxID: "DE999999999",
		Address: contactinfo.Address{Lines: []string{"Heidestrasse 17"}, PostalCode: "51147", City: "Koeln", Country: "DE"}}
	registered = customer.CustomerRegistered{CustomerID: custID, Details: details, Segment: "retail", At: now}
	secrets    = []string{"Erika", "Mustermann", "erika@example.org", "1234567", "DE999999999", "Heidestrasse", "Koeln", "51147",
		"Printer broke", "toner everywhere", "Erik Lead", "lead@example.org", "call after 5"}
)

func assertNoSecrets(t *testing.T, where, text string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("%s holds the plaintext %q", where, s)
		}
	}
}

func TestEncryptedAtRestDecryptedOnRead(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	stream := customer.StreamID(custID)
	b.append(t, stream, registered)

	raw := b.raw(t)
	assertNoSecrets(t, "the stored event", raw)
	if !strings.Contains(raw, `"$enc":"v1"`) || !strings.Contains(raw, `"segment":"retail"`) {
		t.Errorf("stored data: want envelopes and the non-personal fields in clear, got %s", raw)
	}
	got, err := b.store.ReadStream(ctx, stream, eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if e := decode(t, got[0]).(customer.CustomerRegistered); e.DisplayName != "Erika Mustermann" || e.Address.City != "Koeln" || e.TaxID != "DE999999999" {
		t.Errorf("decrypted: %+v", e)
	}
	all, err := b.store.ReadAll(ctx, eventstore.ReadAllOptions{})
	if err != nil || len(all) != 1 || !strings.Contains(string(all[0].Data), "Erika") {
		t.Errorf("ReadAll: %v %v", err, all)
	}
}

func TestRetriedAppendIsIdempotent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	data := []eventstore.EventData{encode(t, registered)}
	r1, err := b.store.Append(ctx, customer.StreamID(custID), eventstore.NoStream, data...)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := b.store.Append(ctx, customer.StreamID(custID), eventstore.NoStream, data...)
	if err != nil || r1 != r2 {
		t.Fatalf("retry: %v %+v %+v", err, r1, r2)
	}
	// Another store (another process) with the same keys writes the same bytes.
	other := b.wrap(t, b.keys)
	if _, err := other.Append(ctx, customer.StreamID(custID), eventstore.NoStream, data...); err != nil {
		t.Fatalf("retry from another process: %v", err)
	}
}

func TestEraseShredsEveryStreamOfTheSubject(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.append(t, lead.Category+"-"+leadID.String(),
		lead.LeadCaptured{LeadID: leadID, Source: "web_form", Prospect: lead.Prospect{ContactName: "Erik Lead", Email: "lead@example.org"}, Notes: "call after 5", At: now},
		lead.LeadConverted{LeadID: leadID, CustomerID: custID, OpportunityID: uuid.New(), OpportunityName: "Printers", Source: "web_form",
			Prospect: lead.Prospect{ContactName: "Erik Lead", Email: "lead@example.org"}, At: now})
	b.append(t, customer.StreamID(custID), registered)
	caseStream := servicecase.Category + "-" + caseID.String()
	b.append(t, caseStream,
		servicecase.CaseOpened{CaseID: caseID, CustomerID: custID, Queue: "support", Priority: "normal", Channel: servicecase.ChannelEmail,
			Subject: "Printer broke", Description: "toner everywhere", OpenedAt: now})
	b.append(t, caseStream, servicecase.CaseResolved{CaseID: caseID, Resolution: "Erika got a new printer", ResolvedAt: now})
	before := b.raw(t)
	assertNoSecrets(t, "the stored events", before)

	b.append(t, customer.StreamID(custID), customer.CustomerErased{CustomerID: custID, Reason: "request", At: now})

	// The stored events are unchanged (the audit log's hashes still hold)...
	after := b.raw(t)
	if !strings.HasPrefix(after, before) {
		t.Errorf("erasure changed stored events")
	}
	// ...but read back, every personal field of the customer's streams is erased.
	all, err := b.store.ReadAll(ctx, eventstore.ReadAllOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, r := range all {
		sb.Write(r.Data)
		decode(t, r) // erased data still decodes
	}
	assertNoSecrets(t, "the events read after erasure", sb.String())
	if strings.Contains(sb.String(), "Erika got") {
		t.Errorf("the case's resolution (no customer_id, the stream's subject) was not erased")
	}
	cs, err := b.store.ReadStream(ctx, customer.StreamID(custID), eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var first map[string]any
	_ = json.Unmarshal(cs[0].Data, &first)
	if first["display_name"] != nil || first["segment"] != "retail" || first[privacy.ErasedKey] == nil {
		t.Errorf("erased CustomerRegistered: %s", cs[0].Data)
	}
	if e := decode(t, cs[0]).(customer.CustomerRegistered); e.DisplayName != "" || e.CustomerID != custID || e.Segment != "retail" {
		t.Errorf("decoded erased event: %+v", e)
	}

	// Data recorded about the subject later is stored erased, never in clear.
	b.append(t, caseStream, servicecase.CaseReopened{CaseID: caseID, Reason: "Erika Mustermann called again", ReopenedAt: now})
	assertNoSecrets(t, "events stored after erasure", b.raw(t))
	if strings.Contains(b.raw(t), "called again") {
		t.Errorf("reason stored in clear after erasure")
	}
	// A process whose cache still held the key sees the erasure within the TTL; a new one at once.
	fresh := b.wrap(t, b.keys)
	again, err := fresh.ReadStream(ctx, caseStream, eventstore.ReadStreamOptions{})
	if err != nil || strings.Contains(string(again[0].Data), "toner") {
		t.Errorf("a fresh process reads the erased data: %v %s", err, again[0].Data)
	}
}

func TestMasterKeyRotation(t *testing.T) {
	t.Parallel()
	old, next := privacy.NewMasterKeyText(), privacy.NewMasterKeyText()
	b := setup(t, old)
	ctx := context.Background()
	b.append(t, customer.StreamID(custID), registered)

	both, err := privacy.ParseMasterKeys(next + "\n" + old)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := privacy.NewKeyring(b.db.Pool, both)
	if err != nil {
		t.Fatal(err)
	}
	n, err := kr.RotateMasterKey(ctx)
	if err != nil || n != 1 {
		t.Fatalf("rotate: %d %v", n, err)
	}
	if n, err := kr.RotateMasterKey(ctx); err != nil || n != 0 {
		t.Fatalf("second rotate: %d %v", n, err)
	}
	onlyNew, _ := privacy.ParseMasterKeys(next)
	got, err := b.wrap(t, onlyNew).ReadStream(ctx, customer.StreamID(custID), eventstore.ReadStreamOptions{})
	if err != nil || !strings.Contains(string(got[0].Data), "Erika") {
		t.Fatalf("read with the new master key only: %v %v", err, got)
	}
	onlyOld, _ := privacy.ParseMasterKeys(old)
	if _, err := b.wrap(t, onlyOld).ReadStream(ctx, customer.StreamID(custID), eventstore.ReadStreamOptions{}); err == nil {
		t.Fatal("the old master key alone still opens the data keys after rotation")
	}
}

func TestWrongMasterKeyAndTamperingFailLoudly(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.append(t, customer.StreamID(custID), registered)
	wrong, _ := privacy.ParseMasterKeys(privacy.NewMasterKeyText())
	if _, err := b.wrap(t, wrong).ReadStream(ctx, customer.StreamID(custID), eventstore.ReadStreamOptions{}); err == nil ||
		!strings.Contains(err.Error(), "not configured") {
		t.Errorf("wrong master key: %v", err)
	}
	// A ciphertext moved to another field does not open.
	stored, _ := b.inner.ReadStream(ctx, customer.StreamID(custID), eventstore.ReadStreamOptions{})
	var m map[string]json.RawMessage
	_ = json.Unmarshal(stored[0].Data, &m)
	m["legal_name"] = m["tax_id"]
	moved, _ := json.Marshal(m)
	if _, err := b.store.Open(ctx, moved); err == nil || !strings.Contains(err.Error(), "legal_name") {
		t.Errorf("moved ciphertext: %v", err)
	}
}

func TestMasterKeyParsing(t *testing.T) {
	t.Parallel()
	k := privacy.NewMasterKeyText()
	for name, text := range map[string]string{
		"NotBase64": "not a key", "Short": "AAAA", "Twice": k + "\n" + k,
	} {
		if _, err := privacy.ParseMasterKeys(text); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	keys, err := privacy.ParseMasterKeys("# current\n" + k + "\n\n")
	if err != nil || len(keys) != 1 || !strings.HasPrefix(keys[0].ID, "mk-") {
		t.Errorf("parse: %v %v", keys, err)
	}
	if _, err := privacy.LoadMasterKeys("/nonexistent/key", ""); err == nil {
		t.Error("missing key file accepted")
	}
	if keys, err := privacy.LoadMasterKeys("", ""); err != nil || keys != nil {
		t.Errorf("no key: %v %v", keys, err)
	}
	if _, err := privacy.NewKeyring(nil, nil); !errors.Is(err, privacy.ErrNoMasterKey) {
		t.Errorf("keyring without master key: %v", err)
	}
}

// TestContract runs the event store contract suite through the decorator
// (its events carry no personal data: they pass through unchanged).
func TestContract(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	if err := privacy.Migrate(context.Background(), db.Pool, nil); err != nil {
		t.Fatal(err)
	}
	masters, _ := privacy.ParseMasterKeys(privacy.NewMasterKeyText())
	kr, _ := privacy.NewKeyring(db.Pool, masters)
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		s, err := privacy.Wrap(memory.New(), privacy.Config{Keyring: kr})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
