package faulttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/postgres"
	"github.com/evcrm/evcrm/internal/pgtest"
	"github.com/evcrm/evcrm/projections"
)

// buildEvcrm builds the evcrm binary into a temporary directory.
func buildEvcrm(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	bin := filepath.Join(t.TempDir(), "evcrm")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/evcrm")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// cli runs one evcrm command to its end and returns its stdout.
func cli(t *testing.T, bin, dbURL string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "EVCRM_DATABASE_URL="+dbURL)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("evcrm %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// server is a running `evcrm serve`.
type server struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has been reaped
	err  error         // its exit status, set before done is closed
	log  *bytes.Buffer
}

// startServer starts evcrm serve on addr and waits until /healthz answers.
func startServer(t *testing.T, bin, dbURL, addr string) *server {
	t.Helper()
	s := &server{cmd: exec.Command(bin, "serve", "--addr", addr), done: make(chan struct{}), log: &bytes.Buffer{}}
	s.cmd.Env = append(os.Environ(), "EVCRM_DATABASE_URL="+dbURL)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log // read only after the process has ended
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() { s.kill() })
	for deadline := time.Now().Add(20 * time.Second); ; {
		res, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-s.done:
			t.Fatalf("evcrm serve exited: %v\n%s", s.err, s.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("evcrm serve not healthy after 20 s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
// os.Process knows when it has been reaped, so a second kill is a no-op.
func (s *server) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// stop asks for a graceful shutdown and waits for it.
func (s *server) stop(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		if s.err != nil {
			t.Errorf("evcrm serve after SIGTERM: %v\n%s", s.err, s.log)
		}
	case <-time.After(20 * time.Second):
		t.Errorf("evcrm serve still running 20 s after SIGTERM")
		s.kill()
	}
}

type ack struct {
	key    string
	body   []byte
	result struct {
		Stream   string      `json:"stream"`
		ID       uuid.UUID   `json:"id"`
		EventIDs []uuid.UUID `json:"event_ids"`
	}
}

func post(ctx context.Context, client *http.Client, base, token, key string, body []byte) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/customers", bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	res, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	return res, data, err
}

// TestKillDashNineUnderLoad kills the server with SIGKILL while 8 clients
// register customers, restarts it and checks that every acknowledged
// command's events are stored exactly once, that retrying an acknowledged
// command replays its result instead of acting twice, and that the served
// read model equals a fresh rebuild from the events.
func TestKillDashNineUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the evcrm binary")
	}
	start := time.Now()
	bin := buildEvcrm(t)
	t.Logf("build: %s", time.Since(start).Round(time.Millisecond))
	db := pgtest.New(t, pgtest.Options{Settings: map[string]string{projections.AllTenantsSetting: "on"}})
	ctx := context.Background()
	cli(t, bin, db.URL, "migrate")
	token := strings.TrimSpace(cli(t, bin, db.URL, "token", "create", "--role", "admin", "--name", "fault-test"))
	addr := freeAddr(t)
	base := "http://" + addr

	srv := startServer(t, bin, db.URL, addr)
	t.Logf("first serve up: %s", time.Since(start).Round(time.Millisecond))

	// Load: 8 clients, at most 300 commands; the server dies after the
	// 100th acknowledgement, while the rest are in flight.
	const clients, maxCommands, killAfter = 8, 300, 100
	client := &http.Client{Timeout: 10 * time.Second}
	var (
		mu     sync.Mutex
		acked  []ack
		issued atomic.Int64
		killed = make(chan struct{})
		once   sync.Once
		wg     sync.WaitGroup
	)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := issued.Add(1)
				if n > maxCommands {
					return
				}
				a := ack{key: fmt.Sprintf("fault-%d-%d", c, n)}
				a.body, _ = json.Marshal(map[string]any{"kind": "person", "display_name": fmt.Sprintf("Fault %d", n),
					"emails": []string{fmt.Sprintf("p%d@example.org", n)}})
				res, data, err := post(ctx, client, base, token, a.key, a.body)
				if err != nil {
					select {
					case <-killed:
						return // the server is gone: not acknowledged
					default:
						t.Errorf("POST before the kill: %v", err)
						return
					}
				}
				if res.StatusCode/100 != 2 {
					t.Errorf("POST %s: %d %s", a.key, res.StatusCode, data)
					return
				}
				if err := json.Unmarshal(data, &a.result); err != nil || len(a.result.EventIDs) == 0 {
					t.Errorf("POST %s: %v %s", a.key, err, data)
					return
				}
				mu.Lock()
				acked = append(acked, a)
				if len(acked) == killAfter {
					once.Do(func() { close(killed); srv.kill() })
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	once.Do(func() { close(killed); srv.kill() })
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("load: %d acknowledged of %d issued before and at the kill, %s", len(acked), min(issued.Load(), maxCommands),
		time.Since(start).Round(time.Millisecond))
	if len(acked) < killAfter {
		t.Fatalf("only %d commands acknowledged", len(acked))
	}

	srv = startServer(t, bin, db.URL, addr)

	// Every acknowledged command's events are in its stream.
	for _, a := range acked {
		res, err := doGet(client, base+"/v1/streams/"+a.result.Stream, token)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Events []struct {
				ID uuid.UUID `json:"id"`
			} `json:"events"`
		}
		if res.status != http.StatusOK || json.Unmarshal(res.body, &page) != nil {
			t.Fatalf("GET stream of %s: %d %s", a.key, res.status, res.body)
		}
		got := map[uuid.UUID]bool{}
		for _, e := range page.Events {
			got[e.ID] = true
		}
		for _, id := range a.result.EventIDs {
			if !got[id] {
				t.Errorf("%s: acknowledged event %s missing from %s after the restart", a.key, id, a.result.Stream)
			}
		}
	}
	// A retry of an acknowledged command replays it, never acts twice.
	for _, a := range acked[:20] {
		res, data, err := post(ctx, client, base, token, a.key, a.body)
		if err != nil {
			t.Fatal(err)
		}
		var again struct {
			Stream string `json:"stream"`
		}
		if res.StatusCode/100 != 2 || json.Unmarshal(data, &again) != nil || again.Stream != a.result.Stream ||
			res.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("retry of %s: %d %s %q", a.key, res.StatusCode, data, res.Header.Get("Idempotent-Replayed"))
		}
	}

	// The store holds one CustomerRegistered per customer stream: the
	// acknowledged ones and those whose answer the kill swallowed.
	store, err := postgres.New(ctx, db.Pool, postgres.Config{DisableListenNotify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	streams := registrations(t, store)
	for s, n := range streams {
		if n != 1 {
			t.Errorf("stream %s holds %d CustomerRegistered events", s, n)
		}
	}
	for _, a := range acked {
		if streams[a.result.Stream] != 1 {
			t.Errorf("acknowledged %s: %s not in the global log", a.key, a.result.Stream)
		}
	}
	if len(streams) > int(min(issued.Load(), maxCommands)) {
		t.Errorf("%d customers stored for %d commands issued", len(streams), min(issued.Load(), maxCommands))
	}

	// The served read models catch up with the log after the restart ...
	for deadline := time.Now().Add(30 * time.Second); ; {
		var n int
		if err := db.Pool.QueryRow(ctx, "SELECT count(*) FROM rm_customer_profiles").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == len(streams) && caughtUp(t, bin, db.URL) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("served read model has %d customers, the log %d", n, len(streams))
		}
		time.Sleep(100 * time.Millisecond)
	}
	srv.stop(t)
	served := dumpReadModels(t, db.Pool, db.Schema)

	// ... and equal a fresh rebuild of every read model from the events.
	if out := cli(t, bin, db.URL, "projections", "rebuild", "--all"); strings.Count(out, "swapped in") < 2 {
		t.Fatalf("rebuild --all: %s", out)
	}
	rebuilt := dumpReadModels(t, db.Pool, db.Schema)
	compareReadModels(t, served, rebuilt)
	if len(rebuilt) != len(served) || len(served["rm_customer_profiles"]) != len(streams) {
		t.Errorf("%d read models served, %d rebuilt; %d customer rows", len(served), len(rebuilt), len(served["rm_customer_profiles"]))
	}
	t.Logf("%d acknowledged, %d stored; %d read models equal their rebuild; total %s", len(acked), len(streams), len(served),
		time.Since(start).Round(time.Millisecond))
}

