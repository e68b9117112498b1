// Package reference gives typed access to the DC-Bench reference numbers (Cui et al. 2022,
// "DC-BENCH: Dataset Condensation Benchmark"): the appendix Tables 4–9 and the public
// leaderboard, embedded from machine-readable CSV copies in data/.
//
// Read data/README.md (also available as [Readme]) for what every column means, where the
// numbers come from and which cells are known to be doubtful (for instance KIP's "dsa"
// numbers on CIFAR-10, or the ViT column of Table 5 whose stds are all missing).
//
// Conventions:
//   - Accuracies are top-1 test accuracy in percent, mean ± population std (ddof=0) over 5
//     evaluation runs, kept exactly as printed ([Entry.MeanText], [Entry.StdText]).
//   - A blank CSV field is a missing value, never a zero: missing accuracies have no [Entry]
//     at all (so [Lookup] reports them as not found), and a missing std has
//     [Entry.HasStd] == false.
//   - Table 8's MTT IPC 50 row ("OOM" in the paper) is kept, with [CostRow.OOM] and
//     [Entry.OOM] set and no values.
//
// Names given to [Lookup] and the Normalize* functions are matched case-insensitively and
// ignoring punctuation, so "cifar10", "CIFAR-10" and "cifar_10" are the same dataset and
// "kcenter" and "K-Center" the same method.
//
// The parsed tables are built once, on first use, from the embedded files; every accessor
// returns a fresh copy that the caller may modify.
package reference

import (
	"bytes"
	"embed"
	"encoding/csv"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"sync"
)

//go:embed data/*.csv data/README.md data/dcbench-appendix.txt
var dataFS embed.FS

// Table names accepted by [Lookup] and [Entries] (aliases are accepted too, see
// [NormalizeTable]), and stored in [Entry.Table].
const (
	// TableAugmentation is Table 4: ConvNet accuracy under evaluation-time augmentation.
	// Keys are augmentations: "none", "imagenet_aug", "randaug", "autoaug", "dsa".
	TableAugmentation = "table4"
	// TableTransfer is Table 5: cross-architecture transfer (DSA augmentation at evaluation).
	// Keys are models: "ConvNet", "MLP", "ResNet18", "ResNet152", "ViT".
	TableTransfer = "table5"
	// TableIPCSweep is Table 6: CIFAR-10 accuracy for IPC 1 to 1000 (ConvNet, DSA
	// augmentation). Its only key is "dsa".
	TableIPCSweep = "table6"
	// TableOptimizer is Table 7: SGD vs Adam on CIFAR-10 (DSA augmentation). Keys are
	// optimizers: "SGD", "Adam".
	TableOptimizer = "table7"
	// TableCost is Table 8: condensation cost on CIFAR-10. Keys are "seconds_per_iter"
	// (mean ± std seconds per iteration) and "gpu_memory_mb" (no std).
	TableCost = "table8"
	// TableKCenterFeatures is Table 9: K-Center with raw-pixel vs embedding features. Keys
	// are "raw_input" and "embedding"; the method is always "K-Center" and there is no std.
	TableKCenterFeatures = "table9"
	// TableLeaderboard is the public leaderboard. Keys are "best", "avg", "transfer" and
	// "nas_spearman"; there is no std.
	TableLeaderboard = "leaderboard"
)

// Keys of [TableCost], [TableKCenterFeatures] and [TableLeaderboard] entries.
const (
	KeySecondsPerIter = "seconds_per_iter"
	KeyGPUMemoryMB    = "gpu_memory_mb"
	KeyRawInput       = "raw_input"
	KeyEmbedding      = "embedding"
	KeyBest           = "best"
	KeyAvg            = "avg"
	KeyTransfer       = "transfer"
	KeyNASSpearman    = "nas_spearman"
)

// Entry is one reference number: the mean (± std) of a (dataset, method, IPC, key) cell of
// one table. Key is the augmentation (Table 4), the model (Table 5), "dsa" (Table 6), the
// optimizer (Table 7), or the column name (Tables 8, 9 and the leaderboard).
type Entry struct {
	// Table is one of the Table* constants, e.g. "table4".
	Table string
	// Dataset is "CIFAR-10", "CIFAR-100" or "TinyImageNet".
	Dataset string
	// Method is "Random", "K-Center", "DC", "DSA", "DM", "KIP" or "MTT".
	Method string
	// IPC is the number of images per class.
	IPC int
	// Key is the augmentation, model, optimizer or column, spelled as in the CSV.
	Key string
	// Mean is the printed mean (accuracy in percent, seconds, MB or a correlation).
	Mean float64
	// Std is the printed std; only meaningful if HasStd.
	Std float64
	// HasStd is false where the table prints no std or the std is missing.
	HasStd bool
	// MeanText and StdText are the numbers exactly as printed (e.g. "15.4", "12.303");
	// StdText is "" if !HasStd.
	MeanText, StdText string
	// OOM marks Table 8's MTT IPC 50 cells, printed "OOM": Mean and Std are meaningless.
	OOM bool
}

