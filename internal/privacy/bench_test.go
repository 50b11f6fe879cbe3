package privacy_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/interaction"
	"github.com/evcrm/evcrm/domain/servicecase"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/memory"
	"github.com/evcrm/evcrm/eventstore/postgres"
	"github.com/evcrm/evcrm/internal/pgtest"
	"github.com/evcrm/evcrm/internal/privacy"
)

// BenchmarkAppend measures the cost of encryption on the single-writer
// append rate of the PostgreSQL store: the same domain events (an
// interaction logged with its personal fields, or a case event in an
// existing case) for 100 customers, appended one at a time, plain and
// through the privacy decorator. Compare events/s of the sub-benchmarks;
// the memory backend isolates the decorator's own cost per event.
func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	for _, backend := range []string{"postgres", "memory"} {
		for _, workload := range []string{"interactions", "case-events"} {
			for _, mode := range []string{"plain", "encrypted"} {
				b.Run(backend+"/"+workload+"/"+mode, func(b *testing.B) {
					db := pgtest.New(b)
					var pg eventstore.Store = memory.New()
					if backend == "postgres" {
						if err := postgres.Migrate(ctx, db.Pool); err != nil {
							b.Fatal(err)
						}
						var err error
						if pg, err = postgres.New(ctx, db.Pool, postgres.Config{DisableListenNotify: true}); err != nil {
							b.Fatal(err)
						}
					}
					b.Cleanup(pg.Close)
					var store eventstore.Store = pg
					var err error
					if mode == "encrypted" {
						if err := privacy.Migrate(ctx, db.Pool, nil); err != nil {
							b.Fatal(err)
						}
						masters, _ := privacy.ParseMasterKeys(privacy.NewMasterKeyText())
						kr, _ := privacy.NewKeyring(db.Pool, masters)
						if store, err = privacy.Wrap(pg, privacy.Config{Keyring: kr}); err != nil {
							b.Fatal(err)
						}
					}
					customers := make([]uuid.UUID, 100)
					cases := make([]uuid.UUID, 100)
					versions := make([]uint64, 100)
					for i := range customers {
						customers[i], cases[i] = uuid.New(), uuid.New()
					}
					at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
					appendOne := func(i int) {
						c := i % len(customers)
						var e domain.Event
						stream := ""
						switch {
						case workload == "interactions":
							id := uuid.New()
							stream = "interaction-" + id.String()
							e = interaction.InteractionLogged{InteractionID: id, Content: interaction.Content{CustomerID: customers[c],
								Channel: interaction.ChannelCall, Direction: interaction.Inbound, Subject: "Replacement part delivered damaged",
								Summary:    "The customer reports that the replacement pump housing arrived cracked; photos attached.",
								OccurredAt: at, Actor: "agent.bob", Participants: []interaction.Participant{{Kind: interaction.ParticipantUser, UserID: "agent.bob"},
									{Kind: interaction.ParticipantContact, ContactID: uuid.New(), Name: "Hans Kontakt", Address: "+49 30 1234567"}}}, At: at}
						case versions[c] == 0:
							stream = "case-" + cases[c].String()
							e = servicecase.CaseOpened{CaseID: cases[c], CustomerID: customers[c], Queue: "support", Priority: servicecase.P3,
								Channel: servicecase.ChannelEmail, Subject: "Pump housing cracked", Description: "Arrived cracked; photos attached.", OpenedAt: at}
						default:
							stream = "case-" + cases[c].String()
							e = servicecase.CaseEscalated{CaseID: cases[c], Level: int(versions[c]), Reason: "customer called again",
								Note: "The customer is upset; call back before noon.", EscalatedAt: at}
						}
						typ, v, data, err := domain.Events.Encode(e)
						if err != nil {
							b.Fatal(err)
						}
						if _, err := store.Append(ctx, stream, eventstore.Any, eventstore.EventData{ID: uuid.New(), Type: typ, SchemaVersion: v,
							Data: data, Metadata: eventstore.Metadata{Tenant: "acme", Actor: "agent.bob"}}); err != nil {
							b.Fatal(err)
						}
						versions[c]++
					}
					for i := range 2 * len(customers) { // keys and case streams exist, as in steady state
						appendOne(i)
					}
					i := 0
					for b.Loop() {
						appendOne(i)
						i++
					}
					b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "events/s")
				})
			}
		}
	}
}
