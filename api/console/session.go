package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"

	"github.com/evcrm/evcrm/internal/auth"
)

// session is a signed-in browser: the API token stays on the server; the
// browser holds only the session's random ID (HttpOnly, SameSite=Strict).
type session struct {
	id        string
	token     string
	principal auth.Principal
	csrf      string
	created   time.Time
	seen      time.Time
}

// sessions are kept in memory: a restart signs everyone out, which is the
// safe direction. Idle sessions end after idle, all after maxAge.
type sessions struct {
	mu     sync.Mutex
	byID   map[string]*session
	idle   time.Duration
	maxAge time.Duration
	now    func() time.Time
}

func newSessions(idle, maxAge time.Duration, now func() time.Time) *sessions {
	return &sessions{byID: map[string]*session{}, idle: idle, maxAge: maxAge, now: now}
}

func randomID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *sessions) create(token string, p auth.Principal) *session {
	now := s.now()
	ss := &session{id: randomID(), token: token, principal: p, csrf: randomID(), created: now, seen: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked(now)
	s.byID[ss.id] = ss
	return ss
}

// get returns the live session of id, or nil.
func (s *sessions) get(id string) *session {
	if id == "" {
		return nil
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.byID[id]
	if ss == nil {
		return nil
	}
	if now.Sub(ss.seen) > s.idle || now.Sub(ss.created) > s.maxAge {
		delete(s.byID, id)
		return nil
	}
	ss.seen = now
	cp := *ss
	return &cp
}

func (s *sessions) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, id)
}

func (s *sessions) expireLocked(now time.Time) {
	for id, ss := range s.byID {
		if now.Sub(ss.seen) > s.idle || now.Sub(ss.created) > s.maxAge {
			delete(s.byID, id)
		}
	}
}

func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
