package esdb_test

import (
	"os"
	"testing"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/esdb"
	"github.com/evcrm/evcrm/eventstore/esdb/esdbtest"
	"github.com/evcrm/evcrm/eventstore/storetest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// contractOptions: EventStoreDB checks event IDs within a stream only.
var contractOptions = storetest.Options{EventIDsPerStream: true}

// TestContract runs the shared contract suite through the real client over
// a loopback gRPC connection to the in-process test server.
func TestContract(t *testing.T) {
	srv := esdbtest.New(t)
	storetest.RunWith(t, func(t *testing.T) eventstore.Store { return open(t, srv.URL()) }, contractOptions)
}

// TestContractRealServer runs it against a real EventStoreDB or KurrentDB
// node named by EVCRM_TEST_ESDB_URL (for example
// "esdb://localhost:2113?tls=false"). None can be installed from this
// project's package sources, so CI runs only the test server.
func TestContractRealServer(t *testing.T) {
	url := os.Getenv("EVCRM_TEST_ESDB_URL")
	if url == "" {
		t.Skip("EVCRM_TEST_ESDB_URL not set: no EventStoreDB node to test against (TestContract covers the test server)")
	}
	storetest.RunWith(t, func(t *testing.T) eventstore.Store { return open(t, url) }, contractOptions)
}

func open(t *testing.T, url string) *esdb.Store {
	t.Helper()
	s, err := esdb.New(esdb.Config{ConnectionString: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestConfigValidate(t *testing.T) {
	for name, tc := range map[string]struct {
		cfg esdb.Config
		ok  bool
	}{
		"OK":             {esdb.Config{ConnectionString: "esdb://localhost:2113?tls=false"}, true},
		"NoConnection":   {esdb.Config{}, false},
		"NegativePaging": {esdb.Config{ConnectionString: "esdb://x:1", PageSize: -1}, false},
	} {
		t.Run(name, func(t *testing.T) {
			if err := tc.cfg.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
	if _, err := esdb.New(esdb.Config{ConnectionString: "not a url ::"}); err == nil {
		t.Fatal("New accepted a malformed connection string")
	}
}
