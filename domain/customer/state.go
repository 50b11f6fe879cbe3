package customer

import (
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
)

// State is a customer folded from its events. The zero State is a customer
// that does not exist. *State implements domain.Decider.
type State struct {
	id           uuid.UUID
	details      Details
	owner        string
	segment      string
	registeredAt time.Time
	contacts     []contactEntry // in the order they were added
	consents     map[consentKey]Consent
	mergedInto   uuid.UUID
	duplicates   []uuid.UUID
	erasures     []ErasureRequest
	erasedAt     time.Time
}

type contactEntry struct {
	ContactPerson
	removed bool
}

// ErasureRequest is a recorded request to erase a data subject's personal data.
type ErasureRequest struct {
	ContactID   uuid.UUID // zero: the customer itself
	ReceivedVia string
	Reference   string
	At          time.Time
}

var _ domain.Decider = (*State)(nil)

// Apply folds one event into the state; unknown events are ignored.
func (s *State) Apply(e domain.Event) {
	switch e := e.(type) {
	case CustomerRegistered:
		s.id, s.details, s.owner, s.segment, s.registeredAt = e.CustomerID, e.Details.clone(), e.OwnerID, e.Segment, e.At
	case CustomerDetailsChanged:
		s.details = e.Details.clone()
	case ContactPersonAdded:
		s.contacts = append(s.contacts, contactEntry{ContactPerson: e.ContactPerson.clone()})
	case ContactPersonUpdated:
		if i := s.contactIndex(e.ContactID); i >= 0 {
			s.contacts[i].ContactPerson = e.ContactPerson.clone()
		}
	case ContactPersonRemoved:
		if i := s.contactIndex(e.ContactID); i >= 0 {
			s.contacts[i].removed = true
		}
	case CustomerOwnerAssigned:
		s.owner = e.OwnerID
	case CustomerSegmentChanged:
		s.segment = e.Segment
	case ConsentGiven:
		s.setConsent(Consent{ContactID: e.ContactID, Purpose: e.Purpose, Channel: e.Channel, Given: true, Source: e.Source, Evidence: e.Evidence, At: e.At})
	case ConsentWithdrawn:
		s.setConsent(Consent{ContactID: e.ContactID, Purpose: e.Purpose, Channel: e.Channel, Given: false, Source: e.Source, At: e.At})
	case CustomerMergedInto:
		s.mergedInto = e.SurvivorID
	case DuplicateMerged:
		s.duplicates = append(s.duplicates, e.MergedID)
	case CustomerErased:
		s.erasedAt = e.At
	case ErasureRequested:
		s.erasures = append(s.erasures, ErasureRequest{ContactID: e.ContactID, ReceivedVia: e.ReceivedVia, Reference: e.Reference, At: e.At})
	}
}

func (s *State) setConsent(c Consent) {
	if s.consents == nil {
		s.consents = map[consentKey]Consent{}
	}
	s.consents[consentKey{c.ContactID, c.Purpose, c.Channel}] = c
}

// contactIndex finds a contact, current or removed; -1 if it never existed.
func (s *State) contactIndex(id uuid.UUID) int {
	return slices.IndexFunc(s.contacts, func(c contactEntry) bool { return c.ContactID == id })
}

// Exists reports whether the customer has been registered.
func (s *State) Exists() bool { return s.id != uuid.Nil }

// ID returns the customer's ID (uuid.Nil if it does not exist).
func (s *State) ID() uuid.UUID { return s.id }

// Kind returns organisation or person.
func (s *State) Kind() Kind { return s.details.Kind }

// DisplayName returns the name shown to users.
func (s *State) DisplayName() string { return s.details.DisplayName }

// Details returns a copy of the current details.
func (s *State) Details() Details { return s.details.clone() }

// OwnerID returns the account owner's user principal ("" when unassigned).
func (s *State) OwnerID() string { return s.owner }

// Segment returns the segment slug ("" when none).
func (s *State) Segment() string { return s.segment }

// RegisteredAt returns when the customer was registered.
func (s *State) RegisteredAt() time.Time { return s.registeredAt }

// Contacts returns the current contact persons, in the order they were added.
func (s *State) Contacts() []ContactPerson {
	var out []ContactPerson
	for _, c := range s.contacts {
		if !c.removed {
			out = append(out, c.ContactPerson.clone())
		}
	}
	return out
}

// Contact returns a current contact person.
func (s *State) Contact(id uuid.UUID) (ContactPerson, bool) {
	i := s.contactIndex(id)
	if i < 0 || s.contacts[i].removed {
		return ContactPerson{}, false
	}
	return s.contacts[i].ContactPerson.clone(), true
}

// Consent returns the latest consent decision of a data subject (contactID
// zero: the customer) for a purpose and channel, if there is one.
func (s *State) Consent(contactID uuid.UUID, purpose string, channel Channel) (Consent, bool) {
	c, ok := s.consents[consentKey{contactID, purpose, channel}]
	return c, ok
}

// HasConsent reports whether a consent is in force.
func (s *State) HasConsent(contactID uuid.UUID, purpose string, channel Channel) bool {
	c, ok := s.Consent(contactID, purpose, channel)
	return ok && c.Given
}

// MarketingPurpose is the consent purpose that marketing sends need.
const MarketingPurpose = "marketing"

// RequireConsent returns nil when the data subject (contactID zero: the
// customer) consents to purpose over channel, and ErrNoConsent otherwise:
// no consent, a withdrawn one, or a customer whose data were erased.
func (s *State) RequireConsent(contactID uuid.UUID, purpose string, channel Channel) error {
	if _, erased := s.Erased(); erased || !s.HasConsent(contactID, purpose, channel) {
		return ErrNoConsent
	}
	return nil
}

// Consents returns every consent decision, given or withdrawn, sorted by
// contact, purpose and channel.
func (s *State) Consents() []Consent {
	out := make([]Consent, 0, len(s.consents))
	for _, c := range s.consents {
		out = append(out, c)
	}
	sortConsents(out)
	return out
}

// Merged reports whether this customer was merged into another one.
func (s *State) Merged() bool { return s.mergedInto != uuid.Nil }

// MergedInto returns the survivor this customer was merged into (uuid.Nil if none).
func (s *State) MergedInto() uuid.UUID { return s.mergedInto }

// MergedDuplicates returns the duplicates merged into this customer, oldest first.
func (s *State) MergedDuplicates() []uuid.UUID { return slices.Clone(s.duplicates) }

// Erased reports whether the customer's personal data were erased, and when.
func (s *State) Erased() (time.Time, bool) { return s.erasedAt, !s.erasedAt.IsZero() }

// ErasureRequests returns the recorded erasure requests, oldest first.
func (s *State) ErasureRequests() []ErasureRequest { return slices.Clone(s.erasures) }

// ErasureRequested reports whether the data subject (contactID zero: the
// customer) has asked for erasure.
func (s *State) ErasureRequested(contactID uuid.UUID) bool {
	return slices.ContainsFunc(s.erasures, func(r ErasureRequest) bool { return r.ContactID == contactID })
}
