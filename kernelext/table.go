package kernelext

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"

	"github.com/dcbench/dcbench/dcbench/reference"
)

// Stat is the mean ± std of N runs, in the units given (accuracies in percent, as in the
// paper). N == 0 means "not run".
type Stat struct {
	// Mean and Std (population) over the runs.
	Mean, Std float64
	// N is the number of runs; 0 means not run.
	N int
}

// StatOf returns the mean and population std (ddof=0, as the DC-Bench evaluator's np.std)
// of values, which are taken in the units given (pass accuracies in percent to compare with
// the paper). An empty slice gives the "not run" Stat{}.
func StatOf(values []float64) Stat {
	n := len(values)
	if n == 0 {
		return Stat{}
	}
	var sum float64
	for _, v := range values {
		sum += v
	}
	mean := sum / float64(n)
	var ss float64
	for _, v := range values {
		ss += (v - mean) * (v - mean)
	}
	return Stat{Mean: mean, Std: math.Sqrt(ss / float64(n)), N: n}
}

// Ran reports whether the stat holds at least one run.
func (s Stat) Ran() bool { return s.N > 0 }

// String formats the stat as "31.12 ± 0.40" (two decimals), or "not run".
func (s Stat) String() string {
	if !s.Ran() {
		return "not run"
	}
	return fmtStat(s, 2)
}

func fmtStat(s Stat, dec int) string {
	return strconv.FormatFloat(s.Mean, 'f', dec, 64) + " ± " + strconv.FormatFloat(s.Std, 'f', dec, 64)
}

// Verdict classifies how far our number is from the paper's.
type Verdict int

const (
	// VerdictNone: nothing to compare (not run, no paper value, or the paper's OOM).
	VerdictNone Verdict = iota
	// VerdictClose: within the paper's std or [Thresholds.Close] points (green).
	VerdictClose
	// VerdictOff: further than that but within [Thresholds.Far] points (amber).
	VerdictOff
	// VerdictFar: more than [Thresholds.Far] points away (red).
	VerdictFar
)

// String returns "none", "close", "off" or "far".
func (v Verdict) String() string {
	switch v {
	case VerdictClose:
		return "close"
	case VerdictOff:
		return "off"
	case VerdictFar:
		return "far"
	default:
		return "none"
	}
}

// CSSClass returns the HTML class given to a difference cell with this verdict:
// "kx-close", "kx-off", "kx-far" or "kx-none".
func (v Verdict) CSSClass() string { return "kx-" + v.String() }

// Colours of the difference cells (background), by verdict.
var verdictColor = map[Verdict]string{
	VerdictClose: "#c8e6c9", // green
	VerdictOff:   "#ffe0b2", // amber
	VerdictFar:   "#ffcdd2", // red
}

var verdictMark = map[Verdict]string{VerdictClose: "✓", VerdictOff: "~", VerdictFar: "✗"}

// Thresholds decide the colour of the difference ours − paper. Zero fields take the
// defaults (Close 1, Far 3).
type Thresholds struct {
	// Close: |difference| ≤ max(Close, paper std) is green. Default 1 (point).
	Close float64
	// Far: |difference| > Far is red; in between is amber. Default 3 (points).
	Far float64
	// IgnorePaperStd: use only Close for green, not the paper's std.
	IgnorePaperStd bool
	// Ratio judges costs (seconds, memory) by ours / paper instead of the difference: at
	// most Close times the paper's is green, at most Far times amber, more red; less than
	// the paper's is always green. The paper's std is not used.
	Ratio bool
}

func (t Thresholds) withDefaults() Thresholds {
	if t.Close <= 0 {
		t.Close = 1
	}
	if t.Far <= 0 {
		t.Far = 3
	}
	return t
}

// Row is one line of a [ComparisonTable]: the labels (dataset, method, IPC, …), our
// runs, and the paper's value (nil where the paper has none; see [PaperValue]).
type Row struct {
	// Labels fill the label columns ([ComparisonTable.Columns]), e.g. dataset, method, IPC.
	Labels []string
	// Ours is our mean ± std over runs; the zero Stat shows as "not run".
	Ours Stat
	// Paper is the reference number; nil shows as "—".
	Paper *reference.Entry
}

// PaperValue looks the paper's number up with [reference.Lookup] and returns it, or nil if
// the paper has no such cell; its result goes in [Row.Paper].
func PaperValue(table, dataset, method string, ipc int, key string) *reference.Entry {
	e, ok := reference.Lookup(table, dataset, method, ipc, key)
	if !ok {
		return nil
	}
	return &e
}

// Diff returns ours − paper, and false if either is missing (or the paper's is OOM).
func (r Row) Diff() (float64, bool) {
	if !r.Ours.Ran() || r.Paper == nil || r.Paper.OOM {
		return 0, false
	}
	return r.Ours.Mean - r.Paper.Mean, true
}

