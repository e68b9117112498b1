package results

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dcbench/dcbench/dcbench/reference"
	"github.com/dcbench/dcbench/kernelext"
)

// Table IDs of a report, in the order they are shown.
const (
	TableLeaderboard  = "leaderboard" // Best / Avg / Transfer per (dataset, method, IPC), with the DD-Ranking columns
	TableAugmentation = "table4"      // ConvNet accuracy by evaluation augmentation
	TableTransfer     = "table5"      // cross-architecture transfer (dsa)
	TableIPCSweep     = "table6"      // CIFAR-10 IPC sweep (ConvNet, dsa)
	TableOptimizer    = "table7"      // SGD vs Adam (CIFAR-10, ConvNet, dsa)
	TableCost         = "table8"      // condensation time per iteration and peak memory
	TableKCenter      = "table9"      // K-Center on raw pixels vs embeddings
	TableInit         = "fig6"        // DC/DSA/DM initialised from real, K-Center or noise images
	TableDDRanking    = "ddranking"   // HLR, IOR and DDRS of every evaluated cell
	TableOther        = "other"       // cells no other table shows
)

// TableIDs lists every table a report can hold, in order.
var TableIDs = []string{TableLeaderboard, TableAugmentation, TableTransfer, TableIPCSweep, TableOptimizer,
	TableCost, TableKCenter, TableInit, TableDDRanking, TableOther}

// Options of Build.
type Options struct {
	// Title of the report (default "dcbench results").
	Title string
	// Tables to show, by ID; nil (or "auto") shows every table that has cells and says
	// something the others do not (Table 5 only with other models than ConvNet, Table 6 only
	// with IPCs beyond 1/10/50, Table 7 only with another optimizer than SGD, ...); "all"
	// shows every table that has cells.
	Tables []string
	// Weight is DD-Ranking's w in α = w·IOR − (1−w)·HLR (default 0.5).
	Weight float64
	// Generated is printed as the report's date (zero: none).
	Generated time.Time
}

// Report is the aggregate of a results store.
type Report struct {
	Title     string
	Generated time.Time
	// Records is the number of records read, Runs the number of distinct runs (config,
	// seed), ByStatus the runs by status.
	Records, Runs int
	ByStatus      map[string]int
	// Warnings are the reader's (skipped lines).
	Warnings []string
	Tables   []*Table
	// Weight is DD-Ranking's w.
	Weight float64
}

// Table is one table of the report, ready to render.
type Table struct {
	ID, Title string
	// Note explains the table (the protocol, what the columns are).
	Note    string
	Columns []Column
	Rows    [][]Field
	// Errors lists the message of each oom or failed cell, for the notes under the table.
	Errors []string
	// Measures are the table's numbers in tidy form (one per value), for the CSV.
	Measures []Measure
}

// Column is a table header; Numeric columns are right-aligned and sort by number.
type Column struct {
	Name    string
	Numeric bool
}

// Field is one table cell.
type Field struct {
	Text string
	// Num is the sort key of a numeric field (HasNum).
	Num    float64
	HasNum bool
	// Class is the state shown by colour: "ok", "oom", "failed", "skipped", "partial",
	// "close", "off", "far" (the verdict of a Δ) or "".
	Class string
	// Title is a tooltip (an error message).
	Title string
}

// Measure is one number of a table in tidy form: a line of the CSV.
type Measure struct {
	Table, Dataset, Method string
	IPC                    int
	// Key is the column within the table: the augmentation (Table 4), the model (Table 5),
	// the optimizer (Table 7), "best"/"avg"/"transfer"/"hlr"/"ior"/"ddrs" (leaderboard), ...
	Key     string
	Setting string
	Status  string
	Stat    kernelext.Stat
	// Paper is the paper's value (nil if none); Mark is "*" when it is for other data (the
	// full dataset for the embedded subset).
	Paper *reference.Entry
	Mark  string
	Note  string
}