// String formats the entry as printed in the paper: "31.00 ± 0.48", "14.19" when there is
// no std, or "OOM".
func (e Entry) String() string {
	switch {
	case e.OOM:
		return "OOM"
	case e.HasStd:
		return e.MeanText + " ± " + e.StdText
	default:
		return e.MeanText
	}
}

// CostRow is one row of Table 8 (condensation cost on CIFAR-10, one A100 40 GB GPU).
type CostRow struct {
	// Method is "K-Center", "DC", "DSA", "DM" or "MTT".
	Method string
	// IPC is the number of images per class (1, 10 or 50).
	IPC int
	// SecondsPerIter and SecondsPerIterStd are the time per iteration, mean ± std.
	SecondsPerIter, SecondsPerIterStd float64
	// GPUMemoryMB is the GPU memory used, in MB.
	GPUMemoryMB float64
	// OOM is true for the row printed "OOM" (MTT IPC 50): all values are missing.
	OOM bool
}

// KCenterFeatureRow is one row of Table 9: K-Center accuracy (no std printed) with k-means
// on raw pixels or on ConvNet embeddings.
type KCenterFeatureRow struct {
	// Dataset is "CIFAR-10", "CIFAR-100" or "TinyImageNet".
	Dataset string
	// IPC is the number of images per class (1, 10 or 50).
	IPC int
	// RawInput and Embedding are the accuracies (percent) with k-means on raw pixels and
	// on ConvNet features.
	RawInput, Embedding float64
}

// LeaderboardRow is one row of the public DC-Bench leaderboard.
type LeaderboardRow struct {
	// Dataset is "CIFAR-10", "CIFAR-100" or "TinyImageNet".
	Dataset string
	// Method is "Random", "K-Center", "DC", "DSA", "DM" or "MTT" (the site's "TM").
	Method string
	// IPC is the number of images per class (1, 10 or 50).
	IPC int
	// Best is "Test Accuracy(Best)" (equals Table 4 dsa but for one row).
	Best float64
	// Avg is "Test Accuracy(Avg)": the mean over the imagenet_aug, randaug, autoaug and dsa
	// augmentations of Table 4.
	Avg float64
	// Transfer is "Transfer Accuracy(Avg)": the mean of Table 5's MLP, ResNet18, ResNet152.
	Transfer float64
	// NASSpearman is the "NAS Ranking Correlation" (type not named by the site).
	NASSpearman float64
	// HasNASSpearman is true only for CIFAR-10 IPC 50; elsewhere the cell is blank.
	HasNASSpearman bool
}

// tables holds everything parsed from the embedded CSVs.
type tables struct {
	t4, t5, t6, t7 []Entry
	t8             []CostRow
	t9             []KCenterFeatureRow
	lb             []LeaderboardRow
	byTable        map[string][]Entry
	index          map[lookupKey]Entry
}

type lookupKey struct {
	table, dataset, method string
	ipc                    int
	key                    string
}

var (
	loadOnce sync.Once
	loaded   *tables
	loadErr  error
)

// get returns the parsed tables; the embedded data is validated by the package tests, so a
// parse error is a build defect and panics.
func get() *tables {
	loadOnce.Do(func() { loaded, loadErr = parseAll(dataFS) })
	if loadErr != nil {
		panic(fmt.Sprintf("dcbench/reference: embedded data is broken: %v", loadErr))
	}
	return loaded
}

// Table4 returns Table 4 (ConvNet accuracy under evaluation-time augmentation): 278 entries,
// Key is the augmentation.
func Table4() []Entry { return clone(get().t4) }

// Table5 returns Table 5 (cross-architecture transfer): 289 entries, Key is the model. ViT
// entries have no std.
func Table5() []Entry { return clone(get().t5) }

// Table6 returns Table 6 (CIFAR-10 IPC sweep, 1 to 1000): 65 entries, Dataset is
// "CIFAR-10" and Key is "dsa".
func Table6() []Entry { return clone(get().t6) }

// Table7 returns Table 7 (SGD vs Adam on CIFAR-10): 18 entries, Key is the optimizer.
func Table7() []Entry { return clone(get().t7) }

