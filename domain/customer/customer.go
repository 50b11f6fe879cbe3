// Package customer is the Customer aggregate: an organisation or a person
// the organisation does business with. It records the customer's details,
// contact persons, owner and segment; GDPR consent per purpose and channel
// (per contact person where the customer is an organisation); merges of
// duplicate records; and erasure requests.
//
// Rules the aggregate enforces:
//
//   - A customer is registered once (domain.AlreadyExists on a second
//     RegisterCustomer); every other command needs it registered
//     (ErrNotFound).
//   - Duplicates are merged with two commands on two streams: MergeCustomer
//     on the duplicate records CustomerMergedInto{survivor_id}, then
//     RecordDuplicateMerged on the survivor records DuplicateMerged{merged_id}
//     (a process manager sends the second after the first succeeds, after
//     checking that the survivor exists and is not merged itself). A merged
//     customer refuses every further change (ErrMerged), except an erasure
//     request: the data subject's right to erasure covers the merged record
//     too, so it must still be recordable there.
//   - Consent is given and withdrawn per (contact, purpose, channel), with the
//     source of the decision kept as evidence. Giving a consent that is in
//     force, or withdrawing one that is not, changes nothing.
//   - Commands that would change nothing (same details, same owner, a
//     repeated merge into the same survivor...) return no events and no error,
//     so retries are harmless.
//
// Erasure itself (removing personal data from events and read models) is the
// job of the audit and retention work; here the request is recorded.
package customer

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/contactinfo"
	"github.com/evcrm/evcrm/domain/text"
)

// Category is the stream category of customers.
const Category = "customer"

// StreamID returns the stream of one customer, "customer-<uuid>".
func StreamID(id uuid.UUID) string { return Category + "-" + id.String() }

// Errors, matched with errors.Is.
var (
	ErrNotFound        = domain.NotFound("customer")
	ErrAlreadyExists   = domain.AlreadyExists("customer")
	ErrContactNotFound = domain.NotFound("contact_person")
	ErrContactExists   = domain.AlreadyExists("contact_person")
	ErrMerged          = domain.Conflict("customer_merged", "the customer was merged into another one and accepts no further changes")
	ErrNoConsent       = domain.Conflict("consent_required", "the data subject has not consented to this purpose over this channel (or withdrew the consent)")
	ErrErased          = domain.Conflict("customer_erased", "the customer's personal data were erased; the record accepts no further changes")
)

// Kind says whether a customer is an organisation or a natural person.
type Kind string

const (
	KindOrganisation Kind = "organisation"
	KindPerson       Kind = "person"
)

// Kinds lists every customer kind, in order.
var Kinds = domain.NewEnum("customer kind", KindOrganisation, KindPerson)

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool { return Kinds.Has(k) }

// EnumValues lists the accepted values (the API schema's enum).
func (Kind) EnumValues() []string { return Kinds.Strings() }

// Details are the descriptive data of a customer, replaced as a whole by
// ChangeCustomerDetails.
type Details struct {
	Kind        Kind                `json:"kind"`
	DisplayName string              `json:"display_name"`
	LegalName   string              `json:"legal_name,omitempty"` // registered name of an organisation
	Emails      []string            `json:"emails,omitempty"`
	Phones      []string            `json:"phones,omitempty"`
	TaxID       string              `json:"tax_id,omitempty"` // VAT or other tax number
	Address     contactinfo.Address `json:"address,omitzero"`
}

func (d Details) normalise() Details {
	return Details{
		Kind:        d.Kind,
		DisplayName: strings.TrimSpace(d.DisplayName),
		LegalName:   strings.TrimSpace(d.LegalName),
		Emails:      contactinfo.Normalise(d.Emails),
		Phones:      contactinfo.Normalise(d.Phones),
		TaxID:       strings.TrimSpace(d.TaxID),
		Address:     d.Address.Normalise(),
	}
}

func (d Details) validate(v *domain.Validator) {
	Kinds.Check(v, "kind", d.Kind)
	text.Line(v, "display_name", d.DisplayName, true, text.MaxName)
	text.Line(v, "legal_name", d.LegalName, false, text.MaxName)
	contactinfo.ValidateEmails(v, "emails", d.Emails)
	contactinfo.ValidatePhones(v, "phones", d.Phones)
	text.Line(v, "tax_id", d.TaxID, false, 40)
	d.Address.Validate(v, "address")
}