// Build aggregates records into a report. warnings are the reader's, shown in the report.
func Build(recs []Record, warnings []string, opts Options) *Report {
	if opts.Title == "" {
		opts.Title = "dcbench results"
	}
	if opts.Weight == 0 {
		opts.Weight = 0.5
	}
	latest := Latest(recs)
	r := &Report{Title: opts.Title, Generated: opts.Generated, Records: len(recs), Runs: len(latest),
		ByStatus: map[string]int{}, Warnings: warnings, Weight: opts.Weight}
	for _, rec := range latest {
		r.ByStatus[rec.Status]++
	}
	b := &builder{cells: Cells(recs), w: opts.Weight, shown: map[string]bool{}}
	want := map[string]bool{}
	mode := "auto"
	for _, t := range opts.Tables {
		switch t = strings.ToLower(strings.TrimSpace(t)); t {
		case "auto", "all":
			mode = t
		case "":
		default:
			want[t] = true
			mode = "list"
		}
	}
	for _, id := range TableIDs {
		t, informative := b.table(id)
		if t == nil || len(t.Rows) == 0 {
			continue
		}
		if mode == "list" && !want[id] || mode == "auto" && !informative {
			continue
		}
		if id != TableOther {
			for _, c := range b.used[id] {
				b.shown[c.Key] = true
			}
		}
		r.Tables = append(r.Tables, t)
	}
	return r
}

// builder holds the cells while the tables are built.
type builder struct {
	cells []*Cell
	w     float64
	used  map[string][]*Cell // cells each table shows
	shown map[string]bool    // cells shown by a selected table
}

func (b *builder) use(id string, c *Cell) {
	if b.used == nil {
		b.used = map[string][]*Cell{}
	}
	b.used[id] = append(b.used[id], c)
}

// plain: no param of Table 9 or Figure 6 set (K-Center features, synthetic init).
func plain(c Config) bool {
	_, f := c.CondenseParams["features"]
	_, i := c.CondenseParams["init"]
	return !f && !i
}

func isCIFAR10(d string) bool { n, _ := paperDataset(d); return n == "CIFAR-10" }

func (b *builder) filter(pred func(c Config) bool) []*Cell {
	var out []*Cell
	for _, c := range b.cells {
		if pred(c.Config) {
			out = append(out, c)
		}
	}
	return out
}

