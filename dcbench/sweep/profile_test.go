package sweep

import "testing"

func TestWithProfile(t *testing.T) {
	for _, tc := range []struct {
		preset, method string
		ipc, runs      int
	}{
		{"table4", "random", 1, 5}, // five augmentations, one seed
		{"table5", "random", 1, 3}, // ConvNet, MLP, ResNet-18
		{"table9", "kcenter", 1, 2},
		{"fig6", "dc", 1, 3},
		{"fig8", "random", 10, 3},  // random, kcenter, dm
		{"table6", "random", 1, 2}, // IPC 1 and 10
		{"fig7", "random", 10, 3},  // random, kcenter, dm
	} {
		p, err := Preset(tc.preset)
		if err != nil {
			t.Fatal(err)
		}
		q, err := WithProfile(p, ProfileQuick)
		if err != nil {
			t.Fatal(err)
		}
		runs, err := q.Expand()
		if err != nil {
			t.Fatalf("%s: %v", tc.preset, err)
		}
		if len(runs) != tc.runs {
			t.Errorf("%s quick: %d runs, want %d", tc.preset, len(runs), tc.runs)
		}
		c := runs[0].Config
		if c.Method != tc.method || c.IPC != tc.ipc || c.Dataset != "cifar10-embedded" || c.Epochs != 10 || c.TestN != 200 {
			t.Errorf("%s quick: first run %+v", tc.preset, c)
		}
		if tc.method == "dc" && c.CondenseParams["iterations"] != 3 {
			t.Errorf("%s quick: dc params %v, want 3 iterations", tc.preset, c.CondenseParams)
		}
		full, _ := WithProfile(p, ProfilePaper)
		fr, _ := full.Expand()
		pr, _ := p.Expand()
		if len(fr) != len(pr) {
			t.Errorf("%s paper: %d runs, want the preset's %d", tc.preset, len(fr), len(pr))
		}
	}
	p, _ := Preset("table8")
	q, _ := WithProfile(p, ProfileQuick)
	runs, err := q.Expand()
	if err != nil || len(runs) != 4 || runs[0].Config.Kind != "cost" || runs[1].Config.CondenseParams["iterations"] != 3 {
		t.Errorf("table8 quick: %v, %+v", err, runs)
	}
	if _, err := WithProfile(&Spec{}, "fast"); err == nil || err.Error() != `unknown profile "fast" (valid: quick, paper)` {
		t.Errorf("unknown profile: %v", err)
	}
}

func TestWithProfileOverride(t *testing.T) {
	p, _ := Preset("fig8")
	Override(p, Spec{Epochs: 50})
	q, err := WithProfile(p, ProfileQuick)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := q.Expand()
	if err != nil || len(runs) != 3 || runs[0].Config.Epochs != 50 || runs[2].Config.Epochs != 50 {
		t.Fatalf("quick with --epochs 50: %v, %+v", err, runs)
	}
}
