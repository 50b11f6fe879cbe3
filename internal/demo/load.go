package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/domain"
)

// Sink carries out one step through the command handlers. A refusal by the
// domain (the command is invalid or the aggregate's state forbids it) is
// returned as a *Refusal; any other error stops the load.
type Sink interface {
	Send(ctx context.Context, s Step) error
}

// Refusal is a step the command side refused.
type Refusal struct {
	Command string
	Code    string
	Message string
}

func (r *Refusal) Error() string {
	return fmt.Sprintf("%s refused: %s (%s)", r.Command, r.Message, r.Code)
}

// Report tells what a load did.
type Report struct {
	Sent    int            // steps the command side accepted (or had accepted before)
	Refused map[string]int // refusals by "<command>: <code>"
	// Examples holds the message of the first refusal of each kind.
	Examples map[string]string
}

// Load runs the steps in order through sink, calling progress after each.
func Load(ctx context.Context, steps []Step, sink Sink, progress func(done int)) (Report, error) {
	rep := Report{Refused: map[string]int{}, Examples: map[string]string{}}
	for i, s := range steps {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		err := sink.Send(ctx, s)
		var ref *Refusal
		switch {
		case err == nil:
			rep.Sent++
		case errors.As(err, &ref):
			k := ref.Command + ": " + ref.Code
			if rep.Refused[k] == 0 {
				rep.Examples[k] = ref.Message
			}
			rep.Refused[k]++
		default:
			return rep, fmt.Errorf("step %d (%s): %w", i, s.Command.CommandType(), err)
		}
		if progress != nil {
			progress(i + 1)
		}
	}
	return rep, nil
}

// Dispatcher is the command side as the direct sink uses it.
type Dispatcher interface {
	Dispatch(ctx context.Context, cmd domain.Command, meta commands.Metadata) (commands.Result, error)
}

// Direct sends steps to a dispatcher in this process: the same handlers as
// the HTTP API, without the network.
type Direct struct {
	Dispatcher Dispatcher
	Tenant     string
}

// Send dispatches one step as its actor, at its time, with a command ID
// derived from its idempotency key.
func (d Direct) Send(ctx context.Context, s Step) error {
	_, err := d.Dispatcher.Dispatch(ctx, s.Command, commands.Metadata{
		CommandID:  commands.CommandIDFromKey("evcrm-demo", s.Key),
		Actor:      s.Actor,
		Role:       "demo",
		Source:     "evcrm-demo",
		Tenant:     d.Tenant,
		OccurredAt: s.OccurredAt,
	})
	var de *domain.Error
	if errors.As(err, &de) {
		return &Refusal{Command: s.Command.CommandType(), Code: commands.ErrorCode(err), Message: err.Error()}
	}
	return err
}

// HTTP sends steps to a running evcrm server's command API. It learns the
// route of each command type from the server's OpenAPI document (the
// "x-evcrm-command" of each operation), so it follows the API as it is.
type HTTP struct {
	BaseURL string // e.g. http://localhost:8080
	Token   string // a bearer token with a role allowed to send every command (admin)
	Client  *http.Client

	routes map[string]route // command type → route
}

type route struct {
	path   string          // "/v1/cases/{id}/escalate"
	fields map[string]bool // JSON fields the body may carry
}

// NewHTTP reads the server's OpenAPI document and returns a sink.
func NewHTTP(ctx context.Context, baseURL, token string, client *http.Client) (*HTTP, error) {
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	h := &HTTP{BaseURL: strings.TrimRight(baseURL, "/"), Token: token, Client: client}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.BaseURL+"/openapi.json", nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("demo: reading the server's API: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("demo: GET /openapi.json: %s", resp.Status)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Command     string `json:"x-evcrm-command"`
			RequestBody struct {
				Content map[string]struct {
					Schema struct {
						Ref string `json:"$ref"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 32<<20)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("demo: decoding /openapi.json: %w", err)
	}
	h.routes = map[string]route{}
	paths := make([]string, 0, len(doc.Paths))
	for p := range doc.Paths {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		op, ok := doc.Paths[p]["post"]
		if !ok || op.Command == "" {
			continue
		}
		// Prefer a route without {id} (a creation takes the ID in its body).
		if prev, seen := h.routes[op.Command]; seen && !strings.Contains(prev.path, "{id}") {
			continue
		}
		r := route{path: p, fields: map[string]bool{}}
		ref := op.RequestBody.Content["application/json"].Schema.Ref
		for k := range doc.Components.Schemas[strings.TrimPrefix(ref, "#/components/schemas/")].Properties {
			r.fields[k] = true
		}
		h.routes[op.Command] = r
	}
	if len(h.routes) == 0 {
		return nil, errors.New("demo: the server's API lists no commands")
	}
	return h, nil
}

// Send posts one step, retrying transport failures and 5xx answers with
// the same Idempotency-Key (so a retry never acts twice).
func (h *HTTP) Send(ctx context.Context, s Step) error {
	typ := s.Command.CommandType()
	r, ok := h.routes[typ]
	if !ok {
		return fmt.Errorf("demo: the server has no route for %s", typ)
	}
	raw, err := json.Marshal(s.Command)
	if err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		return err
	}
	body := map[string]json.RawMessage{}
	for k, v := range all {
		if r.fields[k] {
			body[k] = v
		}
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return err
	}
	path := strings.ReplaceAll(r.path, "{id}", s.Command.AggregateID().String())
	var last error
	for attempt := range 5 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt*attempt) * 100 * time.Millisecond):
			}
		}
		status, problem, err := h.post(ctx, path, s, payload)
		switch {
		case err != nil:
			last = err
			continue
		case status < 300:
			return nil
		case status >= 500:
			last = fmt.Errorf("%s: %d %s", path, status, problem.Detail)
			continue
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			return fmt.Errorf("demo: %s: %d %s (the token needs the admin role)", path, status, problem.Detail)
		}
		code := problem.Code
		if code == "" {
			code = fmt.Sprint(status)
		}
		return &Refusal{Command: typ, Code: code, Message: problem.Detail}
	}
	return last
}

type problem struct {
	Detail string `json:"detail"`
	Code   string `json:"code"`
}

func (h *HTTP) post(ctx context.Context, path string, s Step, payload []byte) (int, problem, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.BaseURL+path, bytes.NewReader(payload))
	if err != nil {
		return 0, problem{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+h.Token)
	req.Header.Set("Idempotency-Key", s.Key)
	req.Header.Set("Occurred-At", s.OccurredAt.UTC().Format(time.RFC3339))
	req.Header.Set("Source-App", "evcrm-demo")
	resp, err := h.Client.Do(req)
	if err != nil {
		return 0, problem{}, err
	}
	defer resp.Body.Close()
	var p problem
	if resp.StatusCode >= 300 {
		_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&p)
	} else {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	}
	return resp.StatusCode, p, nil
}
