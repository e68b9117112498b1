// Package herding is the Herding selection baseline (Welling 2009, as used by iCaRL and the
// condensation papers): per class, greedily pick the images whose running feature mean stays
// closest to the class's mean feature. The features are those of K-Center (package kcenter:
// a ConvNet trained for one epoch, or raw pixels with param features=raw).
package herding

import (
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench/condensers/kcenter"
	"github.com/dcbench/dcbench/dcbench/method"
)

// MeanGap is the squared L2 distance between the mean of the picked rows of x ([n, dim]) and
// the mean of all rows: what herding drives down (0 when nothing is picked).
func MeanGap(x []float32, n, dim int, picks []int) float64 {
	if len(picks) == 0 || n == 0 {
		return 0
	}
	all := make([]float64, dim)
	sel := make([]float64, dim)
	for i := 0; i < n; i++ {
		for d, v := range x[i*dim : (i+1)*dim] {
			all[d] += float64(v)
		}
	}
	for _, i := range picks {
		for d, v := range x[i*dim : (i+1)*dim] {
			sel[d] += float64(v)
		}
	}
	var s float64
	for d := range all {
		g := all[d]/float64(n) - sel[d]/float64(len(picks))
		s += g * g
	}
	return s
}

// Herding is the condenser, registry name "herding". Its params are those of kcenter.Embed:
// "features" (embedding or raw), "model", "embed_batch", "embed_lr", and "stats" (one record
// per class: seconds per greedy step and the final MeanGap; see kcenter.ParamStats).
type Herding struct{}

// Name is "herding".
func (Herding) Name() string { return "herding" }

// Condense selects IPC images per class by herding in the feature space.
func (Herding) Condense(req method.Request) (*datasets.Dataset, error) {
	rec, err := kcenter.StatsParam(req)
	if err != nil {
		return nil, err
	}
	feats, dim, err := kcenter.Embed(req)
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
		pts := kcenter.GatherRows(feats, dim, idx)
		t0 := time.Now()
		picks, err := Herd(pts, len(idx), dim, req.IPC)
		if err != nil {
			return nil, fmt.Errorf("class %d: %w", c, err)
		}
		if rec != nil {
			rec.Observe(c+1, time.Since(t0).Seconds()/float64(max(1, req.IPC)), MeanGap(pts, len(idx), dim, picks))
		}
		for _, p := range picks {
			out = append(out, idx[p])
		}
		req.Progress(c+1, d.NumClasses(), "herding class "+d.Classes[c])
	}
	return d.Subset(out), nil
}

// Herd returns k distinct rows of x ([n, dim]) in the order picked: step t picks the row
// that brings the mean of the t rows picked so far closest (L2) to the mean of all rows. Ties
// go to the lowest index.
//
// With target mean μ, sum s of the t−1 rows picked, the distance of a candidate x is
// ‖μ − (s+x)/t‖² = ‖μ − s/t‖² − (2/t)(μ − s/t)·x + ‖x‖²/t², so each step costs one pass over
// the rows.
func Herd(x []float32, n, dim, k int) ([]int, error) {
	if n < 1 || dim < 1 || len(x) != n*dim {
		return nil, fmt.Errorf("herding: %d values for %d rows of dimension %d", len(x), n, dim)
	}
	if k < 0 || k > n {
		return nil, fmt.Errorf("herding: cannot pick %d of %d rows", k, n)
	}
	mu := make([]float64, dim)
	for i := 0; i < n; i++ {
		for d, v := range x[i*dim : (i+1)*dim] {
			mu[d] += float64(v)
		}
	}
	for d := range mu {
		mu[d] /= float64(n)
	}
	norms := make([]float64, n)
	for i := range norms {
		var s float64
		for _, v := range x[i*dim : (i+1)*dim] {
			s += float64(v) * float64(v)
		}
		norms[i] = s
	}
	sum := make([]float64, dim)
	r := make([]float32, dim)
	used := make([]bool, n)
	picks := make([]int, 0, k)
	workers := max(1, min(runtime.GOMAXPROCS(0), n/256))
	for t := 1; t <= k; t++ {
		tf := float64(t)
		for d := range r {
			r[d] = float32(mu[d] - sum[d]/tf)
		}
		best := make([]int, workers)
		bestScore := make([]float64, workers)
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				b, bs := -1, 0.0
				for i := w * n / workers; i < (w+1)*n/workers; i++ {
					if used[i] {
						continue
					}
					row := x[i*dim : (i+1)*dim]
					var dot float64
					for d, v := range row {
						dot += float64(r[d] * v)
					}
					score := norms[i]/(tf*tf) - 2*dot/tf
					if b < 0 || score < bs {
						b, bs = i, score
					}
				}
				best[w], bestScore[w] = b, bs
			}(w)
		}
		wg.Wait()
		pick := -1
		for w := range best {
			if best[w] >= 0 && (pick < 0 || bestScore[w] < bestScore[pick] || (bestScore[w] == bestScore[pick] && best[w] < best[pick])) {
				pick = w
			}
		}
		i := best[pick]
		used[i] = true
		picks = append(picks, i)
		for d, v := range x[i*dim : (i+1)*dim] {
			sum[d] += float64(v)
		}
	}
	return picks, nil
}