type getResult struct {
	status int
	body   []byte
}

func doGet(client *http.Client, url, token string) (getResult, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return getResult{}, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := client.Do(req)
	if err != nil {
		return getResult{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return getResult{res.StatusCode, body}, err
}

// caughtUp tells whether every served read model has applied the whole log.
func caughtUp(t *testing.T, bin, dbURL string) bool {
	t.Helper()
	var st []projections.Status
	if err := json.Unmarshal([]byte(cli(t, bin, dbURL, "projections", "status", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if s.State != projections.StateActive || s.LagEvents != 0 {
			return false
		}
	}
	return len(st) > 0
}

// dumpReadModels returns every served read model (the views of the serving
// schema), each as its rows in JSON, sorted.
func dumpReadModels(t *testing.T, pool *pgxpool.Pool, schema string) map[string][]string {
	t.Helper()
	ctx := context.Background()
	rows, err := pool.Query(ctx, "SELECT viewname FROM pg_views WHERE schemaname = $1", schema)
	if err != nil {
		t.Fatal(err)
	}
	views, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, v := range views {
		name := pgx.Identifier{schema, v}.Sanitize()
		rows, err := pool.Query(ctx, "SELECT to_jsonb(r)::text AS j FROM "+name+" r ORDER BY j")
		if err != nil {
			t.Fatal(err)
		}
		if out[v], err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// compareReadModels fails t where a rebuilt read model differs from the
// served one.
func compareReadModels(t *testing.T, served, rebuilt map[string][]string) {
	t.Helper()
	for rel, rows := range served {
		if len(rebuilt[rel]) != len(rows) {
			t.Errorf("%s: %d rows served, %d after the rebuild", rel, len(rows), len(rebuilt[rel]))
			continue
		}
		for i := range rows {
			if rows[i] != rebuilt[rel][i] {
				t.Errorf("%s: row %d differs after the rebuild:\nserved  %s\nrebuilt %s", rel, i, rows[i], rebuilt[rel][i])
				break
			}
		}
	}
	if len(rebuilt) != len(served) || len(served) == 0 {
		t.Errorf("%d read models served, %d rebuilt", len(served), len(rebuilt))
	}
}

// registrations counts the CustomerRegistered events of each stream in the
// global log.
func registrations(t *testing.T, store eventstore.Store) map[string]int {
	t.Helper()
	streams := map[string]int{}
	for after := eventstore.Start; ; {
		evs, err := store.ReadAll(context.Background(), eventstore.ReadAllOptions{After: after, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			return streams
		}
		for _, e := range evs {
			if e.Type == "CustomerRegistered" {
				streams[e.StreamID]++
			}
		}
		after = evs[len(evs)-1].Position
	}
}
