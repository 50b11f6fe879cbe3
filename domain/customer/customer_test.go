package customer_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/contactinfo"
	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/domain/domaintest"
)

var (
	id       = uuid.MustParse("0b8f2a4e-1111-4c1e-9a57-000000000001")
	survivor = uuid.MustParse("0b8f2a4e-1111-4c1e-9a57-000000000002")
	dupe     = uuid.MustParse("0b8f2a4e-1111-4c1e-9a57-000000000003")
	anna     = uuid.MustParse("0b8f2a4e-2222-4c1e-9a57-000000000001")
	ben      = uuid.MustParse("0b8f2a4e-2222-4c1e-9a57-000000000002")
	now      = domaintest.Now
)

var acme = customer.Details{
	Kind:        customer.KindOrganisation,
	DisplayName: "Acme",
	LegalName:   "Acme Industrie GmbH",
	Emails:      []string{"info@acme.example"},
	Phones:      []string{"+49 30 1234567"},
	TaxID:       "DE123456789",
	Address:     contactinfo.Address{Lines: []string{"Hauptstr. 1"}, PostalCode: "10115", City: "Berlin", Country: "DE"},
}

var (
	registered = customer.CustomerRegistered{CustomerID: id, Details: acme, OwnerID: "sales.ana", Segment: "enterprise", At: now}
	annaP      = customer.ContactPerson{ContactID: anna, Name: "Anna Schmidt", Role: "purchasing", Emails: []string{"anna@acme.example"}}
	annaAdded  = customer.ContactPersonAdded{CustomerID: id, ContactPerson: annaP, At: now}
	annaGone   = customer.ContactPersonRemoved{CustomerID: id, ContactID: anna, At: now}
	newsletter = customer.ConsentGiven{CustomerID: id, ContactID: anna, Purpose: "newsletter", Channel: customer.ChannelEmail, Source: "trade fair form", Evidence: "scan 42", At: now}
	unsub      = customer.ConsentWithdrawn{CustomerID: id, ContactID: anna, Purpose: "newsletter", Channel: customer.ChannelEmail, Source: "unsubscribe link", At: now}
	merged     = customer.CustomerMergedInto{CustomerID: id, SurvivorID: survivor, At: now}
)

func given(events ...domain.Event) []domain.Event { return events }

func TestRegister(t *testing.T) {
	messy := acme
	messy.DisplayName, messy.Emails, messy.Address.Country = "  Acme ", []string{" info@acme.example ", " "}, "de"
	bad := customer.Details{Kind: "robot", Emails: []string{"nope"}, Phones: []string{"call me"}, Address: contactinfo.Address{City: "Berlin"}}
	domaintest.Run[customer.State](t, []domaintest.Case{
		{Name: "OK", When: customer.RegisterCustomer{CustomerID: id, Details: acme, OwnerID: "sales.ana", Segment: "enterprise"},
			Then: given(registered)},
		{Name: "Normalised", When: customer.RegisterCustomer{CustomerID: id, Details: messy, OwnerID: " sales.ana ", Segment: "enterprise"},
			Then: given(registered)},
		{Name: "Person", When: customer.RegisterCustomer{CustomerID: id, Details: customer.Details{Kind: customer.KindPerson, DisplayName: "Jo Bloggs"}},
			Then: given(customer.CustomerRegistered{CustomerID: id, Details: customer.Details{Kind: customer.KindPerson, DisplayName: "Jo Bloggs"}, At: now})},
		{Name: "Twice", Given: given(registered), When: customer.RegisterCustomer{CustomerID: id, Details: acme}, Err: customer.ErrAlreadyExists},
		{Name: "TwiceIsAlreadyExistsKind", Given: given(registered), When: customer.RegisterCustomer{CustomerID: id, Details: acme}, Err: domain.ErrAlreadyExists},
		{Name: "Invalid", When: customer.RegisterCustomer{Details: bad, Segment: "Big Ones", OwnerID: "a\nb"},
			Invalid: []string{"customer_id", "kind", "display_name", "emails[0]", "phones[0]", "address.country", "segment", "owner_id"}},
		{Name: "LongName", When: customer.RegisterCustomer{CustomerID: id, Details: customer.Details{Kind: customer.KindPerson, DisplayName: strings.Repeat("x", 201)}},
			Invalid: []string{"display_name"}},
	})
}

