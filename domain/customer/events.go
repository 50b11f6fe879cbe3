package customer

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
)

// Every event carries the customer's ID and At, the moment the decision was
// made (the now passed to Decide, equal to the metadata's occurred_at), so a
// projection or the aggregate itself needs nothing else.

// CustomerRegistered: a customer was registered. Schema version 2.
type CustomerRegistered struct {
	CustomerID uuid.UUID `json:"customer_id"`
	Details
	OwnerID string    `json:"owner_id,omitempty"`
	Segment string    `json:"segment,omitempty"`
	At      time.Time `json:"at"`
}

// CustomerDetailsChanged: the details were replaced; Details holds all of them.
type CustomerDetailsChanged struct {
	CustomerID uuid.UUID `json:"customer_id"`
	Details
	At time.Time `json:"at"`
}

// ContactPersonAdded: a contact person was added.
type ContactPersonAdded struct {
	CustomerID uuid.UUID `json:"customer_id"`
	ContactPerson
	At time.Time `json:"at"`
}

// ContactPersonUpdated: a contact person's data were replaced as a whole.
type ContactPersonUpdated struct {
	CustomerID uuid.UUID `json:"customer_id"`
	ContactPerson
	At time.Time `json:"at"`
}

// ContactPersonRemoved: a contact person no longer represents the customer.
type ContactPersonRemoved struct {
	CustomerID uuid.UUID `json:"customer_id"`
	ContactID  uuid.UUID `json:"contact_id"`
	At         time.Time `json:"at"`
}

// CustomerOwnerAssigned: the account owner changed (empty OwnerID: unassigned).
type CustomerOwnerAssigned struct {
	CustomerID      uuid.UUID `json:"customer_id"`
	OwnerID         string    `json:"owner_id,omitempty"`
	PreviousOwnerID string    `json:"previous_owner_id,omitempty"`
	At              time.Time `json:"at"`
}

// CustomerSegmentChanged: the segment changed (empty Segment: none).
type CustomerSegmentChanged struct {
	CustomerID      uuid.UUID `json:"customer_id"`
	Segment         string    `json:"segment,omitempty"`
	PreviousSegment string    `json:"previous_segment,omitempty"`
	At              time.Time `json:"at"`
}

// ConsentGiven: a data subject consented to a purpose over a channel.
type ConsentGiven struct {
	CustomerID uuid.UUID `json:"customer_id"`
	ContactID  uuid.UUID `json:"contact_id,omitzero"`
	Purpose    string    `json:"purpose"`
	Channel    Channel   `json:"channel"`
	Source     string    `json:"source"`
	Evidence   string    `json:"evidence,omitempty"`
	At         time.Time `json:"at"`
}

// ConsentWithdrawn: a data subject withdrew a consent.
type ConsentWithdrawn struct {
	CustomerID uuid.UUID `json:"customer_id"`
	ContactID  uuid.UUID `json:"contact_id,omitzero"`
	Purpose    string    `json:"purpose"`
	Channel    Channel   `json:"channel"`
	Source     string    `json:"source"`
	At         time.Time `json:"at"`
}

// CustomerMergedInto: this customer was a duplicate and was merged into SurvivorID.
type CustomerMergedInto struct {
	CustomerID uuid.UUID `json:"customer_id"`
	SurvivorID uuid.UUID `json:"survivor_id"`
	At         time.Time `json:"at"`
}

// DuplicateMerged: the duplicate MergedID was merged into this customer.
type DuplicateMerged struct {
	CustomerID uuid.UUID `json:"customer_id"`
	MergedID   uuid.UUID `json:"merged_id"`
	At         time.Time `json:"at"`
}

// ErasureRequested: a data subject asked for their personal data to be erased.
type ErasureRequested struct {
	CustomerID  uuid.UUID `json:"customer_id"`
	ContactID   uuid.UUID `json:"contact_id,omitzero"` // zero: the customer (a person) itself
	ReceivedVia string    `json:"received_via"`
	Reference   string    `json:"reference,omitempty"`
	At          time.Time `json:"at"`
}

// CustomerErased: the customer's personal data were erased (its key was
// destroyed). Who ordered it is the event's actor.
type CustomerErased struct {
	CustomerID uuid.UUID `json:"customer_id"`
	Reason     string    `json:"reason"`
	Reference  string    `json:"reference,omitempty"`
	At         time.Time `json:"at"`
}

func (CustomerErased) EventType() string         { return "CustomerErased" }
func (CustomerRegistered) EventType() string     { return "CustomerRegistered" }
func (CustomerDetailsChanged) EventType() string { return "CustomerDetailsChanged" }
func (ContactPersonAdded) EventType() string     { return "ContactPersonAdded" }
func (ContactPersonUpdated) EventType() string   { return "ContactPersonUpdated" }
func (ContactPersonRemoved) EventType() string   { return "ContactPersonRemoved" }
func (CustomerOwnerAssigned) EventType() string  { return "CustomerOwnerAssigned" }
func (CustomerSegmentChanged) EventType() string { return "CustomerSegmentChanged" }
func (ConsentGiven) EventType() string           { return "ConsentGiven" }
func (ConsentWithdrawn) EventType() string       { return "ConsentWithdrawn" }
func (CustomerMergedInto) EventType() string     { return "CustomerMergedInto" }
func (DuplicateMerged) EventType() string        { return "DuplicateMerged" }
func (ErasureRequested) EventType() string       { return "ErasureRequested" }