func (d Details) equal(o Details) bool {
	return d.Kind == o.Kind && d.DisplayName == o.DisplayName && d.LegalName == o.LegalName &&
		slices.Equal(d.Emails, o.Emails) && slices.Equal(d.Phones, o.Phones) && d.TaxID == o.TaxID &&
		d.Address.Equal(o.Address)
}

func (d Details) clone() Details {
	d.Emails = slices.Clone(d.Emails)
	d.Phones = slices.Clone(d.Phones)
	d.Address.Lines = slices.Clone(d.Address.Lines)
	return d
}

// ContactPerson is a person at the customer the organisation deals with.
// ContactID is chosen by the caller, so adding a contact can be retried.
type ContactPerson struct {
	ContactID uuid.UUID `json:"contact_id"`
	Name      string    `json:"name"`
	Role      string    `json:"role,omitempty"` // job title or role towards us ("purchasing")
	Emails    []string  `json:"emails,omitempty"`
	Phones    []string  `json:"phones,omitempty"`
}

func (c ContactPerson) normalise() ContactPerson {
	return ContactPerson{
		ContactID: c.ContactID,
		Name:      strings.TrimSpace(c.Name),
		Role:      strings.TrimSpace(c.Role),
		Emails:    contactinfo.Normalise(c.Emails),
		Phones:    contactinfo.Normalise(c.Phones),
	}
}

func (c ContactPerson) validate(v *domain.Validator) {
	v.Require("contact_id", c.ContactID != uuid.Nil, "is required")
	text.Line(v, "name", c.Name, true, text.MaxName)
	text.Line(v, "role", c.Role, false, text.MaxName)
	contactinfo.ValidateEmails(v, "emails", c.Emails)
	contactinfo.ValidatePhones(v, "phones", c.Phones)
}

func (c ContactPerson) equal(o ContactPerson) bool {
	return c.ContactID == o.ContactID && c.Name == o.Name && c.Role == o.Role &&
		slices.Equal(c.Emails, o.Emails) && slices.Equal(c.Phones, o.Phones)
}

func (c ContactPerson) clone() ContactPerson {
	c.Emails = slices.Clone(c.Emails)
	c.Phones = slices.Clone(c.Phones)
	return c
}

// Channel is a way of contacting someone that consent can cover.
type Channel string

const (
	ChannelEmail     Channel = "email"
	ChannelPhone     Channel = "phone"
	ChannelSMS       Channel = "sms"
	ChannelPost      Channel = "post"
	ChannelMessaging Channel = "messaging"
)

// Channels lists every channel, in order.
var Channels = domain.NewEnum("channel", ChannelEmail, ChannelPhone, ChannelSMS, ChannelPost, ChannelMessaging)

// Valid reports whether c is one of Channels.
func (c Channel) Valid() bool { return Channels.Has(c) }

// EnumValues lists the accepted values (the API schema's enum).
func (Channel) EnumValues() []string { return Channels.Strings() }

// Consent is the latest consent decision of a data subject (the customer,
// or one of its contact persons) for one purpose and channel.
type Consent struct {
	ContactID uuid.UUID `json:"contact_id,omitzero"` // zero: the customer itself
	Purpose   string    `json:"purpose"`             // a slug, e.g. "marketing", "newsletter"
	Channel   Channel   `json:"channel"`
	Given     bool      `json:"given"`
	Source    string    `json:"source"`             // how the decision was captured ("signup form v3")
	Evidence  string    `json:"evidence,omitempty"` // a reference to the proof, if any
	At        time.Time `json:"at"`                 // when the decision was recorded
}

type consentKey struct {
	contact uuid.UUID
	purpose string
	channel Channel
}

func sortConsents(cs []Consent) {
	slices.SortFunc(cs, func(a, b Consent) int {
		return cmp.Or(
			slices.Compare(a.ContactID[:], b.ContactID[:]),
			cmp.Compare(a.Purpose, b.Purpose),
			cmp.Compare(a.Channel, b.Channel),
		)
	})
}