// table builds one table and says whether "auto" shows it.
func (b *builder) table(id string) (*Table, bool) {
	eval := func(c Config) bool { return c.Kind == KindEval }
	conv := func(c Config) bool { return eval(c) && isConvNet(c.Dataset, c.Model) && plain(c) }
	switch id {
	case TableAugmentation:
		cells := b.filter(conv)
		rows := make([]longRow, 0, len(cells))
		for _, c := range cells {
			rows = append(rows, b.row(id, c, []string{c.Config.Augment}, c.Config.Augment,
				describe(c.Config), reference.TableAugmentation, c.Config.Augment))
		}
		return b.long(id, "Table 4: ConvNet test accuracy by evaluation augmentation",
			"Paper: Table 4 (ConvNet, SGD).", []string{"Augment"}, rows), true
	case TableTransfer:
		cells := b.filter(func(c Config) bool { return eval(c) && plain(c) && c.Augment == "dsa" })
		rows, other := []longRow{}, false
		for _, c := range cells {
			other = other || !isConvNet(c.Config.Dataset, c.Config.Model)
			rows = append(rows, b.row(id, c, []string{c.Config.Model}, c.Config.Model, describe(c.Config, "model"),
				reference.TableTransfer, paperModel(c.Config.Dataset, c.Config.Model)))
		}
		return b.long(id, "Table 5: cross-architecture transfer (dsa augmentation)",
			"Paper: Table 5. The leaderboard's Transfer is the mean of MLP, ResNet18 and ResNet152.", []string{"Model"}, rows), other
	case TableIPCSweep:
		cells := b.filter(func(c Config) bool { return conv(c) && c.Augment == "dsa" && isCIFAR10(c.Dataset) })
		rows, beyond := []longRow{}, false
		for _, c := range cells {
			beyond = beyond || !slices.Contains([]int{1, 10, 50}, c.Config.IPC) && c.Config.Method != MethodFull
			rows = append(rows, b.row(id, c, nil, "dsa", describe(c.Config), reference.TableIPCSweep, "dsa"))
		}
		return b.long(id, "Table 6: accuracy by images per class (CIFAR-10, ConvNet, dsa)", "Paper: Table 6.", nil, rows), beyond
	case TableOptimizer:
		cells := b.filter(func(c Config) bool { return conv(c) && c.Augment == "dsa" && isCIFAR10(c.Dataset) })
		rows, adam := []longRow{}, false
		for _, c := range cells {
			adam = adam || c.Config.Optimizer != "sgd"
			rows = append(rows, b.row(id, c, []string{c.Config.Optimizer}, c.Config.Optimizer, describe(c.Config, "optimizer"),
				reference.TableOptimizer, c.Config.Optimizer))
		}
		return b.long(id, "Table 7: SGD vs Adam (CIFAR-10, ConvNet, dsa)", "Paper: Table 7 (IPC 10 only, but DC).", []string{"Optimizer"}, rows), adam
	case TableCost:
		return b.cost(), true
	case TableKCenter:
		cells := b.filter(func(c Config) bool {
			_, i := c.CondenseParams["init"]
			return eval(c) && !i && c.Method == "kcenter" && isConvNet(c.Dataset, c.Model) && c.Augment == "dsa"
		})
		rows, raw := []longRow{}, false
		for _, c := range cells {
			f := "embedding"
			if v, ok := c.Config.CondenseParams["features"]; ok {
				f, raw = fmt.Sprint(v), true
			}
			key := map[string]string{"embedding": reference.KeyEmbedding, "raw": reference.KeyRawInput}[f]
			rows = append(rows, b.row(id, c, []string{f}, f, describe(c.Config, "features"), reference.TableKCenterFeatures, key))
		}
		return b.long(id, "Table 9: K-Center with raw-pixel vs embedding features (ConvNet, dsa)",
			"Paper: Table 9 (no std printed).", []string{"Features"}, rows), raw
	case TableInit:
		cells := b.filter(func(c Config) bool {
			_, f := c.CondenseParams["features"]
			return eval(c) && !f && slices.Contains([]string{"dc", "dsa", "dm"}, c.Method) && isConvNet(c.Dataset, c.Model)
		})
		rows, init := []longRow{}, false
		for _, c := range cells {
			v := "real"
			if x, ok := c.Config.CondenseParams["init"]; ok {
				v, init = fmt.Sprint(x), true
			}
			row := b.row(id, c, []string{v, c.Config.Augment}, v+"/"+c.Config.Augment, describe(c.Config, "init"), "", "")
			rows = append(rows, row)
		}
		return b.long(id, "Figure 6: synthetic-set initialisation (real, K-Center, noise)",
			"The paper gives this as a figure only: no reference numbers.", []string{"Init", "Augment"}, rows), init
	case TableLeaderboard:
		return b.leaderboard(), true
	case TableDDRanking:
		return b.ddranking()
	case TableOther:
		var rows []longRow
		for _, c := range b.cells {
			if !b.shown[c.Key] && c.Config.Kind == KindEval {
				rows = append(rows, b.row(id, c, []string{c.Config.Model, c.Config.Augment}, c.Config.Model+"/"+c.Config.Augment,
					describe(c.Config, "model"), "", ""))
			}
		}
		return b.long(id, "Other runs", "Cells that no table above shows.", []string{"Model", "Augment"}, rows), true
	}
	return nil, false
}

// longRow is one row of a "long" table: one cell beside the paper's value.
type longRow struct {
	cell    *Cell
	keys    []string
	measure Measure
}

// row makes the long-table row of cell c: keys are the table's extra label columns, paper
// table/key the reference lookup ("" for none).
func (b *builder) row(id string, c *Cell, keys []string, key, setting, paperTable, paperKey string) longRow {
	b.use(id, c)
	m := Measure{Table: id, Dataset: c.Config.Dataset, Method: c.Config.Method, IPC: c.Config.IPC, Key: key,
		Setting: setting, Status: c.Status(), Stat: c.Stat()}
	if paperTable != "" && paperKey != "" {
		m.Paper, m.Mark = lookup(paperTable, c.Config.Dataset, c.Config.Method, c.Config.IPC, paperKey)
	}
	return longRow{cell: c, keys: keys, measure: m}
}

