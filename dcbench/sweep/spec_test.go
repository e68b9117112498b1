package sweep

import (
	"os"
	"strings"
	"testing"

	"github.com/dcbench/dcbench/dcbench/results"
)

func TestMain(m *testing.M) {
	if os.Getenv("GOMLX_BACKEND") == "" {
		os.Setenv("GOMLX_BACKEND", "gogemm:ops_sequential")
	}
	if os.Getenv("DCBENCH_SWEEP_HELPER") != "" {
		os.Exit(helperMain())
	}
	os.Exit(m.Run())
}

const demoJSON = `{
  "name": "demo",
  "methods": ["random", "kip"],
  "ipc": [1, 2],
  "augment": ["none", "dsa"],
  "seeds": 2,
  "epochs": 2,
  "test_n": 100,
  "method_params": {"dc": {"iterations": 10}},
  "grids": [{}, {"methods": "full", "seeds": [0]}]
}`

const demoYAML = `# the same sweep in YAML
name: demo
methods: [random, kip]
ipc:
  - 1
  - 2
augment: [none, "dsa"]   # quoted or not
seeds: 2
epochs: 2
test_n: 100
method_params:
  dc: {iterations: 10}
grids:
  - {}
  - methods: full
    seeds: [0]
`

func TestParseSpecJSONAndYAML(t *testing.T) {
	js, err := ParseSpec([]byte(demoJSON), "demo.json")
	if err != nil {
		t.Fatal(err)
	}
	ym, err := ParseSpec([]byte(demoYAML), "demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rj, err := js.Expand()
	if err != nil {
		t.Fatal(err)
	}
	ry, err := ym.Expand()
	if err != nil {
		t.Fatal(err)
	}
	// random and kip: 2 ipc × 2 aug × 2 seeds = 8 each; full: 2 aug × 1 seed (ipc collapses).
	if len(rj) != 18 || len(ry) != len(rj) {
		t.Fatalf("%d JSON runs, %d YAML runs; want 18", len(rj), len(ry))
	}
	for i := range rj {
		if rj[i].Key != ry[i].Key {
			t.Fatalf("run %d: %s (JSON) vs %s (YAML)", i, rj[i], ry[i])
		}
	}
	r := rj[0]
	if r.Config.Dataset != "cifar10-embedded" || r.Config.Model != "convnet" || r.Config.Epochs != 2 || r.Config.TestN != 100 ||
		r.Config.Optimizer != "sgd" || r.SetHash == "" {
		t.Errorf("first run %+v", r.Config)
	}
	last := rj[len(rj)-1]
	if last.Config.Method != results.MethodFull || last.Config.IPC != 0 || last.SetHash != "" {
		t.Errorf("full run %+v", last)
	}
}

func TestSpecErrors(t *testing.T) {
	cases := []struct{ name, spec, want string }{
		{"unknown field", `{"methods": ["random"], "ipc": [1], "agument": ["dsa"]}`, `unknown field "agument" (valid: name, preset`},
		{"wrong type", `{"methods": ["random"], "ipc": [1], "epochs": "ten"}`, `field "epochs": want an integer, got a string`},
		{"wrong list type", `{"methods": ["random"], "ipc": ["one"]}`, `want an integer or a list of integers`},
		{"json syntax", "{\n\"methods\": [\"random\"],\n\"ipc\": [1,]\n}", "line 3"},
		{"no methods", `{"ipc": [1]}`, `grid 1: no methods`},
		{"no ipc", `{"methods": ["random"]}`, `no ipc`},
		{"ipc zero", `{"methods": ["random"], "ipc": [0]}`, `ipc must be at least 1, got 0`},
		{"unknown method", `{"methods": ["rnadom"], "ipc": [1]}`, `unknown method "rnadom" (registered: `},
		{"unknown augmentation", `{"methods": ["random"], "ipc": [1], "augment": ["mixup"]}`, `unknown augmentation "mixup" (valid:`},
		{"unknown model", `{"methods": ["random"], "ipc": [1], "models": ["resnet9000"]}`, `unknown model "resnet9000"`},
		{"unknown optimizer", `{"methods": ["random"], "ipc": [1], "optimizers": ["rmsprop"]}`, `unknown optimizer "rmsprop"`},
		{"unknown dataset", `{"methods": ["random"], "ipc": [1], "datasets": ["imagenet21k"]}`, `unknown dataset "imagenet21k"`},
		{"unknown preset", `{"preset": "table42"}`, `unknown preset "table42" (valid: fig5, fig6, fig7, fig8, table4`},
		{"cost of full", `{"kind": "cost", "methods": ["full"]}`, `method full condenses nothing`},
		{"bad kind", `{"kind": "bench", "methods": ["random"], "ipc": [1]}`, `unknown kind "bench"`},
		{"bad host augment", `{"methods": ["random"], "ipc": [1], "augment": ["randaug"], "host_augment": "per_batch"}`, `unknown host augmentation mode "per_batch" (valid: reference, per_image)`},
		{"negative epochs", `{"methods": ["random"], "ipc": [1], "epochs": -1}`, `epochs must be positive`},
		{"bad seeds", `{"methods": ["random"], "ipc": [1], "seeds": 0}`, `seed count must be between 1 and 10000`},
		{"error in grid 2", `{"methods": ["random"], "ipc": [1], "grids": [{}, {"augment": ["mixup"]}]}`, `grid 2: unknown augmentation`},
		{"nested grids", `{"grids": [{"preset": "table4"}]}`, `grid 1: a grid cannot hold a preset or grids`},
		{"yaml indentation", "methods: [random]\nipc: [1]\n   epochs: 2\n", "line 3: unexpected indentation"},
		{"yaml not a mapping", "methods [random]\n", `line 1: expected "key: value"`},
		{"yaml block scalar", "name: |\n  x\nmethods: [random]\n", "line 1: multi-line strings"},
		{"yaml unterminated list", "methods: [random\n", "line 1: unterminated list"},
		{"yaml duplicate key", "methods: [random]\nmethods: [dc]\n", `line 2: key "methods" given twice`},
		{"yaml tab", "methods:\n\t- random\n", "line 2: tabs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := "spec.json"
			if strings.HasPrefix(tc.name, "yaml") {
				name = "spec.yaml"
			}
			s, err := ParseSpec([]byte(tc.spec), name)
			if err == nil {
				_, err = s.Expand()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestSpecHostAugment: host_augment reaches the runs of host augmentations (reference when
// unset), and only theirs.
func TestSpecHostAugment(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{`{"methods": ["random"], "ipc": [1], "augment": ["randaug", "dsa"]}`, "randaug=reference dsa="},
		{`{"methods": ["random"], "ipc": [1], "augment": ["randaug", "dsa"], "host_augment": "per_image"}`, "randaug=per_image dsa="},
	} {
		s, err := ParseSpec([]byte(tc.spec), "spec.json")
		if err != nil {
			t.Fatal(err)
		}
		runs, err := s.Expand()
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		var got []string
		for _, r := range runs {
			n := r.Config.Normalize()
			if !seen[n.Augment] {
				seen[n.Augment] = true
				got = append(got, n.Augment+"="+n.HostAugment)
			}
		}
		if g := strings.Join(got, " "); g != tc.want {
			t.Errorf("%s: got %q, want %q", tc.spec, g, tc.want)
		}
	}
}

func TestPresets(t *testing.T) {
	counts := map[string]int{
		"table4": 3 * 7 * 3 * 5 * 5, // datasets × methods × IPC × augmentations × seeds
		"table5": 3 * 7 * 3 * 5 * 5, // … × models × seeds
		"table6": 5 * 13 * 5,
		"table7": 7 * 3 * 2 * 5,
		"table8": 5 * 3 * 3, // methods × IPC × seeds (cost runs)
		"table9": 3 * 3 * 2 * 5,
		"fig6":   2 * 3 * 3 * 5,
		"fig5":   7 * 2 * 5 * 5, // methods × IPC × models × seeds
		"fig7":   6 * 5,
		"fig8":   7 * 5,
	}
	total := 0
	for name, want := range counts {
		p, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		runs, err := p.Expand()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(runs) != want {
			t.Errorf("%s: %d runs, want %d", name, len(runs), want)
		}
		total += len(runs)
	}
	// The union shares runs: Table 5's ConvNet column is Table 4's dsa column, Table 6's IPC
	// 1/10/50 and Table 7's SGD are Table 4 dsa too, Table 9's embedding is plain K-Center,
	// Figure 6's real init is plain DC/DSA.
	all := &Spec{Preset: StringList(Presets())}
	runs, err := all.Expand()
	if err != nil {
		t.Fatal(err)
	}
	// Figures 5, 7 and 8 are parts of Tables 5 and 4.
	shared := 3*7*3*5 + 5*3*5 + 7*3*5 + 3*3*5 + 2*3*5 + 7*2*5*5 + 6*5 + 7*5
	if len(runs) != total-shared {
		t.Errorf("union: %d runs, want %d", len(runs), total-shared)
	}
	// TinyImageNet uses the paper's ConvNet-4; overrides apply to every preset grid.
	p, _ := Preset("t4")
	Override(p, Spec{Datasets: StringList{"tinyimagenet"}, Methods: StringList{"random"}, IPC: IntList{1}, Epochs: 7})
	runs, err = p.Expand()
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 5*5 || runs[0].Config.Model != "convnetd4" || runs[0].Config.Epochs != 7 {
		t.Errorf("overridden preset: %d runs, first %+v", len(runs), runs[0].Config)
	}
	// Table 8 runs are cost runs with the paper's iteration counts.
	p, _ = Preset("table8")
	runs, _ = p.Expand()
	if c := runs[0].Config; c.Kind != results.KindCost || c.Method != "kcenter" || c.CondenseParams["max_iter"] != 300 {
		t.Errorf("table8 run %+v", c)
	}
}

func TestShardParsing(t *testing.T) {
	if s, err := ParseShard("2/4"); err != nil || s != (Shard{2, 4}) {
		t.Errorf("ParseShard(2/4) = %v, %v", s, err)
	}
	for _, bad := range []string{"4/4", "-1/2", "1", "a/b", "0/0"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q) accepted", bad)
		}
	}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	s, src, ok, err := ShardFromEnv(env(map[string]string{"JOB_COMPLETION_INDEX": "3", "DCBENCH_SHARDS": "8"}), 0)
	if err != nil || !ok || s != (Shard{3, 8}) || src != "JOB_COMPLETION_INDEX" {
		t.Errorf("k8s: %v %s %v %v", s, src, ok, err)
	}
	if _, _, _, err := ShardFromEnv(env(map[string]string{"JOB_COMPLETION_INDEX": "3"}), 0); err == nil {
		t.Error("k8s index without a count accepted")
	}
	s, _, ok, err = ShardFromEnv(env(map[string]string{"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "8"}), 0)
	if err != nil || !ok || s != (Shard{4, 8}) {
		t.Errorf("slurm: %v %v %v", s, ok, err)
	}
	if _, _, _, err := ShardFromEnv(env(map[string]string{"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_STEP": "2"}), 0); err == nil {
		t.Error("a stepped Slurm array accepted")
	}
	if s, _, ok, err := ShardFromEnv(env(nil), 0); ok || err != nil || s != All {
		t.Errorf("no job array: %v %v %v", s, ok, err)
	}
	if w := (Shard{3, 12}).Writer(); w != "shard-03-of-12" {
		t.Errorf("writer %s", w)
	}
}

func TestYAMLSubset(t *testing.T) {
	src := `
grids:
  - methods: [dc]
    method_params:
      dc:
        iterations: 10      # nested three deep inside a list item
        lr_img: 0.1
  -
    methods: full
name: "a # not a comment"
data: {cifar10: '/data/it''s here'}
ipc: [1]
seeds:
- 3
- 4
`
	v, err := parseYAML([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[string]any)
	g := m["grids"].([]any)
	dc := g[0].(map[string]any)["method_params"].(map[string]any)["dc"].(map[string]any)
	if dc["iterations"] != int64(10) || dc["lr_img"] != 0.1 || g[1].(map[string]any)["methods"] != "full" {
		t.Errorf("grids %#v", g)
	}
	if m["name"] != "a # not a comment" || m["data"].(map[string]any)["cifar10"] != "/data/it's here" {
		t.Errorf("scalars %#v", m)
	}
	if s := m["seeds"].([]any); len(s) != 2 || s[1] != int64(4) {
		t.Errorf("seeds %#v", m["seeds"])
	}
}
