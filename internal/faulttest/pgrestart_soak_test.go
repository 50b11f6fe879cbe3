//go:build soak

package faulttest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/evcrm/evcrm/eventstore/postgres"
)

const pgBin = "/usr/lib/postgresql/15/bin"

// cluster is a private, throwaway PostgreSQL 15 cluster on a free port:
// never the shared server, which other tests use.
type cluster struct {
	dir, data, port string
}

// pgCmd runs a PostgreSQL tool as the postgres OS user when we are root
// (the server refuses to run as root).
func pgCmd(tool string, args ...string) *exec.Cmd {
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(pgBin, tool)}, args...)...)
	}
	return exec.Command(filepath.Join(pgBin, tool), args...)
}

func (c *cluster) run(t *testing.T, tool string, args ...string) {
	t.Helper()
	if out, err := pgCmd(tool, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, out)
	}
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	if _, err := os.Stat(filepath.Join(pgBin, "initdb")); err != nil {
		t.Fatalf("PostgreSQL 15 binaries: %v", err)
	}
	dir, err := os.MkdirTemp("", "evcrm-pg-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil { // the postgres user writes here
		t.Fatal(err)
	}
	_, port, _ := strings.Cut(freeAddr(t), ":")
	c := &cluster{dir: dir, data: filepath.Join(dir, "data"), port: port}
	t.Cleanup(func() {
		_ = pgCmd("pg_ctl", "-D", c.data, "-m", "immediate", "-w", "stop").Run()
		os.RemoveAll(dir)
	})
	c.run(t, "initdb", "-D", c.data, "-U", "evcrm", "--auth=trust", "-E", "UTF8", "--no-sync")
	c.start(t)
	c.run(t, "createdb", "-h", "127.0.0.1", "-p", port, "-U", "evcrm", "evcrm")
	return c
}

func (c *cluster) start(t *testing.T) {
	t.Helper()
	c.run(t, "pg_ctl", "-D", c.data, "-l", filepath.Join(c.dir, "log"), "-w", "-t", "30",
		"-o", "-p "+c.port+" -k "+c.dir+" -c listen_addresses=127.0.0.1 -c fsync=off", "start")
}

func (c *cluster) stop(t *testing.T) {
	t.Helper()
	c.run(t, "pg_ctl", "-D", c.data, "-m", "fast", "-w", "-t", "30", "stop")
}

func (c *cluster) url() string {
	return "postgres://evcrm@127.0.0.1:" + c.port + "/evcrm?sslmode=disable"
}