func TestChangeDetails(t *testing.T) {
	changed := acme
	changed.Emails = []string{"sales@acme.example", "info@acme.example"}
	domaintest.Run[customer.State](t, []domaintest.Case{
		{Name: "OK", Given: given(registered), When: customer.ChangeCustomerDetails{CustomerID: id, Details: changed},
			Then: given(customer.CustomerDetailsChanged{CustomerID: id, Details: changed, At: now})},
		{Name: "SameIsNoOp", Given: given(registered), When: customer.ChangeCustomerDetails{CustomerID: id, Details: acme}},
		{Name: "NotRegistered", When: customer.ChangeCustomerDetails{CustomerID: id, Details: acme}, Err: customer.ErrNotFound},
		{Name: "NotRegisteredIsNotFoundKind", When: customer.ChangeCustomerDetails{CustomerID: id, Details: acme}, Err: domain.ErrNotFound},
		{Name: "Invalid", Given: given(registered), When: customer.ChangeCustomerDetails{CustomerID: id, Details: customer.Details{Kind: customer.KindPerson}},
			Invalid: []string{"display_name"}},
		{Name: "DuplicateEmail", Given: given(registered), When: customer.ChangeCustomerDetails{CustomerID: id,
			Details: customer.Details{Kind: customer.KindPerson, DisplayName: "x", Emails: []string{"a@x.de", "A@x.de"}}}, Invalid: []string{"emails[1]"}},
		{Name: "Merged", Given: given(registered, merged), When: customer.ChangeCustomerDetails{CustomerID: id, Details: changed}, Err: customer.ErrMerged},
	})
}

func TestContactPersons(t *testing.T) {
	annaNew := annaP
	annaNew.Role = "head of purchasing"
	domaintest.Run[customer.State](t, []domaintest.Case{
		{Name: "Add", Given: given(registered), When: customer.AddContactPerson{CustomerID: id, ContactPerson: annaP}, Then: given(annaAdded)},
		{Name: "AddTrimmed", Given: given(registered), When: customer.AddContactPerson{CustomerID: id, ContactPerson: customer.ContactPerson{
			ContactID: anna, Name: " Anna Schmidt ", Role: "purchasing ", Emails: []string{"anna@acme.example", ""}}}, Then: given(annaAdded)},
		{Name: "AddTwice", Given: given(registered, annaAdded), When: customer.AddContactPerson{CustomerID: id, ContactPerson: annaP}, Err: customer.ErrContactExists},
		{Name: "AddRemovedIDAgain", Given: given(registered, annaAdded, annaGone), When: customer.AddContactPerson{CustomerID: id, ContactPerson: annaP},
			Err: customer.ErrContactExists},
		{Name: "AddInvalid", Given: given(registered), When: customer.AddContactPerson{CustomerID: id, ContactPerson: customer.ContactPerson{Emails: []string{"x"}}},
			Invalid: []string{"contact_id", "name", "emails[0]"}},
		{Name: "AddNotRegistered", When: customer.AddContactPerson{CustomerID: id, ContactPerson: annaP}, Err: customer.ErrNotFound},
		{Name: "AddMerged", Given: given(registered, merged), When: customer.AddContactPerson{CustomerID: id, ContactPerson: annaP}, Err: customer.ErrMerged},

		{Name: "Update", Given: given(registered, annaAdded), When: customer.UpdateContactPerson{CustomerID: id, ContactPerson: annaNew},
			Then: given(customer.ContactPersonUpdated{CustomerID: id, ContactPerson: annaNew, At: now})},
		{Name: "UpdateSameIsNoOp", Given: given(registered, annaAdded), When: customer.UpdateContactPerson{CustomerID: id, ContactPerson: annaP}},
		{Name: "UpdateUnknown", Given: given(registered), When: customer.UpdateContactPerson{CustomerID: id, ContactPerson: annaP}, Err: customer.ErrContactNotFound},
		{Name: "UpdateRemoved", Given: given(registered, annaAdded, annaGone), When: customer.UpdateContactPerson{CustomerID: id, ContactPerson: annaNew},
			Err: customer.ErrContactNotFound},
		{Name: "UpdateInvalid", Given: given(registered, annaAdded), When: customer.UpdateContactPerson{CustomerID: id, ContactPerson: customer.ContactPerson{ContactID: anna}},
			Invalid: []string{"name"}},

		{Name: "Remove", Given: given(registered, annaAdded), When: customer.RemoveContactPerson{CustomerID: id, ContactID: anna}, Then: given(annaGone)},
		{Name: "RemoveTwiceIsNoOp", Given: given(registered, annaAdded, annaGone), When: customer.RemoveContactPerson{CustomerID: id, ContactID: anna}},
		{Name: "RemoveUnknown", Given: given(registered), When: customer.RemoveContactPerson{CustomerID: id, ContactID: anna}, Err: customer.ErrContactNotFound},
		{Name: "RemoveMerged", Given: given(registered, annaAdded, merged), When: customer.RemoveContactPerson{CustomerID: id, ContactID: anna}, Err: customer.ErrMerged},
	})
}

