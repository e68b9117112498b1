package kernelext

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcbench/dcbench/dcbench/reference"
)

func TestStatOf(t *testing.T) {
	for _, tc := range []struct {
		in        []float64
		mean, std float64
		n         int
	}{
		{nil, 0, 0, 0},
		{[]float64{42}, 42, 0, 1},
		{[]float64{30, 31, 32}, 31, math.Sqrt(2.0 / 3), 3}, // population std, not sample (1.0)
		{[]float64{2, 4, 4, 4, 5, 5, 7, 9}, 5, 2, 8},
	} {
		s := StatOf(tc.in)
		if math.Abs(s.Mean-tc.mean) > 1e-12 || math.Abs(s.Std-tc.std) > 1e-12 || s.N != tc.n {
			t.Errorf("StatOf(%v) = %+v, want %v ± %v n=%d", tc.in, s, tc.mean, tc.std, tc.n)
		}
	}
	if got := (Stat{}).String(); got != "not run" {
		t.Errorf("empty Stat = %q", got)
	}
	if got := StatOf([]float64{30, 32}).String(); got != "31.00 ± 1.00" {
		t.Errorf("Stat.String = %q", got)
	}
}

func TestVerdict(t *testing.T) {
	paper := &reference.Entry{Mean: 50, Std: 1.5, HasStd: true, MeanText: "50.00", StdText: "1.50"}
	noStd := &reference.Entry{Mean: 50, MeanText: "50.00"}
	oom := &reference.Entry{OOM: true}
	ours := func(m float64) Stat { return Stat{Mean: m, Std: 0.3, N: 5} }
	ratio := Thresholds{Ratio: true, Close: 1.25, Far: 3}
	for _, tc := range []struct {
		name  string
		row   Row
		th    Thresholds
		want  Verdict
		class string
	}{
		{"within 1 point", Row{Ours: ours(50.9), Paper: noStd}, Thresholds{}, VerdictClose, "kx-close"},
		{"within paper std", Row{Ours: ours(48.6), Paper: paper}, Thresholds{}, VerdictClose, "kx-close"},
		{"paper std ignored", Row{Ours: ours(48.6), Paper: paper}, Thresholds{IgnorePaperStd: true}, VerdictOff, "kx-off"},
		{"amber", Row{Ours: ours(52.5), Paper: paper}, Thresholds{}, VerdictOff, "kx-off"},
		{"exactly 3", Row{Ours: ours(47), Paper: noStd}, Thresholds{}, VerdictOff, "kx-off"},
		{"red", Row{Ours: ours(46.9), Paper: paper}, Thresholds{}, VerdictFar, "kx-far"},
		{"custom thresholds", Row{Ours: ours(52.5), Paper: noStd}, Thresholds{Close: 0.5, Far: 2}, VerdictFar, "kx-far"},
		{"custom close", Row{Ours: ours(52.5), Paper: noStd}, Thresholds{Close: 2.5, Far: 5}, VerdictClose, "kx-close"},
		{"not run", Row{Paper: paper}, Thresholds{}, VerdictNone, "kx-none"},
		{"no paper", Row{Ours: ours(10)}, Thresholds{}, VerdictNone, "kx-none"},
		{"paper OOM", Row{Ours: ours(10), Paper: oom}, Thresholds{}, VerdictNone, "kx-none"},
		{"ratio: faster than the paper", Row{Ours: ours(10), Paper: paper}, ratio, VerdictClose, "kx-close"},
		{"ratio: 1.2x", Row{Ours: ours(60), Paper: paper}, ratio, VerdictClose, "kx-close"},
		{"ratio: 2x", Row{Ours: ours(100), Paper: paper}, ratio, VerdictOff, "kx-off"},
		{"ratio: 6x, 250 points off", Row{Ours: ours(300), Paper: paper}, ratio, VerdictFar, "kx-far"},
		{"ratio: paper zero", Row{Ours: ours(1), Paper: &reference.Entry{Mean: 0, MeanText: "0"}}, ratio, VerdictNone, "kx-none"},
	} {
		v := tc.row.Verdict(tc.th)
		if v != tc.want || v.CSSClass() != tc.class {
			t.Errorf("%s: verdict %v (%s), want %v (%s)", tc.name, v, v.CSSClass(), tc.want, tc.class)
		}
	}
}

