// Package console is evcrm's web console at /console: server-rendered
// pages (html/template, SVG charts drawn here, one stylesheet and a small
// script, all embedded) for quality managers, auditors, analysts and team
// leads. It signs in with an API token, kept on the server behind a session
// cookie (HttpOnly, SameSite=Strict), with a CSRF token on every POST.
//
// Every figure is read through the JSON API in process (see client.go), so
// a page shows exactly what the token's role and tenant may read there:
// the same role checks, tenant scoping and query functions. The navigation
// shows the areas the role may read; a page the role may not read answers
// 403.
//
// templates/layout.html and static/console.css are the shared frame and
// stylesheet; another page set (a customer status page) can reuse them with
// Layout and Static.
package console

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/evcrm/evcrm/api"
	"github.com/evcrm/evcrm/internal/auth"
)

//go:embed templates static
var files embed.FS

// Static is the console's embedded stylesheet and script (static/).
var Static, _ = fs.Sub(files, "static")

// Options configure the console.
type Options struct {
	// API is the JSON API's handler (api.Server.Handler()); the console
	// reads through it.
	API http.Handler
	// Auth checks the tokens users sign in with (the API's authenticator).
	Auth api.Authenticator
	// Base is where the console is mounted (default "/console").
	Base   string
	Logger *slog.Logger
	// Now is the clock of countdowns and default periods (default time.Now).
	Now func() time.Time
	// SecureCookies marks the session cookie Secure (behind HTTPS).
	SecureCookies bool
	// IdleTimeout ends an unused session (default 30 min); MaxAge any (12 h).
	IdleTimeout, MaxAge time.Duration
}

// Console serves the pages.
type Console struct {
	opts     Options
	api      http.Handler
	sessions *sessions
	pages    map[string]*template.Template
	mux      chi.Router
}

const (
	cookieSession = "evcrm_console"
	cookieSignin  = "evcrm_console_signin"
)

// New builds the console.
func New(opts Options) (*Console, error) {
	var errs []error
	if opts.API == nil {
		errs = append(errs, errors.New("console: the API handler is required"))
	}
	if opts.Auth == nil {
		errs = append(errs, errors.New("console: an authenticator is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if opts.Base == "" {
		opts.Base = "/console"
	}
	opts.Base = strings.TrimRight(opts.Base, "/")
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 30 * time.Minute
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = 12 * time.Hour
	}
	c := &Console{opts: opts, api: opts.API, sessions: newSessions(opts.IdleTimeout, opts.MaxAge, opts.Now)}
	if err := c.parse(); err != nil {
		return nil, err
	}
	c.routes()
	return c, nil
}

func (c *Console) parse() error {
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return err
	}
	c.pages = map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(files, "templates/layout.html", n)
		if err != nil {
			return fmt.Errorf("console: template %s: %w", name, err)
		}
		c.pages[name] = t
	}
	return nil
}

// ServeHTTP serves the console (mount it at Base and Base/*).
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "+
		"img-src 'self' data:; style-src 'self'; script-src 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	c.mux.ServeHTTP(w, r)
}

type handler func(w http.ResponseWriter, r *http.Request, s *session) error

func (c *Console) routes() {
	m := chi.NewRouter()
	b := c.opts.Base
	m.Handle(b+"/static/*", http.StripPrefix(b+"/static/", staticFiles()))
	m.Get(b+"/signin", c.signinPage)
	m.Post(b+"/signin", c.signin)
	all := auth.Roles
	m.Post(b+"/signout", c.page(all, c.signout))
	m.Get(b, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, b+"/", http.StatusSeeOther) })
	// Each page admits the roles of the API operations it reads; the API
	// checks them again on every call.
	m.Get(b+"/", c.page(all, c.home))
	m.Get(b+"/pipeline", c.page(api.PipelineReaders, c.pipeline))
	m.Get(b+"/service", c.page(api.ServiceReaders, c.service))
	m.Get(b+"/quality", c.page(api.QualityReaders, c.quality))
	m.Get(b+"/quality/report.csv", c.page(api.QualityReaders, c.qualityCSV))
	// The period's audit pack and its PDF report (POST /v1/audit/packs).
	m.Post(b+"/quality/report.pdf", c.page(api.AuditReaders, c.qualityPDF))
	m.Post(b+"/audit/pack", c.page(api.AuditReaders, c.auditPack))
	m.Get(b+"/quality/complaints", c.page(api.QualityReaders, c.complaints))
	m.Get(b+"/quality/complaints/{id}", c.page(api.QualityReaders, c.complaint))
	m.Get(b+"/customers", c.page(api.CustomerReaders, c.customerLookup))
	m.Get(b+"/customers/{id}", c.page(api.CustomerReaders, c.customer))
	m.Get(b+"/audit", c.page(api.AuditReaders, c.audit))
	m.Get(b+"/audit/records/", c.page(api.AuditReaders, c.recordLookup))
	m.Get(b+"/audit/records/{stream}", c.page(api.AuditReaders, c.record))
	m.Get(b+"/audit/trace", c.page(api.AuditReaders, c.traceLookup))
	m.Get(b+"/audit/trace/{id}", c.page(api.AuditReaders, c.trace))
	m.NotFound(func(w http.ResponseWriter, r *http.Request) {
		c.renderError(w, r, c.current(r), http.StatusNotFound, "There is no such page.")
	})
	m.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		c.renderError(w, r, c.current(r), http.StatusMethodNotAllowed, "This page does not accept "+r.Method+".")
	})
	c.mux = m
}

