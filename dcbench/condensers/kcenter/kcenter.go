// Package kcenter is DC-Bench's K-Center selection (Algorithm 1 of its appendix): embed the
// training images with a randomly initialised ConvNet trained for one epoch, run k-means
// (k = IPC) in each class, and keep the real image nearest each centre. It also exports the
// shared embedding step (Embed, used by Herding and by the kcenter initialisation of the
// synthesis methods) and a fast host k-means.
package kcenter

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench/method"
	"github.com/dcbench/dcbench/dcbench/train"
)

// Params of K-Center (and of Embed, which Herding shares).
const (
	// ParamFeatures selects the space: "embedding" (default) or "raw" pixels (Table 9).
	ParamFeatures = "features"
	// ParamModel is the embedding network (default "convnet", depth 3, for images up to
	// 32x32; "convnetd4" above, as TinyImageNet).
	ParamModel = "model"
	// ParamEmbedBatch is the batch size of the embedding network's one training epoch (256).
	ParamEmbedBatch = "embed_batch"
	// ParamEmbedLR is its SGD learning rate (0.01; momentum 0.9, weight decay 5e-4).
	ParamEmbedLR = "embed_lr"
	// ParamMaxIter bounds the k-means steps (300, scikit-learn's default as the reference).
	ParamMaxIter = "max_iter"
)

// Feature spaces of ParamFeatures.
const (
	FeaturesEmbedding = "embedding"
	FeaturesRaw       = "raw"
)

// FeatureSpaces lists the valid values of ParamFeatures.
var FeatureSpaces = []string{FeaturesEmbedding, FeaturesRaw}

// KCenter is the K-Center condenser, registry name "kcenter".
type KCenter struct{}

// Name is "kcenter".
func (KCenter) Name() string { return "kcenter" }

// Condense selects the images (see Select).
func (KCenter) Condense(req method.Request) (*datasets.Dataset, error) {
	idx, err := Select(req)
	if err != nil {
		return nil, err
	}
	return req.Train.Subset(idx), nil
}

// Select returns the indices into req.Train of the K-Center selection, IPC per class, class
// by class: per class, k-means with k = IPC from IPC random distinct images of the class (the
// images Random would pick with the same seed), then the distinct image nearest each centre.
func Select(req method.Request) ([]int, error) {
	maxIter, err := req.Int(ParamMaxIter, 300)
	if err != nil {
		return nil, err
	}
	if maxIter < 1 {
		return nil, fmt.Errorf("param %s: want ≥ 1, got %d", ParamMaxIter, maxIter)
	}
	rec, err := StatsParam(req)
	if err != nil {
		return nil, err
	}
	feats, dim, err := Embed(req)
	if err != nil {
		return nil, err
	}
	if rec != nil {
		rec.Begin()
	}
	d := req.Train
	var out []int
	for c := 0; c < d.NumClasses(); c++ {
		if err := req.Context.Err(); err != nil {
			return nil, err
		}
		idx := d.ClassIndices(c)
		pts := GatherRows(feats, dim, idx)
		init, err := randomInit(d, c, req.IPC, req.Seed, idx)
		if err != nil {
			return nil, err
		}
		res, err := KMeans(pts, len(idx), dim, init, maxIter)
		if err != nil {
			return nil, fmt.Errorf("class %d: %w", c, err)
		}
		near, err := NearestDistinct(pts, len(idx), dim, res.Centres, req.IPC)
		if err != nil {
			return nil, fmt.Errorf("class %d: %w", c, err)
		}
		for _, i := range near {
			out = append(out, idx[i])
		}
		if rec != nil {
			rec.Observe(c+1, res.Seconds/float64(res.Iterations), res.Inertia)
		}
		req.Progress(c+1, d.NumClasses(), fmt.Sprintf("k-means of class %s: %d steps, %.3f s/step",
			d.Classes[c], res.Iterations, res.Seconds/float64(res.Iterations)))
	}
	return out, nil
}

// randomInit draws ipc distinct images of class c as the Random condenser does (same
// stream of the seed), as positions in idx (the class's indices).
func randomInit(d *datasets.Dataset, c, ipc int, seed uint64, idx []int) ([]int, error) {
	rng := rand.New(rand.NewPCG(seed, uint64(c)+1))
	pick, err := d.SampleClass(c, ipc, rng)
	if err != nil {
		return nil, err
	}
	pos := make(map[int]int, len(idx))
	for p, i := range idx {
		pos[i] = p
	}
	init := make([]int, len(pick))
	for j, i := range pick {
		init[j] = pos[i]
	}
	return init, nil
}

