package models

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Model is a registered network: a feature extractor and a classifier, with the context
// params that select its variant.
type Model struct {
	// Name is the registry name, lower case (e.g. "convnet", "resnet18").
	Name string
	// Description says what the model is, for listings.
	Description string
	// Params are context params set (in the model's scope) before building, e.g. the depth
	// of "convnetd4".
	Params map[string]any
	// Embed maps NHWC images to features [N, F] (before the classifier).
	Embed func(ctx *context.Context, images *Node) *Node
	// Head maps features to logits; nil means Classifier (one linear layer).
	Head func(ctx *context.Context, features *Node, numClasses int) *Node
}

// Scope applies the model's params to ctx (as a child scope named after the model, so
// several models can share one context) and returns it.
func (m *Model) Scope(ctx *context.Context) *context.Context {
	c := ctx.In(m.Name)
	for k, v := range m.Params {
		if _, found := c.GetParam(k); !found {
			c.SetParam(k, v)
		}
	}
	return c
}

// Features returns the features of images, built in the model's scope.
func (m *Model) Features(ctx *context.Context, images *Node) *Node {
	return m.Embed(m.Scope(ctx), images)
}

// Logits returns the class logits of images, built in the model's scope.
func (m *Model) Logits(ctx *context.Context, images *Node, numClasses int) *Node {
	c := m.Scope(ctx)
	f := m.Embed(c, images)
	if m.Head != nil {
		return m.Head(c, f, numClasses)
	}
	return Classifier(c, f, numClasses)
}

var (
	registryMu sync.RWMutex
	registry   = map[string]*Model{}
)

// Register adds a model to the registry; it panics on a duplicate name (a programming error).
func Register(m *Model) {
	registryMu.Lock()
	defer registryMu.Unlock()
	name := strings.ToLower(m.Name)
	if _, dup := registry[name]; dup {
		panic(fmt.Sprintf("models: %q registered twice", name))
	}
	m.Name = name
	registry[name] = m
}

// Get returns the model called name (case-insensitive), or an error listing the valid names.
func Get(name string) (*Model, error) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	key := strings.ToLower(strings.TrimSpace(name))
	key = strings.NewReplacer("-", "", "_", "").Replace(key)
	if m, ok := registry[key]; ok {
		return m, nil
	}
	return nil, fmt.Errorf("unknown model %q (valid: %s)", name, strings.Join(namesLocked(), ", "))
}

// Names lists the registered model names, sorted.
func Names() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	return namesLocked()
}

func namesLocked() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func init() {
	Register(&Model{Name: "convnet", Description: "ConvNet-3 of the reference: 3×[conv3x3 128, instance norm, ReLU, avg-pool 2], linear", Embed: ConvNetEmbed})
	for d := 1; d <= 4; d++ {
		Register(&Model{Name: fmt.Sprintf("convnetd%d", d), Description: fmt.Sprintf("ConvNet of depth %d (d4 for 64x64 TinyImageNet)", d),
			Params: map[string]any{ParamConvNetDepth: d}, Embed: ConvNetEmbed})
	}
	for _, w := range []int{32, 64, 256} {
		Register(&Model{Name: fmt.Sprintf("convnetw%d", w), Description: fmt.Sprintf("ConvNet-3 of width %d", w),
			Params: map[string]any{ParamConvNetWidth: w}, Embed: ConvNetEmbed})
	}
	variants := []struct{ name, key, value, desc string }{
		{"convnetbn", ParamConvNetNorm, "batchnorm", "ConvNet-3 with batch norm"},
		{"convnetln", ParamConvNetNorm, "layernorm", "ConvNet-3 with layer norm"},
		{"convnetgn", ParamConvNetNorm, "groupnorm", "ConvNet-3 with group norm (4 groups)"},
		{"convnetnn", ParamConvNetNorm, "none", "ConvNet-3 without normalisation"},
		{"convnetmp", ParamConvNetPooling, "maxpooling", "ConvNet-3 with max pooling"},
		{"convnetnp", ParamConvNetPooling, "none", "ConvNet-3 without pooling"},
		{"convnetsw", ParamConvNetActivation, "swish", "ConvNet-3 with swish"},
		{"convnetlr", ParamConvNetActivation, "leakyrelu", "ConvNet-3 with leaky ReLU"},
		{"convnetsig", ParamConvNetActivation, "sigmoid", "ConvNet-3 with sigmoid"},
	}
	for _, v := range variants {
		Register(&Model{Name: v.name, Description: v.desc, Params: map[string]any{v.key: v.value}, Embed: ConvNetEmbed})
	}
	Register(&Model{Name: "mlp", Description: "MLP of the reference: input → 128 → 128 → classes, ReLU", Embed: MLPEmbed})
}