func staticFiles() http.Handler {
	fsrv := http.FileServerFS(Static)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fsrv.ServeHTTP(w, r)
	})
}

// current is the request's live session, or nil.
func (c *Console) current(r *http.Request) *session {
	ck, err := r.Cookie(cookieSession)
	if err != nil {
		return nil
	}
	return c.sessions.get(ck.Value)
}

// page wraps a handler: a signed-in session is required (else to the
// sign-in page), its role must be among roles (else 403), POSTs must carry
// the session's CSRF token, and errors become error pages (403 for a
// refusal of the API, never a 500).
func (c *Console) page(roles []auth.Role, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := c.current(r)
		if s == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, c.opts.Base+"/signin?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			c.renderError(w, r, nil, http.StatusUnauthorized, "Your session has ended. Sign in again.")
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if err := r.ParseForm(); err != nil || !sameToken(r.PostForm.Get("csrf"), s.csrf) || !sameOrigin(r) {
				c.renderError(w, r, s, http.StatusForbidden, "The form was not sent from this console (CSRF check failed). Reload the page and try again.")
				return
			}
		}
		err := forbidden()
		if s.principal.Allowed(roles) {
			err = h(w, r, s)
		}
		if err != nil {
			status := statusOf(err)
			msg := err.Error()
			var ae *apiError
			if errors.As(err, &ae) {
				msg = ae.Detail
				for _, fe := range ae.Errors {
					if fe != nil && fe.Message != "" {
						msg += "; " + strings.TrimPrefix(fe.Location, "query.") + " " + fe.Message
					}
				}
			}
			switch status {
			case http.StatusUnauthorized:
				// The token was revoked or expired: end the session.
				c.sessions.remove(s.id)
				http.Redirect(w, r, c.opts.Base+"/signin?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			case http.StatusForbidden:
				msg = fmt.Sprintf("Your role (%s) may not read this page.", s.principal.Role)
			case http.StatusInternalServerError:
				api.Logger(r.Context()).ErrorContext(r.Context(), "console page failed", "path", r.URL.Path, "error", err)
				msg = "Something went wrong on our side. The correlation ID below identifies it in the server log."
			}
			c.renderError(w, r, s, status, msg)
		}
	}
}

// sameOrigin refuses a POST whose Origin (when the browser sends one) is
// another site; SameSite=Strict and the CSRF token are the main defence.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return o == ""
	}
	o = strings.TrimPrefix(strings.TrimPrefix(o, "http://"), "https://")
	return o == r.Host
}

// view is what every page template gets.
type view struct {
	Title   string
	Base    string
	Session *session
	User    auth.Principal
	Nav     []navItem
	Active  string
	CSRF    string
	Now     time.Time
	Status  int
	Message string
	CorrID  string
	Data    any
}

type navItem struct {
	Key, Label, Href string
}

// Areas of the console and the API roles that read them.
var areas = []struct {
	key, label, path string
	roles            []auth.Role
}{
	{"pipeline", "Pipeline", "/pipeline", api.PipelineReaders},
	{"service", "Service", "/service", api.ServiceReaders},
	{"quality", "Quality", "/quality", api.QualityReaders},
	{"complaints", "Complaints", "/quality/complaints", api.QualityReaders},
	{"customers", "Customers", "/customers", api.CustomerReaders},
	{"audit", "Audit", "/audit", api.AuditReaders},
}

