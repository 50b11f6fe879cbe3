// Package privacy keeps personal data under control by crypto-shredding:
// the personal fields of every event (classified per event type in domain,
// domain.Personal) are encrypted with a key of their data subject (a
// customer, or a lead before conversion) before they reach the event store,
// and decrypted when read. Erasing a subject destroys its key: the events
// stay as they are (their hashes, and so the audit log, still verify) but
// the personal fields read as erased (null, listed under "$erased").
//
// Store wraps any eventstore.Store, so it works the same on every backend.
// Keys live in PostgreSQL (Keyring), wrapped by a master key kept outside
// the database. See docs/privacy.md.
package privacy

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/eventstore"
)

// Config configures a Store.
type Config struct {
	Keyring  *Keyring
	Registry *domain.Registry // default domain.Events
	// KeyCacheTTL bounds how long a data key stays cached after use
	// (default 30s): another process's erasure takes effect here within it.
	KeyCacheTTL time.Duration
	Logger      *slog.Logger
}

// Store encrypts personal fields on Append and decrypts them on every read.
type Store struct {
	inner eventstore.Store
	keys  *Keyring
	reg   *domain.Registry
	ttl   time.Duration
	log   *slog.Logger

	// streamSubjects: the stream categories with personal event types
	// that name no subject, whose streams' subjects must be recorded.
	streamSubjects map[string]bool

	mu       sync.Mutex
	byKid    map[uuid.UUID]cached
	bySubj   map[string]cached // tenant + "\x00" + subject
	byStream map[string]string // tenant + "\x00" + stream -> subject
}

type cached struct {
	key     *dataKey // nil: destroyed
	expires time.Time
}

var _ eventstore.Store = (*Store)(nil)

// Wrap returns the privacy decorator of inner.
func Wrap(inner eventstore.Store, cfg Config) (*Store, error) {
	if cfg.Keyring == nil {
		return nil, ErrNoMasterKey
	}
	if cfg.Registry == nil {
		cfg.Registry = domain.Events
	}
	if cfg.KeyCacheTTL <= 0 {
		cfg.KeyCacheTTL = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{inner: inner, keys: cfg.Keyring, reg: cfg.Registry, ttl: cfg.KeyCacheTTL, log: cfg.Logger,
		byKid: map[uuid.UUID]cached{}, bySubj: map[string]cached{}, byStream: map[string]string{}, streamSubjects: map[string]bool{}}
	for _, d := range cfg.Registry.Catalogue() {
		if len(d.Personal) > 0 && len(d.Subject) == 0 {
			s.streamSubjects[d.Aggregate] = true
		}
	}
	return s, nil
}

// Inner returns the wrapped store: what it returns is as stored (ciphertext).
func (s *Store) Inner() eventstore.Store { return s.inner }

// Keyring returns the store's keyring.
func (s *Store) Keyring() *Keyring { return s.keys }

// SubjectID names a data subject: "customer:<uuid>".
func SubjectID(kind string, id uuid.UUID) string { return kind + ":" + id.String() }

const maxCache = 100_000

func (s *Store) putLocked(m map[string]cached, k string, c cached) {
	if len(m) >= maxCache {
		clear(m)
	}
	m[k] = c
}

// Append encrypts the personal fields of events with their subjects' keys,
// links and erases subjects as the events say, then appends to the inner
// store. Erasure happens before the erasure event is stored, so a failed
// append leaves the data erased and a retry records the event.
func (s *Store) Append(ctx context.Context, streamID string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	out := events
	copied := false
	for i, e := range events {
		p, ok := s.reg.Personal(e.Type)
		if !ok || p.IsZero() {
			continue
		}
		data, err := s.protect(ctx, streamID, e, p)
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		if !copied {
			out = append([]eventstore.EventData(nil), events...)
			copied = true
		}
		out[i].Data = data
	}
	return s.inner.Append(ctx, streamID, expected, out...)
}

func (s *Store) protect(ctx context.Context, streamID string, e eventstore.EventData, p domain.Personal) (json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(e.Data, &obj) != nil || obj == nil {
		return e.Data, nil // not an object: the inner store refuses it
	}
	tenant := e.Metadata.Tenant
	subject := ""
	for _, ref := range p.Subject {
		if id, ok := uuidAt(e.Data, ref.Path); ok {
			subject = SubjectID(ref.Kind, id)
			break
		}
	}
	if subject != "" {
		if s.streamSubjects[eventstore.Category(streamID)] {
			if err := s.rememberStream(ctx, tenant, streamID, subject); err != nil {
				return nil, err
			}
		}
	} else {
		var err error
		if subject, err = s.streamSubject(ctx, tenant, streamID); err != nil {
			return nil, err
		}
		if subject == "" {
			subject = "stream:" + streamID // no subject named: the stream is its own
		}
	}
	if p.LinkTo != nil {
		if id, ok := uuidAt(e.Data, p.LinkTo.Path); ok {
			if err := s.keys.link(ctx, tenant, subject, SubjectID(p.LinkTo.Kind, id)); err != nil {
				return nil, err
			}
		}
	}
	if p.Erases {
		if _, err := s.Erase(ctx, tenant, subject, e.Type+" "+e.ID.String()); err != nil {
			return nil, err
		}
	}
	if len(p.Fields) == 0 {
		return e.Data, nil
	}
	k, err := s.subjectKey(ctx, tenant, subject)
	if err != nil {
		return nil, err
	}
	return sealPaths(e.Data, p.Fields, e.ID, k)
}

// Erase destroys the keys of a subject and of the subjects linked to it,
// here and in this process's cache, and returns the keys destroyed now.
func (s *Store) Erase(ctx context.Context, tenant, subject, by string) ([]uuid.UUID, error) {
	kids, err := s.keys.Destroy(ctx, tenant, subject, by)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, kid := range kids {
		delete(s.byKid, kid)
	}
	for k, c := range s.bySubj {
		if c.key != nil && containsKid(kids, c.key.kid) {
			delete(s.bySubj, k)
		}
	}
	delete(s.bySubj, tenant+"\x00"+subject)
	return kids, nil
}

func containsKid(kids []uuid.UUID, kid uuid.UUID) bool {
	for _, k := range kids {
		if k == kid {
			return true
		}
	}
	return false
}

func (s *Store) rememberStream(ctx context.Context, tenant, streamID, subject string) error {
	key := tenant + "\x00" + streamID
	s.mu.Lock()
	_, known := s.byStream[key]
	s.mu.Unlock()
	if known {
		return nil
	}
	first, err := s.keys.setStreamSubject(ctx, tenant, streamID, subject)
	if err != nil {
		return err
	}
	s.mu.Lock()
	if len(s.byStream) >= maxCache {
		clear(s.byStream)
	}
	s.byStream[key] = first
	s.mu.Unlock()
	return nil
}

func (s *Store) streamSubject(ctx context.Context, tenant, streamID string) (string, error) {
	key := tenant + "\x00" + streamID
	s.mu.Lock()
	subj, ok := s.byStream[key]
	s.mu.Unlock()
	if ok {
		return subj, nil
	}
	subj, err := s.keys.streamSubject(ctx, tenant, streamID)
	if err != nil || subj == "" {
		return subj, err
	}
	s.mu.Lock()
	if len(s.byStream) >= maxCache {
		clear(s.byStream)
	}
	s.byStream[key] = subj
	s.mu.Unlock()
	return subj, nil
}

func (s *Store) subjectKey(ctx context.Context, tenant, subject string) (*dataKey, error) {
	key := tenant + "\x00" + subject
	now := time.Now()
	s.mu.Lock()
	c, ok := s.bySubj[key]
	s.mu.Unlock()
	if ok && (c.key == nil || now.Before(c.expires)) {
		return c.key, nil
	}
	k, err := s.keys.subjectKey(ctx, tenant, subject)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.putLocked(s.bySubj, key, cached{key: k, expires: now.Add(s.ttl)})
	if k != nil {
		s.byKid[k.kid] = cached{key: k, expires: now.Add(s.ttl)}
	}
	s.mu.Unlock()
	return k, nil
}

func (s *Store) keyByID(ctx context.Context, kid uuid.UUID) (*dataKey, error) {
	now := time.Now()
	s.mu.Lock()
	c, ok := s.byKid[kid]
	s.mu.Unlock()
	if ok && (c.key == nil || now.Before(c.expires)) {
		return c.key, nil
	}
	k, err := s.keys.key(ctx, kid)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.byKid) >= maxCache {
		clear(s.byKid)
	}
	s.byKid[kid] = cached{key: k, expires: now.Add(s.ttl)}
	s.mu.Unlock()
	return k, nil
}

