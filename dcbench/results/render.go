package results

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"html"
	"strconv"
	"strings"

	"github.com/dcbench/dcbench/dcbench"
)

// summary is the line under the title: records, runs by status, version.
func (r *Report) summary() string {
	var parts []string
	for _, s := range []string{StatusOK, StatusOOM, StatusFailed, StatusSkipped} {
		if n := r.ByStatus[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	st := ""
	if len(parts) > 0 {
		st = " (" + strings.Join(parts, ", ") + ")"
	}
	s := fmt.Sprintf("%d records, %d runs%s. dcbench %s", r.Records, r.Runs, st, dcbench.Version)
	if c := dcbench.Commit(); c != "" {
		s += " " + c
	}
	if !r.Generated.IsZero() {
		s += ", " + r.Generated.UTC().Format("2006-01-02 15:04 UTC")
	}
	return s + "."
}

// Markdown renders the report as GitHub-flavoured Markdown: one section per table; OOM and
// failed cells in bold, Δ followed by ✓ (within the paper's std or 1 point), ~ (within 3
// points) or ✗.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n%s\n", mdEscape(r.Title), mdEscape(r.summary()))
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "\n> warning: %s\n", mdEscape(w))
	}
	if len(r.Tables) == 0 {
		b.WriteString("\nNo results.\n")
	}
	for _, t := range r.Tables {
		b.WriteString("\n" + t.Markdown())
	}
	return b.String()
}

var verdictMark = map[string]string{"close": " ✓", "off": " ~", "far": " ✗"}

// Markdown renders one table with its heading and notes.
func (t *Table) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n", mdEscape(t.Title))
	b.WriteString("|")
	for _, c := range t.Columns {
		b.WriteString(" " + mdEscape(c.Name) + " |")
	}
	b.WriteString("\n|")
	for _, c := range t.Columns {
		if c.Numeric {
			b.WriteString(" ---: |")
		} else {
			b.WriteString(" --- |")
		}
	}
	b.WriteString("\n")
	for _, row := range t.Rows {
		b.WriteString("|")
		for _, f := range row {
			s := mdEscape(f.Text)
			switch f.Class {
			case "oom", "failed":
				s = "**" + s + "**"
			case "skipped":
				s = "_" + s + "_"
			}
			if m, ok := verdictMark[f.Class]; ok && f.Text != "" {
				s += m
			}
			b.WriteString(" " + s + " |")
		}
		b.WriteString("\n")
	}
	if t.Note != "" {
		fmt.Fprintf(&b, "\n%s\n", mdEscape(t.Note))
	}
	for _, e := range t.Errors {
		fmt.Fprintf(&b, "\n- %s", mdEscape(e))
	}
	if len(t.Errors) > 0 {
		b.WriteString("\n")
	}
	return b.String()
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "*", `\*`, "_", `\_`).Replace(s)
}

// CSVHeader is the header of Report.CSV.
var CSVHeader = []string{"table", "dataset", "method", "ipc", "key", "setting", "status", "mean", "std", "n",
	"paper_mean", "paper_std", "paper_note", "diff", "note"}

// CSV renders every number of the report in tidy form: one line per (table, row, value)
// with the columns of CSVHeader. Missing values are empty; a paper OOM reads "OOM" in
// paper_note, and "*" there marks a paper value for other data (the full dataset for the
// embedded subset).
func (r *Report) CSV() string {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(CSVHeader)
	full := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	for _, t := range r.Tables {
		for _, m := range t.Measures {
			rec := []string{m.Table, m.Dataset, m.Method, strconv.Itoa(m.IPC), m.Key, m.Setting, m.Status}
			if m.Stat.Ran() {
				rec = append(rec, full(m.Stat.Mean), full(m.Stat.Std), strconv.Itoa(m.Stat.N))
			} else {
				rec = append(rec, "", "", "0")
			}
			diff := ""
			switch {
			case m.Paper == nil:
				rec = append(rec, "", "", "")
			case m.Paper.OOM:
				rec = append(rec, "", "", "OOM")
			default:
				rec = append(rec, m.Paper.MeanText, m.Paper.StdText, m.Mark)
				if m.Stat.Ran() {
					diff = strconv.FormatFloat(m.Stat.Mean-m.Paper.Mean, 'f', 4, 64)
				}
			}
			rec = append(rec, diff, m.Note)
			_ = w.Write(rec)
		}
	}
	w.Flush()
	return buf.String()
}