func TestOwnerAndSegment(t *testing.T) {
	domaintest.Run[customer.State](t, []domaintest.Case{
		{Name: "AssignOwner", Given: given(registered), When: customer.AssignCustomerOwner{CustomerID: id, OwnerID: "sales.ben"},
			Then: given(customer.CustomerOwnerAssigned{CustomerID: id, OwnerID: "sales.ben", PreviousOwnerID: "sales.ana", At: now})},
		{Name: "Unassign", Given: given(registered), When: customer.AssignCustomerOwner{CustomerID: id, OwnerID: " "},
			Then: given(customer.CustomerOwnerAssigned{CustomerID: id, PreviousOwnerID: "sales.ana", At: now})},
		{Name: "SameOwnerIsNoOp", Given: given(registered), When: customer.AssignCustomerOwner{CustomerID: id, OwnerID: "sales.ana"}},
		{Name: "OwnerInvalid", Given: given(registered), When: customer.AssignCustomerOwner{CustomerID: id, OwnerID: strings.Repeat("o", 201)}, Invalid: []string{"owner_id"}},
		{Name: "OwnerMerged", Given: given(registered, merged), When: customer.AssignCustomerOwner{CustomerID: id, OwnerID: "sales.ben"}, Err: customer.ErrMerged},
		{Name: "OwnerNotRegistered", When: customer.AssignCustomerOwner{CustomerID: id, OwnerID: "sales.ben"}, Err: customer.ErrNotFound},

		{Name: "Segment", Given: given(registered), When: customer.ChangeCustomerSegment{CustomerID: id, Segment: "smb"},
			Then: given(customer.CustomerSegmentChanged{CustomerID: id, Segment: "smb", PreviousSegment: "enterprise", At: now})},
		{Name: "ClearSegment", Given: given(registered), When: customer.ChangeCustomerSegment{CustomerID: id},
			Then: given(customer.CustomerSegmentChanged{CustomerID: id, PreviousSegment: "enterprise", At: now})},
		{Name: "SameSegmentIsNoOp", Given: given(registered), When: customer.ChangeCustomerSegment{CustomerID: id, Segment: "enterprise"}},
		{Name: "SegmentInvalid", Given: given(registered), When: customer.ChangeCustomerSegment{CustomerID: id, Segment: "Key Accounts"}, Invalid: []string{"segment"}},
		{Name: "SegmentMerged", Given: given(registered, merged), When: customer.ChangeCustomerSegment{CustomerID: id, Segment: "smb"}, Err: customer.ErrMerged},
	})
}