// The data subject of every customer event is the customer.
var subject = []domain.SubjectRef{{Kind: Category, Path: "customer_id"}}

// personal: the customer's personal fields (Details), and a contact
// person's (ContactPerson), which share the customer's key.
var (
	detailsPersonal = domain.Personal{Subject: subject, Fields: []string{"display_name", "legal_name", "emails", "phones", "tax_id", "address"}}
	contactPersonal = domain.Personal{Subject: subject, Fields: []string{"name", "role", "emails", "phones"}}
	subjectOnly     = domain.Personal{Subject: subject}
)

func init() {
	domain.Events.Register(
		domain.Registration{Event: CustomerRegistered{}, Version: 2, Personal: detailsPersonal, Aggregate: Category,
			Doc:       "A customer (organisation or person) was registered with its details, owner and segment.",
			Upcasters: map[int]domain.Upcaster{1: upcastCustomerRegisteredV1}},
		domain.Registration{Event: CustomerDetailsChanged{}, Personal: detailsPersonal, Aggregate: Category, Doc: "The customer's details were replaced; the event carries all of them."},
		domain.Registration{Event: ContactPersonAdded{}, Personal: contactPersonal, Aggregate: Category, Doc: "A contact person was added to the customer."},
		domain.Registration{Event: ContactPersonUpdated{}, Personal: contactPersonal, Aggregate: Category, Doc: "A contact person's data were replaced; the event carries all of them."},
		domain.Registration{Event: ContactPersonRemoved{}, Personal: subjectOnly, Aggregate: Category, Doc: "A contact person no longer represents the customer."},
		domain.Registration{Event: CustomerOwnerAssigned{}, Personal: subjectOnly, Aggregate: Category, Doc: "The customer's account owner changed (empty owner_id: unassigned)."},
		domain.Registration{Event: CustomerSegmentChanged{}, Personal: subjectOnly, Aggregate: Category, Doc: "The customer's segment changed (empty segment: none)."},
		domain.Registration{Event: ConsentGiven{}, Personal: domain.Personal{Subject: subject, Fields: []string{"evidence"}}, Aggregate: Category, Doc: "The customer or a contact person consented to a purpose over a channel (GDPR), with its source."},
		domain.Registration{Event: ConsentWithdrawn{}, Personal: subjectOnly, Aggregate: Category, Doc: "The customer or a contact person withdrew a consent for a purpose and channel."},
		domain.Registration{Event: CustomerMergedInto{}, Personal: subjectOnly, Aggregate: Category, Doc: "This customer was a duplicate and was merged into the survivor; it accepts no further changes."},
		domain.Registration{Event: DuplicateMerged{}, Personal: subjectOnly, Aggregate: Category, Doc: "A duplicate customer was merged into this one, which keeps the link."},
		domain.Registration{Event: CustomerErased{}, Personal: domain.Personal{Subject: subject, Erases: true}, Aggregate: Category,
			Doc: "The customer's personal data were erased (GDPR art. 17): its key was destroyed, so the personal fields of its events read as erased; the actor ordered it."},
		domain.Registration{Event: ErasureRequested{}, Personal: domain.Personal{Subject: subject, Fields: []string{"reference"}}, Aggregate: Category, Doc: "The customer or a contact person asked for their personal data to be erased (GDPR art. 17)."},
	)
}

// upcastCustomerRegisteredV1 migrates CustomerRegistered from schema v1 to v2.
//
// The migration story. The first release of evcrm served B2B sales teams
// only: every customer was a company, with one name and at most one email
// address, and CustomerRegistered v1 was
//
//	{"customer_id": "…", "name": "Acme GmbH", "email": "info@acme.example", "owner_id": "…", "at": "…"}
//
// When private customers (natural persons, who have GDPR rights of their own)
// and several addresses per customer came in, v2 replaced name and email by
// kind, display_name and emails, and added legal_name, phones, tax_id and
// address. Events already stored stay exactly as written (the log is never
// rewritten); they are upgraded when read:
//
//   - kind becomes "organisation": v1 could only hold companies;
//   - name becomes display_name (trimmed); legal_name is left empty, because
//     v1's name was whatever the user typed, not necessarily the registered
//     name;
//   - email, when present and not blank, becomes the one-element list emails;
//   - every other field (customer_id, owner_id, segment, at, and any field
//     this function does not know) is passed through untouched.
func upcastCustomerRegisteredV1(data json.RawMessage) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("CustomerRegistered v1 is not a JSON object: %w", err)
	}
	if m == nil { // the JSON was null
		return nil, errors.New("CustomerRegistered v1 is not a JSON object: null")
	}
	var name, email string
	if err := unmarshalOptional(m, "name", &name); err != nil {
		return nil, err
	}
	if err := unmarshalOptional(m, "email", &email); err != nil {
		return nil, err
	}
	delete(m, "name")
	delete(m, "email")
	m["kind"] = json.RawMessage(`"` + KindOrganisation + `"`)
	m["display_name"], _ = json.Marshal(strings.TrimSpace(name)) // a string always marshals
	if email = strings.TrimSpace(email); email != "" {
		m["emails"], _ = json.Marshal([]string{email})
	}
	return json.Marshal(m)
}

func unmarshalOptional(m map[string]json.RawMessage, key string, dst *string) error {
	raw, ok := m[key]
	if !ok || string(raw) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("CustomerRegistered v1 field %q: %w", key, err)
	}
	return nil
}