// lookup finds the paper's number for a record's dataset name.
func lookup(table, dataset, method string, ipc int, key string) (*reference.Entry, string) {
	d, mark := paperDataset(dataset)
	if d == "" {
		return nil, ""
	}
	e, ok := reference.Lookup(table, d, method, ipc, key)
	if !ok {
		return nil, ""
	}
	return &e, mark
}

func (b *builder) long(id, title, note string, keyCols []string, rows []longRow) *Table {
	t := &Table{ID: id, Title: title}
	t.Note = note + " Ours: mean ± population std over the n ok runs (evaluation seeds × condensation seeds)."
	if hasMark(rows) {
		t.Note += " * the paper's value is for the full dataset, not the embedded subset."
	}
	t.Columns = []Column{{Name: "Dataset"}, {Name: "Method"}, {Name: "IPC", Numeric: true}}
	for _, k := range keyCols {
		t.Columns = append(t.Columns, Column{Name: k})
	}
	t.Columns = append(t.Columns, Column{Name: "Setting"}, Column{Name: "Ours", Numeric: true}, Column{Name: "n", Numeric: true},
		Column{Name: "Paper", Numeric: true}, Column{Name: "Δ", Numeric: true})
	for _, r := range rows {
		c := r.cell
		f := []Field{{Text: c.Config.Dataset}, {Text: c.Config.Method}, ipcField(c.Config)}
		for _, k := range r.keys {
			f = append(f, Field{Text: k})
		}
		f = append(f, Field{Text: r.measure.Setting}, cellField(c, 2), nField(c), paperField(r.measure.Paper, r.measure.Mark),
			diffField(c.Stat(), r.measure.Paper, 2))
		t.Rows = append(t.Rows, f)
		t.Measures = append(t.Measures, r.measure)
		t.addError(c)
	}
	return t
}

func hasMark(rows []longRow) bool {
	for _, r := range rows {
		if r.measure.Mark != "" && r.measure.Paper != nil {
			return true
		}
	}
	return false
}

func (t *Table) addError(c *Cell) {
	if c.Count(StatusOOM)+c.Count(StatusFailed) == 0 {
		return
	}
	label := fmt.Sprintf("%s %s IPC %d %s/%s", c.Config.Dataset, c.Config.Method, c.Config.IPC, c.Config.Model, c.Config.Augment)
	if c.Config.Kind == KindCost {
		label = fmt.Sprintf("%s %s IPC %d (cost)", c.Config.Dataset, c.Config.Method, c.Config.IPC)
	}
	msg := fmt.Sprintf("%s: %d oom, %d failed: %s", label, c.Count(StatusOOM), c.Count(StatusFailed), firstLine(c.Error(), 200))
	if !slices.Contains(t.Errors, msg) {
		t.Errors = append(t.Errors, msg)
	}
}

func firstLine(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	if len([]rune(s)) > n {
		s = string([]rune(s)[:n]) + "…"
	}
	return s
}

func ipcField(c Config) Field {
	if c.Method == MethodFull {
		return Field{Text: "all", Num: math.Inf(1), HasNum: true}
	}
	return Field{Text: fmt.Sprint(c.IPC), Num: float64(c.IPC), HasNum: true}
}

// cellField shows a cell: "mean ± std" when some run is ok (with the count of oom/failed
// runs beside), else OOM, failed or missing (never run, e.g. a method not registered).
func cellField(c *Cell, dec int) Field {
	st := c.Stat()
	switch c.Status() {
	case StatusOK:
		text := fmt.Sprintf("%.*f ± %.*f", dec, st.Mean, dec, st.Std)
		var extra []string
		if n := c.Count(StatusOOM); n > 0 {
			extra = append(extra, fmt.Sprintf("%d oom", n))
		}
		if n := c.Count(StatusFailed); n > 0 {
			extra = append(extra, fmt.Sprintf("%d failed", n))
		}
		cls := "ok"
		if len(extra) > 0 {
			text += " (+" + strings.Join(extra, ", ") + ")"
			cls = "partial"
		}
		return Field{Text: text, Num: st.Mean, HasNum: true, Class: cls, Title: c.Error()}
	case StatusOOM:
		return Field{Text: "OOM", Class: "oom", Title: c.Error()}
	case StatusFailed:
		return Field{Text: "failed", Class: "failed", Title: c.Error()}
	default:
		return Field{Text: "missing", Class: "skipped", Title: c.Error()}
	}
}

