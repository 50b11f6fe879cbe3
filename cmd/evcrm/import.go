package main

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/evcrm/evcrm/internal/app"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/evcrm/evcrm/internal/importer"
)

func init() { subcommands = append(subcommands, newImportCmd) }

func newImportCmd() *cobra.Command {
	var (
		role, actor, reportPath, statePath string
		restart, quiet                     bool
		workers                            int
	)
	var kinds []string
	for _, k := range importer.Kinds {
		kinds = append(kinds, fmt.Sprintf("  %-14s %s", k, strings.Join(importer.Columns(k), ", ")))
	}
	cmd := &cobra.Command{
		Use:   "import customers|leads|opportunities|cases FILE.csv",
		Short: "Import records from another system's CSV file through the command handlers",
		Long: "Import the rows of a CSV file (UTF-8, comma-separated, a header row naming the columns; a BOM and\n" +
			"CRLF line ends are fine) as the commands a user would send, in the tenant of EVCRM_TENANT (--tenant),\n" +
			"as --actor in --role, with each command's validation and roles. A row's created_at (and a case's\n" +
			"resolved_at, closed_at) become the events' occurred-at, within the backdating window\n" +
			"(EVCRM_MAX_BACKDATE). Columns (* required):\n" + strings.Join(kinds, "\n") + "\n\n" +
			"external_id makes the import idempotent: each record's ID derives from tenant, kind and external_id,\n" +
			"so importing the same file again adds nothing, and opportunities and cases find their customer by\n" +
			"customer_external_id (import customers first). Rows that are refused are written with the reason to\n" +
			"--report (CSV, or JSON when it ends in .json) and the import goes on; the command then exits 1.\n" +
			"An interrupted import resumes where it stopped: --state keeps how far it got (use --restart to\n" +
			"start over; rows already imported are then found and not recorded again).",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			kind, err := importer.ParseKind(args[0])
			if err != nil {
				return err
			}
			r, err := auth.ParseRole(role)
			if err != nil {
				return err
			}
			path := args[1]
			sum, size, err := fileDigest(path)
			if err != nil {
				return err
			}
			if reportPath == "" {
				reportPath = path + ".refused.csv"
			}
			if statePath == "" {
				statePath = path + ".import-state.json"
			}
			state := importState{Version: 1, File: filepath.Base(path), SHA256: sum, Kind: kind, Tenant: cfg.Tenant, Refused: []importer.Refusal{}}
			if !restart {
				if prev, ok := readImportState(statePath); ok && prev.SHA256 == sum && prev.Kind == kind && prev.Tenant == cfg.Tenant {
					state = prev
					if state.Done > 0 {
						fmt.Fprintf(cmd.ErrOrStderr(), "import: resuming after row %d (%s); --restart to start over\n", state.Done, statePath)
					}
				}
			}

			a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), version)
			if err != nil {
				return fmt.Errorf("opening evcrm: %w", err)
			}
			defer a.Close()
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()

			out := cmd.ErrOrStderr()
			var bar *progressbar.ProgressBar
			if !quiet {
				bar = progressbar.NewOptions64(size,
					progressbar.OptionSetWriter(out),
					progressbar.OptionSetVisibility(isTerminal(os.Stderr)),
					progressbar.OptionSetDescription("import "+string(kind)),
					progressbar.OptionShowBytes(true),
					progressbar.OptionThrottle(100*time.Millisecond),
					progressbar.OptionSetPredictTime(true),
					progressbar.OptionFullWidth(),
					progressbar.OptionOnCompletion(func() { fmt.Fprintln(out) }),
				)
			}
			earlier := state.Refused
			var stateErr error
			start := time.Now()
			rep, runErr := importer.Run(ctx, importer.Config{
				Dispatcher: a.Dispatcher, Catalogues: a.Dispatcher.Catalogues(),
				Tenant: cfg.Tenant, Actor: actor, Role: r, Workers: workers, Skip: state.Done,
				Progress: func(p importer.Progress) {
					if bar != nil {
						_ = bar.Set64(p.Bytes)
					}
				},
				Checkpoint: func(done int, refused []importer.Refusal) {
					if done <= state.Done {
						return
					}
					state.Done, state.Refused = done, append(earlier[:len(earlier):len(earlier)], refused...)
					if err := state.write(statePath); err != nil && stateErr == nil {
						stateErr = err
					}
				},
			}, kind, f)
			if bar != nil {
				if runErr == nil {
					_ = bar.Finish()
				} else {
					_ = bar.Exit()
				}
			}
			// The report holds the refusals of earlier runs of this file too.
			refused := append(earlier[:len(earlier):len(earlier)], rep.Refused...)
			if len(state.Refused) > len(refused) {
				refused = state.Refused
			}
			rep.Refused = dedupeRefusals(refused)
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "import %s: %d rows in %v: %d imported, %d imported before, %d skipped (resumed), %d refused; %d events\n",
				kind, rep.Rows, time.Since(start).Round(time.Millisecond), rep.Imported, rep.Unchanged, rep.Skipped, len(rep.Refused), rep.Events)
			if len(rep.Refused) > 0 {
				if err := writeImportReport(reportPath, rep.Refused); err != nil {
					return errors.Join(runErr, err)
				}
				fmt.Fprintf(w, "refused rows and reasons: %s\n", reportPath)
			}
			if stateErr != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "import: cannot keep the resume state in %s: %v\n", statePath, stateErr)
			}
			if runErr != nil {
				return fmt.Errorf("import stopped: %w (run the same command again to resume)", runErr)
			}
			if len(rep.Refused) > 0 {
				return fmt.Errorf("%d rows refused: see %s", len(rep.Refused), reportPath)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&role, "role", string(auth.Admin), "role the import acts in: its commands must be allowed to it, as over HTTP")
	fl.StringVar(&actor, "actor", "import", "user recorded as the author of the imported records' events")
	fl.StringVar(&reportPath, "report", "", "file for the refused rows and their reasons (default FILE.refused.csv; .json for JSON)")
	fl.StringVar(&statePath, "state", "", "file keeping how far the import got, to resume (default FILE.import-state.json)")
	fl.BoolVar(&restart, "restart", false, "ignore the resume state and send every row again (rows imported before add nothing)")
	fl.IntVar(&workers, "workers", importer.DefaultWorkers, "rows imported at once")
	fl.BoolVar(&quiet, "quiet", false, "no progress bar")
	return cmd
}