// Verdict classifies the row's difference with the given thresholds.
func (r Row) Verdict(t Thresholds) Verdict {
	d, ok := r.Diff()
	if !ok {
		return VerdictNone
	}
	t = t.withDefaults()
	if t.Ratio {
		if r.Paper.Mean <= 0 {
			return VerdictNone
		}
		switch ratio := r.Ours.Mean / r.Paper.Mean; {
		case ratio <= t.Close+1e-9:
			return VerdictClose
		case ratio <= t.Far+1e-9:
			return VerdictOff
		default:
			return VerdictFar
		}
	}
	near := t.Close
	if !t.IgnorePaperStd && r.Paper.HasStd && r.Paper.Std > near {
		near = r.Paper.Std
	}
	switch d = math.Abs(d); {
	case d <= near+1e-9:
		return VerdictClose
	case d <= t.Far+1e-9:
		return VerdictOff
	default:
		return VerdictFar
	}
}

// ComparisonTable puts our numbers beside the paper's. Columns names the label columns
// (one per entry of Row.Labels); the Ours, Paper and Δ columns are added after them.
type ComparisonTable struct {
	// Title is shown above the table and names its files by default.
	Title string
	// Columns are the headers of the label columns.
	Columns []string
	// Rows are shown in order.
	Rows []Row
	// Thresholds colour the Δ column (zero value: defaults).
	Thresholds Thresholds
	// Decimals for our numbers and the difference (0 means 2). Paper numbers are printed
	// as in the paper.
	Decimals int
	// Note is an optional line shown under the table (e.g. the evaluation protocol).
	Note string
}

// Text placed in cells without a value.
const (
	MissingPaper = "—"
	MissingOurs  = "not run"
)

func (t ComparisonTable) decimals() int {
	if t.Decimals <= 0 {
		return 2
	}
	return t.Decimals
}

// cells returns the display strings of a row: labels, ours, paper, diff.
func (t ComparisonTable) cells(r Row) (labels []string, ours, paper, diff string) {
	labels = make([]string, len(t.Columns))
	copy(labels, r.Labels)
	ours = MissingOurs
	if r.Ours.Ran() {
		ours = fmtStat(r.Ours, t.decimals())
	}
	paper = MissingPaper
	if r.Paper != nil {
		paper = r.Paper.String()
	}
	diff = ""
	if d, ok := r.Diff(); ok {
		diff = fmtSigned(d, t.decimals())
	}
	return
}

func fmtSigned(d float64, dec int) string {
	s := strconv.FormatFloat(d, 'f', dec, 64)
	if !strings.HasPrefix(s, "-") {
		s = "+" + s
	}
	return s
}

// headers returns all column headers.
func (t ComparisonTable) headers() []string {
	h := append([]string{}, t.Columns...)
	return append(h, "Ours", "Paper", "Δ (ours − paper)")
}