func nField(c *Cell) Field {
	n := c.Stat().N
	return Field{Text: fmt.Sprint(n), Num: float64(n), HasNum: true}
}

func paperField(e *reference.Entry, mark string) Field {
	if e == nil {
		return Field{Text: kernelext.MissingPaper}
	}
	if e.OOM {
		return Field{Text: "OOM" + mark, Class: "oom"}
	}
	return Field{Text: e.String() + mark, Num: e.Mean, HasNum: true}
}

func diffField(st kernelext.Stat, e *reference.Entry, dec int) Field {
	row := kernelext.Row{Ours: st, Paper: e}
	d, ok := row.Diff()
	if !ok {
		return Field{}
	}
	v := row.Verdict(kernelext.Thresholds{})
	return Field{Text: signed(d, dec), Num: d, HasNum: true, Class: v.String()}
}

func signed(x float64, dec int) string {
	s := fmt.Sprintf("%.*f", dec, x)
	if !strings.HasPrefix(s, "-") {
		s = "+" + s
	}
	return s
}

func numField(x float64, dec int, sign bool) Field {
	if math.IsNaN(x) {
		return Field{}
	}
	t := fmt.Sprintf("%.*f", dec, x)
	if sign {
		t = signed(x, dec)
	}
	return Field{Text: t, Num: x, HasNum: true}
}

// cost is Table 8: seconds per iteration and peak memory of KindCost runs.
func (b *builder) cost() *Table {
	t := &Table{ID: TableCost, Title: "Table 8: condensation cost (seconds per iteration, peak memory)",
		Note: "Paper: Table 8 (one A100 40 GB; GPU memory). Ours: seconds per iteration mean ± population std over the n ok runs; " +
			"peak RSS is the host memory of the process (VmHWM), not GPU memory."}
	t.Columns = []Column{{Name: "Dataset"}, {Name: "Method"}, {Name: "IPC", Numeric: true}, {Name: "Setting"},
		{Name: "s/iter", Numeric: true}, {Name: "n", Numeric: true}, {Name: "Paper s/iter", Numeric: true}, {Name: "Δ", Numeric: true},
		{Name: "Peak RSS MB", Numeric: true}, {Name: "Paper GPU MB", Numeric: true}}
	for _, c := range b.filter(func(c Config) bool { return c.Kind == KindCost }) {
		b.use(TableCost, c)
		m := Measure{Table: TableCost, Dataset: c.Config.Dataset, Method: c.Config.Method, IPC: c.Config.IPC,
			Key: reference.KeySecondsPerIter, Setting: describe(c.Config), Status: c.Status(), Stat: c.Stat()}
		m.Paper, m.Mark = lookup(reference.TableCost, c.Config.Dataset, c.Config.Method, c.Config.IPC, reference.KeySecondsPerIter)
		mem, mark := lookup(reference.TableCost, c.Config.Dataset, c.Config.Method, c.Config.IPC, reference.KeyGPUMemoryMB)
		rss := Field{}
		if p := c.PeakRSS(); p > 0 {
			rss = numField(float64(p)/(1<<20), 0, false)
		}
		t.Rows = append(t.Rows, []Field{{Text: c.Config.Dataset}, {Text: c.Config.Method}, ipcField(c.Config),
			{Text: m.Setting}, cellField(c, 3), nField(c), paperField(m.Paper, m.Mark), diffField(c.Stat(), m.Paper, 3),
			rss, paperField(mem, mark)})
		t.Measures = append(t.Measures, m)
		t.addError(c)
	}
	return t
}

// lbGroup is one leaderboard row: the ConvNet cells of one (dataset, method, IPC, setting)
// by augmentation.
type lbGroup struct {
	dataset, method, setting string
	ipc                      int
	aug                      map[string]*Cell
}

// The leaderboard's Avg augmentations (Table 4 without "none") and Transfer models.
var (
	avgAugments    = []string{"imagenet_aug", "randaug", "autoaug", "dsa"}
	transferModels = []string{"mlp", "resnet18", "resnet152"}
)