// TestPostgresRestartUnderLoad stops PostgreSQL under command load and
// starts it again: while it is down the API answers 503 (never 500);
// afterwards evcrm recovers without a restart, every command — each
// retried with its Idempotency-Key until acknowledged — is stored exactly
// once, and the read models equal a fresh rebuild.
func TestPostgresRestartUnderLoad(t *testing.T) {
	start := time.Now()
	bin := buildEvcrm(t)
	pg := newCluster(t)
	ctx := context.Background()
	cli(t, bin, pg.url(), "migrate")
	token := strings.TrimSpace(cli(t, bin, pg.url(), "token", "create", "--role", "admin", "--name", "fault-test"))
	addr := freeAddr(t)
	base := "http://" + addr
	srv := startServer(t, bin, pg.url(), addr)
	t.Logf("cluster and serve up: %s", time.Since(start).Round(time.Millisecond))

	const clients, commands, stopAfter = 8, 300, 60
	client := &http.Client{Timeout: 10 * time.Second}
	var (
		mu        sync.Mutex
		acked     = map[string]string{} // key -> stream
		statuses  = map[int]int{}       // non-2xx answers seen
		transport atomic.Int64          // requests that got no answer
		next      atomic.Int64
		// up is set once PostgreSQL is back: from then on a retry must get
		// the real outcome, never 409 (in flight), unless an earlier
		// attempt of that key got no answer (the client gave up while
		// the server may still be handling it).
		up        atomic.Bool
		conflicts atomic.Int64 // 409s after PostgreSQL was back
		wg        sync.WaitGroup
	)
	outage := make(chan struct{})
	var outageOnce sync.Once
	deadline := time.Now().Add(3 * time.Minute)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := next.Add(1)
				if n > commands {
					return
				}
				key := fmt.Sprintf("pg-restart-%d", n)
				body, _ := json.Marshal(map[string]any{"kind": "organisation", "display_name": fmt.Sprintf("Restart %d", n)})
				gaveUp := false
				for {
					if time.Now().After(deadline) {
						t.Errorf("%s: not acknowledged after 3 minutes", key)
						return
					}
					res, data, err := post(ctx, client, base, token, key, body)
					if err != nil {
						transport.Add(1)
						gaveUp = true
						time.Sleep(100 * time.Millisecond)
						continue
					}
					if res.StatusCode/100 == 2 {
						var r struct {
							Stream string `json:"stream"`
						}
						if err := json.Unmarshal(data, &r); err != nil {
							t.Errorf("%s: %v", key, err)
							return
						}
						mu.Lock()
						acked[key] = r.Stream
						if len(acked) == stopAfter {
							outageOnce.Do(func() { close(outage) })
						}
						mu.Unlock()
						break
					}
					mu.Lock()
					statuses[res.StatusCode]++
					mu.Unlock()
					if res.StatusCode == http.StatusConflict && up.Load() {
						conflicts.Add(1)
						if !gaveUp {
							t.Errorf("%s: 409 after PostgreSQL was back, although every earlier attempt was answered: %s", key, data)
							return
						}
					}
					if res.StatusCode != http.StatusServiceUnavailable && res.StatusCode != http.StatusConflict {
						t.Errorf("%s: %d %s", key, res.StatusCode, data)
						return
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
		}()
	}

	<-outage
	down := time.Now()
	pg.stop(t)
	time.Sleep(3 * time.Second)
	res, err := doGet(client, base+"/readyz", token)
	if err != nil || res.status != http.StatusServiceUnavailable {
		t.Errorf("/readyz with PostgreSQL down: %d %s %v", res.status, res.body, err)
	}
	var someStream string
	mu.Lock()
	for _, s := range acked {
		someStream = s
		break
	}
	mu.Unlock()
	res, err = doGet(client, base+"/v1/streams/"+someStream, token)
	if err != nil || res.status != http.StatusServiceUnavailable {
		t.Errorf("a read with PostgreSQL down: %d %s %v", res.status, res.body, err)
	}
	pg.start(t)
	up.Store(true)
	t.Logf("PostgreSQL down for %s", time.Since(down).Round(time.Millisecond))
	wg.Wait()
	recovered := time.Since(down)
	t.Logf("%d commands acknowledged %s after the stop; non-2xx answers %v (409 after the restart: %d), %d without an answer",
		len(acked), recovered.Round(time.Millisecond), statuses, conflicts.Load(), transport.Load())
	if statuses[http.StatusServiceUnavailable] == 0 {
		t.Errorf("no 503 during the outage: %v", statuses)
	}
	select {
	case <-srv.done:
		t.Fatalf("evcrm serve exited: %v\n%s", srv.err, srv.log)
	default:
	}

	// Nothing lost, nothing duplicated.
	pool, err := pgxpool.New(ctx, pg.url())
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	store, err := postgres.New(ctx, pool, postgres.Config{DisableListenNotify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	streams := registrations(t, store)
	if len(streams) != commands {
		t.Errorf("%d customers stored for %d commands", len(streams), commands)
	}
	for key, s := range acked {
		if streams[s] != 1 {
			t.Errorf("%s: %s holds %d CustomerRegistered events", key, s, streams[s])
		}
	}

	// The read models caught up without a restart and equal a rebuild.
	for deadline := time.Now().Add(60 * time.Second); !caughtUp(t, bin, pg.url()); {
		if time.Now().After(deadline) {
			t.Fatal("read models not caught up 60 s after the restart")
		}
		time.Sleep(200 * time.Millisecond)
	}
	srv.stop(t)
	served := dumpReadModels(t, pool, "public")
	if n := len(served["rm_customer_profiles"]); n != commands {
		t.Errorf("rm_customer_profiles: %d rows for %d customers", n, commands)
	}
	cli(t, bin, pg.url(), "projections", "rebuild", "--all")
	compareReadModels(t, served, dumpReadModels(t, pool, "public"))
	t.Logf("total %s", time.Since(start).Round(time.Millisecond))
}
