package campaign_test

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/campaign"
)

// stored passes events through the registry's JSON, as a load from the
// event store would.
func stored(t *testing.T, events ...domain.Event) []domain.Event {
	t.Helper()
	out := make([]domain.Event, len(events))
	for i, e := range events {
		typ, v, data, err := domain.Events.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		if out[i], err = domain.Events.Decode(typ, v, data); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// A state restored from a snapshot taken after any prefix of the stream, then
// fed the rest, equals the state folded from the whole stream.
func TestSnapshotRoundTrip(t *testing.T) {
	replied := opened
	replied.Kind, replied.CustomerID = campaign.ResponseReplied, customer
	streams := map[string][]domain.Event{
		"completed": stored(t, planned,
			campaign.CampaignBudgetChanged{CampaignID: id, Budget: domain.Money{Amount: 1, Currency: "EUR"}, PreviousBudget: budget, At: now},
			launched, opened, replied, opened, completed, opened),
		"cancelled": stored(t, planned, cancelled),
	}
	later := now.Add(time.Hour)
	for name, events := range streams {
		full := domain.Fold[campaign.State](events...)
		want, err := full.MarshalSnapshot()
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k <= len(events); k++ {
			snap, err := domain.Fold[campaign.State](events[:k]...).MarshalSnapshot()
			if err != nil {
				t.Fatal(err)
			}
			var s campaign.State
			if err := s.UnmarshalSnapshot(snap); err != nil {
				t.Fatalf("%s@%d: UnmarshalSnapshot(%s): %v", name, k, snap, err)
			}
			for _, e := range events[k:] {
				s.Apply(e)
			}
			got, _ := s.MarshalSnapshot()
			if !bytes.Equal(got, want) {
				t.Errorf("%s@%d: restored+rest = %s, folded = %s", name, k, got, want)
			}
			if s.Status() != full.Status() || s.Budget() != full.Budget() || s.LaunchedAt() != full.LaunchedAt() ||
				s.ClosedAt() != full.ClosedAt() || !reflect.DeepEqual(s.ResponseCounts(), full.ResponseCounts()) {
				t.Errorf("%s@%d: accessors differ", name, k)
			}
			for _, cmd := range []domain.Command{campaign.CompleteCampaign{CampaignID: id}, campaign.LaunchCampaign{CampaignID: id}} {
				e1, err1 := s.Decide(cmd, later)
				e2, err2 := full.Decide(cmd, later)
				if !reflect.DeepEqual(e1, e2) || err1 != err2 {
					t.Errorf("%s@%d: %s decides %v, %v; folded decides %v, %v", name, k, cmd.CommandType(), e1, err1, e2, err2)
				}
			}
		}
	}
}

func TestSnapshotRejectsMalformed(t *testing.T) {
	for _, bad := range []string{
		``, `null x`, `[]`, `{"id":"nope"}`, `{"unknown":1}`, `{} {}`,
		`{"id":"ca000000-0000-4000-8000-000000000001"}`,
		`{"id":"00000000-0000-0000-0000-000000000000","status":"planned"}`,
		`{"id":"ca000000-0000-4000-8000-000000000001","status":"paused"}`,
		`{"id":"ca000000-0000-4000-8000-000000000001","status":"launched","responses":{"opened":-1}}`,
	} {
		var s campaign.State
		if err := s.UnmarshalSnapshot([]byte(bad)); err == nil {
			t.Errorf("UnmarshalSnapshot(%s) = nil error", bad)
		}
	}
	if campaign.SnapshotSchema < 1 || (&campaign.State{}).SnapshotSchema() != campaign.SnapshotSchema {
		t.Error("snapshot schema")
	}
}