func (c *Console) nav(s *session) []navItem {
	if s == nil {
		return nil
	}
	out := []navItem{{"home", "Overview", c.opts.Base + "/"}}
	for _, a := range areas {
		if s.principal.Allowed(a.roles) {
			out = append(out, navItem{a.key, a.label, c.opts.Base + a.path})
		}
	}
	return out
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, s *session, status int, name, title, active string, data any) {
	t := c.pages[name]
	v := view{Title: title, Base: c.opts.Base, Session: s, Nav: c.nav(s), Active: active, Now: c.opts.Now().UTC(),
		Status: status, CorrID: api.CorrelationID(r.Context()), Data: data}
	if s != nil {
		v.CSRF, v.User = s.csrf, s.principal
	}
	var buf strings.Builder
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		api.Logger(r.Context()).ErrorContext(r.Context(), "console template failed", "template", name, "error", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString("<!doctype html><title>Error</title><p>The page could not be rendered.</p>")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(buf.String()))
}

func (c *Console) renderError(w http.ResponseWriter, r *http.Request, s *session, status int, msg string) {
	title := http.StatusText(status)
	v := struct{ Message string }{msg}
	c.render(w, r, s, status, "error", title, "", v)
}

// signinPage shows the form; a random value in a cookie and in the form
// guards the sign-in POST (there is no session yet).
func (c *Console) signinPage(w http.ResponseWriter, r *http.Request) {
	if c.current(r) != nil {
		http.Redirect(w, r, c.opts.Base+"/", http.StatusSeeOther)
		return
	}
	c.showSignin(w, r, http.StatusOK, "")
}

func (c *Console) showSignin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	tok := randomID()
	http.SetCookie(w, &http.Cookie{Name: cookieSignin, Value: tok, Path: c.opts.Base, HttpOnly: true,
		Secure: c.opts.SecureCookies, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	next := r.FormValue("next")
	c.render(w, r, nil, status, "signin", "Sign in", "", struct{ Next, CSRF, Message string }{safeNext(c.opts.Base, next), tok, msg})
}

func (c *Console) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		c.showSignin(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	ck, err := r.Cookie(cookieSignin)
	if err != nil || !sameToken(r.PostForm.Get("csrf"), ck.Value) || !sameOrigin(r) {
		c.showSignin(w, r, http.StatusForbidden, "The sign-in form expired or was not sent from this console. Try again.")
		return
	}
	token := strings.TrimSpace(r.PostForm.Get("token"))
	p, err := c.opts.Auth.Authenticate(r.Context(), token)
	if err != nil {
		if !errors.Is(err, auth.ErrUnauthenticated) {
			api.Logger(r.Context()).ErrorContext(r.Context(), "console sign-in failed", "error", err)
			c.showSignin(w, r, http.StatusServiceUnavailable, "Sign-in is unavailable right now. Try again shortly.")
			return
		}
		c.showSignin(w, r, http.StatusUnauthorized, "That token is not valid (unknown, revoked or expired).")
		return
	}
	s := c.sessions.create(token, p)
	http.SetCookie(w, &http.Cookie{Name: cookieSignin, Value: "", Path: c.opts.Base, MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.SetCookie(w, &http.Cookie{Name: cookieSession, Value: s.id, Path: c.opts.Base, HttpOnly: true,
		Secure: c.opts.SecureCookies, SameSite: http.SameSiteStrictMode})
	api.Logger(r.Context()).InfoContext(r.Context(), "console sign-in", "principal", p.Name, "role", string(p.Role), "tenant", p.Tenant)
	http.Redirect(w, r, safeNext(c.opts.Base, r.PostForm.Get("next")), http.StatusSeeOther)
}

func (c *Console) signout(w http.ResponseWriter, r *http.Request, s *session) error {
	c.sessions.remove(s.id)
	http.SetCookie(w, &http.Cookie{Name: cookieSession, Value: "", Path: c.opts.Base, MaxAge: -1, HttpOnly: true,
		Secure: c.opts.SecureCookies, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, c.opts.Base+"/signin", http.StatusSeeOther)
	return nil
}

// safeNext keeps a redirect inside the console.
func safeNext(base, next string) string {
	if !strings.HasPrefix(next, base+"/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return base + "/"
	}
	return next
}
