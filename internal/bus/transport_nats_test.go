package bus

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/components/requestreply"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
)

func TestNATSNames(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"evcrm.events.case":          "evcrm_events_case",
		"evcrm.commands.OpenCase":    "evcrm_commands_OpenCase",
		"evcrm.command.OpenCase":     "evcrm_command_OpenCase",
		"process.sla-watcher.case":   "process_sla-watcher_case",
		"staging.evcrm.events.order": "staging_evcrm_events_order",
	} {
		if got := natsName(in); got != want {
			t.Errorf("natsName(%q) = %q, want %q", in, got, want)
		}
	}
	// Names that cannot map one to one get a hash: still distinct, still valid.
	seen := map[string]string{}
	for _, in := range []string{
		"a.b", "a_b", "a b", "a*b", "a>b", "a/b", "a\\b", "a.b.", "a..b", "ünï.côdé", "",
		strings.Repeat("x", 200), strings.Repeat("x", 201), "my_ns.evcrm.events.case",
	} {
		got := natsName(in)
		if prev, ok := seen[got]; ok {
			t.Errorf("natsName(%q) = natsName(%q) = %q", in, prev, got)
		}
		seen[got] = in
		if got == "" || len(got) > natsMaxName || strings.ContainsAny(got, ". *>/\\\t") {
			t.Errorf("natsName(%q) = %q: not a valid stream or consumer name", in, got)
		}
	}
}

func TestNATSSubjects(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"evcrm.events.case":            "evcrm.events.case",
		"evcrm.commands.OpenCase":      "evcrm.commands.OpenCase",
		"ns-1.evcrm.replies.OpenCase":  "ns-1.evcrm.replies.OpenCase",
		"evcrm.events.a b":             "evcrm.events.a%20b",
		"evcrm.events.*":               "evcrm.events.%2A",
		"evcrm.events.>":               "evcrm.events.%3E",
		"evcrm.events.":                "evcrm.events.%",
		"evcrm.events.100%":            "evcrm.events.100%25",
		"evcrm.events.kürbis":          "evcrm.events.k%C3%BCrbis",
		"evcrm.events.tab\there\x00!x": "evcrm.events.tab%09here%00!x",
	} {
		if got := natsSubject(in); got != want {
			t.Errorf("natsSubject(%q) = %q, want %q", in, got, want)
		}
	}
	if natsSubject("a.%") == natsSubject("a.") {
		t.Error(`"a.%" and "a." map to one subject`)
	}
	if got := natsToken("op.1"); got != "op%2E1" {
		t.Errorf("natsToken(op.1) = %q", got)
	}
}

// TestNATSMarshalerRoundTrip encodes headers exactly as nats.go puts them on
// the wire (http.Header.Write after "NATS/1.0") and decodes them with
// nats.go: metadata that headers cannot carry survives through the
// overflow header.
func TestNATSMarshalerRoundTrip(t *testing.T) {
	t.Parallel()
	m := natsMarshaler{
		subject: func(topic string, _ *message.Message) (string, error) { return natsSubject(topic), nil },
		dedupe:  isEventTopic,
	}
	msg := message.NewMessage("5b8e4c3e-0000-4000-8000-000000000001", []byte(`{"x":1}`))
	hostile := map[string]string{
		KeyName:                             "CaseOpened",
		KeyActor:                            "  padded actor\t",
		"x-note":                            "line one\r\nline two",
		"x-empty":                           "",
		"x-spaced key":                      "v",
		"x-colon:key":                       "v",
		"Nats-Msg-Id":                       "forged",
		"nats-expected-stream":              "forged",
		natsMetadataHeader:                  "forged",
		wmnats.WatermillUUIDHdr:             "forged",
		"x-unicode":                         "Zürich – ok",
		"x-ctrl":                            "bell\a",
		"x-trailing":                        "dot. ",
		requestreply.OperationIDMetadataKey: "op-1",
	}
	for k, v := range hostile {
		msg.Metadata.Set(k, v)
	}
	nm, err := m.Marshal(EventTopicPrefix+"case", msg)
	if err != nil {
		t.Fatal(err)
	}
	if nm.Subject != "evcrm.events.case" || nm.Header.Get(nats.MsgIdHdr) != msg.UUID {
		t.Fatalf("subject %q, msg id %q", nm.Subject, nm.Header.Get(nats.MsgIdHdr))
	}
	if nm.Header.Get(KeyName) != "CaseOpened" || nm.Header.Get(wmnats.WatermillUUIDHdr) != msg.UUID {
		t.Fatalf("plain headers = %v", nm.Header)
	}

	var wire bytes.Buffer
	wire.WriteString("NATS/1.0\r\n")
	if err := http.Header(nm.Header).Write(&wire); err != nil {
		t.Fatal(err)
	}
	wire.WriteString("\r\n")
	hdr, err := nats.DecodeHeadersMsg(wire.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Unmarshal(&nats.Msg{Subject: nm.Subject, Header: hdr, Data: nm.Data})
	if err != nil {
		t.Fatal(err)
	}
	if got.UUID != msg.UUID || string(got.Payload) != `{"x":1}` {
		t.Fatalf("got %s %s", got.UUID, got.Payload)
	}
	for k, v := range hostile {
		if got.Metadata[k] != v {
			t.Errorf("metadata %q = %q, want %q", k, got.Metadata[k], v)
		}
	}
	if len(got.Metadata) != len(hostile) {
		t.Errorf("metadata = %v, want exactly %v", got.Metadata, hostile)
	}

	// Commands are not deduplicated by the broker: a resent command must
	// reach the handler (which replays its result).
	cmd, err := m.Marshal(CommandTopicPrefix+"OpenCase", message.NewMessage("c1", nil))
	if err != nil {
		t.Fatal(err)
	}
	if cmd.Header.Get(nats.MsgIdHdr) != "" {
		t.Errorf("command carries Nats-Msg-Id %q", cmd.Header.Get(nats.MsgIdHdr))
	}

	// A UUID headers cannot carry travels in the overflow header.
	odd := message.NewMessage(" odd\nid ", nil)
	nm, err = m.Marshal("t", odd)
	if err != nil {
		t.Fatal(err)
	}
	back, _ := m.Unmarshal(nm)
	if back.UUID != odd.UUID {
		t.Errorf("uuid %q, want %q", back.UUID, odd.UUID)
	}

	// Garbage in the overflow header: the message is still delivered.
	back, err = m.Unmarshal(&nats.Msg{Header: nats.Header{natsMetadataHeader: {"{nope"}, wmnats.WatermillUUIDHdr: {"u"}}})
	if err != nil || back.UUID != "u" || back.Metadata.Get(natsMetadataHeader) != "{nope" {
		t.Errorf("unmarshal of a bad overflow header = %v, %v", back, err)
	}
}

func TestNATSReplySubject(t *testing.T) {
	t.Parallel()
	tr := &natsTransport{namespace: "ci-7"}
	msg := message.NewMessage("r", nil)
	if _, err := tr.replySubject(ReplyTopicPrefix+"OpenCase", msg); err == nil {
		t.Error("a reply without an operation ID got a subject")
	}
	msg.Metadata.Set(requestreply.OperationIDMetadataKey, "0b0e.7")
	got, err := tr.replySubject(ReplyTopicPrefix+"OpenCase", msg)
	if err != nil || got != "ci-7.evcrm.replies.OpenCase.0b0e%2E7" {
		t.Errorf("reply subject = %q, %v", got, err)
	}
}
