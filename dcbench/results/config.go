package results

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/dcbench/dcbench/dcbench/train"
)

// Kinds of run (Config.Kind).
const (
	// KindEval (stored as "") condenses (or loads the cached set) and trains one network
	// on the set, recording its test accuracy.
	KindEval = ""
	// KindCost condenses only and records the time per iteration and the peak memory
	// (Table 8). It never uses the condensed-set cache: the condensation is what is timed.
	KindCost = "cost"
)

// MethodFull is the pseudo-method that trains on the whole training set: the "real data"
// accuracy of the DD-Ranking columns (hard-label recovery). Its IPC is 0.
const MethodFull = "full"

// Config is everything that defines one run except its evaluation seed: the condensed set
// (dataset, method, IPC, condensation seed and params) and the evaluation training setting.
// Call Normalize before hashing or comparing: it fills the reference defaults, so that a
// config written with defaults left out and one with them spelled out are the same run.
//
// The JSON names are those of the records `dcbench eval` has written since the start, so old
// results files read as records of this type.
type Config struct {
	// Kind is KindEval ("", omitted) or KindCost.
	Kind string `json:"kind,omitempty"`
	// Dataset is the dataset's registry name ("cifar10", ...) or "cifar10-embedded".
	Dataset string `json:"dataset"`
	// Method is the condenser's registry name, or MethodFull.
	Method string `json:"method"`
	// IPC is the number of images per class (0 for MethodFull).
	IPC int `json:"ipc"`
	// CondenseSeed is the seed the condenser draws from.
	CondenseSeed uint64 `json:"condense_seed"`
	// CondenseParams are method-specific settings (dcbench.CondenseOptions.Params); params
	// equal to the method's default are dropped by Normalize.
	CondenseParams map[string]any `json:"condense_params,omitempty"`

	// The evaluation training setting (train.Config); empty for KindCost.
	Model         string         `json:"model,omitempty"`
	ModelParams   map[string]any `json:"model_params,omitempty"`
	Augment       string         `json:"augment,omitempty"`
	Epochs        int            `json:"epochs,omitempty"`
	Optimizer     string         `json:"optimizer,omitempty"`
	LR            float64        `json:"lr,omitempty"`
	Momentum      float64        `json:"momentum,omitempty"`
	NoMomentum    bool           `json:"no_momentum,omitempty"`
	WeightDecay   float64        `json:"weight_decay,omitempty"`
	NoWeightDecay bool           `json:"no_weight_decay,omitempty"`
	Batch         int            `json:"batch,omitempty"`
	DSAStrategy   string         `json:"dsa_strategy,omitempty"`
	HostAugment   string         `json:"host_augment,omitempty"`
	// TestN evaluates on a class-balanced subset of this many test images (0: all).
	TestN int `json:"test_n,omitempty"`
}

// methodDefaults are condenser params whose default value is dropped by Normalize, so that
// e.g. K-Center with "features": "embedding" (Table 9) is the same run, and uses the same
// cached set, as plain K-Center (Table 4).
var methodDefaults = map[string]map[string]string{
	"kcenter": {"features": "embedding"},
	"herding": {"features": "embedding"},
	"dc":      {"init": "real"},
	"dsa":     {"init": "real"},
	"dm":      {"init": "real"},
}

// MethodDefault returns the default value of a condenser param that Normalize drops ("" if
// none is known): "embedding" for K-Center's "features", "real" for DC/DSA/DM's "init".
func MethodDefault(method, param string) string { return methodDefaults[method][param] }

// Normalize returns c with names lower-cased and the reference defaults filled in
// (train.Config.Defaults: ConvNet, SGD lr 0.01 momentum 0.9 weight decay 5e-4, batch 256, 300
// epochs or 1000 with augmentation), params equal to the method's default dropped, and the
// fields that do not apply cleared (the evaluation setting of a KindCost run; the IPC, seed
// and params of MethodFull).
func (c Config) Normalize() Config {
	c.Kind = strings.ToLower(strings.TrimSpace(c.Kind))
	c.Dataset = strings.ToLower(strings.TrimSpace(c.Dataset))
	c.Method = strings.ToLower(strings.TrimSpace(c.Method))
	if c.Method == MethodFull {
		c.IPC, c.CondenseSeed, c.CondenseParams = 0, 0, nil
	}
	if len(c.CondenseParams) > 0 {
		p := make(map[string]any, len(c.CondenseParams))
		for k, v := range c.CondenseParams {
			if d, ok := methodDefaults[c.Method][k]; ok && fmt.Sprint(v) == d {
				continue
			}
			p[k] = v
		}
		c.CondenseParams = p
	}
	if len(c.CondenseParams) == 0 {
		c.CondenseParams = nil
	}
	if c.Kind == KindCost {
		return Config{Kind: c.Kind, Dataset: c.Dataset, Method: c.Method, IPC: c.IPC,
			CondenseSeed: c.CondenseSeed, CondenseParams: c.CondenseParams}
	}
	t := c.Train(0).Defaults()
	c.Model = strings.ToLower(t.Model)
	if len(t.ModelParams) == 0 {
		c.ModelParams = nil
	}
	c.Augment, c.Epochs, c.Optimizer, c.LR = t.Augment, t.Epochs, t.Optimizer, t.LR
	c.Momentum, c.WeightDecay, c.Batch, c.DSAStrategy = t.Momentum, t.WeightDecay, t.BatchSize, t.DSAStrategy
	if c.Augment != "dsa" {
		c.DSAStrategy = "" // only DSA reads it
	}
	c.HostAugment = t.HostAugment
	if !train.IsTorchvisionAugment(c.Augment) {
		c.HostAugment = "" // only the host augmentations read it
	}
	return c
}