// HTML renders the report as one static page with no external assets: the tables sort when
// a header is clicked (a few lines of inline JavaScript), OOM and failed cells are coloured
// and carry the error message as a tooltip, Δ is green/amber/red by closeness to the paper.
func (r *Report) HTML() string {
	var b strings.Builder
	esc := html.EscapeString
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>%s</title>\n<style>\n%s</style>\n</head>\n<body>\n",
		esc(r.Title), pageCSS)
	fmt.Fprintf(&b, "<h1>%s</h1>\n<p class=\"meta\">%s</p>\n", esc(r.Title), esc(r.summary()))
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "<p class=\"warning\">warning: %s</p>\n", esc(w))
	}
	if len(r.Tables) > 0 {
		b.WriteString("<nav>")
		for i, t := range r.Tables {
			if i > 0 {
				b.WriteString(" · ")
			}
			fmt.Fprintf(&b, "<a href=\"#%s\">%s</a>", esc(t.ID), esc(shortTitle(t.Title)))
		}
		b.WriteString("</nav>\n")
	} else {
		b.WriteString("<p>No results.</p>\n")
	}
	r.sections(&b)
	fmt.Fprintf(&b, "<script>\n%s</script>\n</body>\n</html>\n", pageJS)
	return b.String()
}

// sections writes one <section> per table.
func (r *Report) sections(b *strings.Builder) {
	esc := html.EscapeString
	for _, t := range r.Tables {
		fmt.Fprintf(b, "<section id=\"%s\">\n<h2>%s</h2>\n<table class=\"sortable\">\n<thead><tr>", esc(t.ID), esc(t.Title))
		for _, c := range t.Columns {
			cls := ""
			if c.Numeric {
				cls = ` class="num"`
			}
			fmt.Fprintf(b, "<th%s title=\"click to sort\">%s</th>", cls, esc(c.Name))
		}
		b.WriteString("</tr></thead>\n<tbody>\n")
		for _, row := range t.Rows {
			b.WriteString("<tr>")
			for i, f := range row {
				var attrs []string
				var cls []string
				if i < len(t.Columns) && t.Columns[i].Numeric {
					cls = append(cls, "num")
				}
				if f.Class != "" {
					cls = append(cls, f.Class)
				}
				if len(cls) > 0 {
					attrs = append(attrs, fmt.Sprintf(`class="%s"`, strings.Join(cls, " ")))
				}
				if f.HasNum {
					attrs = append(attrs, fmt.Sprintf(`data-sort="%s"`, strconv.FormatFloat(f.Num, 'g', 12, 64)))
				}
				if f.Title != "" {
					attrs = append(attrs, fmt.Sprintf(`title="%s"`, esc(firstLine(f.Title, 500))))
				}
				a := ""
				if len(attrs) > 0 {
					a = " " + strings.Join(attrs, " ")
				}
				fmt.Fprintf(b, "<td%s>%s</td>", a, esc(f.Text))
			}
			b.WriteString("</tr>\n")
		}
		b.WriteString("</tbody>\n</table>\n")
		if t.Note != "" {
			fmt.Fprintf(b, "<p class=\"note\">%s</p>\n", esc(t.Note))
		}
		if len(t.Errors) > 0 {
			b.WriteString("<ul class=\"errors\">\n")
			for _, e := range t.Errors {
				fmt.Fprintf(b, "<li>%s</li>\n", esc(e))
			}
			b.WriteString("</ul>\n")
		}
		b.WriteString("</section>\n")
	}
}

