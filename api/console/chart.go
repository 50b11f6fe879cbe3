package console

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// Charts are SVG drawn on the server: axes with units, a title naming the
// period, an empty state, and the figures as a table for screen readers
// and for reading exact values (in a <details> below the chart).

const (
	chartW, chartH                     = 640, 240
	padLeft, padRight, padTop, padBott = 64, 16, 16, 40
)

// palette has enough contrast on white (WCAG AA for graphics, 3:1).
var palette = []string{"#1f5fa8", "#b3461b", "#2b7a3d", "#7a3d9a", "#8a6d00", "#a3204a", "#00727a", "#555555"}

// Series is one line of a line chart; nil values are gaps (no data).
type Series struct {
	Name   string
	Values []*float64
}

// chartRange picks the y range and ticks: fixed when lo < hi are given,
// otherwise from the data (starting at 0 for non-negative data).
func chartRange(vals []float64, lo, hi *float64) (float64, float64, []float64) {
	mn, mx := 0.0, 0.0
	for i, v := range vals {
		if i == 0 || v < mn {
			mn = math.Min(mn, v)
		}
		if v > mx {
			mx = v
		}
	}
	if lo != nil {
		mn = *lo
	}
	if hi != nil {
		mx = *hi
	}
	if mx <= mn {
		mx = mn + 1
	}
	step := niceStep((mx - mn) / 4)
	mn = math.Floor(mn/step) * step
	mx = math.Ceil(mx/step) * step
	var ticks []float64
	for t := mn; t <= mx+step/2; t += step {
		ticks = append(ticks, t)
	}
	return mn, mx, ticks
}

func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func fmtTick(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e9:
		return trimZero(fmt.Sprintf("%.1f", v/1e9)) + "G"
	case a >= 1e6:
		return trimZero(fmt.Sprintf("%.1f", v/1e6)) + "M"
	case a >= 1e3:
		return trimZero(fmt.Sprintf("%.1f", v/1e3)) + "k"
	case a == math.Trunc(a):
		return fmt.Sprintf("%.0f", v)
	}
	return trimZero(fmt.Sprintf("%.2f", v))
}

func trimZero(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func esc(s string) string { return html.EscapeString(s) }

// frame opens the SVG and draws the y axis with its ticks and unit.
func frame(b *strings.Builder, title, unit string, mn, mx float64, ticks []float64) func(float64) float64 {
	fmt.Fprintf(b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg"><title>%s</title>`,
		chartW, chartH, esc(title), esc(title))
	plotH := float64(chartH - padTop - padBott)
	y := func(v float64) float64 { return float64(padTop) + plotH - (v-mn)/(mx-mn)*plotH }
	for _, t := range ticks {
		fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#d0d4da" stroke-width="1"/>`, padLeft, chartW-padRight, y(t), y(t))
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end" font-size="11" fill="#333">%s</text>`, padLeft-6, y(t)+4, esc(fmtTick(t)))
	}
	fmt.Fprintf(b, `<text x="12" y="%d" transform="rotate(-90 12 %d)" text-anchor="middle" font-size="11" fill="#333">%s</text>`,
		padTop+int(plotH/2), padTop+int(plotH/2), esc(unit))
	fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#333"/>`, padLeft, chartW-padRight, y(math.Max(mn, 0)), y(math.Max(mn, 0)))
	return y
}

func emptyChart(title, empty string) template.HTML {
	return template.HTML(fmt.Sprintf(`<figure class="chart-box"><figcaption>%s</figcaption><p class="empty">%s</p></figure>`, esc(title), esc(empty)))
}

// BarChart draws one bar per label.
func BarChart(title, unit string, labels []string, values []float64, empty string) template.HTML {
	if len(values) == 0 {
		return emptyChart(title, empty)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<figure class="chart-box"><figcaption>%s</figcaption>`, esc(title))
	mn, mx, ticks := chartRange(values, nil, nil)
	y := frame(&b, title, unit, mn, mx, ticks)
	plotW := float64(chartW - padLeft - padRight)
	slot := plotW / float64(len(values))
	bw := math.Min(slot*0.7, 60)
	for i, v := range values {
		x := float64(padLeft) + slot*float64(i) + (slot-bw)/2
		top, bot := y(math.Max(v, 0)), y(math.Min(v, 0))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %s %s</title></rect>`,
			x, top, bw, math.Max(bot-top, 0.5), palette[0], esc(labels[i]), esc(fmtTick(v)), esc(unit))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="10" fill="#111">%s</text>`, x+bw/2, top-3, esc(fmtTick(v)))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" font-size="11" fill="#333">%s</text>`, x+bw/2, chartH-padBott+16, esc(shorten(labels[i], int(slot/6.5))))
	}
	b.WriteString(`</svg>`)
	b.WriteString(`<details><summary>Figures</summary><table><thead><tr><th scope="col">` + esc(title) + `</th><th scope="col">` + esc(unit) + `</th></tr></thead><tbody>`)
	for i, v := range values {
		fmt.Fprintf(&b, `<tr><td>%s</td><td class="num">%s</td></tr>`, esc(labels[i]), esc(trimZero(fmt.Sprintf("%.2f", v))))
	}
	b.WriteString(`</tbody></table></details></figure>`)
	return template.HTML(b.String())
}