// HTML renders the table as an HTML fragment with inline styles (so it looks the same in a
// notebook, a file or an e-mail). The Δ cell carries the class of its [Verdict]
// ("kx-close", "kx-off", "kx-far") and a green, amber or red background; our number cell
// has the class "kx-ours" and the paper's "kx-paper".
func (t ComparisonTable) HTML() string {
	var b strings.Builder
	const cell = "padding:2px 8px;border-bottom:1px solid #ddd;"
	b.WriteString(`<div class="kx-table">`)
	if t.Title != "" {
		fmt.Fprintf(&b, `<div style="font-weight:bold;margin:4px 0">%s</div>`, html.EscapeString(t.Title))
	}
	b.WriteString(`<table style="border-collapse:collapse;font-family:sans-serif;font-size:13px">` + "\n<thead><tr>")
	for i, h := range t.headers() {
		align := "left"
		if i >= len(t.Columns) {
			align = "right"
		}
		fmt.Fprintf(&b, `<th style="%sborder-bottom:2px solid #444;text-align:%s">%s</th>`, cell, align, html.EscapeString(h))
	}
	b.WriteString("</tr></thead>\n<tbody>\n")
	th := t.Thresholds.withDefaults()
	for _, r := range t.Rows {
		labels, ours, paper, diff := t.cells(r)
		b.WriteString("<tr>")
		for _, l := range labels {
			fmt.Fprintf(&b, `<td style="%s">%s</td>`, cell, html.EscapeString(l))
		}
		oursStyle := ""
		if !r.Ours.Ran() {
			oursStyle = "color:#999;font-style:italic;"
		}
		runs := ""
		if r.Ours.Ran() {
			runs = fmt.Sprintf(` <span style="color:#888;font-size:11px">(n=%d)</span>`, r.Ours.N)
		}
		fmt.Fprintf(&b, `<td class="kx-ours" style="%stext-align:right;%s">%s%s</td>`, cell, oursStyle, html.EscapeString(ours), runs)
		paperStyle := ""
		if r.Paper == nil {
			paperStyle = "color:#999;"
		}
		fmt.Fprintf(&b, `<td class="kx-paper" style="%stext-align:right;%s">%s</td>`, cell, paperStyle, html.EscapeString(paper))
		v := r.Verdict(th)
		bg := ""
		if c, ok := verdictColor[v]; ok {
			bg = "background:" + c + ";"
		}
		fmt.Fprintf(&b, `<td class="kx-diff %s" style="%stext-align:right;%s">%s</td>`, v.CSSClass(), cell, bg, html.EscapeString(diff))
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody></table>\n")
	fmt.Fprintf(&b, `<div style="font-size:11px;color:#666;margin-top:4px">%s</div>`, html.EscapeString(t.legend(th)))
	b.WriteString("</div>")
	return b.String()
}

// legend explains the colours and the note.
func (t ComparisonTable) legend(th Thresholds) string {
	num := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	var colours string
	if th.Ratio {
		colours = fmt.Sprintf("green at most %s× the paper's, amber at most %s×", num(th.Close), num(th.Far))
	} else {
		std := " or the paper's std"
		if th.IgnorePaperStd {
			std = ""
		}
		colours = fmt.Sprintf("green within %s point%s, amber within %s points", num(th.Close), std, num(th.Far))
	}
	s := "Δ: " + colours + ", red beyond. Ours: mean ± population std over n runs."
	if t.Note != "" {
		s = t.Note + " " + s
	}
	return s
}

// Markdown renders the table as a GitHub-flavoured Markdown table; the Δ cell is followed by
// ✓ (close), ~ (off) or ✗ (far).
func (t ComparisonTable) Markdown() string {
	var b strings.Builder
	if t.Title != "" {
		fmt.Fprintf(&b, "**%s**\n\n", mdEscape(t.Title))
	}
	h := t.headers()
	b.WriteString("|")
	for _, c := range h {
		b.WriteString(" " + mdEscape(c) + " |")
	}
	b.WriteString("\n|")
	for i := range h {
		if i < len(t.Columns) {
			b.WriteString(" --- |")
		} else {
			b.WriteString(" ---: |")
		}
	}
	b.WriteString("\n")
	th := t.Thresholds.withDefaults()
	for _, r := range t.Rows {
		labels, ours, paper, diff := t.cells(r)
		if m, ok := verdictMark[r.Verdict(th)]; ok {
			diff += " " + m
		}
		b.WriteString("|")
		for _, c := range append(labels, ours, paper, diff) {
			b.WriteString(" " + mdEscape(c) + " |")
		}
		b.WriteString("\n")
	}
	b.WriteString("\n" + mdEscape(t.legend(th)) + " (✓ green, ~ amber, ✗ red)\n")
	return b.String()
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// CSV renders the table as CSV with a header line: the label columns, then ours_mean,
// ours_std, ours_n, paper_mean, paper_std, diff, verdict. Missing values are empty fields
// (ours_n is 0 for "not run"); paper values are as printed and an OOM paper cell reads "OOM".
func (t ComparisonTable) CSV() string {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	header := append(append([]string{}, t.Columns...), "ours_mean", "ours_std", "ours_n", "paper_mean", "paper_std", "diff", "verdict")
	_ = w.Write(header)
	th := t.Thresholds.withDefaults()
	full := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	for _, r := range t.Rows {
		labels, _, _, _ := t.cells(r)
		rec := labels
		if r.Ours.Ran() {
			rec = append(rec, full(r.Ours.Mean), full(r.Ours.Std), strconv.Itoa(r.Ours.N))
		} else {
			rec = append(rec, "", "", "0")
		}
		switch {
		case r.Paper == nil:
			rec = append(rec, "", "")
		case r.Paper.OOM:
			rec = append(rec, "OOM", "")
		default:
			rec = append(rec, r.Paper.MeanText, r.Paper.StdText)
		}
		if d, ok := r.Diff(); ok {
			rec = append(rec, strconv.FormatFloat(d, 'f', 4, 64))
		} else {
			rec = append(rec, "")
		}
		rec = append(rec, r.Verdict(th).String())
		_ = w.Write(rec)
	}
	w.Flush()
	return buf.String()
}

// Display shows the table (HTML) in the notebook; outside it writes <name>.html, <name>.md
// and <name>.csv to the output folder and returns the path of the HTML file.
func (t ComparisonTable) Display(name string) (string, error) {
	if name == "" {
		name = t.Title
	}
	name = resolveName(name)
	path, err := DisplayHTML(name, t.HTML())
	if err != nil || path == "" {
		return path, err
	}
	if _, err := writeOutput(name, ".md", []byte(t.Markdown())); err != nil {
		return path, err
	}
	if _, err := writeOutput(name, ".csv", []byte(t.CSV())); err != nil {
		return path, err
	}
	return path, nil
}
