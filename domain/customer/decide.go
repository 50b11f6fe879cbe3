package customer

import (
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/text"
)

// Decide checks a command against the state and returns the events to
// record, or a *domain.Error. It does not change the state.
func (s *State) Decide(cmd domain.Command, now time.Time) ([]domain.Event, error) {
	if !domain.Handles(commandList, cmd) {
		return nil, domain.UnknownCommand(cmd)
	}
	now = now.UTC()
	switch c := cmd.(type) {
	case RegisterCustomer:
		return s.register(c, now)
	case RequestErasure:
		return s.requestErasure(c, now)
	case EraseCustomer:
		return s.erase(c, now)
	}
	if !s.Exists() {
		return nil, ErrNotFound
	}
	if _, erased := s.Erased(); erased {
		return nil, ErrErased
	}
	if m, ok := cmd.(MergeCustomer); ok && s.mergedInto == m.SurvivorID && m.SurvivorID != uuid.Nil {
		return nil, nil // a repeated merge into the same survivor
	}
	if s.Merged() {
		return nil, ErrMerged
	}
	switch c := cmd.(type) {
	case ChangeCustomerDetails:
		return s.changeDetails(c, now)
	case AddContactPerson:
		return s.addContact(c, now)
	case UpdateContactPerson:
		return s.updateContact(c, now)
	case RemoveContactPerson:
		return s.removeContact(c, now)
	case AssignCustomerOwner:
		return s.assignOwner(c, now)
	case ChangeCustomerSegment:
		return s.changeSegment(c, now)
	case GiveConsent:
		return s.giveConsent(c, now)
	case WithdrawConsent:
		return s.withdrawConsent(c, now)
	case MergeCustomer:
		return s.merge(c, now)
	case RecordDuplicateMerged:
		return s.recordDuplicate(c, now)
	}
	return nil, domain.UnknownCommand(cmd) // unreachable while commandList and the switch agree
}

func (s *State) register(c RegisterCustomer, now time.Time) ([]domain.Event, error) {
	if s.Exists() {
		return nil, ErrAlreadyExists
	}
	d := c.Details.normalise()
	owner, segment := strings.TrimSpace(c.OwnerID), strings.TrimSpace(c.Segment)
	var v domain.Validator
	v.Require("customer_id", c.CustomerID != uuid.Nil, "is required")
	d.validate(&v)
	text.Line(&v, "owner_id", owner, false, text.MaxName)
	text.Slug(&v, "segment", segment, false)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []domain.Event{CustomerRegistered{CustomerID: c.CustomerID, Details: d, OwnerID: owner, Segment: segment, At: now}}, nil
}