// sampleTable has one row of each kind: close, amber, red, missing paper, not run, OOM.
func sampleTable() ComparisonTable {
	return ComparisonTable{
		Title:   "Table 4 <CIFAR-10>",
		Columns: []string{"Dataset", "Method", "IPC"},
		Rows: []Row{
			{Labels: []string{"CIFAR-10", "Random", "10"}, Ours: StatOf([]float64{30.5, 31.1, 30.8}),
				Paper: PaperValue("table4", "cifar10", "random", 10, "dsa")}, // 31.00 ± 0.48
			{Labels: []string{"CIFAR-10", "DC", "10"}, Ours: StatOf([]float64{49, 49}),
				Paper: PaperValue("table4", "cifar10", "dc", 10, "dsa")}, // 50.99 ± 0.62: -1.99 amber
			{Labels: []string{"CIFAR-10", "DM", "10"}, Ours: StatOf([]float64{40, 41}),
				Paper: PaperValue("table4", "cifar10", "dm", 10, "dsa")}, // 47.64: red
			{Labels: []string{"CIFAR-100", "KIP", "50"}, Ours: StatOf([]float64{12.345}),
				Paper: PaperValue("table4", "cifar100", "kip", 50, "dsa")}, // missing in the paper
			{Labels: []string{"CIFAR-10", "MTT", "10"}, Paper: PaperValue("table4", "cifar10", "mtt", 10, "dsa")},
			{Labels: []string{"CIFAR-10", "MTT", "50"}, Ours: StatOf([]float64{1}), Paper: PaperValue("table8", "", "mtt", 50, "")},
		},
	}
}

func TestPaperValue(t *testing.T) {
	if e := PaperValue("table4", "cifar10", "random", 10, "dsa"); e == nil || e.String() != "31.00 ± 0.48" {
		t.Errorf("PaperValue = %v", e)
	}
	if e := PaperValue("table4", "cifar100", "kip", 50, "dsa"); e != nil {
		t.Errorf("missing cell gave %v", e)
	}
}

func TestComparisonTableHTML(t *testing.T) {
	h := sampleTable().HTML()
	for _, want := range []string{
		"Table 4 &lt;CIFAR-10&gt;", // escaped title
		"<th", "Dataset", "Ours", "Paper",
		`class="kx-ours"`, "30.80 ± 0.24", // ours: mean ± population std
		"31.00 ± 0.48",           // paper as printed
		"50.99 ± 0.62",           // paper
		">" + MissingPaper + "<", // KIP CIFAR-100 IPC50 is not in the paper
		">" + MissingOurs + "<",  // MTT IPC10 not run
		">OOM<",
		`class="kx-diff kx-close"`, `class="kx-diff kx-off"`, `class="kx-diff kx-far"`, `class="kx-diff kx-none"`,
		"-0.20", "-1.99", "-7.14",
		"(n=3)",
	} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	// The verdict class sits in the same cell as the difference.
	for _, pair := range [][2]string{{"kx-close", "-0.20"}, {"kx-off", "-1.99"}, {"kx-far", "-7.14"}} {
		i := strings.Index(h, `class="kx-diff `+pair[0]+`"`)
		j := strings.Index(h[i:], "</td>")
		if i < 0 || !strings.Contains(h[i:i+j], pair[1]) {
			t.Errorf("cell %s does not hold %s", pair[0], pair[1])
		}
	}
	if strings.Count(h, "<tr>") != 1+6 {
		t.Errorf("want 7 <tr>, got %d", strings.Count(h, "<tr>"))
	}
}

func TestComparisonTableMarkdown(t *testing.T) {
	md := sampleTable().Markdown()
	lines := strings.Split(md, "\n")
	var rows []string
	for _, l := range lines {
		if strings.HasPrefix(l, "|") {
			rows = append(rows, l)
		}
	}
	if len(rows) != 2+6 {
		t.Fatalf("want 8 table lines, got %d:\n%s", len(rows), md)
	}
	for i, want := range []string{
		"| CIFAR-10 | Random | 10 | 30.80 ± 0.24 | 31.00 ± 0.48 | -0.20 ✓ |",
		"| CIFAR-10 | DC | 10 | 49.00 ± 0.00 | 50.99 ± 0.62 | -1.99 ~ |",
		"| CIFAR-10 | DM | 10 | 40.50 ± 0.50 | 47.64 ± 0.55 | -7.14 ✗ |",
		"| CIFAR-100 | KIP | 50 | 12.35 ± 0.00 | — |  |",
		"| CIFAR-10 | MTT | 10 | not run | 63.66 ± 0.38 |  |",
		"| CIFAR-10 | MTT | 50 | 1.00 ± 0.00 | OOM |  |",
	} {
		if rows[2+i] != want {
			t.Errorf("row %d:\n got %s\nwant %s", i, rows[2+i], want)
		}
	}
}

