package reference

import (
	"fmt"
	"io/fs"
	"math"
	"strings"
	"testing"
)

func TestRowCounts(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  int
		want int
	}{
		{"table4", len(Table4()), 278},
		{"table5", len(Table5()), 289},
		{"table6", len(Table6()), 65},
		{"table7", len(Table7()), 18},
		{"table8", len(Table8()), 15},
		{"table9", len(Table9()), 9},
		{"leaderboard", len(Leaderboard()), 54},
		// Flattened: table 8 has 2 cells per row; table 9 2 per row; leaderboard 3 per row
		// plus 6 nas_spearman values (CIFAR-10 IPC 50 only).
		{"entries table8", len(Entries("table8")), 30},
		{"entries table9", len(Entries("table9")), 18},
		{"entries leaderboard", len(Entries("leaderboard")), 54*3 + 6},
		{"entries table4", len(Entries("augmentation")), 278},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %d rows, want %d", tc.name, tc.got, tc.want)
		}
	}
	if Entries("nope") != nil {
		t.Errorf("Entries(unknown table) should be nil")
	}
}

func TestKnownValues(t *testing.T) {
	for _, tc := range []struct {
		table, dataset, method string
		ipc                    int
		key                    string
		want                   string // Entry.String()
	}{
		{"table4", "cifar10", "random", 10, "dsa", "31.00 ± 0.48"},
		{"Table4", "CIFAR-10", "Random", 10, "", "31.00 ± 0.48"},
		{"4", "CIFAR-10", "RANDOM", 1, "n/a", "15.06 ± 0.60"},
		{"table4", "tinyimagenet", "dc", 50, "RandAugment", "12.303 ± 0.19"},
		{"table4", "cifar10", "kip", 10, "dsa", "46.14 ± 0.68"},
		{"table4", "cifar10", "kip", 10, "autoaug", "47.23 ± 0.40"},
		{"table5", "cifar10", "kip", 10, "convnet", "47.23 ± 0.40"},
		{"table5", "cifar-10", "random", 1, "", "15.40 ± 0.28"},
		{"table5", "cifar10", "random", 1, "vit", "14.19"},
		{"table5", "cifar100", "dm", 50, "ResNet18", "33.34 ± 0.40"},
		{"table5", "TinyImageNet", "mtt", 50, "convnet", "28.16 ± 0.45"},
		{"table6", "", "dsa", 1000, "", "78.68 ± 0.25"},
		{"table7", "cifar10", "mtt", 10, "adam", "64.94 ± 0.61"},
		{"table7", "", "k-center", 10, "sgd", "41.49 ± 0.73"},
		{"table8", "", "dc", 50, "time", "15.74 ± 0.10"},
		{"table8", "", "dc", 50, "memory", "4527"},
		{"table8", "", "mtt", 50, "", "OOM"},
		{"table8", "", "mtt", 50, "gpu_memory_mb", "OOM"},
		{"table9", "cifar100", "", 50, "raw", "35.15"},
		{"table9", "cifar100", "kcenter", 50, "embedding", "38.64"},
		{"leaderboard", "cifar10", "tm", 50, "nas", "-0.09"},
		{"leaderboard", "tiny", "dsa", 10, "best", "16.43"},
		{"lb", "cifar10", "random", 10, "", "31"},
	} {
		name := fmt.Sprintf("%s/%s/%s/%d/%s", tc.table, tc.dataset, tc.method, tc.ipc, tc.key)
		e, ok := Lookup(tc.table, tc.dataset, tc.method, tc.ipc, tc.key)
		if !ok {
			t.Errorf("%s: not found", name)
			continue
		}
		if got := e.String(); got != tc.want {
			t.Errorf("%s: got %q, want %q", name, got, tc.want)
		}
	}
}