// importState is what --state keeps between runs over one file.
type importState struct {
	Version int                `json:"version"`
	File    string             `json:"file"`
	SHA256  string             `json:"sha256"`
	Kind    importer.Kind      `json:"kind"`
	Tenant  string             `json:"tenant"`
	Done    int                `json:"rows_done"` // rows 1..Done are finished
	Refused []importer.Refusal `json:"refused"`   // refusals among them
}

func readImportState(path string) (importState, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return importState{}, false
	}
	var s importState
	if json.Unmarshal(b, &s) != nil || s.Version != 1 || s.Done < 0 {
		return importState{}, false
	}
	if s.Refused == nil {
		s.Refused = []importer.Refusal{}
	}
	return s, true
}

// write replaces the state file atomically.
func (s importState) write(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func fileDigest(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("reading %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// dedupeRefusals keeps one refusal per row (a row retried after a resume
// may be in the state and in the run), in row order.
func dedupeRefusals(in []importer.Refusal) []importer.Refusal {
	seen := map[int]bool{}
	out := make([]importer.Refusal, 0, len(in))
	for _, r := range in {
		if !seen[r.Row] {
			seen[r.Row] = true
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b importer.Refusal) int { return a.Row - b.Row })
	return out
}

// writeImportReport writes the refused rows as CSV, or JSON for a .json path.
func writeImportReport(path string, refused []importer.Refusal) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	if strings.EqualFold(filepath.Ext(path), ".json") {
		enc := json.NewEncoder(f)
		enc.SetIndent("", "  ")
		err = enc.Encode(refused)
	} else {
		w := csv.NewWriter(f)
		_ = w.Write([]string{"row", "line", "external_id", "code", "field", "message"})
		for _, r := range refused {
			_ = w.Write([]string{strconv.Itoa(r.Row), strconv.Itoa(r.Line), r.ExternalID, r.Code, r.Field, r.Message})
		}
		w.Flush()
		err = w.Error()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing the report %s: %w", path, err)
	}
	return nil
}