func (b *builder) leaderboard() *Table {
	t := &Table{ID: TableLeaderboard, Title: "Leaderboard"}
	t.Note = "Best: the best ConvNet accuracy over evaluation augmentations (its augmentation in brackets; the paper's Best is Table 4 dsa). " +
		"Avg: mean over imagenet_aug, randaug, autoaug and dsa ((k/4) when only k of them ran). " +
		"Transfer: mean over MLP, ResNet18 and ResNet152 (dsa). " + ddNote(b.w) + " HLR, IOR and DDRS are taken at Best's augmentation."
	t.Columns = []Column{{Name: "Dataset"}, {Name: "Method"}, {Name: "IPC", Numeric: true}, {Name: "Setting"},
		{Name: "Best", Numeric: true}, {Name: "Best paper", Numeric: true}, {Name: "Avg", Numeric: true}, {Name: "Avg paper", Numeric: true},
		{Name: "Transfer", Numeric: true}, {Name: "Transfer paper", Numeric: true},
		{Name: "HLR", Numeric: true}, {Name: "IOR", Numeric: true}, {Name: "DDRS", Numeric: true}}
	var groups []*lbGroup
	index := map[string]*lbGroup{}
	for _, c := range b.filter(func(c Config) bool {
		return c.Kind == KindEval && isConvNet(c.Dataset, c.Model) && plain(c) && c.Method != MethodFull
	}) {
		cfg := c.Config
		k := fmt.Sprint(cfg.Dataset, "|", cfg.Method, "|", cfg.IPC, "|", describe(cfg))
		g, ok := index[k]
		if !ok {
			g = &lbGroup{dataset: cfg.Dataset, method: cfg.Method, ipc: cfg.IPC, setting: describe(cfg), aug: map[string]*Cell{}}
			index[k] = g
			groups = append(groups, g)
		}
		g.aug[cfg.Augment] = c
		b.use(TableLeaderboard, c)
	}
	anyMark := false
	for _, g := range groups {
		measure := func(key string, st kernelext.Stat, status, note string) Measure {
			m := Measure{Table: TableLeaderboard, Dataset: g.dataset, Method: g.method, IPC: g.ipc, Key: key,
				Setting: g.setting, Status: status, Stat: st, Note: note}
			if key == reference.KeyBest || key == reference.KeyAvg || key == reference.KeyTransfer {
				m.Paper, m.Mark = lookup(reference.TableLeaderboard, g.dataset, g.method, g.ipc, key)
				anyMark = anyMark || m.Mark != "" && m.Paper != nil
			}
			return m
		}
		row := []Field{{Text: g.dataset}, {Text: g.method}, ipcField(Config{Method: g.method, IPC: g.ipc}), {Text: g.setting}}

		// Best.
		var best *Cell
		augs := make([]string, 0, len(g.aug))
		for a := range g.aug {
			augs = append(augs, a)
		}
		sort.Slice(augs, func(i, j int) bool { return rank(augmentOrder, augs[i]) < rank(augmentOrder, augs[j]) })
		for _, a := range augs {
			c := g.aug[a]
			if c.Status() == StatusOK && (best == nil || c.Stat().Mean > best.Stat().Mean) {
				best = c
			}
		}
		var bestM Measure
		if best != nil {
			f := cellField(best, 2)
			f.Text += " (" + best.Config.Augment + ")"
			bestM = measure(reference.KeyBest, best.Stat(), StatusOK, best.Config.Augment)
			if bestM.Paper != nil && f.Class == "ok" {
				f.Class = (kernelext.Row{Ours: best.Stat(), Paper: bestM.Paper}).Verdict(kernelext.Thresholds{}).String()
			}
			row = append(row, f)
		} else {
			worst := g.aug[augs[0]]
			for _, a := range augs { // OOM beats failed beats missing
				if rankStatus(g.aug[a].Status()) < rankStatus(worst.Status()) {
					worst = g.aug[a]
				}
			}
			bestM = measure(reference.KeyBest, kernelext.Stat{}, worst.Status(), "")
			row = append(row, cellField(worst, 2))
		}
		t.Measures = append(t.Measures, bestM)
		row = append(row, paperField(bestM.Paper, bestM.Mark))

		// Avg over the four augmentations.
		var means []float64
		for _, a := range avgAugments {
			if c, ok := g.aug[a]; ok && c.Status() == StatusOK {
				means = append(means, c.Stat().Mean)
			}
		}
		row, t.Measures = b.meanOf(row, t.Measures, means, len(avgAugments), measure(reference.KeyAvg, kernelext.Stat{}, "", ""))

		// Transfer over the three models, dsa, same setting.
		var tm []float64
		for _, c := range b.cells {
			cfg := c.Config
			if cfg.Kind == KindEval && cfg.Dataset == g.dataset && cfg.Method == g.method && cfg.IPC == g.ipc && cfg.Augment == "dsa" &&
				plain(cfg) && slices.Contains(transferModels, cfg.Model) && describe(cfg, "model") == g.setting && c.Status() == StatusOK {
				tm = append(tm, c.Stat().Mean)
				b.use(TableLeaderboard, c)
			}
		}
		row, t.Measures = b.meanOf(row, t.Measures, tm, len(transferModels), measure(reference.KeyTransfer, kernelext.Stat{}, "", ""))

		// DD-Ranking at Best's augmentation.
		hlr, ior, ddrs := math.NaN(), math.NaN(), math.NaN()
		if best != nil {
			hlr, ior, ddrs = b.fair(best)
		}
		for _, x := range []struct {
			key string
			v   float64
			dec int
		}{{"hlr", hlr, 2}, {"ior", ior, 2}, {"ddrs", ddrs, 3}} {
			row = append(row, numField(x.v, x.dec, x.key != "ddrs"))
			if !math.IsNaN(x.v) {
				t.Measures = append(t.Measures, measure(x.key, kernelext.Stat{Mean: x.v, N: 1}, StatusOK, ""))
			}
		}
		t.Rows = append(t.Rows, row)
		for _, c := range g.aug {
			t.addError(c)
		}
	}
	if anyMark {
		t.Note += " * the paper's value is for the full dataset, not the embedded subset."
	}
	return t
}