func TestConsent(t *testing.T) {
	give := customer.GiveConsent{CustomerID: id, ContactID: anna, Purpose: "newsletter", Channel: customer.ChannelEmail, Source: " trade fair form", Evidence: "scan 42"}
	withdraw := customer.WithdrawConsent{CustomerID: id, ContactID: anna, Purpose: "newsletter", Channel: customer.ChannelEmail, Source: "unsubscribe link"}
	ownGive := customer.GiveConsent{CustomerID: id, Purpose: "marketing", Channel: customer.ChannelPost, Source: "contract clause 9"}
	domaintest.Run[customer.State](t, []domaintest.Case{
		{Name: "GiveForContact", Given: given(registered, annaAdded), When: give, Then: given(newsletter)},
		{Name: "GiveForCustomer", Given: given(registered), When: ownGive,
			Then: given(customer.ConsentGiven{CustomerID: id, Purpose: "marketing", Channel: customer.ChannelPost, Source: "contract clause 9", At: now})},
		{Name: "GiveAgainIsNoOp", Given: given(registered, annaAdded, newsletter), When: give},
		{Name: "GiveAfterWithdrawal", Given: given(registered, annaAdded, newsletter, unsub), When: give, Then: given(newsletter)},
		{Name: "GiveOtherChannel", Given: given(registered, annaAdded, newsletter),
			When: customer.GiveConsent{CustomerID: id, ContactID: anna, Purpose: "newsletter", Channel: customer.ChannelSMS, Source: "sms keyword"},
			Then: given(customer.ConsentGiven{CustomerID: id, ContactID: anna, Purpose: "newsletter", Channel: customer.ChannelSMS, Source: "sms keyword", At: now})},
		{Name: "GiveUnknownContact", Given: given(registered), When: give, Err: customer.ErrContactNotFound},
		{Name: "GiveRemovedContact", Given: given(registered, annaAdded, annaGone), When: give, Err: customer.ErrContactNotFound},
		{Name: "GiveInvalid", Given: given(registered), When: customer.GiveConsent{CustomerID: id, Purpose: "News Letter", Channel: "pigeon", Evidence: strings.Repeat("e", 2001)},
			Invalid: []string{"purpose", "channel", "source", "evidence"}},
		{Name: "GiveMerged", Given: given(registered, annaAdded, merged), When: give, Err: customer.ErrMerged},
		{Name: "GiveNotRegistered", When: give, Err: customer.ErrNotFound},

		{Name: "Withdraw", Given: given(registered, annaAdded, newsletter), When: withdraw, Then: given(unsub)},
		{Name: "WithdrawForRemovedContact", Given: given(registered, annaAdded, newsletter, annaGone), When: withdraw, Then: given(unsub)},
		{Name: "WithdrawNotGivenIsNoOp", Given: given(registered, annaAdded), When: withdraw},
		{Name: "WithdrawTwiceIsNoOp", Given: given(registered, annaAdded, newsletter, unsub), When: withdraw},
		{Name: "WithdrawInvalid", Given: given(registered), When: customer.WithdrawConsent{CustomerID: id}, Invalid: []string{"purpose", "channel", "source"}},
		{Name: "WithdrawMerged", Given: given(registered, annaAdded, newsletter, merged), When: withdraw, Err: customer.ErrMerged},
	})
}

func TestMerge(t *testing.T) {
	dupRecorded := customer.DuplicateMerged{CustomerID: id, MergedID: dupe, At: now}
	domaintest.Run[customer.State](t, []domaintest.Case{
		{Name: "Merge", Given: given(registered), When: customer.MergeCustomer{CustomerID: id, SurvivorID: survivor}, Then: given(merged)},
		{Name: "MergeAgainIsNoOp", Given: given(registered, merged), When: customer.MergeCustomer{CustomerID: id, SurvivorID: survivor}},
		{Name: "MergeIntoAnother", Given: given(registered, merged), When: customer.MergeCustomer{CustomerID: id, SurvivorID: dupe}, Err: customer.ErrMerged},
		{Name: "MergeIntoItself", Given: given(registered), When: customer.MergeCustomer{CustomerID: id, SurvivorID: id}, Invalid: []string{"survivor_id"}},
		{Name: "MergeNoSurvivor", Given: given(registered), When: customer.MergeCustomer{CustomerID: id}, Invalid: []string{"survivor_id"}},
		{Name: "MergeNotRegistered", When: customer.MergeCustomer{CustomerID: id, SurvivorID: survivor}, Err: customer.ErrNotFound},

		{Name: "RecordDuplicate", Given: given(registered), When: customer.RecordDuplicateMerged{CustomerID: id, MergedID: dupe}, Then: given(dupRecorded)},
		{Name: "RecordDuplicateAgainIsNoOp", Given: given(registered, dupRecorded), When: customer.RecordDuplicateMerged{CustomerID: id, MergedID: dupe}},
		{Name: "RecordSelf", Given: given(registered), When: customer.RecordDuplicateMerged{CustomerID: id, MergedID: id}, Invalid: []string{"merged_id"}},
		{Name: "RecordNil", Given: given(registered), When: customer.RecordDuplicateMerged{CustomerID: id}, Invalid: []string{"merged_id"}},
		{Name: "RecordOnMergedSurvivor", Given: given(registered, merged), When: customer.RecordDuplicateMerged{CustomerID: id, MergedID: dupe}, Err: customer.ErrMerged},
		{Name: "RecordNotRegistered", When: customer.RecordDuplicateMerged{CustomerID: id, MergedID: dupe}, Err: customer.ErrNotFound},
	})
}