// Table8 returns Table 8 (condensation cost on CIFAR-10): 15 rows, including the OOM row.
func Table8() []CostRow { return clone(get().t8) }

// Table9 returns Table 9 (K-Center feature ablation): 9 rows.
func Table9() []KCenterFeatureRow { return clone(get().t9) }

// Leaderboard returns the public leaderboard: 54 rows (3 datasets × 3 IPCs × 6 methods;
// KIP is absent).
func Leaderboard() []LeaderboardRow { return clone(get().lb) }

// Entries returns every entry of the given table (any name accepted by [NormalizeTable]) in
// the uniform [Entry] form: Tables 8, 9 and the leaderboard are flattened to one entry per
// present value (the OOM row of Table 8 gives two entries with OOM set). It returns nil for
// an unknown table.
func Entries(table string) []Entry {
	t, ok := NormalizeTable(table)
	if !ok {
		return nil
	}
	return clone(get().byTable[t])
}

// Lookup returns the paper's number for one cell, to be put beside a reproduced one.
//
// table is any name accepted by [NormalizeTable] ("table4", "4", "augmentation", …);
// dataset, method and key are normalised (see [NormalizeDataset], [NormalizeMethod],
// [NormalizeModel], [NormalizeAugmentation], [NormalizeOptimizer]). Tables 6, 7 and 8 are
// CIFAR-10 only and also accept an empty dataset; Table 9 accepts an empty method. An empty
// key selects the table's headline column: "dsa" (Tables 4, 6), "ConvNet" (Table 5), "SGD"
// (Table 7), "seconds_per_iter" (Table 8), "embedding" (Table 9), "best" (leaderboard).
//
// ok is false for unknown names and for cells that are blank or absent in the source. Table
// 8's MTT IPC 50 cells are found, with Entry.OOM set.
func Lookup(table, dataset, method string, ipc int, key string) (Entry, bool) {
	t, ok := NormalizeTable(table)
	if !ok {
		return Entry{}, false
	}
	switch t {
	case TableIPCSweep, TableOptimizer, TableCost:
		if strings.TrimSpace(dataset) == "" {
			dataset = "CIFAR-10"
		}
	case TableKCenterFeatures:
		if strings.TrimSpace(method) == "" {
			method = "K-Center"
		}
	}
	d, ok := NormalizeDataset(dataset)
	if !ok {
		return Entry{}, false
	}
	m, ok := NormalizeMethod(method)
	if !ok {
		return Entry{}, false
	}
	k, ok := normalizeKey(t, key)
	if !ok {
		return Entry{}, false
	}
	e, ok := get().index[lookupKey{t, d, m, ipc, k}]
	return e, ok
}

// Readme returns the embedded data/README.md, which documents every table and its quirks.
func Readme() string { return mustRead("data/README.md") }

// Appendix returns the embedded OCR text of the DC-Bench appendix (dcbench-appendix.txt).
func Appendix() string { return mustRead("data/dcbench-appendix.txt") }

// Files returns the embedded data folder: the CSVs, README.md and dcbench-appendix.txt, at
// the root of the returned file system.
func Files() fs.FS {
	sub, err := fs.Sub(dataFS, "data")
	if err != nil {
		panic(err)
	}
	return sub
}

func mustRead(name string) string {
	b, err := dataFS.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func clone[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

// ---------------------------------------------------------------------------------------
// Parsing.

// csvRows reads a CSV with the expected header and returns its records as maps.
func csvRows(fsys fs.FS, name string, header []string) ([]map[string]string, error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimPrefix(b, []byte("\uFEFF"))
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = len(header)
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: empty", name)
	}
	for i, h := range header {
		if strings.TrimSpace(recs[0][i]) != h {
			return nil, fmt.Errorf("%s: header %v, want %v", name, recs[0], header)
		}
	}
	out := make([]map[string]string, 0, len(recs)-1)
	for _, rec := range recs[1:] {
		m := make(map[string]string, len(header))
		for i, h := range header {
			m[h] = strings.TrimSpace(rec[i])
		}
		out = append(out, m)
	}
	return out, nil
}

// cell is one optional numeric field.
type cell struct {
	v    float64
	text string
	ok   bool
}

func parseCell(s string) (cell, error) {
	if s == "" {
		return cell{}, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return cell{}, fmt.Errorf("bad number %q", s)
	}
	return cell{v: v, text: s, ok: true}, nil
}

// rowParser accumulates the first error while converting the fields of one row.
type rowParser struct {
	name string
	line int
	row  map[string]string
	err  error
}

func (p *rowParser) fail(format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("%s:%d: %s", p.name, p.line, fmt.Sprintf(format, args...))
	}
}

