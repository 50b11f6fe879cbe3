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
		"NATSNotBuiltIn":     {bus.Config{Transport: "nats", URL: "nats://x"}, "not built into this binary"},
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

// No broker runs here: an AMQP bus whose broker is unreachable fails at
// start with the connection error (the AMQP paths are compile-checked).
func TestAMQPUnreachable(t *testing.T) {
	t.Parallel()
	start := time.Now()
	_, err := bus.New(bus.Config{Transport: "amqp", URL: "amqp://guest:guest@127.0.0.1:1/"})
	if err == nil || !strings.Contains(err.Error(), "AMQP") {
		t.Fatalf("New = %v, want a connection error", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("took %v to fail", time.Since(start))
	}
}
