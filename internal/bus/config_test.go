package bus_test

import (
	"strings"
	"testing"
	"time"

	"github.com/evcrm/evcrm/internal/bus"
)

func TestConfig(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		cfg  bus.Config
		want string // "" means valid
	}{
		"DefaultIsInProcess": {bus.Config{}, ""},
		"InProcess":          {bus.Config{Transport: "inprocess"}, ""},
		"AMQPNeedsURL":       {bus.Config{Transport: "amqp"}, "needs a broker URL"},
		"NATSNeedsURL":       {bus.Config{Transport: "nats"}, "needs a broker URL"},
		"NATS":               {bus.Config{Transport: "nats", URL: "nats://127.0.0.1:4222"}, ""},
		"Namespace":          {bus.Config{Transport: "nats", URL: "nats://x", Namespace: "staging_2-b"}, ""},
		"NamespaceWithDot":   {bus.Config{Transport: "nats", URL: "nats://x", Namespace: "a.b"}, "bus namespace"},
		"NamespaceWildcard":  {bus.Config{Transport: "amqp", URL: "amqp://x", Namespace: "*"}, "bus namespace"},
		"KafkaNotBuiltIn":    {bus.Config{Transport: "kafka", URL: "x:9092"}, "not built into this binary"},
		"Unknown":            {bus.Config{Transport: "carrier-pigeon"}, "unknown bus"},
		"NegativeRetries":    {bus.Config{Retry: bus.RetryConfig{MaxRetries: -1}}, "must not be negative"},
	} {
		t.Run(name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.want == "" && err != nil {
				t.Fatalf("Validate() = %v", err)
			}
			if tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
}

// A broker bus whose broker is unreachable fails at start with the
// connection error, quickly (the broker tests are in broker_test.go).
func TestUnreachableBroker(t *testing.T) {
	t.Parallel()
	for transport, url := range map[string]string{
		"amqp": "amqp://guest:guest@127.0.0.1:1/",
		"nats": "nats://127.0.0.1:1",
	} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			_, err := bus.New(bus.Config{Transport: transport, URL: url})
			if err == nil || !strings.Contains(err.Error(), strings.ToUpper(transport)) {
				t.Fatalf("New = %v, want a connection error", err)
			}
			if time.Since(start) > 10*time.Second {
				t.Fatalf("took %v to fail", time.Since(start))
			}
		})
	}
}