// Train returns the evaluation training setting of c with the given seed.
func (c Config) Train(seed uint64) train.Config {
	return train.Config{Model: c.Model, ModelParams: c.ModelParams, Epochs: c.Epochs, BatchSize: c.Batch,
		Optimizer: c.Optimizer, LR: c.LR, Momentum: c.Momentum, NoMomentum: c.NoMomentum,
		WeightDecay: c.WeightDecay, NoWeightDecay: c.NoWeightDecay, Augment: c.Augment,
		DSAStrategy: c.DSAStrategy, HostAugment: c.HostAugment, Seed: seed}
}

// WithTrain returns c with the evaluation setting of t (its seed is not part of a Config).
func (c Config) WithTrain(t train.Config) Config {
	c.Model, c.ModelParams, c.Epochs, c.Batch = t.Model, t.ModelParams, t.Epochs, t.BatchSize
	c.Optimizer, c.LR, c.Momentum, c.NoMomentum = t.Optimizer, t.LR, t.Momentum, t.NoMomentum
	c.WeightDecay, c.NoWeightDecay, c.Augment = t.WeightDecay, t.NoWeightDecay, t.Augment
	c.DSAStrategy, c.HostAugment = t.DSAStrategy, t.HostAugment
	return c
}

// Hash identifies the normalised config: the first 16 hex digits of the SHA-256 of its
// canonical JSON (see CanonicalJSON).
func (c Config) Hash() string { return Hash(c.Normalize()) }

// SetConfig is what identifies a condensed set: the part of Config the condenser sees.
type SetConfig struct {
	Dataset        string         `json:"dataset"`
	Method         string         `json:"method"`
	IPC            int            `json:"ipc"`
	CondenseSeed   uint64         `json:"condense_seed"`
	CondenseParams map[string]any `json:"condense_params,omitempty"`
}

// Set returns the condensed-set part of the normalised config.
func (c Config) Set() SetConfig {
	n := c.Normalize()
	return SetConfig{Dataset: n.Dataset, Method: n.Method, IPC: n.IPC, CondenseSeed: n.CondenseSeed, CondenseParams: n.CondenseParams}
}

// SetHash identifies the condensed set the run evaluates (and names its file in the cache,
// sets/<hash>.dcb).
func (c Config) SetHash() string { return Hash(c.Set()) }

// RunKey is the identity of one run: the config hash and the evaluation seed.
func RunKey(configHash string, seed uint64) string {
	return configHash + "-s" + strconv.FormatUint(seed, 10)
}

// Hash returns the first 16 hex digits of the SHA-256 of v's canonical JSON.
func Hash(v any) string {
	b, err := CanonicalJSON(v)
	if err != nil {
		panic(fmt.Sprintf("results: cannot hash %T: %v", v, err))
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:8])
}

// CanonicalJSON encodes v as JSON with object keys sorted, numbers as Go prints them, no
// spaces, and every zero value (false, 0, "", null, empty object or list) left out. Leaving
// zeros out keeps hashes stable when a field is added to Config later: old configs, which
// lack it, hash as before as long as the new field's zero means "as before".
func CanonicalJSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, err
	}
	x, _ = dropZero(x)
	if x == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(x)
}

// dropZero removes zero values recursively; keep is false when v itself is zero.
func dropZero(v any) (out any, keep bool) {
	switch x := v.(type) {
	case nil:
		return nil, false
	case bool:
		return x, x
	case string:
		return x, x != ""
	case json.Number:
		f, err := x.Float64()
		if err == nil && f == 0 {
			return nil, false
		}
		// Canonical text: integers without exponent, others as Go formats float64.
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return json.Number(strconv.FormatInt(i, 10)), true
		}
		if err == nil {
			return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), true
		}
		return x, true
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			if e2, ok := dropZero(e); ok {
				m[k] = e2
			}
		}
		return m, len(m) > 0
	case []any:
		if len(x) == 0 {
			return nil, false
		}
		l := make([]any, len(x))
		for i, e := range x {
			e2, ok := dropZero(e)
			if !ok { // positions matter in a list: keep its zeros, in canonical form
				switch e.(type) {
				case json.Number:
					e2 = json.Number("0")
				case map[string]any:
					e2 = map[string]any{}
				case []any:
					e2 = []any{}
				default:
					e2 = e
				}
			}
			l[i] = e2
		}
		return l, true
	}
	return v, true
}

// paramString formats condense params as "k=v, k=v" (sorted), for labels.
func paramString(p map[string]any) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%v", k, p[k])
	}
	return strings.Join(parts, ", ")
}