func TestNumericFields(t *testing.T) {
	e, ok := Lookup("table4", "CIFAR-10", "Random", 10, "dsa")
	if !ok || e.Mean != 31.00 || e.Std != 0.48 || !e.HasStd || e.OOM || e.Table != TableAugmentation ||
		e.Dataset != "CIFAR-10" || e.Method != "Random" || e.IPC != 10 || e.Key != "dsa" {
		t.Errorf("Table 4 CIFAR-10 Random IPC10 dsa = %+v", e)
	}
	var oom []CostRow
	for _, r := range Table8() {
		if r.OOM {
			oom = append(oom, r)
		}
	}
	if len(oom) != 1 || oom[0].Method != "MTT" || oom[0].IPC != 50 {
		t.Errorf("Table 8 OOM rows = %+v, want only MTT IPC50", oom)
	}
	for _, r := range Table8() {
		if r.Method == "MTT" && r.IPC == 10 && (r.SecondsPerIter != 0.40 || r.SecondsPerIterStd != 0.20 || r.GPUMemoryMB != 8049) {
			t.Errorf("Table 8 MTT IPC10 = %+v", r)
		}
	}
	for _, r := range Leaderboard() {
		wantNAS := r.Dataset == "CIFAR-10" && r.IPC == 50
		if r.HasNASSpearman != wantNAS {
			t.Errorf("leaderboard %s %s IPC%d: HasNASSpearman=%v", r.Dataset, r.Method, r.IPC, r.HasNASSpearman)
		}
		if r.Method == "KIP" {
			t.Errorf("KIP should not be on the leaderboard")
		}
	}
	for _, r := range Table9() {
		if r.Dataset == "CIFAR-10" && r.IPC == 50 && (r.RawInput != 47.00 || r.Embedding != 56.00) {
			t.Errorf("Table 9 CIFAR-10 IPC50 = %+v", r)
		}
	}
}