func (p *rowParser) opt(col string) cell {
	c, err := parseCell(p.row[col])
	if err != nil {
		p.fail("%s: %v", col, err)
	}
	return c
}

func (p *rowParser) req(col string) cell {
	c := p.opt(col)
	if !c.ok {
		p.fail("%s: blank", col)
	}
	return c
}

func (p *rowParser) ipc(col string) int {
	n, err := strconv.Atoi(p.row[col])
	if err != nil || n <= 0 {
		p.fail("%s: bad IPC %q", col, p.row[col])
	}
	return n
}

func (p *rowParser) name2(col string, norm func(string) (string, bool)) string {
	s, ok := norm(p.row[col])
	if !ok {
		p.fail("%s: unknown %q", col, p.row[col])
	}
	return s
}

// parseTable reads name with header and converts each row with conv.
func parseTable[T any](fsys fs.FS, name string, header []string, conv func(p *rowParser) T) ([]T, error) {
	rows, err := csvRows(fsys, name, header)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(rows))
	for i, row := range rows {
		p := &rowParser{name: name, line: i + 2, row: row}
		v := conv(p)
		if p.err != nil {
			return nil, p.err
		}
		out = append(out, v)
	}
	return out, nil
}

func stdEntry(p *rowParser, e Entry) Entry {
	m, s := p.req("mean"), p.opt("std")
	e.Mean, e.MeanText = m.v, m.text
	e.Std, e.StdText, e.HasStd = s.v, s.text, s.ok
	return e
}