func TestErasure(t *testing.T) {
	req := customer.RequestErasure{CustomerID: id, ContactID: anna, ReceivedVia: "email to dpo@", Reference: "DSR-7"}
	requested := customer.ErasureRequested{CustomerID: id, ContactID: anna, ReceivedVia: "email to dpo@", Reference: "DSR-7", At: now}
	domaintest.Run[customer.State](t, []domaintest.Case{
		{Name: "ForContact", Given: given(registered, annaAdded), When: req, Then: given(requested)},
		{Name: "ForRemovedContact", Given: given(registered, annaAdded, annaGone), When: req, Then: given(requested)},
		{Name: "ForCustomer", Given: given(registered), When: customer.RequestErasure{CustomerID: id, ReceivedVia: "letter"},
			Then: given(customer.ErasureRequested{CustomerID: id, ReceivedVia: "letter", At: now})},
		{Name: "OnMergedCustomer", Given: given(registered, annaAdded, merged), When: req, Then: given(requested)},
		{Name: "AgainIsNoOp", Given: given(registered, annaAdded, requested), When: req},
		{Name: "UnknownContact", Given: given(registered), When: req, Err: customer.ErrContactNotFound},
		{Name: "Invalid", Given: given(registered), When: customer.RequestErasure{CustomerID: id, Reference: "a\tb"}, Invalid: []string{"received_via", "reference"}},
		{Name: "NotRegistered", When: req, Err: customer.ErrNotFound},
	})
}

func TestUnknownCommand(t *testing.T) {
	domaintest.Given[customer.State](t).When(otherCommand{}).ThenError(domain.ErrUnknownCommand)
	domaintest.Given[customer.State](t, registered).When(otherCommand{}).ThenError(domain.ErrUnknownCommand)
}

type otherCommand struct{}

func (otherCommand) CommandType() string    { return "Other" }
func (otherCommand) AggregateID() uuid.UUID { return id }