func TestMissingCells(t *testing.T) {
	for _, tc := range []struct {
		table, dataset, method string
		ipc                    int
		key                    string
	}{
		{"table4", "cifar100", "kcenter", 10, "none"},    // blank "none" column
		{"table4", "tinyimagenet", "mtt", 1, "none"},     // blank "none" column
		{"table4", "cifar100", "kip", 50, "dsa"},         // KIP CIFAR-100 IPC50 absent
		{"table4", "tinyimagenet", "kip", 1, "dsa"},      // no KIP row on TinyImageNet
		{"table5", "cifar100", "kip", 1, "convnet"},      // garbled cell
		{"table5", "tinyimagenet", "mtt", 50, "mlp"},     // lost in OCR
		{"table6", "cifar10", "kip", 10, ""},             // no KIP in table 6
		{"table6", "cifar100", "dsa", 10, ""},            // table 6 is CIFAR-10 only
		{"table8", "", "random", 10, ""},                 // no Random in table 8
		{"leaderboard", "cifar100", "dsa", 50, "nas"},    // NAS only for CIFAR-10 IPC50
		{"leaderboard", "cifar10", "kip", 10, "best"},    // KIP not on leaderboard
		{"table4", "cifar10", "random", 10, "mixup"},     // unknown key
		{"table4", "mnist", "random", 10, "dsa"},         // unknown dataset
		{"table4", "cifar10", "gradmatch", 10, "dsa"},    // unknown method
		{"table99", "cifar10", "random", 10, "dsa"},      // unknown table
		{"table4", "cifar10", "random", 20, "dsa"},       // unknown IPC
		{"table6", "cifar10", "dsa", 10, "randaug"},      // table 6 is dsa only
		{"table9", "cifar10", "random", 10, "embedding"}, // table 9 is K-Center only
	} {
		if e, ok := Lookup(tc.table, tc.dataset, tc.method, tc.ipc, tc.key); ok {
			t.Errorf("%+v: found %v, want missing", tc, e)
		}
	}
	// The ViT std is blank in every Table 5 row: HasStd false, not a zero std.
	for _, e := range Table5() {
		if (e.Key == "ViT") == e.HasStd {
			t.Errorf("Table 5 %s %s IPC%d %s: HasStd=%v", e.Dataset, e.Method, e.IPC, e.Key, e.HasStd)
		}
	}
	// No Table 4 entry for a blank "none" cell.
	for _, e := range Table4() {
		if e.Key == "none" && e.Dataset == "CIFAR-100" && e.Method == "DSA" {
			t.Errorf("unexpected Table 4 entry %+v", e)
		}
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		f    func(string) (string, bool)
		in   string
		want string
	}{
		{NormalizeDataset, "cifar10", "CIFAR-10"},
		{NormalizeDataset, "CIFAR-10", "CIFAR-10"},
		{NormalizeDataset, "Cifar_100", "CIFAR-100"},
		{NormalizeDataset, "tiny-imagenet", "TinyImageNet"},
		{NormalizeMethod, "kcenter", "K-Center"},
		{NormalizeMethod, "K-Center", "K-Center"},
		{NormalizeMethod, "MTT", "MTT"},
		{NormalizeMethod, "МТТ", "MTT"}, // Cyrillic, as in the OCR
		{NormalizeMethod, "dsa", "DSA"},
		{NormalizeModel, "resnet18", "ResNet18"},
		{NormalizeModel, "ResNet-152", "ResNet152"},
		{NormalizeModel, "vit", "ViT"},
		{NormalizeModel, "convnet", "ConvNet"},
		{NormalizeModel, "mlp", "MLP"},
		{NormalizeAugmentation, "imagenet_aug", "imagenet_aug"},
		{NormalizeAugmentation, "AutoAugment", "autoaug"},
		{NormalizeAugmentation, "n/a", "none"},
		{NormalizeOptimizer, "sgd", "SGD"},
		{NormalizeTable, "Table 5", TableTransfer},
		{NormalizeTable, "time_memory", TableCost},
	} {
		got, ok := tc.f(tc.in)
		if !ok || got != tc.want {
			t.Errorf("normalize %q = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
	if _, ok := NormalizeDataset("mnist"); ok {
		t.Errorf("mnist should be unknown")
	}
}

// TestCrossChecks repeats the cross-checks of check_reference.py that the README documents.
func TestCrossChecks(t *testing.T) {
	// Table 6 IPC 1/10/50 == Table 4 CIFAR-10 dsa, exactly.
	for _, e := range Table6() {
		if e.IPC > 50 {
			continue
		}
		r, ok := Lookup("table4", "CIFAR-10", e.Method, e.IPC, "dsa")
		if !ok || r.Mean != e.Mean || r.Std != e.Std {
			t.Errorf("table6 %s IPC%d %v != table4 dsa %v", e.Method, e.IPC, e, r)
		}
	}
	// Table 9 embedding == Table 4 K-Center dsa.
	for _, r := range Table9() {
		e, ok := Lookup("table4", r.Dataset, "K-Center", r.IPC, "dsa")
		if !ok || e.Mean != r.Embedding {
			t.Errorf("table9 %+v != table4 %v", r, e)
		}
	}
	// Leaderboard transfer == mean(MLP, ResNet18, ResNet152) of Table 5 within 0.0101.
	checked := 0
	for _, r := range Leaderboard() {
		sum, n := 0.0, 0
		for _, m := range []string{"MLP", "ResNet18", "ResNet152"} {
			if e, ok := Lookup("table5", r.Dataset, r.Method, r.IPC, m); ok {
				sum += e.Mean
				n++
			}
		}
		if n < 3 {
			continue
		}
		checked++
		if math.Abs(sum/3-r.Transfer) > 0.0101 {
			t.Errorf("leaderboard transfer %s %s IPC%d: %v vs table5 %v", r.Dataset, r.Method, r.IPC, r.Transfer, sum/3)
		}
	}
	if checked != 53 {
		t.Errorf("checked %d leaderboard transfer rows, want 53", checked)
	}
	// Accuracy ranges.
	for _, name := range []string{"table4", "table5", "table6", "table7"} {
		for _, e := range Entries(name) {
			if e.Mean < 0 || e.Mean > 100 || (e.HasStd && (e.Std < 0 || e.Std > 10)) {
				t.Errorf("%s: out of range %+v", name, e)
			}
		}
	}
}

func TestEmbeddedDocs(t *testing.T) {
	if !strings.Contains(Readme(), "table4_augmentation.csv") {
		t.Errorf("README not embedded")
	}
	if !strings.Contains(Appendix(), "Table") || len(Appendix()) != 32085 {
		t.Errorf("appendix not embedded byte for byte (len %d)", len(Appendix()))
	}
	names, err := fs.Glob(Files(), "*.csv")
	if err != nil || len(names) != 7 {
		t.Errorf("Files(): %v, %v", names, err)
	}
}

func TestCopiesAreIndependent(t *testing.T) {
	a := Table4()
	a[0].Mean = -1
	if Table4()[0].Mean == -1 {
		t.Errorf("Table4 returns shared storage")
	}
}

func ExampleLookup() {
	paper, ok := Lookup("table4", "cifar10", "random", 10, "dsa")
	fmt.Println(paper, ok)
	vit, _ := Lookup("table5", "CIFAR-10", "Random", 1, "vit")
	fmt.Println(vit, vit.HasStd)
	oom, _ := Lookup("table8", "", "MTT", 50, "")
	fmt.Println(oom)
	_, ok = Lookup("table4", "CIFAR-100", "KIP", 50, "dsa")
	fmt.Println(ok)
	// Output:
	// 31.00 ± 0.48 true
	// 14.19 false
	// OOM
	// false
}
