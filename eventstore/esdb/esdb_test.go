package esdb_test

import (
	"os"
	"testing"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/esdb"
	"github.com/evcrm/evcrm/eventstore/storetest"
)

// TestContract runs the shared contract suite against a real EventStoreDB or
// KurrentDB node named by EVCRM_TEST_ESDB_URL (for example
// "esdb://localhost:2113?tls=false"). No such server can be installed from
// this project's package sources, so without the variable the suite is
// skipped and only the configuration tests below run.
func TestContract(t *testing.T) {
	url := os.Getenv("EVCRM_TEST_ESDB_URL")
	if url == "" {
		t.Skip("EVCRM_TEST_ESDB_URL not set: no EventStoreDB node to test against")
	}
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		s, err := esdb.New(esdb.Config{ConnectionString: url})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
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