func TestStateAccessors(t *testing.T) {
	var zero customer.State
	if zero.Exists() || zero.Merged() || zero.ID() != uuid.Nil || zero.Contacts() != nil || len(zero.Consents()) != 0 {
		t.Fatalf("zero State must be a customer that does not exist")
	}
	benP := customer.ContactPerson{ContactID: ben, Name: "Ben"}
	s := domain.Fold[customer.State](
		registered, annaAdded,
		customer.ContactPersonAdded{CustomerID: id, ContactPerson: benP, At: now},
		newsletter,
		customer.ConsentGiven{CustomerID: id, Purpose: "marketing", Channel: customer.ChannelPost, Source: "contract", At: now},
		customer.ContactPersonUpdated{CustomerID: id, ContactPerson: customer.ContactPerson{ContactID: ben, Name: "Ben Ng"}, At: now},
		customer.ContactPersonRemoved{CustomerID: id, ContactID: anna, At: now},
		customer.ContactPersonUpdated{CustomerID: id, ContactPerson: customer.ContactPerson{ContactID: dupe, Name: "never added"}, At: now},
		customer.ContactPersonRemoved{CustomerID: id, ContactID: dupe, At: now},
		customer.CustomerOwnerAssigned{CustomerID: id, OwnerID: "sales.ben", At: now},
		customer.CustomerSegmentChanged{CustomerID: id, Segment: "smb", At: now},
		customer.DuplicateMerged{CustomerID: id, MergedID: dupe, At: now},
		customer.ErasureRequested{CustomerID: id, ContactID: anna, ReceivedVia: "phone", At: now},
		customer.CustomerDetailsChanged{CustomerID: id, Details: customer.Details{Kind: customer.KindPerson, DisplayName: "Acme"}, At: now},
		customer.CustomerMergedInto{CustomerID: id, SurvivorID: survivor, At: now},
	)
	if !s.Exists() || s.ID() != id || s.Kind() != customer.KindPerson || s.DisplayName() != "Acme" || s.RegisteredAt() != now {
		t.Errorf("identity: %v %v %v %q", s.Exists(), s.ID(), s.Kind(), s.DisplayName())
	}
	if s.OwnerID() != "sales.ben" || s.Segment() != "smb" {
		t.Errorf("owner %q segment %q", s.OwnerID(), s.Segment())
	}
	if got := s.Contacts(); len(got) != 1 || got[0].Name != "Ben Ng" {
		t.Errorf("Contacts = %+v", got)
	}
	if _, ok := s.Contact(anna); ok {
		t.Errorf("removed contact still returned")
	}
	if c, ok := s.Contact(ben); !ok || c.Name != "Ben Ng" {
		t.Errorf("Contact(ben) = %+v %v", c, ok)
	}
	if !s.HasConsent(anna, "newsletter", customer.ChannelEmail) || s.HasConsent(anna, "newsletter", customer.ChannelSMS) {
		t.Errorf("HasConsent wrong")
	}
	cs := s.Consents()
	if len(cs) != 2 || cs[0].ContactID != uuid.Nil || cs[1].ContactID != anna || cs[1].Evidence != "scan 42" || cs[1].At != now {
		t.Errorf("Consents = %+v", cs)
	}
	if !s.Merged() || s.MergedInto() != survivor || !slices.Equal(s.MergedDuplicates(), []uuid.UUID{dupe}) {
		t.Errorf("merge links: %v %v %v", s.Merged(), s.MergedInto(), s.MergedDuplicates())
	}
	if !s.ErasureRequested(anna) || s.ErasureRequested(uuid.Nil) || len(s.ErasureRequests()) != 1 {
		t.Errorf("erasure: %+v", s.ErasureRequests())
	}

	// Accessors return copies: changing them does not change the state.
	d := s.Details()
	d.DisplayName = "changed"
	s.Contacts()[0].Emails = append(s.Contacts()[0].Emails, "x@y.z")
	if s.DisplayName() != "Acme" || len(s.Contacts()[0].Emails) != 0 {
		t.Errorf("accessors leak internal state")
	}
}

func TestStreamID(t *testing.T) {
	if got := customer.StreamID(id); got != "customer-"+id.String() {
		t.Errorf("StreamID = %q", got)
	}
}

func TestEventsRoundTrip(t *testing.T) {
	all := []domain.Event{
		registered,
		customer.CustomerDetailsChanged{CustomerID: id, Details: acme, At: now},
		annaAdded,
		customer.ContactPersonUpdated{CustomerID: id, ContactPerson: annaP, At: now},
		annaGone,
		customer.CustomerOwnerAssigned{CustomerID: id, OwnerID: "b", PreviousOwnerID: "a", At: now},
		customer.CustomerSegmentChanged{CustomerID: id, Segment: "smb", PreviousSegment: "enterprise", At: now},
		newsletter, unsub, merged,
		customer.DuplicateMerged{CustomerID: id, MergedID: dupe, At: now},
		customer.ErasureRequested{CustomerID: id, ContactID: anna, ReceivedVia: "letter", Reference: "DSR-1", At: now},
		customer.CustomerErased{CustomerID: id, Reason: "request DSR-1", Reference: "DSR-1", At: now},
	}
	domaintest.RoundTrip(t, all...)
	domaintest.Covers(t, customer.Category, all...)
}

