package customer

import "github.com/google/uuid"

// RegisterCustomer registers a new customer. CustomerID is chosen by the caller.
type RegisterCustomer struct {
	CustomerID uuid.UUID `json:"customer_id"`
	Details
	OwnerID string `json:"owner_id,omitempty"` // user principal; empty: unassigned
	Segment string `json:"segment,omitempty" doc:"A slug: a lower-case letter, then lower-case letters, digits or underscores, at most 64 characters, e.g. enterprise."`
}

// ChangeCustomerDetails replaces the customer's details as a whole.
type ChangeCustomerDetails struct {
	CustomerID uuid.UUID `json:"customer_id"`
	Details
}

// AddContactPerson adds a contact person; ContactID is chosen by the caller
// and is never reused, even after the contact is removed.
type AddContactPerson struct {
	CustomerID uuid.UUID `json:"customer_id"`
	ContactPerson
}

// UpdateContactPerson replaces a current contact person's data as a whole.
type UpdateContactPerson struct {
	CustomerID uuid.UUID `json:"customer_id"`
	ContactPerson
}

// RemoveContactPerson removes a contact person.
type RemoveContactPerson struct {
	CustomerID uuid.UUID `json:"customer_id"`
	ContactID  uuid.UUID `json:"contact_id"`
}

// AssignCustomerOwner sets the account owner; an empty OwnerID unassigns.
type AssignCustomerOwner struct {
	CustomerID uuid.UUID `json:"customer_id"`
	OwnerID    string    `json:"owner_id"`
}

// ChangeCustomerSegment sets the segment; an empty Segment clears it.
type ChangeCustomerSegment struct {
	CustomerID uuid.UUID `json:"customer_id"`
	Segment    string    `json:"segment" doc:"A slug: a lower-case letter, then lower-case letters, digits or underscores, at most 64 characters, e.g. enterprise; empty clears it."`
}

// GiveConsent records a consent of the customer (ContactID zero) or of one
// of its current contact persons.
type GiveConsent struct {
	CustomerID uuid.UUID `json:"customer_id"`
	ContactID  uuid.UUID `json:"contact_id,omitzero"`
	Purpose    string    `json:"purpose"`
	Channel    Channel   `json:"channel"`
	Source     string    `json:"source"`
	Evidence   string    `json:"evidence,omitempty"`
}

// WithdrawConsent records the withdrawal of a consent.
type WithdrawConsent struct {
	CustomerID uuid.UUID `json:"customer_id"`
	ContactID  uuid.UUID `json:"contact_id,omitzero"`
	Purpose    string    `json:"purpose"`
	Channel    Channel   `json:"channel"`
	Source     string    `json:"source"`
}

// MergeCustomer marks this customer (the duplicate) as merged into SurvivorID.
type MergeCustomer struct {
	CustomerID uuid.UUID `json:"customer_id"`
	SurvivorID uuid.UUID `json:"survivor_id"`
}

// RecordDuplicateMerged records on the survivor that MergedID was merged into it.
type RecordDuplicateMerged struct {
	CustomerID uuid.UUID `json:"customer_id"`
	MergedID   uuid.UUID `json:"merged_id"`
}

// RequestErasure records a data subject's erasure request: the customer
// itself (ContactID zero) or one of its contact persons, current or removed.
type RequestErasure struct {
	CustomerID  uuid.UUID `json:"customer_id"`
	ContactID   uuid.UUID `json:"contact_id,omitzero"`
	ReceivedVia string    `json:"received_via"` // how the request arrived ("email to dpo@")
	Reference   string    `json:"reference,omitempty"`
}

// EraseCustomer erases the customer's personal data (GDPR art. 17): the
// data subject's key is destroyed, so every event's personal fields about
// the customer (and about the leads converted into it) become unreadable.
// The record stays, as do its non-personal facts.
type EraseCustomer struct {
	CustomerID uuid.UUID `json:"customer_id"`
	Reason     string    `json:"reason" doc:"Why the data are erased, e.g. the data subject's request of 2026-03-01."`
	Reference  string    `json:"reference,omitempty" doc:"The request's reference (ticket, letter), if any."`
}

func (EraseCustomer) CommandType() string         { return "EraseCustomer" }
func (RegisterCustomer) CommandType() string      { return "RegisterCustomer" }
func (ChangeCustomerDetails) CommandType() string { return "ChangeCustomerDetails" }
func (AddContactPerson) CommandType() string      { return "AddContactPerson" }
func (UpdateContactPerson) CommandType() string   { return "UpdateContactPerson" }
func (RemoveContactPerson) CommandType() string   { return "RemoveContactPerson" }
func (AssignCustomerOwner) CommandType() string   { return "AssignCustomerOwner" }
func (ChangeCustomerSegment) CommandType() string { return "ChangeCustomerSegment" }
func (GiveConsent) CommandType() string           { return "GiveConsent" }
func (WithdrawConsent) CommandType() string       { return "WithdrawConsent" }
func (MergeCustomer) CommandType() string         { return "MergeCustomer" }
func (RecordDuplicateMerged) CommandType() string { return "RecordDuplicateMerged" }
func (RequestErasure) CommandType() string        { return "RequestErasure" }

func (c EraseCustomer) AggregateID() uuid.UUID         { return c.CustomerID }
func (c RegisterCustomer) AggregateID() uuid.UUID      { return c.CustomerID }
func (c ChangeCustomerDetails) AggregateID() uuid.UUID { return c.CustomerID }
func (c AddContactPerson) AggregateID() uuid.UUID      { return c.CustomerID }
func (c UpdateContactPerson) AggregateID() uuid.UUID   { return c.CustomerID }
func (c RemoveContactPerson) AggregateID() uuid.UUID   { return c.CustomerID }
func (c AssignCustomerOwner) AggregateID() uuid.UUID   { return c.CustomerID }
func (c ChangeCustomerSegment) AggregateID() uuid.UUID { return c.CustomerID }
func (c GiveConsent) AggregateID() uuid.UUID           { return c.CustomerID }
func (c WithdrawConsent) AggregateID() uuid.UUID       { return c.CustomerID }
func (c MergeCustomer) AggregateID() uuid.UUID         { return c.CustomerID }
func (c RecordDuplicateMerged) AggregateID() uuid.UUID { return c.CustomerID }
func (c RequestErasure) AggregateID() uuid.UUID        { return c.CustomerID }
