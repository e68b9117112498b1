package sweep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Spec is a sweep: a grid over dataset × method × IPC × augmentation × model × optimizer ×
// condensation params × seeds, with one schedule. It reads from JSON or from the simple YAML
// subset described at ParseSpec; the JSON names are shown in the field comments.
//
// A spec is one grid, or the union of Grids (each grid inherits every field it leaves
// unset from the spec), and/or of the grids of Preset (appendix experiments, see Presets);
// fields set at the top level of a spec with a preset override the preset's, so
// {"preset": "table4", "datasets": ["cifar10"], "epochs": 10} is Table 4 on CIFAR-10 with
// 10 epochs.
type Spec struct {
	// Name labels the sweep ("name").
	Name string `json:"name,omitempty"`
	// Preset names appendix grids: table4 ... table9, fig6 ("preset": a name or a list).
	Preset StringList `json:"preset,omitempty"`
	// Kind is "eval" (default: condense, then train and test) or "cost" (condense only,
	// timed: Table 8) ("kind").
	Kind string `json:"kind,omitempty"`
	// Datasets: "embedded" (the CIFAR-10 subset in the repository, default), "cifar10",
	// "cifar100", "tinyimagenet", "mnist", "fashionmnist" ("datasets").
	Datasets StringList `json:"datasets,omitempty"`
	// Data maps a dataset to its folder or archive ("data": {"cifar10": "/data/cifar10"});
	// unset datasets are downloaded into $DCBENCH_DATA.
	Data map[string]string `json:"data,omitempty"`
	// Methods: condensers (dcbench.Methods()), the paper's methods a build does not register
	// (recorded as skipped), or "full" (train on the whole training set) ("methods").
	Methods StringList `json:"methods,omitempty"`
	// IPC: images per class ("ipc"; ignored by "full").
	IPC IntList `json:"ipc,omitempty"`
	// Augment: evaluation augmentations, default none ("augment").
	Augment StringList `json:"augment,omitempty"`
	// Models: evaluation networks, default convnet (the paper's ConvNet: depth 4 on
	// TinyImageNet) ("models").
	Models StringList `json:"models,omitempty"`
	// Optimizers: sgd (default) and/or adam ("optimizers").
	Optimizers StringList `json:"optimizers,omitempty"`
	// Seeds: evaluation seeds, one run each: a list, or a count n for 0..n-1 (default 5).
	// For kind "cost" they are the condensation seeds ("seeds").
	Seeds SeedList `json:"seeds,omitempty"`
	// CondenseSeeds: condensation seeds, one condensed set each (default [0])
	// ("condense_seeds").
	CondenseSeeds SeedList `json:"condense_seeds,omitempty"`
	// CondenseParams is an axis of condenser params: one grid point per map, e.g.
	// [{"init": "real"}, {"init": "noise"}] ("condense_params").
	CondenseParams []map[string]any `json:"condense_params,omitempty"`
	// MethodParams are params for one method in every grid point, e.g.
	// {"dc": {"iterations": 100}} ("method_params").
	MethodParams map[string]map[string]any `json:"method_params,omitempty"`
	// ModelParams are extra model params ("model_params").
	ModelParams map[string]any `json:"model_params,omitempty"`
	// The schedule; 0 means the reference value: epochs 300 (1000 with augmentation), batch
	// 256, lr 0.01 (0.003 for adam) ("epochs", "batch", "lr").
	Epochs int     `json:"epochs,omitempty"`
	Batch  int     `json:"batch,omitempty"`
	LR     float64 `json:"lr,omitempty"`
	// TestN evaluates on a class-balanced subset of this many test images ("test_n").
	TestN int `json:"test_n,omitempty"`
	// HostAugment is the host augmentation mode, train.HostAugmentReference (default:
	// DC-Bench's, one draw per batch on uint8 images) or train.HostAugmentPerImage
	// ("host_augment").
	HostAugment string `json:"host_augment,omitempty"`
	// Grids are sub-grids ("grids").
	Grids []Spec `json:"grids,omitempty"`

	// override is applied last to every grid (Override).
	override *Spec
}

// StringList is a list of strings that also reads from a single string.
type StringList []string

