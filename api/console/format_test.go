package console

import (
	"strings"
	"testing"
	"time"

	"github.com/evcrm/evcrm/queries"
)

func TestMoney(t *testing.T) {
	for _, c := range []struct {
		minor any
		cur   string
		want  string
	}{
		{queries.Minor("123456789"), "EUR", "EUR 1,234,567.89"},
		{queries.Minor("5"), "EUR", "EUR 0.05"},
		{queries.Minor("-120"), "USD", "USD −1.20"},
		{queries.Minor("1500"), "JPY", "JPY 1,500"},
		{queries.Minor("123456789012345678901234567890"), "EUR", "EUR 1,234,567,890,123,456,789,012,345,678.90"},
		{(*int64)(nil), "EUR", "–"},
	} {
		if got := money(c.minor, c.cur); got != c.want {
			t.Errorf("money(%v, %s) = %q, want %q", c.minor, c.cur, got, c.want)
		}
	}
}

func TestCountdown(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	due := now.Add(3*time.Hour + 20*time.Minute)
	if got := countdown(&due, now); got != "in 3 h 20 min" {
		t.Errorf("countdown = %q", got)
	}
	past := now.Add(-50 * time.Hour)
	if got := countdown(&past, now); got != "overdue by 2 d 2 h" {
		t.Errorf("countdown = %q", got)
	}
	if got := countdown(nil, now); !strings.HasPrefix(got, "no deadline") {
		t.Errorf("countdown(nil) = %q", got)
	}
}

func TestCharts(t *testing.T) {
	t.Run("Empty", func(t *testing.T) {
		for _, h := range []string{
			string(BarChart("Forecast", "EUR", nil, nil, "No open opportunities.")),
			string(LineChart("NPS", "NPS", []string{"2026-01"}, []Series{{Values: []*float64{nil}}}, nil, nil, "No NPS answers.")),
		} {
			if strings.Contains(h, "<svg") || !strings.Contains(h, `class="empty"`) {
				t.Errorf("empty chart: %s", h)
			}
		}
	})
	t.Run("AxesUnitsAndEscaping", func(t *testing.T) {
		h := string(LineChart(`NPS <script>`, "NPS (−100 to 100)", []string{"2026-01", "2026-02"},
			[]Series{{Name: `<b>"x"`, Values: []*float64{f64(-20), nil}}}, f64(-100), f64(100), ""))
		for _, want := range []string{`role="img"`, "<title>NPS &lt;script&gt;</title>", "NPS (−100 to 100)", ">-100<", ">100<", "2026-02", "&lt;b&gt;&#34;x&#34;"} {
			if !strings.Contains(h, want) {
				t.Errorf("line chart lacks %q", want)
			}
		}
		if strings.Contains(h, "<script>") || strings.Contains(h, "<b>") {
			t.Error("a label was not escaped")
		}
		b := string(BarChart("Open cases by age", "cases", []string{"< 1 day", "> 30 days"}, []float64{3, 12}, ""))
		for _, want := range []string{"cases", "&lt; 1 day", "<rect"} {
			if !strings.Contains(b, want) {
				t.Errorf("bar chart lacks %q", want)
			}
		}
	})
}

func TestCSVSafe(t *testing.T) {
	for in, want := range map[string]string{"=HYPERLINK(1)": "'=HYPERLINK(1)", "-12.5": "-12.5", "@x": "'@x", "plain": "plain", "": ""} {
		if got := csvSafe(in); got != want {
			t.Errorf("csvSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/console/quality?from=2026-01-01": "/console/quality?from=2026-01-01",
		"//evil.example/console/":          "/console/",
		"https://evil.example/console/":    "/console/",
		"/console/\\evil":                  "/console/",
		"":                                 "/console/",
	} {
		if got := safeNext("/console", in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestThisQuarter(t *testing.T) {
	f := []queries.ForecastMonth{
		{Month: "2026-03", CurrencyTotal: queries.CurrencyTotal{Currency: "EUR", Count: 1, TotalMinor: "1000", WeightedMinor: "500"}},
		{Month: "2026-04", CurrencyTotal: queries.CurrencyTotal{Currency: "EUR", Count: 2, TotalMinor: "2000", WeightedMinor: "700"}},
		{Month: "2026-06", CurrencyTotal: queries.CurrencyTotal{Currency: "EUR", Count: 1, TotalMinor: "100", WeightedMinor: "10"}},
		{Month: "2026-07", CurrencyTotal: queries.CurrencyTotal{Currency: "EUR", Count: 1, TotalMinor: "100", WeightedMinor: "99"}},
		{Month: "none", CurrencyTotal: queries.CurrencyTotal{Currency: "EUR", Count: 1, TotalMinor: "100", WeightedMinor: "99"}},
	}
	q := thisQuarter(f, time.Date(2026, 5, 15, 0, 0, 0, 0, time.UTC))
	if !strings.HasPrefix(q.Label, "Q2 2026") || len(q.Weighted) != 1 || q.Weighted[0].WeightedMinor != "710" || q.Weighted[0].Count != 3 {
		t.Fatalf("%+v", q)
	}
}