func parseAll(fsys fs.FS) (*tables, error) {
	t := &tables{}
	var err error
	t.t4, err = parseTable(fsys, "data/table4_augmentation.csv",
		[]string{"dataset", "method", "ipc", "augmentation", "mean", "std"},
		func(p *rowParser) Entry {
			return stdEntry(p, Entry{Table: TableAugmentation, Dataset: p.name2("dataset", NormalizeDataset),
				Method: p.name2("method", NormalizeMethod), IPC: p.ipc("ipc"),
				Key: p.name2("augmentation", NormalizeAugmentation)})
		})
	if err != nil {
		return nil, err
	}
	t.t5, err = parseTable(fsys, "data/table5_transfer.csv",
		[]string{"dataset", "method", "ipc", "model", "mean", "std"},
		func(p *rowParser) Entry {
			return stdEntry(p, Entry{Table: TableTransfer, Dataset: p.name2("dataset", NormalizeDataset),
				Method: p.name2("method", NormalizeMethod), IPC: p.ipc("ipc"),
				Key: p.name2("model", NormalizeModel)})
		})
	if err != nil {
		return nil, err
	}
	t.t6, err = parseTable(fsys, "data/table6_ipc_sweep.csv",
		[]string{"ipc", "method", "mean", "std"},
		func(p *rowParser) Entry {
			return stdEntry(p, Entry{Table: TableIPCSweep, Dataset: "CIFAR-10",
				Method: p.name2("method", NormalizeMethod), IPC: p.ipc("ipc"), Key: "dsa"})
		})
	if err != nil {
		return nil, err
	}
	t.t7, err = parseTable(fsys, "data/table7_optimizer.csv",
		[]string{"optimizer", "method", "ipc", "mean", "std"},
		func(p *rowParser) Entry {
			return stdEntry(p, Entry{Table: TableOptimizer, Dataset: "CIFAR-10",
				Method: p.name2("method", NormalizeMethod), IPC: p.ipc("ipc"),
				Key: p.name2("optimizer", NormalizeOptimizer)})
		})
	if err != nil {
		return nil, err
	}
	t.t8, err = parseTable(fsys, "data/table8_time_memory.csv",
		[]string{"method", "ipc", "seconds_per_iter_mean", "seconds_per_iter_std", "gpu_memory_mb"},
		func(p *rowParser) CostRow {
			r := CostRow{Method: p.name2("method", NormalizeMethod), IPC: p.ipc("ipc")}
			m, s, g := p.opt("seconds_per_iter_mean"), p.opt("seconds_per_iter_std"), p.opt("gpu_memory_mb")
			switch {
			case !m.ok && !s.ok && !g.ok:
				r.OOM = true
			case m.ok && s.ok && g.ok:
				r.SecondsPerIter, r.SecondsPerIterStd, r.GPUMemoryMB = m.v, s.v, g.v
			default:
				p.fail("partially blank row")
			}
			return r
		})
	if err != nil {
		return nil, err
	}
	t.t9, err = parseTable(fsys, "data/table9_kcenter_features.csv",
		[]string{"dataset", "ipc", "raw_input", "embedding"},
		func(p *rowParser) KCenterFeatureRow {
			return KCenterFeatureRow{Dataset: p.name2("dataset", NormalizeDataset), IPC: p.ipc("ipc"),
				RawInput: p.req("raw_input").v, Embedding: p.req("embedding").v}
		})
	if err != nil {
		return nil, err
	}
	t.lb, err = parseTable(fsys, "data/leaderboard.csv",
		[]string{"dataset", "method", "ipc", "best", "avg", "transfer", "nas_spearman"},
		func(p *rowParser) LeaderboardRow {
			nas := p.opt("nas_spearman")
			return LeaderboardRow{Dataset: p.name2("dataset", NormalizeDataset),
				Method: p.name2("method", NormalizeMethod), IPC: p.ipc("ipc"),
				Best: p.req("best").v, Avg: p.req("avg").v, Transfer: p.req("transfer").v,
				NASSpearman: nas.v, HasNASSpearman: nas.ok}
		})
	if err != nil {
		return nil, err
	}

	// Flattened forms of tables 8, 9 and the leaderboard, keeping the printed text.
	t8e, err := parseTable(fsys, "data/table8_time_memory.csv",
		[]string{"method", "ipc", "seconds_per_iter_mean", "seconds_per_iter_std", "gpu_memory_mb"},
		func(p *rowParser) []Entry {
			base := Entry{Table: TableCost, Dataset: "CIFAR-10", Method: p.name2("method", NormalizeMethod), IPC: p.ipc("ipc")}
			m, s, g := p.opt("seconds_per_iter_mean"), p.opt("seconds_per_iter_std"), p.opt("gpu_memory_mb")
			if !m.ok {
				a, b := base, base
				a.Key, a.OOM = KeySecondsPerIter, true
				b.Key, b.OOM = KeyGPUMemoryMB, true
				return []Entry{a, b}
			}
			a, b := base, base
			a.Key, a.Mean, a.MeanText, a.Std, a.StdText, a.HasStd = KeySecondsPerIter, m.v, m.text, s.v, s.text, true
			b.Key, b.Mean, b.MeanText = KeyGPUMemoryMB, g.v, g.text
			return []Entry{a, b}
		})
	if err != nil {
		return nil, err
	}
	t9e, err := parseTable(fsys, "data/table9_kcenter_features.csv",
		[]string{"dataset", "ipc", "raw_input", "embedding"},
		func(p *rowParser) []Entry {
			return columnsAsEntries(p, Entry{Table: TableKCenterFeatures, Dataset: p.name2("dataset", NormalizeDataset),
				Method: "K-Center", IPC: p.ipc("ipc")}, KeyRawInput, KeyEmbedding)
		})
	if err != nil {
		return nil, err
	}
	lbe, err := parseTable(fsys, "data/leaderboard.csv",
		[]string{"dataset", "method", "ipc", "best", "avg", "transfer", "nas_spearman"},
		func(p *rowParser) []Entry {
			return columnsAsEntries(p, Entry{Table: TableLeaderboard, Dataset: p.name2("dataset", NormalizeDataset),
				Method: p.name2("method", NormalizeMethod), IPC: p.ipc("ipc")}, KeyBest, KeyAvg, KeyTransfer, KeyNASSpearman)
		})
	if err != nil {
		return nil, err
	}

	t.byTable = map[string][]Entry{
		TableAugmentation:    t.t4,
		TableTransfer:        t.t5,
		TableIPCSweep:        t.t6,
		TableOptimizer:       t.t7,
		TableCost:            flatten(t8e),
		TableKCenterFeatures: flatten(t9e),
		TableLeaderboard:     flatten(lbe),
	}
	t.index = make(map[lookupKey]Entry)
	for name, es := range t.byTable {
		for _, e := range es {
			k := lookupKey{name, e.Dataset, e.Method, e.IPC, e.Key}
			if _, dup := t.index[k]; dup {
				return nil, fmt.Errorf("%s: duplicate cell %s %s IPC%d %s", name, e.Dataset, e.Method, e.IPC, e.Key)
			}
			t.index[k] = e
		}
	}
	return t, nil
}

// columnsAsEntries makes one std-less entry per present (non-blank) column.
func columnsAsEntries(p *rowParser, base Entry, cols ...string) []Entry {
	var out []Entry
	for _, col := range cols {
		c := p.opt(col)
		if !c.ok {
			continue
		}
		e := base
		e.Key, e.Mean, e.MeanText = col, c.v, c.text
		out = append(out, e)
	}
	return out
}

func flatten(ess [][]Entry) []Entry {
	var out []Entry
	for _, es := range ess {
		out = append(out, es...)
	}
	return out
}
