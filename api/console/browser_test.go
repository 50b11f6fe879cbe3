package console_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/evcrm/evcrm/internal/auth"
)

// The browser test drives headless Chromium (Debian's chromium, installed by
// scripts/chromium-up.sh, which make test runs) through the console. Without
// a browser it fails, unless EVCRM_SKIP_BROWSER=1 says skipping is allowed.
// Screenshots go to EVCRM_SCREENSHOTS (default: a new temporary directory,
// logged).

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("EVCRM_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("EVCRM_SKIP_BROWSER") == "1" {
		t.Skip("chromium is not installed and EVCRM_SKIP_BROWSER=1: skipping the browser test")
	}
	t.Fatal("chromium is not installed: run scripts/chromium-up.sh (make test does), or set EVCRM_SKIP_BROWSER=1 to skip the browser test")
	return ""
}

func testBrowser(t *testing.T, e *env) {
	walk(t, e.url, e.tokens[auth.Admin])
}

// TestBrowserAgainstServer walks a running server instead (for the README's
// screenshots from `evcrm demo` data): EVCRM_CONSOLE_URL and an admin token
// in EVCRM_CONSOLE_TOKEN.
func TestBrowserAgainstServer(t *testing.T) {
	base, tok := os.Getenv("EVCRM_CONSOLE_URL"), os.Getenv("EVCRM_CONSOLE_TOKEN")
	if base == "" || tok == "" {
		t.Skip("EVCRM_CONSOLE_URL and EVCRM_CONSOLE_TOKEN are not set")
	}
	walk(t, strings.TrimRight(base, "/"), tok)
}

// problems collects what the browser saw go wrong.
type problems struct {
	mu   sync.Mutex
	list []string
	host string
}

func (p *problems) add(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.list = append(p.list, fmt.Sprintf(format, args...))
}

func (p *problems) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.list
	p.list = nil
	return out
}

// listen runs in the tab's event loop: it must return fast.
func (p *problems) listen(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				args = append(args, strings.Trim(string(a.Value), `"`)+a.Description)
			}
			p.add("console.%s: %s", ev.Type, strings.Join(args, " "))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		p.add("uncaught exception: %s", msg)
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			p.add("browser log error: %s (%s)", ev.Entry.Text, ev.Entry.URL)
		}
	case *network.EventRequestWillBeSent:
		u, err := url.Parse(ev.Request.URL)
		if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != p.host {
			p.add("request leaves the server: %s", ev.Request.URL)
		}
	case *network.EventResponseReceived:
		if ev.Response.Status >= 400 {
			p.add("failed request: %d %s", ev.Response.Status, ev.Response.URL)
		}
	case *network.EventLoadingFailed:
		if !ev.Canceled {
			p.add("failed request: %s (%s)", ev.ErrorText, ev.Type)
		}
	}
}

func walk(t *testing.T, base, token string) {
	execPath := chromiumPath(t)
	shots := os.Getenv("EVCRM_SCREENSHOTS")
	if shots == "" {
		var err error
		if shots, err = os.MkdirTemp("", "evcrm-console-screenshots-"); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", shots)
	u, _ := url.Parse(base)
	p := &problems{host: u.Host}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath),
		chromedp.NoSandbox, // CI runs as root
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1366, 900),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // generous: CI machines may be busy
	defer cancel()
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithListener(p.listen))
	defer bcancel()

	check := func(step string) {
		t.Helper()
		for _, pr := range p.take() {
			t.Errorf("%s: %s", step, pr)
		}
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		start := time.Now()
		if err := chromedp.Do(bctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		t.Logf("%s: %v", step, time.Since(start).Round(time.Millisecond))
		check(step)
	}
	href := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {}).href || ""`, sel)))
		if err != nil || v == "" {
			t.Fatalf("no link %s on %s: %v", sel, base, err)
		}
		return v
	}
	// wait polls for a text on the page; it survives the navigation a
	// submit or a click starts (the page's JavaScript context changes).
	wait := func(text string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			deadline := time.Now().Add(30 * time.Second)
			for {
				ok, err := chromedp.Evaluate[bool](fmt.Sprintf(`!!document.body && document.body.innerText.includes(%q)`, text))(ctx, tg)
				if err == nil && ok {
					return chromedp.Void{}, nil
				}
				if time.Now().After(deadline) {
					return chromedp.Void{}, fmt.Errorf("%q did not appear (last error: %v)", text, err)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	}

	do("sign-in page", chromedp.Navigate(base+"/console/"), chromedp.WaitVisible(chromedp.CSS(`#token`)))
	shot("signin")
	do("sign in", chromedp.SendKeys(chromedp.CSS(`#token`), token), chromedp.Submit(chromedp.CSS(`#token`)), wait("Sign out"))
	shot("overview")
	do("pipeline", chromedp.Navigate(base+"/console/pipeline"), chromedp.WaitVisible(chromedp.CSS(`svg.chart`)), wait("Weighted pipeline"))
	shot("pipeline")
	customer := href(`a[href*="/console/customers/"]`)
	do("service", chromedp.Navigate(base+"/console/service"), wait("About to breach"))
	shot("service")
	do("quality", chromedp.Navigate(base+"/console/quality"), wait("NPS per month by segment"))
	shot("quality")
	do("complaints", chromedp.Navigate(base+"/console/quality/complaints"), wait("Complaint register"))
	shot("complaints")
	complaint := href(`a[href*="/console/quality/complaints/"]`)
	// Prefer a complaint that raised a nonconformity whose corrective
	// action was checked for effectiveness: the whole story.
	withNC, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("tbody tr")).filter(tr => tr.lastElementChild && tr.lastElementChild.textContent.trim() !== "0").map(tr => tr.querySelector("a").href).slice(0, 8)`))
	if err != nil {
		t.Fatalf("complaints with a nonconformity: %v", err)
	}
	for i, link := range withNC {
		do("complaint", chromedp.Navigate(link), wait("From receipt to the effectiveness check"))
		complaint = link
		done, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.body.innerText.includes("Effectiveness checked")`))
		if err == nil && (done || i == len(withNC)-1) {
			break
		}
	}
	do("complaint", chromedp.Navigate(complaint), wait("From receipt to the effectiveness check"))
	shot("complaint")
	do("customer", chromedp.Navigate(customer), wait("Timeline"))
	shot("customer")
	do("audit", chromedp.Navigate(base+"/console/audit"), wait("Verification status"))
	shot("audit")
	stream := "customer-" + customer[strings.LastIndex(customer, "/")+1:]
	do("record history", chromedp.SendKeys(chromedp.CSS(`#stream`), stream), chromedp.Submit(chromedp.CSS(`#stream`)), wait("who, when, why, from which app"))
	shot("record")
	do("trace", chromedp.Navigate(href(`a[href*="/console/audit/trace/"]`)), wait("events across"))
	shot("trace")
	do("API reference", chromedp.Navigate(base+"/docs"))
	do("API reference rendered", wait("Command and query API of evcrm"), wait("Sales pipeline"))
	shot("docs")
	do("sign out", chromedp.Navigate(base+"/console/"), chromedp.Click(chromedp.CSS(`.who button`)), wait("API token"))
}
