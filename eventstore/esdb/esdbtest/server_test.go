package esdbtest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/evcrm/evcrm/eventstore/esdb/esdbtest"
	"github.com/google/uuid"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type bundle struct {
	srv    *esdbtest.Server
	client *esdb.Client
	ctx    context.Context
}

func setup(t *testing.T, url func(*esdbtest.Server) string) bundle {
	t.Helper()
	srv := esdbtest.New(t)
	conf, err := esdb.ParseConnectionString(url(srv))
	if err != nil {
		t.Fatal(err)
	}
	conf.Logger = esdb.NoopLogging()
	c, err := esdb.NewClient(conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return bundle{srv, c, ctx}
}

func single(s *esdbtest.Server) string { return s.URL() }

func events(n int) []esdb.EventData {
	out := make([]esdb.EventData, n)
	for i := range out {
		out[i] = esdb.EventData{EventID: uuid.New(), EventType: "Happened", ContentType: esdb.ContentTypeJson, Data: []byte(fmt.Sprintf(`{"n":%d}`, i))}
	}
	return out
}

func (b bundle) append(t *testing.T, stream string, exp esdb.ExpectedRevision, evs ...esdb.EventData) (*esdb.WriteResult, error) {
	t.Helper()
	return b.client.AppendToStream(b.ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: exp}, evs...)
}

func wrongVersion(err error) bool {
	var e *esdb.Error
	return errors.As(err, &e) && e.IsErrorCode(esdb.ErrorCodeWrongExpectedVersion)
}