// Open returns event data with its personal fields decrypted, or null and
// listed under "$erased" where the key is gone. Data without envelopes is
// returned as is.
func (s *Store) Open(ctx context.Context, data json.RawMessage) (json.RawMessage, error) {
	return openAll(data, func(kid uuid.UUID) (*dataKey, error) { return s.keyByID(ctx, kid) })
}

// Decrypt opens the data of events in place.
func (s *Store) Decrypt(ctx context.Context, events []eventstore.RecordedEvent) error {
	for i := range events {
		if !HasEnvelopes(events[i].Data) {
			continue
		}
		data, err := s.Open(ctx, events[i].Data)
		if err != nil {
			return fmt.Errorf("event %s (%s): %w", events[i].ID, events[i].Type, err)
		}
		events[i].Data = data
	}
	return nil
}

func (s *Store) ReadStream(ctx context.Context, streamID string, opts eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	events, err := s.inner.ReadStream(ctx, streamID, opts)
	if err != nil {
		return events, err
	}
	return events, s.Decrypt(ctx, events)
}

func (s *Store) ReadAll(ctx context.Context, opts eventstore.ReadAllOptions) ([]eventstore.RecordedEvent, error) {
	events, err := s.inner.ReadAll(ctx, opts)
	if err != nil {
		return events, err
	}
	return events, s.Decrypt(ctx, events)
}

func (s *Store) Subscribe(ctx context.Context, opts eventstore.SubscribeOptions, h eventstore.Handler) error {
	return s.inner.Subscribe(ctx, opts, func(ctx context.Context, events []eventstore.RecordedEvent) error {
		if err := s.Decrypt(ctx, events); err != nil {
			return err
		}
		return h(ctx, events)
	})
}

func (s *Store) StreamVersion(ctx context.Context, streamID string) (uint64, error) {
	return s.inner.StreamVersion(ctx, streamID)
}

func (s *Store) Head(ctx context.Context) (eventstore.Position, error) { return s.inner.Head(ctx) }

func (s *Store) Close() { s.inner.Close() }

// uuidAt reads a non-nil UUID at a dotted path of a JSON object.
func uuidAt(data json.RawMessage, path string) (uuid.UUID, bool) {
	raw := data
	for _, seg := range splitPath(path) {
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return uuid.Nil, false
		}
		v, ok := obj[seg]
		if !ok {
			return uuid.Nil, false
		}
		raw = v
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return uuid.Nil, false
	}
	id, err := uuid.Parse(s)
	if err != nil || id == uuid.Nil {
		return uuid.Nil, false
	}
	return id, true
}