// LineChart draws one line per series over the labels (months); lo and hi
// fix the y range (percentages, NPS) when not nil.
func LineChart(title, unit string, labels []string, series []Series, lo, hi *float64, empty string) template.HTML {
	var all []float64
	for _, s := range series {
		for _, v := range s.Values {
			if v != nil {
				all = append(all, *v)
			}
		}
	}
	if len(all) == 0 || len(labels) == 0 {
		return emptyChart(title, empty)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<figure class="chart-box"><figcaption>%s</figcaption>`, esc(title))
	mn, mx, ticks := chartRange(all, lo, hi)
	y := frame(&b, title, unit, mn, mx, ticks)
	plotW := float64(chartW - padLeft - padRight)
	slot := plotW / float64(len(labels))
	x := func(i int) float64 { return float64(padLeft) + slot*float64(i) + slot/2 }
	every := 1 + len(labels)/12
	for i, l := range labels {
		if i%every == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" font-size="11" fill="#333">%s</text>`, x(i), chartH-padBott+16, esc(l))
		}
	}
	for si, s := range series {
		color := palette[si%len(palette)]
		var path strings.Builder
		pen := false
		for i, v := range s.Values {
			if v == nil {
				pen = false
				continue
			}
			cmd := "L"
			if !pen {
				cmd = "M"
			}
			fmt.Fprintf(&path, "%s%.1f %.1f ", cmd, x(i), y(*v))
			pen = true
		}
		fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="2"/>`, strings.TrimSpace(path.String()), color)
		for i, v := range s.Values {
			if v != nil {
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s %s: %s %s</title></circle>`,
					x(i), y(*v), color, esc(s.Name), esc(labels[i]), esc(fmtTick(*v)), esc(unit))
			}
		}
	}
	b.WriteString(`</svg>`)
	if len(series) > 1 || series[0].Name != "" {
		b.WriteString(`<ul class="legend">`)
		for si, s := range series {
			fmt.Fprintf(&b, `<li><svg width="14" height="10" aria-hidden="true"><rect width="14" height="10" fill="%s"/></svg> %s</li>`, palette[si%len(palette)], esc(s.Name))
		}
		b.WriteString(`</ul>`)
	}
	b.WriteString(`<details><summary>Figures</summary><table><thead><tr><th scope="col">Month</th>`)
	for _, s := range series {
		fmt.Fprintf(&b, `<th scope="col">%s</th>`, esc(orDash(s.Name)))
	}
	b.WriteString(`</tr></thead><tbody>`)
	for i, l := range labels {
		fmt.Fprintf(&b, `<tr><td>%s</td>`, esc(l))
		for _, s := range series {
			if v := s.Values[i]; v != nil {
				fmt.Fprintf(&b, `<td class="num">%s</td>`, esc(trimZero(fmt.Sprintf("%.1f", *v))))
			} else {
				b.WriteString(`<td class="num">–</td>`)
			}
		}
		b.WriteString(`</tr>`)
	}
	fmt.Fprintf(&b, `</tbody></table><p class="note">Unit: %s. A gap means no data that month.</p></details></figure>`, esc(unit))
	return template.HTML(b.String())
}

func shorten(s string, n int) string {
	if n < 4 {
		n = 4
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func f64(v float64) *float64 { return &v }