func rankStatus(s string) int {
	return map[string]int{StatusOK: 0, StatusOOM: 1, StatusFailed: 2, StatusSkipped: 3}[s]
}

// meanOf appends the mean of means (of want values) to the row, marked "(k/want)" when
// incomplete.
func (b *builder) meanOf(row []Field, ms []Measure, means []float64, want int, m Measure) ([]Field, []Measure) {
	if len(means) == 0 {
		return append(row, Field{}, paperField(m.Paper, m.Mark)), ms
	}
	var s float64
	for _, v := range means {
		s += v
	}
	mean := s / float64(len(means))
	f := numField(mean, 2, false)
	m.Status, m.Stat = StatusOK, kernelext.Stat{Mean: mean, N: len(means)}
	if len(means) < want {
		f.Text += fmt.Sprintf(" (%d/%d)", len(means), want)
		f.Class = "partial"
		m.Note = fmt.Sprintf("%d/%d", len(means), want)
	}
	row = append(row, f, paperField(m.Paper, m.Mark))
	if len(means) == want && m.Paper != nil {
		row[len(row)-2].Class = (kernelext.Row{Ours: kernelext.Stat{Mean: mean, N: 1}, Paper: m.Paper}).Verdict(kernelext.Thresholds{}).String()
	}
	return row, append(ms, m)
}

// fair returns DD-Ranking's hard-label recovery HLR = acc(full) − acc(c), improvement over
// random IOR = acc(c) − acc(random), and DDRS for cell c; NaN where the full-data or
// random-selection cell with the same evaluation protocol is missing.
func (b *builder) fair(c *Cell) (hlr, ior, ddrs float64) {
	hlr, ior, ddrs = math.NaN(), math.NaN(), math.NaN()
	if c.Status() != StatusOK {
		return
	}
	acc := c.Stat().Mean
	ek := evalKey(c.Config)
	if f := b.find(func(x Config) bool { return x.Method == MethodFull && evalKey(x) == ek }); f != nil {
		hlr = f.Stat().Mean - acc
	}
	if c.Config.Method == "random" {
		ior = 0
	} else if r := b.find(func(x Config) bool { return x.Method == "random" && x.IPC == c.Config.IPC && evalKey(x) == ek }); r != nil {
		ior = acc - r.Stat().Mean
	}
	if !math.IsNaN(hlr) && !math.IsNaN(ior) {
		ddrs = DDRS(hlr, ior, b.w)
	}
	return
}