func TestComparisonTableCSV(t *testing.T) {
	recs, err := csv.NewReader(strings.NewReader(sampleTable().CSV())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"Dataset", "Method", "IPC", "ours_mean", "ours_std", "ours_n", "paper_mean", "paper_std", "diff", "verdict"},
		{"CIFAR-10", "Random", "10", "30.8", "", "3", "31.00", "0.48", "-0.2000", "close"},
		{"CIFAR-10", "DC", "10", "49", "0", "2", "50.99", "0.62", "-1.9900", "off"},
		{"CIFAR-10", "DM", "10", "40.5", "0.5", "2", "47.64", "0.55", "-7.1400", "far"},
		{"CIFAR-100", "KIP", "50", "12.345", "0", "1", "", "", "", "none"},
		{"CIFAR-10", "MTT", "10", "", "", "0", "63.66", "0.38", "", "none"},
		{"CIFAR-10", "MTT", "50", "1", "0", "1", "OOM", "", "", "none"},
	}
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d", len(recs), len(want))
	}
	for i := range want {
		for j := range want[i] {
			if i == 1 && (j == 3 || j == 4) { // float noise: check numerically below
				continue
			}
			if recs[i][j] != want[i][j] {
				t.Errorf("record %d field %d (%s) = %q, want %q", i, j, want[0][j], recs[i][j], want[i][j])
			}
		}
	}
	var m, s float64
	fmt.Sscan(recs[1][3], &m)
	fmt.Sscan(recs[1][4], &s)
	if math.Abs(m-30.8) > 1e-9 || math.Abs(s-math.Sqrt(0.06)) > 1e-9 {
		t.Errorf("ours mean/std = %v/%v", m, s)
	}
}

func TestComparisonTableDisplayWritesFiles(t *testing.T) {
	dir := t.TempDir()
	SetOutputDir(dir)
	defer SetOutputDir("")
	path, err := sampleTable().Display("t4 cifar10")
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, "t4_cifar10.html") {
		t.Errorf("path = %q", path)
	}
	for _, ext := range []string{".html", ".md", ".csv"} {
		b, err := os.ReadFile(filepath.Join(dir, "t4_cifar10"+ext))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "31.00") {
			t.Errorf("%s lacks the paper value", ext)
		}
	}
}

func ExampleComparisonTable() {
	table := ComparisonTable{
		Title:   "CIFAR-10, ConvNet, DSA augmentation",
		Columns: []string{"Method", "IPC"},
		Rows: []Row{
			{Labels: []string{"Random", "10"}, Ours: StatOf([]float64{30.2, 31.0, 30.6}),
				Paper: PaperValue("table4", "cifar10", "random", 10, "dsa")},
			{Labels: []string{"DM", "10"}, Ours: StatOf([]float64{44.1, 44.5}),
				Paper: PaperValue("table4", "cifar10", "dm", 10, "dsa")},
			{Labels: []string{"MTT", "10"},
				Paper: PaperValue("table4", "cifar10", "mtt", 10, "dsa")},
		},
	}
	fmt.Print(table.Markdown())
	// Output:
	// **CIFAR-10, ConvNet, DSA augmentation**
	//
	// | Method | IPC | Ours | Paper | Δ (ours − paper) |
	// | --- | --- | ---: | ---: | ---: |
	// | Random | 10 | 30.60 ± 0.33 | 31.00 ± 0.48 | -0.40 ✓ |
	// | DM | 10 | 44.30 ± 0.20 | 47.64 ± 0.55 | -3.34 ✗ |
	// | MTT | 10 | not run | 63.66 ± 0.38 |  |
	//
	// Δ: green within 1 point or the paper's std, amber within 3 points, red beyond. Ours: mean ± population std over n runs. (✓ green, ~ amber, ✗ red)
}

// TestRatioLegend checks that a table judged by ratio says so under it.
func TestRatioLegend(t *testing.T) {
	tab := ComparisonTable{Title: "cost", Columns: []string{"Method"}, Thresholds: Thresholds{Ratio: true, Close: 1.25, Far: 3},
		Rows: []Row{{Labels: []string{"DM"}, Ours: Stat{Mean: 0.5, N: 1}, Paper: &reference.Entry{Mean: 0.08, MeanText: "0.08"}}}}
	for _, out := range []string{tab.Markdown(), tab.HTML()} {
		if !strings.Contains(out, "green at most 1.25× the paper") || !strings.Contains(out, "amber at most 3×") {
			t.Errorf("legend missing from:\n%s", out)
		}
	}
	if !strings.Contains(tab.Markdown(), "✗") {
		t.Errorf("0.5 s against 0.08 s (6×) should be red:\n%s", tab.Markdown())
	}
}
