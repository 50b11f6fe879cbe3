package main

import (
	"fmt"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
)

// eventBar is a progress bar of events on stderr, drawn only on a terminal.
// A total of -1 is unknown: a spinner with count and rate.
type eventBar struct {
	bar   *progressbar.ProgressBar
	total int64
}

func newEventBar(description string, total int64) *eventBar {
	return &eventBar{total: total, bar: progressbar.NewOptions64(total,
		progressbar.OptionSetDescription(description),
		progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionSetVisibility(isTerminal(os.Stderr)),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("events"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionFullWidth(),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(os.Stderr) }),
	)}
}

// Set shows n events done, raising the total past events appended meanwhile.
func (b *eventBar) Set(n int64) {
	if b.total >= 0 && n > b.total {
		b.total = n
		b.bar.ChangeMax64(n)
	}
	_ = b.bar.Set64(n)
}

// Finish completes the bar; Exit abandons it after an error.
func (b *eventBar) Finish() { _ = b.bar.Finish() }
func (b *eventBar) Exit()   { _ = b.bar.Exit() }