// UnmarshalJSON accepts "a" or ["a", "b"].
func (l *StringList) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*l = StringList{s}
		return nil
	}
	var ss []string
	if err := json.Unmarshal(b, &ss); err != nil {
		return fmt.Errorf("want a string or a list of strings, got %s", short(b))
	}
	*l = ss
	return nil
}

// IntList is a list of integers that also reads from a single integer.
type IntList []int

// UnmarshalJSON accepts 10 or [1, 10, 50].
func (l *IntList) UnmarshalJSON(b []byte) error {
	var n int
	if err := json.Unmarshal(b, &n); err == nil {
		*l = IntList{n}
		return nil
	}
	var ns []int
	if err := json.Unmarshal(b, &ns); err != nil {
		return fmt.Errorf("want an integer or a list of integers, got %s", short(b))
	}
	*l = ns
	return nil
}

// SeedList is a list of seeds; a single number n means the n seeds 0..n-1.
type SeedList []uint64

// UnmarshalJSON accepts a count n (seeds 0..n-1) or a list [0, 1, 7].
func (l *SeedList) UnmarshalJSON(b []byte) error {
	var n int
	if err := json.Unmarshal(b, &n); err == nil {
		if n < 1 || n > 10000 {
			return fmt.Errorf("a seed count must be between 1 and 10000, got %d", n)
		}
		s := make(SeedList, n)
		for i := range s {
			s[i] = uint64(i)
		}
		*l = s
		return nil
	}
	var ss []uint64
	if err := json.Unmarshal(b, &ss); err != nil {
		return fmt.Errorf("want a seed count or a list of non-negative integers, got %s", short(b))
	}
	*l = ss
	return nil
}

func short(b []byte) string {
	s := string(b)
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return s
}

// LoadSpec reads a spec file (see ParseSpec).
func LoadSpec(path string) (*Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sweep spec: %w", err)
	}
	return ParseSpec(b, path)
}