// find returns the first ok cell whose config satisfies pred.
func (b *builder) find(pred func(Config) bool) *Cell {
	for _, c := range b.cells {
		if c.Config.Kind == KindEval && c.Status() == StatusOK && pred(c.Config) {
			return c
		}
	}
	return nil
}

// DDRS is the DD-Ranking score (Li et al. 2025) of a hard-label recovery and an improvement
// over random given in accuracy points (percent): with α = w·IOR/100 − (1−w)·HLR/100,
// DDRS = (e^α − e^−1) / (e − e^−1). w = 0.5 weighs both equally (DD-Ranking's default).
func DDRS(hlr, ior, w float64) float64 {
	a := w*ior/100 - (1-w)*hlr/100
	return (math.Exp(a) - math.Exp(-1)) / (math.E - math.Exp(-1))
}

func ddNote(w float64) string {
	return fmt.Sprintf("DD-Ranking (Li et al. 2025): HLR = acc(full training set) − acc(condensed), "+
		"IOR = acc(condensed) − acc(random selection at the same IPC), both with the same model, augmentation and schedule; "+
		"DDRS = (e^α − e^−1)/(e − e^−1) with α = %g·IOR − %g·HLR on accuracies as fractions. "+
		"Empty where the `full` or `random` run is missing.", w, 1-w)
}

// ddranking lists HLR, IOR and DDRS for every evaluated cell that has a full-data or
// random-selection counterpart.
func (b *builder) ddranking() (*Table, bool) {
	t := &Table{ID: TableDDRanking, Title: "DD-Ranking: hard-label recovery and improvement over random", Note: ddNote(b.w)}
	t.Columns = []Column{{Name: "Dataset"}, {Name: "Method"}, {Name: "IPC", Numeric: true}, {Name: "Model"}, {Name: "Augment"},
		{Name: "Setting"}, {Name: "Acc", Numeric: true}, {Name: "Random", Numeric: true}, {Name: "Full", Numeric: true},
		{Name: "HLR", Numeric: true}, {Name: "IOR", Numeric: true}, {Name: "DDRS", Numeric: true}}
	informative := false
	for _, c := range b.cells {
		cfg := c.Config
		if cfg.Kind != KindEval || cfg.Method == MethodFull || c.Status() != StatusOK {
			continue
		}
		ek := evalKey(cfg)
		full := b.find(func(x Config) bool { return x.Method == MethodFull && evalKey(x) == ek })
		rnd := b.find(func(x Config) bool { return x.Method == "random" && x.IPC == cfg.IPC && evalKey(x) == ek })
		if full == nil && (rnd == nil || cfg.Method == "random") {
			continue
		}
		informative = true
		b.use(TableDDRanking, c)
		hlr, ior, ddrs := b.fair(c)
		ref := func(x *Cell) Field {
			if x == nil {
				return Field{}
			}
			return numField(x.Stat().Mean, 2, false)
		}
		t.Rows = append(t.Rows, []Field{{Text: cfg.Dataset}, {Text: cfg.Method}, ipcField(cfg), {Text: cfg.Model}, {Text: cfg.Augment},
			{Text: describe(cfg, "model")}, cellField(c, 2), ref(rnd), ref(full),
			numField(hlr, 2, true), numField(ior, 2, true), numField(ddrs, 3, false)})
		for _, x := range []struct {
			key string
			v   float64
		}{{"hlr", hlr}, {"ior", ior}, {"ddrs", ddrs}} {
			if !math.IsNaN(x.v) {
				t.Measures = append(t.Measures, Measure{Table: TableDDRanking, Dataset: cfg.Dataset, Method: cfg.Method, IPC: cfg.IPC,
					Key: cfg.Model + "/" + cfg.Augment + "/" + x.key, Setting: describe(cfg, "model"), Status: StatusOK,
					Stat: kernelext.Stat{Mean: x.v, N: 1}})
			}
		}
	}
	return t, informative
}
