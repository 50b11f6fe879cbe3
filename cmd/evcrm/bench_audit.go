package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/evcrm/evcrm/audit"
	"github.com/evcrm/evcrm/audit/auditlog"
)

func init() { benchSubcommands = append(benchSubcommands, newBenchAuditCmd) }

type auditBenchOptions struct {
	events   int
	batch    int
	proofs   int
	verify   bool
	progress bool
}

func newBenchAuditCmd() *cobra.Command {
	o := auditBenchOptions{progress: isTerminal(os.Stderr)}
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Measure the transparency log: building rate, proof latency, full verification",
		Long: `In a scratch schema of --database-url (dropped at the end): load --events events
straight into the events table, then time
  build    the log builder adding them all (leaves per second, --batch events per transaction);
  proofs   --proofs inclusion proofs of random leaves against the whole tree, and as many
           consistency proofs from a random size (latency percentiles);
  verify   evcrm audit verify over the whole log (after a signed checkpoint).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.events < 1 || o.batch < 1 || o.proofs < 1 {
				return fmt.Errorf("--events, --batch and --proofs must be positive")
			}
			return runAuditBench(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.events, "events", 1_000_000, "events in the log")
	f.IntVar(&o.batch, "batch", 1000, "events per builder transaction")
	f.IntVar(&o.proofs, "proofs", 2000, "proofs of each kind to time")
	f.BoolVar(&o.verify, "verify", true, "time a full verification too")
	f.BoolVar(&o.progress, "progress", o.progress, "show progress bars (default: when stderr is a terminal)")
	return cmd
}

func runAuditBench(ctx context.Context, out, log io.Writer, o auditBenchOptions) error {
	env, err := newBenchEnv(ctx, benchOptions{writers: 2, progress: o.progress}, log)
	if err != nil {
		return err
	}
	defer env.close()
	if err := auditlog.Migrate(ctx, env.pool); err != nil {
		return err
	}
	if err := env.load(ctx, o.events); err != nil {
		return err
	}
	fmt.Fprintf(out, "transparency log, %d events (%d-byte data), batch %d\n", o.events, len(env.data), o.batch)

	b, err := auditlog.NewBuilder(auditlog.BuilderConfig{Pool: env.pool, Store: env.store, BatchSize: o.batch})
	if err != nil {
		return err
	}
	start := time.Now()
	if err := b.CatchUp(ctx); err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Fprintf(out, "  build    %8d leaves in %6.1f s   %9.0f leaves/s (goal >= 20000)\n", o.events, el.Seconds(), float64(o.events)/el.Seconds())

	skey, vkey, err := audit.GenerateKey("bench/audit")
	if err != nil {
		return err
	}
	signer, _, err := audit.LoadKey("", skey)
	if err != nil {
		return err
	}
	l, err := auditlog.New(auditlog.Config{Pool: env.pool, Signer: signer})
	if err != nil {
		return err
	}
	c, err := l.Publish(ctx)
	if err != nil {
		return err
	}
	n := c.Size
	incl := make([]time.Duration, 0, o.proofs)
	cons := make([]time.Duration, 0, o.proofs)
	for range o.proofs {
		i := rand.Int64N(n)
		t0 := time.Now()
		p, err := l.InclusionProof(ctx, i, n)
		if err != nil {
			return err
		}
		incl = append(incl, time.Since(t0))
		_ = p
		m := 1 + rand.Int64N(n)
		t0 = time.Now()
		if _, err := l.ConsistencyProof(ctx, m, n); err != nil {
			return err
		}
		cons = append(cons, time.Since(t0))
	}
	for _, r := range []struct {
		name string
		d    []time.Duration
	}{{"inclusion", incl}, {"consistency", cons}} {
		slices.Sort(r.d)
		q := func(p float64) float64 { return float64(r.d[int(p*float64(len(r.d)-1))].Microseconds()) / 1000 }
		fmt.Fprintf(out, "  proofs   %-11s p50 %6.2f ms  p99 %6.2f ms  max %6.2f ms (%d proofs, goal p99 < 10 ms)\n",
			r.name, q(0.5), q(0.99), q(1), len(r.d))
	}
	if !o.verify {
		return nil
	}
	v, err := audit.NewVerifier(vkey)
	if err != nil {
		return err
	}
	start = time.Now()
	rep, err := auditlog.Verify(ctx, l, env.store, auditlog.VerifyOptions{Key: v})
	if err != nil {
		return err
	}
	el = time.Since(start)
	fmt.Fprintf(out, "  verify   %8d events in %6.1f s   %9.0f events/s (goal: 1M in < 120 s)\n", rep.Events, el.Seconds(), float64(rep.Events)/el.Seconds())
	return nil
}