func (s *State) changeDetails(c ChangeCustomerDetails, now time.Time) ([]domain.Event, error) {
	d := c.Details.normalise()
	var v domain.Validator
	d.validate(&v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if d.equal(s.details) {
		return nil, nil
	}
	return []domain.Event{CustomerDetailsChanged{CustomerID: s.id, Details: d, At: now}}, nil
}

func (s *State) addContact(c AddContactPerson, now time.Time) ([]domain.Event, error) {
	p := c.ContactPerson.normalise()
	var v domain.Validator
	p.validate(&v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if s.contactIndex(p.ContactID) >= 0 {
		return nil, ErrContactExists
	}
	return []domain.Event{ContactPersonAdded{CustomerID: s.id, ContactPerson: p, At: now}}, nil
}

func (s *State) updateContact(c UpdateContactPerson, now time.Time) ([]domain.Event, error) {
	p := c.ContactPerson.normalise()
	var v domain.Validator
	p.validate(&v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	current, ok := s.Contact(p.ContactID)
	if !ok {
		return nil, ErrContactNotFound
	}
	if current.equal(p) {
		return nil, nil
	}
	return []domain.Event{ContactPersonUpdated{CustomerID: s.id, ContactPerson: p, At: now}}, nil
}

func (s *State) removeContact(c RemoveContactPerson, now time.Time) ([]domain.Event, error) {
	i := s.contactIndex(c.ContactID)
	switch {
	case i < 0:
		return nil, ErrContactNotFound
	case s.contacts[i].removed:
		return nil, nil
	}
	return []domain.Event{ContactPersonRemoved{CustomerID: s.id, ContactID: c.ContactID, At: now}}, nil
}

func (s *State) assignOwner(c AssignCustomerOwner, now time.Time) ([]domain.Event, error) {
	owner := strings.TrimSpace(c.OwnerID)
	var v domain.Validator
	text.Line(&v, "owner_id", owner, false, text.MaxName)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if owner == s.owner {
		return nil, nil
	}
	return []domain.Event{CustomerOwnerAssigned{CustomerID: s.id, OwnerID: owner, PreviousOwnerID: s.owner, At: now}}, nil
}

func (s *State) changeSegment(c ChangeCustomerSegment, now time.Time) ([]domain.Event, error) {
	segment := strings.TrimSpace(c.Segment)
	var v domain.Validator
	text.Slug(&v, "segment", segment, false)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if segment == s.segment {
		return nil, nil
	}
	return []domain.Event{CustomerSegmentChanged{CustomerID: s.id, Segment: segment, PreviousSegment: s.segment, At: now}}, nil
}

// validateConsent checks the parts shared by giving and withdrawing consent.
func validateConsent(v *domain.Validator, purpose string, channel Channel, source string) {
	text.Slug(v, "purpose", purpose, true)
	Channels.Check(v, "channel", channel)
	text.Line(v, "source", source, true, text.MaxName)
}

func (s *State) giveConsent(c GiveConsent, now time.Time) ([]domain.Event, error) {
	source, evidence := strings.TrimSpace(c.Source), strings.TrimSpace(c.Evidence)
	var v domain.Validator
	validateConsent(&v, c.Purpose, c.Channel, source)
	text.Line(&v, "evidence", evidence, false, text.MaxReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if c.ContactID != uuid.Nil {
		if _, ok := s.Contact(c.ContactID); !ok {
			return nil, ErrContactNotFound
		}
	}
	if s.HasConsent(c.ContactID, c.Purpose, c.Channel) {
		return nil, nil
	}
	return []domain.Event{ConsentGiven{CustomerID: s.id, ContactID: c.ContactID, Purpose: c.Purpose, Channel: c.Channel,
		Source: source, Evidence: evidence, At: now}}, nil
}

func (s *State) withdrawConsent(c WithdrawConsent, now time.Time) ([]domain.Event, error) {
	source := strings.TrimSpace(c.Source)
	var v domain.Validator
	validateConsent(&v, c.Purpose, c.Channel, source)
	if err := v.Err(); err != nil {
		return nil, err
	}
	// A withdrawal is accepted for removed contacts too: their consent must
	// still be withdrawable. Without a consent in force it changes nothing.
	if !s.HasConsent(c.ContactID, c.Purpose, c.Channel) {
		return nil, nil
	}
	return []domain.Event{ConsentWithdrawn{CustomerID: s.id, ContactID: c.ContactID, Purpose: c.Purpose, Channel: c.Channel,
		Source: source, At: now}}, nil
}

func (s *State) merge(c MergeCustomer, now time.Time) ([]domain.Event, error) {
	var v domain.Validator
	v.Require("survivor_id", c.SurvivorID != uuid.Nil, "is required")
	v.Require("survivor_id", c.SurvivorID != s.id, "must be another customer")
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []domain.Event{CustomerMergedInto{CustomerID: s.id, SurvivorID: c.SurvivorID, At: now}}, nil
}

func (s *State) recordDuplicate(c RecordDuplicateMerged, now time.Time) ([]domain.Event, error) {
	var v domain.Validator
	v.Require("merged_id", c.MergedID != uuid.Nil, "is required")
	v.Require("merged_id", c.MergedID != s.id, "must be another customer")
	if err := v.Err(); err != nil {
		return nil, err
	}
	for _, d := range s.duplicates {
		if d == c.MergedID {
			return nil, nil
		}
	}
	return []domain.Event{DuplicateMerged{CustomerID: s.id, MergedID: c.MergedID, At: now}}, nil
}

func (s *State) erase(c EraseCustomer, now time.Time) ([]domain.Event, error) {
	if !s.Exists() {
		return nil, ErrNotFound
	}
	reason, ref := strings.TrimSpace(c.Reason), strings.TrimSpace(c.Reference)
	var v domain.Validator
	text.Line(&v, "reason", reason, true, text.MaxName)
	text.Line(&v, "reference", ref, false, text.MaxName)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if _, erased := s.Erased(); erased {
		return nil, nil // erased already: a retry changes nothing
	}
	return []domain.Event{CustomerErased{CustomerID: s.id, Reason: reason, Reference: ref, At: now}}, nil
}

func (s *State) requestErasure(c RequestErasure, now time.Time) ([]domain.Event, error) {
	if !s.Exists() {
		return nil, ErrNotFound
	}
	via, ref := strings.TrimSpace(c.ReceivedVia), strings.TrimSpace(c.Reference)
	var v domain.Validator
	text.Line(&v, "received_via", via, true, text.MaxName)
	text.Line(&v, "reference", ref, false, text.MaxName)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if c.ContactID != uuid.Nil && s.contactIndex(c.ContactID) < 0 {
		return nil, ErrContactNotFound
	}
	if s.ErasureRequested(c.ContactID) {
		return nil, nil // already on record; completing it is the retention work's job
	}
	return []domain.Event{ErasureRequested{CustomerID: s.id, ContactID: c.ContactID, ReceivedVia: via, Reference: ref, At: now}}, nil
}