// GatherRows copies the rows idx of feats ([N, dim]) into a new [len(idx), dim] slice.
func GatherRows(feats []float32, dim int, idx []int) []float32 {
	out := make([]float32, len(idx)*dim)
	for j, i := range idx {
		copy(out[j*dim:(j+1)*dim], feats[i*dim:(i+1)*dim])
	}
	return out
}

// DefaultModel is the embedding network for h×w images: ConvNet-3 up to 32x32, ConvNet-4
// above (the reference: depth 4 for 64x64 TinyImageNet).
func DefaultModel(h, w int) string {
	if max(h, w) > 32 {
		return "convnetd4"
	}
	return "convnet"
}

// Embed returns the features of every image of req.Train ([N, dim] row-major) in the space
// that param "features" names: "embedding" (default) trains a randomly initialised network
// (param "model", default DefaultModel; seeded from req.Seed) for exactly one shuffled pass
// over the whole training set with SGD (lr "embed_lr" 0.01, momentum 0.9, weight decay 5e-4,
// batch "embed_batch" 256) and returns its features before the classifier; "raw" returns the
// normalised pixels (req.Train.Images itself: do not modify it).
func Embed(req method.Request) (feats []float32, dim int, err error) {
	kind, err := req.String(ParamFeatures, FeaturesEmbedding)
	if err != nil {
		return nil, 0, err
	}
	kind = strings.ToLower(strings.TrimSpace(kind))
	if !slices.Contains(FeatureSpaces, kind) {
		return nil, 0, fmt.Errorf("param %s: unknown feature space %q (valid: %s)", ParamFeatures, kind, strings.Join(FeatureSpaces, ", "))
	}
	d := req.Train
	if kind == FeaturesRaw {
		return d.Images, d.ImageSize(), nil
	}
	model, err := req.String(ParamModel, DefaultModel(d.H, d.W))
	if err != nil {
		return nil, 0, err
	}
	batch, err := req.Int(ParamEmbedBatch, 256)
	if err != nil {
		return nil, 0, err
	}
	lr, err := req.Float(ParamEmbedLR, 0.01)
	if err != nil {
		return nil, 0, err
	}
	if batch < 1 {
		return nil, 0, fmt.Errorf("param %s: want ≥ 1, got %d", ParamEmbedBatch, batch)
	}
	if !(lr > 0) {
		return nil, 0, fmt.Errorf("param %s: want > 0, got %g", ParamEmbedLR, lr)
	}
	tr, err := train.New(req.Backend, train.Config{Model: model, BatchSize: batch, LR: lr, Seed: req.Seed},
		d.NumClasses(), d.H, d.W, d.C, d.Mean, d.Std)
	if err != nil {
		return nil, 0, err
	}
	defer tr.Finalize()
	// One epoch: one shuffled pass, step by step (Fit would make Epochs+1 passes).
	perm := rand.New(rand.NewPCG(req.Seed, 0x656d626564)).Perm(d.N) // "embed"
	steps := (d.N + batch - 1) / batch
	chunk := 16 * batch
	chunks := (d.N + chunk - 1) / chunk
	total := steps + chunks
	buf := make([]float32, 0, batch*d.ImageSize())
	for s := 0; s < steps; s++ {
		if err := req.Context.Err(); err != nil {
			return nil, 0, err
		}
		idx := perm[s*batch : min((s+1)*batch, d.N)]
		buf = d.Batch(idx, buf[:0])
		loss, err := tr.Step(buf, d.Labels32(idx))
		if err != nil {
			return nil, 0, fmt.Errorf("training the embedding network: %w", err)
		}
		req.Progress(s+1, total, fmt.Sprintf("embedding network: epoch step %d/%d, loss %.4f", s+1, steps, loss))
	}
	for k := 0; k < chunks; k++ {
		if err := req.Context.Err(); err != nil {
			return nil, 0, err
		}
		lo, hi := k*chunk, min((k+1)*chunk, d.N)
		idx := make([]int, hi-lo)
		for i := range idx {
			idx[i] = lo + i
		}
		f, fd, err := tr.Features(d.Subset(idx))
		if err != nil {
			return nil, 0, fmt.Errorf("embedding the images: %w", err)
		}
		if feats == nil {
			dim = fd
			feats = make([]float32, 0, d.N*dim)
		}
		feats = append(feats, f...)
		req.Progress(steps+k+1, total, fmt.Sprintf("embedding images %d/%d", hi, d.N))
	}
	return feats, dim, nil
}
