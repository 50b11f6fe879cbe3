package commands_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/campaign"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/memory"
	"github.com/google/uuid"
)

// The benchmarks use the in-memory store, so they measure the handler's own
// cost (replay, decide, encode, append bookkeeping), not the database's.

// BenchmarkDispatch: open a tally and count it once, on a fresh stream.
func BenchmarkDispatch(b *testing.B) {
	store := memory.New()
	defer store.Close()
	d, err := commands.NewDispatcher(store, commands.Config{Registry: tallyEvents})
	if err != nil {
		b.Fatal(err)
	}
	commands.Register[TallyState](d, tallyCategory, []domain.Command{OpenTally{}, CountTally{}})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		id := uuid.New()
		if _, err := d.Dispatch(ctx, OpenTally{TallyID: id, Name: "bench"}, commands.Metadata{}); err != nil {
			b.Fatal(err)
		}
		if _, err := d.Dispatch(ctx, CountTally{TallyID: id, By: 1}, commands.Metadata{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReplay: load an aggregate whose stream holds n events. Every
// command replays its stream, so this is the cost a snapshot would save.
func BenchmarkReplay(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			store := memory.New()
			defer store.Close()
			d, err := commands.NewDispatcher(store, commands.Config{Registry: tallyEvents})
			if err != nil {
				b.Fatal(err)
			}
			h := commands.Register[TallyState](d, tallyCategory, []domain.Command{OpenTally{}, CountTally{}})
			id := uuid.New()
			events := make([]eventstore.EventData, n)
			events[0] = eventstore.EventData{ID: uuid.New(), Type: "TallyOpened", SchemaVersion: 1,
				Data: []byte(fmt.Sprintf(`{"tally_id":%q,"name":"bench","opened_at":"2025-03-03T09:30:00Z"}`, id))}
			for i := 1; i < n; i++ {
				events[i] = eventstore.EventData{ID: uuid.New(), Type: "TallyCounted", SchemaVersion: 1,
					Data: []byte(fmt.Sprintf(`{"tally_id":%q,"by":1}`, id))}
			}
			if _, err := store.Append(context.Background(), "tally-"+id.String(), eventstore.NoStream, events...); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				st, v, err := h.Load(context.Background(), id)
				if err != nil || v != uint64(n) || st.Count() != n-1 {
					b.Fatalf("Load = %d events, %v", v, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/event")
		})
	}
}

// BenchmarkCampaignResponse: record one response on a campaign that already
// has 10k, replaying the whole stream or starting from a snapshot (taken
// every commands.DefaultSnapshotEvery events, in memory).
func BenchmarkCampaignResponse(b *testing.B) {
	const responses = 10_000
	for _, snapshots := range []bool{false, true} {
		b.Run(fmt.Sprintf("snapshots=%v", snapshots), func(b *testing.B) {
			ctx := context.Background()
			store := memory.New()
			defer store.Close()
			cfg := commands.Config{}
			if snapshots {
				cfg.Snapshots = &commands.MemorySnapshots{}
			}
			d, err := commands.NewDispatcher(store, cfg)
			if err != nil {
				b.Fatal(err)
			}
			commands.Register[campaign.State](d, campaign.Category, []domain.Command{campaign.RecordCampaignResponse{}})
			id, lead := uuid.New(), uuid.New()
			at := time.Date(2025, 3, 3, 9, 30, 0, 0, time.UTC)
			events := []domain.Event{
				campaign.CampaignPlanned{CampaignID: id, Name: "bench", Channel: campaign.ChannelEmail, At: at},
				campaign.CampaignLaunched{CampaignID: id, At: at},
			}
			for range responses {
				events = append(events, campaign.CampaignResponseRecorded{CampaignID: id, LeadID: lead,
					Kind: campaign.ResponseOpened, OccurredAt: at, At: at})
			}
			data := make([]eventstore.EventData, len(events))
			for i, e := range events {
				typ, v, body, err := domain.Events.Encode(e)
				if err != nil {
					b.Fatal(err)
				}
				data[i] = eventstore.EventData{ID: uuid.New(), Type: typ, SchemaVersion: v, Data: body}
			}
			if _, err := store.Append(ctx, campaign.StreamID(id), eventstore.NoStream, data...); err != nil {
				b.Fatal(err)
			}
			cmd := campaign.RecordCampaignResponse{CampaignID: id, LeadID: lead, Kind: campaign.ResponseClicked, OccurredAt: at}
			// The first command replays in full (and takes a snapshot).
			if _, err := d.Dispatch(ctx, cmd, commands.Metadata{}); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.Dispatch(ctx, cmd, commands.Metadata{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
