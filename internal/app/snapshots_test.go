package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/campaign"
)

// The app's dispatcher snapshots campaigns in PostgreSQL every
// commands.DefaultSnapshotEvery events and starts from the snapshot.
func TestCampaignSnapshots(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, _ := newApp(t)
	id, lead := uuid.New(), uuid.New()
	cmds := []domain.Command{
		campaign.PlanCampaign{CampaignID: id, Name: "Spring", Channel: campaign.ChannelEmail, Budget: domain.Money{Amount: 100, Currency: "EUR"}},
		campaign.LaunchCampaign{CampaignID: id},
	}
	for range commands.DefaultSnapshotEvery {
		cmds = append(cmds, campaign.RecordCampaignResponse{CampaignID: id, LeadID: lead, Kind: campaign.ResponseOpened,
			OccurredAt: time.Now().Add(-time.Minute)})
	}
	for _, c := range cmds {
		if _, err := a.Dispatcher.Dispatch(ctx, c, commands.Metadata{Actor: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	var version uint64
	var state []byte
	err := a.Pool.QueryRow(ctx, `SELECT version, state FROM evcrm_snapshots WHERE stream_id = $1`, campaign.StreamID(id)).Scan(&version, &state)
	if err != nil || version != commands.DefaultSnapshotEvery {
		t.Fatalf("snapshot at version %d, %v; want %d", version, err, commands.DefaultSnapshotEvery)
	}
	res, err := a.Dispatcher.Dispatch(ctx, campaign.CompleteCampaign{CampaignID: id}, commands.Metadata{Actor: "test"})
	if err != nil || res.Version != uint64(len(cmds)+1) {
		t.Fatalf("complete = %+v, %v", res, err)
	}
	st, _, err := commands.Load[campaign.State](ctx, a.Store, nil, campaign.StreamID(id))
	if err != nil || st.Status() != campaign.StatusCompleted || st.ResponseCount(campaign.ResponseOpened) != commands.DefaultSnapshotEvery {
		t.Fatalf("campaign = %+v, %v (snapshot %s)", st, err, state)
	}
}