func (b bundle) read(t *testing.T, stream string) []*esdb.ResolvedEvent {
	t.Helper()
	rs, err := b.client.ReadStream(b.ctx, stream, esdb.ReadStreamOptions{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []*esdb.ResolvedEvent
	for {
		ev, err := rs.Recv()
		if err != nil {
			return out
		}
		out = append(out, ev)
	}
}

func TestExpectedRevisions(t *testing.T) {
	b := setup(t, single)
	s := "order-" + uuid.NewString()
	if _, err := b.append(t, s, esdb.StreamExists{}, events(1)...); !wrongVersion(err) {
		t.Fatalf("stream_exists on no stream: %v", err)
	}
	r, err := b.append(t, s, esdb.NoStream{}, events(2)...)
	if err != nil || r.NextExpectedVersion != 1 || r.CommitPosition == 0 {
		t.Fatalf("no_stream: %+v, %v", r, err)
	}
	if _, err := b.append(t, s, esdb.NoStream{}, events(1)...); !wrongVersion(err) {
		t.Fatalf("no_stream on a stream: %v", err)
	}
	if _, err := b.append(t, s, esdb.Revision(5), events(1)...); !wrongVersion(err) {
		t.Fatalf("revision 5 at 1: %v", err)
	}
	if _, err := b.append(t, s, esdb.Revision(0), events(1)...); !wrongVersion(err) {
		t.Fatalf("revision 0 at 1 with new IDs: %v", err)
	}
	if r, err := b.append(t, s, esdb.Revision(1), events(1)...); err != nil || r.NextExpectedVersion != 2 {
		t.Fatalf("revision 1: %+v, %v", r, err)
	}
	if r, err := b.append(t, s, esdb.StreamExists{}, events(1)...); err != nil || r.NextExpectedVersion != 3 {
		t.Fatalf("stream_exists: %+v, %v", r, err)
	}
	if r, err := b.append(t, s, esdb.Any{}, events(2)...); err != nil || r.NextExpectedVersion != 5 {
		t.Fatalf("any: %+v, %v", r, err)
	}
}

func TestPositions(t *testing.T) {
	b := setup(t, single)
	s := "pos-" + uuid.NewString()
	r, err := b.append(t, s, esdb.NoStream{}, events(3)...)
	if err != nil {
		t.Fatal(err)
	}
	got := b.read(t, s)
	first, last := got[0].OriginalEvent().Position, got[2].OriginalEvent().Position
	for _, e := range got {
		if p := e.OriginalEvent().Position; p.Commit != p.Prepare {
			t.Fatalf("event position %+v: commit != prepare", p)
		}
	}
	if !(first.Commit < got[1].OriginalEvent().Position.Commit && got[1].OriginalEvent().Position.Commit < last.Commit) {
		t.Fatal("positions do not grow")
	}
	if last.Commit-first.Commit <= 2 {
		t.Fatal("positions grow by one, not by record size")
	}
	if r.CommitPosition != last.Commit || r.PreparePosition != first.Prepare {
		t.Fatalf("append result %d/%d, want commit of the last %d and prepare of the first %d", r.CommitPosition, r.PreparePosition, last.Commit, first.Prepare)
	}
}

func TestIdempotency(t *testing.T) {
	b := setup(t, single)
	s := "idem-" + uuid.NewString()
	batch := events(3)
	first, err := b.append(t, s, esdb.NoStream{}, batch...)
	if err != nil {
		t.Fatal(err)
	}
	for name, exp := range map[string]esdb.ExpectedRevision{"no_stream": esdb.NoStream{}, "any": esdb.Any{}, "stream_exists": esdb.StreamExists{}} {
		r, err := b.append(t, s, exp, batch...)
		if err != nil || r.NextExpectedVersion != first.NextExpectedVersion || r.CommitPosition != 0 || r.PreparePosition != 0 {
			t.Fatalf("%s replay: %+v, %v; want revision %d and no position", name, r, err, first.NextExpectedVersion)
		}
	}
	if r, err := b.append(t, s, esdb.Revision(0), batch[1:]...); err != nil || r.NextExpectedVersion != 2 {
		t.Fatalf("tail replay at revision 0: %+v, %v", r, err)
	}
	// Only IDs count, never content.
	changed := batch[0]
	changed.Data = []byte(`{"other":true}`)
	if _, err := b.append(t, s, esdb.NoStream{}, changed); err != nil {
		t.Fatalf("replay with other data: %v", err)
	}
	// Known IDs then a new one: corrupted idempotency.
	if _, err := b.append(t, s, esdb.Any{}, append(batch[:2:2], events(1)...)...); !wrongVersion(err) {
		t.Fatalf("partial replay with any: %v", err)
	}
	if _, err := b.append(t, s, esdb.NoStream{}, append(batch[:1:1], events(1)...)...); !wrongVersion(err) {
		t.Fatalf("partial replay with no_stream: %v", err)
	}
	// A new first ID with any writes the whole batch, repeats included.
	if r, err := b.append(t, s, esdb.Any{}, events(1)[0], batch[0]); err != nil || r.NextExpectedVersion != 4 {
		t.Fatalf("new then known with any: %+v, %v", r, err)
	}
	// Another stream does not know the IDs.
	if _, err := b.append(t, "other-"+uuid.NewString(), esdb.NoStream{}, batch...); err != nil {
		t.Fatalf("same IDs in another stream: %v", err)
	}
	if n := len(b.read(t, s)); n != 5 {
		t.Fatalf("stream has %d events, want 5", n)
	}
}

func TestMaxAppendSize(t *testing.T) {
	b := setup(t, single)
	big := events(1)
	big[0].Data = []byte(`{"x":"` + strings.Repeat("x", esdbtest.MaxAppendSize) + `"}`)
	if r, err := b.append(t, "big-"+uuid.NewString(), esdb.Any{}, big...); err == nil {
		t.Fatalf("an append of %d bytes succeeded: %+v", len(big[0].Data), r)
	}
}

func TestReadsAndSystemEvents(t *testing.T) {
	b := setup(t, single)
	if _, err := b.client.ReadStream(b.ctx, "none-"+uuid.NewString(), esdb.ReadStreamOptions{}, 10); err != nil {
		t.Fatal(err)
	}
	rs, _ := b.client.ReadStream(b.ctx, "none-"+uuid.NewString(), esdb.ReadStreamOptions{}, 10)
	var e *esdb.Error
	if _, err := rs.Recv(); !errors.As(err, &e) || !e.IsErrorCode(esdb.ErrorCodeResourceNotFound) {
		t.Fatalf("missing stream: %v", err)
	}
	rs.Close()
	s := "r-" + uuid.NewString()
	if _, err := b.append(t, s, esdb.NoStream{}, events(2)...); err != nil {
		t.Fatal(err)
	}
	b.srv.AppendSystemEvent("$stats-127.0.0.1:2113", "$statsCollected", []byte(`{}`))
	all, err := b.client.ReadAll(b.ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, 100)
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	var types []string
	for {
		ev, err := all.Recv()
		if err != nil {
			break
		}
		types = append(types, ev.OriginalEvent().EventType)
	}
	want := []string{"$statsCollected", "Happened", "Happened", "$UserCreated", "$metadata"}
	if fmt.Sprint(types) != fmt.Sprint(want) {
		t.Fatalf("$all backwards: %v, want %v", types, want)
	}
}

func TestSubscriptionFiltersCaughtUpAndDrop(t *testing.T) {
	b := setup(t, single)
	cat := "sub" + uuid.NewString()[:8]
	for range 3 {
		if _, err := b.append(t, cat+"-"+uuid.NewString(), esdb.NoStream{}, events(2)...); err != nil {
			t.Fatal(err)
		}
		if _, err := b.append(t, "noise-"+uuid.NewString(), esdb.NoStream{}, events(5)...); err != nil {
			t.Fatal(err)
		}
	}
	for name, filter := range map[string]*esdb.SubscriptionFilter{
		"prefix": {Type: esdb.StreamFilterType, Prefixes: []string{cat + "-"}},
		"regex":  {Type: esdb.StreamFilterType, Regex: "^" + cat + "(-|$)"},
	} {
		sub, err := b.client.SubscribeToAll(b.ctx, esdb.SubscribeToAllOptions{From: esdb.Start{}, Filter: filter})
		if err != nil {
			t.Fatal(err)
		}
		n, checkpoints := 0, 0
		for caughtUp := false; !caughtUp; {
			ev := sub.Recv()
			switch {
			case ev.EventAppeared != nil:
				n++
			case ev.CheckPointReached != nil:
				checkpoints++
			case ev.CaughtUp != nil:
				caughtUp = true
			case ev.SubscriptionDropped != nil:
				t.Fatalf("%s: dropped: %v", name, ev.SubscriptionDropped.Error)
			}
		}
		if n != 6 || checkpoints == 0 {
			t.Fatalf("%s: %d events, %d checkpoints before caught-up; want 6 and some", name, n, checkpoints)
		}
		if got := b.srv.DropSubscriptions(); got != 1 {
			t.Fatalf("dropped %d subscriptions, want 1", got)
		}
		for {
			ev := sub.Recv()
			if ev.SubscriptionDropped != nil {
				break
			}
		}
		_ = sub.Close()
	}
	// Event-type filter, live.
	sub, err := b.client.SubscribeToAll(b.ctx, esdb.SubscribeToAllOptions{From: esdb.End{}, Filter: &esdb.SubscriptionFilter{Type: esdb.EventFilterType, Prefixes: []string{"Wanted"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	wanted := esdb.EventData{EventID: uuid.New(), EventType: "Wanted", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)}
	if _, err := b.append(t, "live-"+uuid.NewString(), esdb.Any{}, append(events(3), wanted)...); err != nil {
		t.Fatal(err)
	}
	for {
		ev := sub.Recv()
		if ev.EventAppeared != nil {
			if id := ev.EventAppeared.OriginalEvent().EventID; id != wanted.EventID {
				t.Fatalf("live event %s, want %s", id, wanted.EventID)
			}
			return
		}
		if ev.SubscriptionDropped != nil {
			t.Fatal(ev.SubscriptionDropped.Error)
		}
	}
}

func TestGossipDiscovery(t *testing.T) {
	b := setup(t, (*esdbtest.Server).GossipURL)
	if _, err := b.append(t, "g-"+uuid.NewString(), esdb.NoStream{}, events(1)...); err != nil {
		t.Fatalf("append through gossip discovery: %v", err)
	}
}
