package campaign_test

import (
	"testing"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/campaign"
)

// BenchmarkLoadCampaign measures folding a campaign stream with many
// responses, decoded from JSON as a load from the store would: the cost the
// package doc's volume note is about. Reported per response event.
func BenchmarkLoadCampaign(b *testing.B) {
	const responses = 10_000
	var stored [][]byte
	for _, e := range []domain.Event{planned, launched} {
		_, _, data, _ := domain.Events.Encode(e)
		stored = append(stored, data)
	}
	_, _, resp, _ := domain.Events.Encode(opened)
	types := []string{"CampaignPlanned", "CampaignLaunched"}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		var s campaign.State
		for i, data := range stored {
			e, _ := domain.Events.Decode(types[i], 1, data)
			s.Apply(e)
		}
		for range responses {
			e, err := domain.Events.Decode("CampaignResponseRecorded", 1, resp)
			if err != nil {
				b.Fatal(err)
			}
			s.Apply(e)
		}
		if s.ResponseCount(campaign.ResponseOpened) != responses {
			b.Fatal("wrong count")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*responses), "ns/response")
}
