package process

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/complaint"
	"github.com/evcrm/evcrm/domain/nonconformity"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/internal/bus"
)

// ComplaintFollowUpActor is the principal the complaint follow-up sends commands as.
const ComplaintFollowUpActor = "system:complaint-follow-up"

// ComplaintFollowUpHandler is the permanent handler name of the complaint follow-up.
const ComplaintFollowUpHandler = "process.complaint-nonconformity"

// ComplaintFollowUp reacts to NonconformityRaisedFromComplaint (ISO 9001
// 10.2, ISO 10002): it opens the nonconformity the complaint names, with the
// complaint as its source, the complaint's description, its current severity
// mapped to the nonconformity scale, and the customer, order and case it
// concerns. The command ID is derived from the complaint and nonconformity
// IDs, so a redelivered event opens the nonconformity once.
type ComplaintFollowUp struct {
	sender Sender
	store  StreamReader
	log    *slog.Logger
}

// NewComplaintFollowUp returns the complaint follow-up process manager.
func NewComplaintFollowUp(sender Sender, store StreamReader, logger *slog.Logger) *ComplaintFollowUp {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &ComplaintFollowUp{sender: sender, store: store, log: logger}
}

// Register subscribes the process manager to complaint events on the bus.
func (p *ComplaintFollowUp) Register(b *bus.Bus) error {
	return b.AddEventHandlers(ComplaintFollowUpHandler, complaint.Category, bus.NewEventHandler(p.Handle))
}

// Handle handles one NonconformityRaisedFromComplaint event.
func (p *ComplaintFollowUp) Handle(ctx context.Context, e complaint.NonconformityRaisedFromComplaint, env eventstore.RecordedEvent) error {
	cmd, err := p.nonconformityFor(ctx, e, env.StreamID)
	if err != nil {
		return err
	}
	md := reaction(ComplaintFollowUpActor, "complaint-nonconformity/"+e.ComplaintID.String()+"/"+e.NonconformityID.String(), env, e.RaisedAt)
	return sendCreation(ctx, p.sender, p.log, cmd, md, nonconformity.ErrAlreadyExists, "complaint follow-up of "+e.Reference)
}

// nonconformityFor builds the RaiseNonconformity command from the complaint's history.
func (p *ComplaintFollowUp) nonconformityFor(ctx context.Context, e complaint.NonconformityRaisedFromComplaint, streamID string) (nonconformity.RaiseNonconformity, error) {
	state, _, err := commands.Load[complaint.State](ctx, p.store, domain.Events, streamID)
	if err != nil {
		return nonconformity.RaiseNonconformity{}, fmt.Errorf("loading complaint %s: %w", e.ComplaintID, err)
	}
	first, err := p.store.ReadStream(ctx, streamID, eventstore.ReadStreamOptions{Limit: 1})
	if err != nil {
		return nonconformity.RaiseNonconformity{}, fmt.Errorf("reading complaint %s: %w", e.ComplaintID, err)
	}
	received, err := domain.Events.Decode(first[0].Type, first[0].SchemaVersion, first[0].Data)
	if err != nil {
		return nonconformity.RaiseNonconformity{}, bus.Permanent(fmt.Errorf("complaint %s: %w", e.ComplaintID, err))
	}
	rc, ok := received.(complaint.ComplaintReceived)
	if !ok {
		return nonconformity.RaiseNonconformity{}, bus.Permanent(fmt.Errorf("complaint %s starts with %s, not ComplaintReceived", e.ComplaintID, first[0].Type))
	}
	description := rc.Description
	if rc.RemedySought != "" {
		description += "\n\nRemedy sought by the customer: " + rc.RemedySought
	}
	return nonconformity.RaiseNonconformity{
		NonconformityID: e.NonconformityID,
		Source:          nonconformity.SourceComplaint,
		SourceID:        e.ComplaintID,
		SourceRef:       e.Reference,
		Severity:        NonconformitySeverity(state.Severity()),
		Title:           "Complaint " + e.Reference,
		Description:     description,
		CustomerID:      state.CustomerID(),
		OrderID:         state.OrderID(),
		CaseID:          state.CaseID(),
	}, nil
}

// NonconformitySeverity maps a complaint's severity to the nonconformity
// scale: low and medium are minor, high is major, critical stays critical.
func NonconformitySeverity(s complaint.Severity) nonconformity.Severity {
	switch s {
	case complaint.SeverityCritical:
		return nonconformity.SeverityCritical
	case complaint.SeverityHigh:
		return nonconformity.SeverityMajor
	}
	return nonconformity.SeverityMinor
}