// TestCustomerRegisteredV1 reads events written with schema v1 (name and
// email) through the registry, which upcasts them to v2.
func TestCustomerRegisteredV1(t *testing.T) {
	cases := []struct {
		name string
		v1   string
		want customer.CustomerRegistered
	}{
		{"NameAndEmail",
			`{"customer_id":"` + id.String() + `","name":" Acme GmbH ","email":"info@acme.example","owner_id":"sales.ana","at":"2025-03-03T09:30:00Z"}`,
			customer.CustomerRegistered{CustomerID: id, Details: customer.Details{Kind: customer.KindOrganisation, DisplayName: "Acme GmbH",
				Emails: []string{"info@acme.example"}}, OwnerID: "sales.ana", At: now}},
		{"NoEmail",
			`{"customer_id":"` + id.String() + `","name":"Acme GmbH","email":"","at":"2025-03-03T09:30:00Z"}`,
			customer.CustomerRegistered{CustomerID: id, Details: customer.Details{Kind: customer.KindOrganisation, DisplayName: "Acme GmbH"}, At: now}},
		{"NullsAndSegment",
			`{"customer_id":"` + id.String() + `","name":"Acme GmbH","email":null,"segment":"smb","at":"2025-03-03T09:30:00Z"}`,
			customer.CustomerRegistered{CustomerID: id, Details: customer.Details{Kind: customer.KindOrganisation, DisplayName: "Acme GmbH"}, Segment: "smb", At: now}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := domain.Events.Decode("CustomerRegistered", 1, []byte(c.v1))
			if err != nil {
				t.Fatalf("Decode v1: %v", err)
			}
			if !domaintest.SameEvents([]domain.Event{got}, []domain.Event{c.want}) {
				t.Errorf("upcast v1\n got: %s\nwant: %s", domaintest.Render([]domain.Event{got}), domaintest.Render([]domain.Event{c.want}))
			}
			// The upcast event folds like a v2 one.
			s := domain.Fold[customer.State](got)
			if !s.Exists() || s.Kind() != customer.KindOrganisation {
				t.Errorf("folded upcast event: exists %v kind %q", s.Exists(), s.Kind())
			}
		})
	}

	if v, _ := domain.Events.CurrentVersion("CustomerRegistered"); v != 2 {
		t.Errorf("CustomerRegistered is at schema version %d, want 2", v)
	}
	typ, version, data, err := domain.Events.Encode(registered)
	if err != nil || typ != "CustomerRegistered" || version != 2 {
		t.Fatalf("Encode: %q v%d %v", typ, version, err)
	}
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	if _, old := m["name"]; old || m["display_name"] != "Acme" {
		t.Errorf("new events must be written as v2: %s", data)
	}

	for name, bad := range map[string]string{
		"NotAnObject":  `["x"]`,
		"NameNotText":  `{"name":7}`,
		"EmailNotText": `{"name":"x","email":{}}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := domain.Events.Decode("CustomerRegistered", 1, []byte(bad)); err == nil || errors.Is(err, domain.ErrUnknownEventType) {
				t.Errorf("Decode of malformed v1 %s: err = %v, want an upcasting error", bad, err)
			}
		})
	}
}

// Command names travel on the bus and name handlers: they must never change.
func TestErase(t *testing.T) {
	erase := customer.EraseCustomer{CustomerID: id, Reason: " request of 1 March ", Reference: "DSR-7"}
	erased := customer.CustomerErased{CustomerID: id, Reason: "request of 1 March", Reference: "DSR-7", At: now}
	domaintest.Run[customer.State](t, []domaintest.Case{
		{Name: "OK", Given: given(registered, annaAdded), When: erase, Then: given(erased)},
		{Name: "OnMergedCustomer", Given: given(registered, merged), When: erase, Then: given(erased)},
		{Name: "AgainIsNoOp", Given: given(registered, erased), When: erase},
		{Name: "NoChangesAfter", Given: given(registered, erased), When: customer.ChangeCustomerDetails{CustomerID: id, Details: acme}, Err: customer.ErrErased},
		{Name: "NoConsentAfter", Given: given(registered, erased), When: customer.GiveConsent{CustomerID: id, Purpose: "newsletter", Channel: "email", Source: "web"}, Err: customer.ErrErased},
		{Name: "ReasonRequired", Given: given(registered), When: customer.EraseCustomer{CustomerID: id}, Invalid: []string{"reason"}},
		{Name: "NotRegistered", When: erase, Err: customer.ErrNotFound},
	})
	var s customer.State
	s.Apply(registered)
	s.Apply(erased)
	if at, ok := s.Erased(); !ok || !at.Equal(now) {
		t.Errorf("Erased() = %v %v", at, ok)
	}
}

func TestRequireConsent(t *testing.T) {
	var s customer.State
	s.Apply(registered)
	if err := s.RequireConsent(uuid.Nil, customer.MarketingPurpose, customer.ChannelEmail); !errors.Is(err, customer.ErrNoConsent) {
		t.Errorf("without consent: %v", err)
	}
	s.Apply(customer.ConsentGiven{CustomerID: id, Purpose: customer.MarketingPurpose, Channel: customer.ChannelEmail, Source: "web", At: now})
	if err := s.RequireConsent(uuid.Nil, customer.MarketingPurpose, customer.ChannelEmail); err != nil {
		t.Errorf("with consent: %v", err)
	}
	if err := s.RequireConsent(uuid.Nil, customer.MarketingPurpose, customer.ChannelSMS); !errors.Is(err, customer.ErrNoConsent) {
		t.Errorf("another channel: %v", err)
	}
	if err := s.RequireConsent(anna, customer.MarketingPurpose, customer.ChannelEmail); !errors.Is(err, customer.ErrNoConsent) {
		t.Errorf("a contact person's own consent is needed: %v", err)
	}
	s.Apply(customer.ConsentWithdrawn{CustomerID: id, Purpose: customer.MarketingPurpose, Channel: customer.ChannelEmail, Source: "letter", At: now})
	if err := s.RequireConsent(uuid.Nil, customer.MarketingPurpose, customer.ChannelEmail); !errors.Is(err, customer.ErrNoConsent) {
		t.Errorf("after withdrawal: %v", err)
	}
	s.Apply(customer.ConsentGiven{CustomerID: id, Purpose: customer.MarketingPurpose, Channel: customer.ChannelEmail, Source: "web", At: now})
	s.Apply(customer.CustomerErased{CustomerID: id, Reason: "request", At: now})
	if err := s.RequireConsent(uuid.Nil, customer.MarketingPurpose, customer.ChannelEmail); !errors.Is(err, customer.ErrNoConsent) {
		t.Errorf("after erasure: %v", err)
	}
}

func TestCommandNames(t *testing.T) {
	for want, c := range map[string]domain.Command{
		"RegisterCustomer":      customer.RegisterCustomer{CustomerID: id},
		"ChangeCustomerDetails": customer.ChangeCustomerDetails{CustomerID: id},
		"AddContactPerson":      customer.AddContactPerson{CustomerID: id},
		"UpdateContactPerson":   customer.UpdateContactPerson{CustomerID: id},
		"RemoveContactPerson":   customer.RemoveContactPerson{CustomerID: id},
		"AssignCustomerOwner":   customer.AssignCustomerOwner{CustomerID: id},
		"ChangeCustomerSegment": customer.ChangeCustomerSegment{CustomerID: id},
		"GiveConsent":           customer.GiveConsent{CustomerID: id},
		"WithdrawConsent":       customer.WithdrawConsent{CustomerID: id},
		"MergeCustomer":         customer.MergeCustomer{CustomerID: id},
		"RecordDuplicateMerged": customer.RecordDuplicateMerged{CustomerID: id},
		"RequestErasure":        customer.RequestErasure{CustomerID: id},
		"EraseCustomer":         customer.EraseCustomer{CustomerID: id},
	} {
		if c.CommandType() != want || c.AggregateID() != id {
			t.Errorf("%T: CommandType %q AggregateID %v, want %q %v", c, c.CommandType(), c.AggregateID(), want, id)
		}
	}
}