// Fragment renders the tables as an HTML fragment to embed in another page (a notebook
// cell): the report's styles scoped to a <div class="dcb-report">, no title, no script.
func (r *Report) Fragment() string {
	var b strings.Builder
	fmt.Fprintf(&b, "<div class=\"dcb-report\">\n<style>\n%s</style>\n", scopedCSS())
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "<p class=\"warning\">warning: %s</p>\n", html.EscapeString(w))
	}
	if len(r.Tables) == 0 {
		b.WriteString("<p>No results.</p>\n")
	}
	r.sections(&b)
	b.WriteString("</div>\n")
	return b.String()
}

// scopedCSS is pageCSS without the body rule, each selector under .dcb-report.
func scopedCSS() string {
	var b strings.Builder
	for _, rule := range strings.SplitAfter(pageCSS, "}") {
		sel, decl, ok := strings.Cut(strings.TrimSpace(rule), "{")
		if !ok || strings.TrimSpace(sel) == "body" {
			continue
		}
		var parts []string
		for _, x := range strings.Split(sel, ",") {
			parts = append(parts, ".dcb-report "+strings.TrimSpace(x))
		}
		b.WriteString(strings.Join(parts, ",") + "{" + decl + "\n")
	}
	return b.String()
}

func shortTitle(s string) string {
	if i := strings.Index(s, ":"); i > 0 {
		return s[:i]
	}
	return s
}

const pageCSS = `body{font-family:-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta,.note{color:#555;font-size:13px}.note{max-width:1100px}
.warning{background:#fff3cd;border:1px solid #e0c36a;padding:4px 8px;font-size:13px}
nav{font-size:13px;margin:8px 0}nav a{color:#0b5cad;text-decoration:none}
table{border-collapse:collapse;font-size:13px}
th,td{padding:3px 9px;border-bottom:1px solid #ddd;text-align:left;white-space:nowrap}
th{border-bottom:2px solid #444;cursor:pointer;user-select:none;background:#f6f6f6}
th.num,td.num{text-align:right}
th[data-dir=asc]::after{content:" ▲";font-size:10px}th[data-dir=desc]::after{content:" ▼";font-size:10px}
tbody tr:hover{background:#f3f7ff}
td.oom{background:#ffe0b2;font-weight:bold;color:#8a4b00}
td.failed{background:#ffcdd2;font-weight:bold;color:#9b1c1c}
td.skipped{color:#999;font-style:italic}td.partial{color:#8a4b00}
td.close{background:#c8e6c9}td.off{background:#ffe0b2}td.far{background:#ffcdd2}
ul.errors{font-size:12px;color:#9b1c1c}
`

// pageJS sorts a table by the clicked column: numerically by data-sort where both cells
// have one (cells without a number go last), else by text.
const pageJS = `document.querySelectorAll("table.sortable th").forEach(function (th) {
  th.addEventListener("click", function () {
    var row = th.parentNode, col = Array.prototype.indexOf.call(row.children, th);
    var body = th.closest("table").tBodies[0];
    var asc = th.getAttribute("data-dir") !== "asc";
    row.querySelectorAll("th").forEach(function (h) { h.removeAttribute("data-dir"); });
    th.setAttribute("data-dir", asc ? "asc" : "desc");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[col], y = b.cells[col];
      var p = x.getAttribute("data-sort"), q = y.getAttribute("data-sort");
      if (p !== null && q !== null) { return (asc ? 1 : -1) * (parseFloat(p) - parseFloat(q)); }
      if (p !== null) { return -1; }
      if (q !== null) { return 1; }
      return (asc ? 1 : -1) * x.textContent.localeCompare(y.textContent, undefined, {numeric: true});
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
`