// ParseSpec parses a spec in JSON, or in YAML when name ends in .yaml/.yml or the text does
// not start with "{". The YAML subset: "key: value" mappings and "- item" lists nested by
// indentation (spaces), [a, b] and {k: v} on one line, quoted or plain scalars, # comments.
// Unknown fields and wrongly typed values are errors naming the field (and, for YAML syntax,
// the line).
func ParseSpec(data []byte, name string) (*Spec, error) {
	fail := func(err error) (*Spec, error) {
		if name == "" {
			return nil, fmt.Errorf("sweep spec: %w", err)
		}
		return nil, fmt.Errorf("sweep spec %s: %w", name, err)
	}
	ext := strings.ToLower(filepath.Ext(name))
	js := data
	isJSON := ext == ".json" || ext != ".yaml" && ext != ".yml" && bytes.HasPrefix(bytes.TrimSpace(data), []byte("{"))
	if !isJSON {
		v, err := parseYAML(data)
		if err != nil {
			return fail(err)
		}
		if _, ok := v.(map[string]any); !ok {
			return fail(errors.New("the spec must be a mapping of fields (name, methods, ipc, ...)"))
		}
		if js, err = json.Marshal(v); err != nil {
			return fail(err)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	var s Spec
	if err := dec.Decode(&s); err != nil {
		return fail(explainJSON(err, js, isJSON))
	}
	if dec.More() {
		return fail(errors.New("text after the spec object"))
	}
	return &s, nil
}

// specFields lists the JSON names of Spec, for error messages.
func specFields() []string {
	t := reflect.TypeOf(Spec{})
	var out []string
	for i := 0; i < t.NumField(); i++ {
		if n, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// explainJSON turns encoding/json errors into messages that name the field or line.
func explainJSON(err error, data []byte, isJSON bool) error {
	var syn *json.SyntaxError
	var ute *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn) && isJSON:
		line := 1 + bytes.Count(data[:min(int(syn.Offset), len(data))], []byte("\n"))
		return fmt.Errorf("line %d: %v", line, syn)
	case errors.As(err, &ute):
		want := ute.Type.String()
		switch ute.Type.Kind() {
		case reflect.Int, reflect.Int64, reflect.Uint64:
			want = "an integer"
		case reflect.Float64:
			want = "a number"
		case reflect.String:
			want = "a string"
		case reflect.Bool:
			want = "true or false"
		case reflect.Map, reflect.Struct:
			want = "a mapping"
		case reflect.Slice:
			want = "a list"
		}
		return fmt.Errorf("field %q: want %s, got a %s", ute.Field, want, ute.Value)
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return fmt.Errorf("unknown field %s (valid: %s)", f, strings.Join(specFields(), ", "))
	}
	if strings.HasPrefix(msg, "json: cannot unmarshal") || strings.Contains(msg, "want ") {
		// Errors of the list types come wrapped with the field path by encoding/json.
		return errors.New(strings.TrimPrefix(msg, "json: "))
	}
	return err
}

// merge sets every field of dst that src sets (a zero field of src leaves dst's); method
// params merge per method and key.
func merge(dst *Spec, src Spec) {
	if src.Name != "" {
		dst.Name = src.Name
	}
	if src.Kind != "" {
		dst.Kind = src.Kind
	}
	setList(&dst.Datasets, src.Datasets)
	setList(&dst.Methods, src.Methods)
	setList(&dst.IPC, src.IPC)
	setList(&dst.Augment, src.Augment)
	setList(&dst.Models, src.Models)
	setList(&dst.Optimizers, src.Optimizers)
	setList(&dst.Seeds, src.Seeds)
	setList(&dst.CondenseSeeds, src.CondenseSeeds)
	setList(&dst.CondenseParams, src.CondenseParams)
	if len(src.Data) > 0 {
		d := map[string]string{}
		for k, v := range dst.Data {
			d[k] = v
		}
		for k, v := range src.Data {
			d[k] = v
		}
		dst.Data = d
	}
	if len(src.MethodParams) > 0 {
		mp := map[string]map[string]any{}
		for m, p := range dst.MethodParams {
			mp[m] = copyMap(p)
		}
		for m, p := range src.MethodParams {
			if mp[m] == nil {
				mp[m] = map[string]any{}
			}
			for k, v := range p {
				mp[m][k] = v
			}
		}
		dst.MethodParams = mp
	}
	if len(src.ModelParams) > 0 {
		dst.ModelParams = copyMap(src.ModelParams)
	}
	if src.Epochs != 0 {
		dst.Epochs = src.Epochs
	}
	if src.Batch != 0 {
		dst.Batch = src.Batch
	}
	if src.LR != 0 {
		dst.LR = src.LR
	}
	if src.TestN != 0 {
		dst.TestN = src.TestN
	}
	if src.HostAugment != "" {
		dst.HostAugment = src.HostAugment
	}
}

func setList[S ~[]T, T any](dst *S, src S) {
	if len(src) > 0 {
		*dst = slices.Clone(src)
	}
}

func copyMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// grid is one flattened grid with where it came from, for error messages.
type grid struct {
	Spec
	origin string
}

// flatten returns the spec's grids: each preset's grids overridden by the spec's own
// fields, then each sub-grid over the spec's fields; the spec itself when it has neither.
func (s *Spec) flatten() ([]grid, error) {
	base := *s
	base.Preset, base.Grids, base.override = nil, nil, nil
	var out []grid
	for _, p := range s.Preset {
		ps, err := Preset(p)
		if err != nil {
			return nil, err
		}
		sub, err := ps.flatten()
		if err != nil {
			return nil, err
		}
		for _, g := range sub {
			merge(&g.Spec, base)
			g.origin = "preset " + strings.ToLower(p) + ", " + g.origin
			out = append(out, g)
		}
	}
	for i, g := range s.Grids {
		if len(g.Preset) > 0 || len(g.Grids) > 0 {
			return nil, fmt.Errorf("grid %d: a grid cannot hold a preset or grids of its own", i+1)
		}
		m := base
		merge(&m, g)
		out = append(out, grid{Spec: m, origin: "grid " + strconv.Itoa(i+1)})
	}
	if len(s.Preset) == 0 && len(s.Grids) == 0 {
		out = append(out, grid{Spec: base, origin: "grid 1"})
	}
	if s.override != nil {
		for i := range out {
			merge(&out[i].Spec, *s.override)
		}
	}
	return out, nil
}

// Override makes every field that over sets win over s and all its grids and presets (the
// command-line flags of `dcbench sweep` over a spec file).
func Override(s *Spec, over Spec) {
	o := over
	if s.override != nil {
		o = *s.override
		merge(&o, over)
	}
	s.override = &o
}
