package kcenter

import (
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"
	"time"
)

// KMeansResult is the outcome of KMeans.
type KMeansResult struct {
	// Centres holds the k centres, [k, dim] row-major.
	Centres []float32
	// Assign is the centre of each point.
	Assign []int
	// Iterations is the number of assignment steps made.
	Iterations int
	// Converged says whether the last step changed no assignment (else MaxIter stopped it).
	Converged bool
	// Inertia is the sum of squared distances of the points to their centres.
	Inertia float64
	// Seconds is the wall time of the run (DC-Bench's Table 8 reports it per step).
	Seconds float64
}

// KMeans clusters the n points x ([n, dim] row-major) into len(init) clusters with Lloyd's
// algorithm under the L2 distance, starting from the points init as centres (Algorithm 1 of
// DC-Bench: random distinct images of the class). Each step assigns every point to its
// nearest centre and moves each centre to the mean of its points; it stops when no
// assignment changes, or after maxIter steps (300 in the reference, scikit-learn's default).
// A cluster left empty takes the point farthest from its centre, as scikit-learn does.
//
// Distances use ‖x‖² − 2x·c + ‖c‖², in blocks over all the CPU cores, and Hamerly's bounds
// (an upper bound on each point's distance to its centre, a lower bound on the distance to
// the others, kept valid with the triangle inequality as the centres move) skip the points
// whose assignment cannot change, so that the later steps cost a fraction of the first.
// The assignments are those of plain Lloyd steps (up to float32 rounding of near ties).
func KMeans(x []float32, n, dim int, init []int, maxIter int) (*KMeansResult, error) {
	start := time.Now()
	k := len(init)
	switch {
	case n < 1 || dim < 1 || len(x) != n*dim:
		return nil, fmt.Errorf("kmeans: %d values for %d points of dimension %d", len(x), n, dim)
	case k < 1 || k > n:
		return nil, fmt.Errorf("kmeans: %d centres for %d points", k, n)
	case maxIter < 1:
		return nil, fmt.Errorf("kmeans: maxIter must be positive, got %d", maxIter)
	}
	seen := make(map[int]bool, k)
	centres := make([]float32, k*dim)
	for j, i := range init {
		if i < 0 || i >= n || seen[i] {
			return nil, fmt.Errorf("kmeans: initial centres must be distinct points in [0,%d), got %v", n, init)
		}
		seen[i] = true
		copy(centres[j*dim:(j+1)*dim], x[i*dim:(i+1)*dim])
	}
	km := &kmeans{x: x, n: n, dim: dim, k: k, xNorm: rowNorms(x, n, dim), centres: centres,
		assign: make([]int, n), upper: make([]float32, n), lower: make([]float32, n),
		sums: make([]float64, k*dim), counts: make([]int, k), moved: make([]float32, k), half: make([]float32, k)}
	for i := range km.assign {
		km.assign[i] = -1
	}
	res := &KMeansResult{Centres: centres, Assign: km.assign}
	km.step(true)
	res.Iterations = 1
	for {
		km.update()
		if res.Iterations == maxIter {
			break
		}
		changed := km.step(false)
		res.Iterations++
		if changed == 0 {
			res.Converged = true
			break
		}
	}
	if !res.Converged { // the centres moved after the last step: assign to the final ones
		km.step(true)
	}
	res.Inertia = km.inertia()
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// kmeans is the state of one KMeans run.
type kmeans struct {
	x            []float32
	n, dim, k    int
	xNorm        []float32
	centres      []float32
	assign       []int
	upper, lower []float32 // bounds on the distance to the own centre and to any other one
	sums         []float64
	counts       []int
	moved        []float32 // how far each centre moved in the last update
	half         []float32 // half the distance from each centre to the nearest other one
}

// step assigns the points to their nearest centres (all of them when full, else only those
// whose bounds do not rule out a change) and returns how many assignments changed.
func (km *kmeans) step(full bool) int {
	x, dim, k := km.x, km.dim, km.k
	cNorm := rowNorms(km.centres, k, dim)
	if !full {
		km.halfDistances(cNorm)
	}
	var mu sync.Mutex
	changed := 0
	parallel(km.n, 64, func(lo, hi int) {
		todo := make([]int, 0, hi-lo)
		for i := lo; i < hi; i++ {
			if full {
				todo = append(todo, i)
				continue
			}
			a := km.assign[i]
			m := max(km.half[a], km.lower[i])
			if km.upper[i] <= m {
				continue
			}
			km.upper[i] = sqrt32(km.xNorm[i] - 2*dot(km.centres[a*dim:(a+1)*dim], x[i*dim:(i+1)*dim]) + cNorm[a])
			if km.upper[i] <= m {
				continue
			}
			todo = append(todo, i)
		}
		if len(todo) == 0 {
			return
		}
		buf := make([]float32, len(todo)*dim)
		norms := make([]float32, len(todo))
		for t, i := range todo {
			copy(buf[t*dim:(t+1)*dim], x[i*dim:(i+1)*dim])
			norms[t] = km.xNorm[i]
		}
		d := make([]float32, len(todo)*k)
		distances(buf, norms, len(todo), dim, km.centres, cNorm, k, d)
		ch := 0
		for t, i := range todo {
			row := d[t*k : (t+1)*k]
			best, second := 0, -1
			for j := 1; j < k; j++ {
				switch {
				case row[j] < row[best]:
					best, second = j, best
				case second < 0 || row[j] < row[second]:
					second = j
				}
			}
			if km.assign[i] != best {
				km.assign[i] = best
				ch++
			}
			km.upper[i] = sqrt32(row[best])
			km.lower[i] = float32(math.Inf(1))
			if second >= 0 {
				km.lower[i] = sqrt32(row[second])
			}
		}
		mu.Lock()
		changed += ch
		mu.Unlock()
	})
	return changed
}

// halfDistances sets half[j] to half the distance from centre j to the nearest other one.
func (km *kmeans) halfDistances(cNorm []float32) {
	k, dim := km.k, km.dim
	d := make([]float32, k*k)
	distances(km.centres, cNorm, k, dim, km.centres, cNorm, k, d)
	for j := 0; j < k; j++ {
		m := float32(math.Inf(1))
		for l := 0; l < k; l++ {
			if l != j {
				m = min(m, d[j*k+l])
			}
		}
		km.half[j] = sqrt32(m) / 2
	}
}

// update moves every centre to the mean of its points (relocating empty clusters) and
// loosens the bounds by how far the centres moved.
func (km *kmeans) update() {
	x, dim, k := km.x, km.dim, km.k
	clear(km.sums)
	clear(km.counts)
	for i, j := range km.assign {
		km.counts[j]++
		row, s := x[i*dim:(i+1)*dim], km.sums[j*dim:(j+1)*dim]
		for d, v := range row {
			s[d] += float64(v)
		}
	}
	relocateEmpty(x, dim, km.assign, km.upper, km.lower, km.counts, km.sums)
	var first, second float32 // the two largest moves
	argFirst := -1
	for j := 0; j < k; j++ {
		inv := 1 / float64(km.counts[j])
		c, s := km.centres[j*dim:(j+1)*dim], km.sums[j*dim:(j+1)*dim]
		var moved float64
		for d := range c {
			v := float32(s[d] * inv)
			diff := float64(v - c[d])
			moved += diff * diff
			c[d] = v
		}
		km.moved[j] = float32(math.Sqrt(moved)) * (1 + 1e-5) // a hair more, for rounding
		if km.moved[j] > first {
			first, second, argFirst = km.moved[j], first, j
		} else if km.moved[j] > second {
			second = km.moved[j]
		}
	}
	for i, a := range km.assign {
		km.upper[i] += km.moved[a]
		if a == argFirst {
			km.lower[i] -= second
		} else {
			km.lower[i] -= first
		}
	}
}

// inertia is the sum of the squared distances of the points to their centres.
func (km *kmeans) inertia() float64 {
	x, dim := km.x, km.dim
	cNorm := rowNorms(km.centres, km.k, dim)
	var total float64
	for i, a := range km.assign {
		d := km.xNorm[i] - 2*dot(km.centres[a*dim:(a+1)*dim], x[i*dim:(i+1)*dim]) + cNorm[a]
		total += float64(max(d, 0))
	}
	return total
}

func sqrt32(v float32) float32 { return float32(math.Sqrt(float64(max(v, 0)))) }

// relocateEmpty gives every empty cluster the point farthest from its own centre (by the
// upper bounds, which are exact after a full step; taking it from its cluster, which keeps at
// least one point), updating assign, counts and sums; the moved point's bounds are reset so
// that the next step recomputes it.
func relocateEmpty(x []float32, dim int, assign []int, upper, lower []float32, counts []int, sums []float64) {
	var empty []int
	for j, c := range counts {
		if c == 0 {
			empty = append(empty, j)
		}
	}
	if len(empty) == 0 {
		return
	}
	order := make([]int, len(assign))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return upper[order[a]] > upper[order[b]] })
	next := 0
	for _, j := range empty {
		for next < len(order) && counts[assign[order[next]]] <= 1 {
			next++
		}
		if next == len(order) {
			return // cannot happen when k ≤ n
		}
		i := order[next]
		next++
		old := assign[i]
		row := x[i*dim : (i+1)*dim]
		so, sn := sums[old*dim:(old+1)*dim], sums[j*dim:(j+1)*dim]
		for d, v := range row {
			so[d] -= float64(v)
			sn[d] += float64(v)
		}
		counts[old]--
		counts[j]++
		assign[i] = j
		upper[i], lower[i] = float32(math.Inf(1)), 0
	}
}

// rowNorms returns ‖row‖² of every row.
func rowNorms(x []float32, n, dim int) []float32 {
	out := make([]float32, n)
	parallel(n, 256, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			var s float64
			for _, v := range x[i*dim : (i+1)*dim] {
				s += float64(v) * float64(v)
			}
			out[i] = float32(s)
		}
	})
	return out
}

// distances writes the squared distances of the m points x ([m, dim]) to the k centres into
// out ([m, k]), as ‖x‖² − 2x·c + ‖c‖², four points at a time per centre so that each centre
// value loaded serves four products.
func distances(x, xNorm []float32, m, dim int, centres, cNorm []float32, k int, out []float32) {
	i := 0
	for ; i+4 <= m; i += 4 {
		x0 := x[i*dim : (i+1)*dim]
		x1 := x[(i+1)*dim : (i+2)*dim]
		x2 := x[(i+2)*dim : (i+3)*dim]
		x3 := x[(i+3)*dim : (i+4)*dim]
		for j := 0; j < k; j++ {
			c := centres[j*dim : (j+1)*dim]
			d0, d1, d2, d3 := dot4(c, x0, x1, x2, x3)
			out[i*k+j] = xNorm[i] - 2*d0 + cNorm[j]
			out[(i+1)*k+j] = xNorm[i+1] - 2*d1 + cNorm[j]
			out[(i+2)*k+j] = xNorm[i+2] - 2*d2 + cNorm[j]
			out[(i+3)*k+j] = xNorm[i+3] - 2*d3 + cNorm[j]
		}
	}
	for ; i < m; i++ {
		xi := x[i*dim : (i+1)*dim]
		for j := 0; j < k; j++ {
			out[i*k+j] = xNorm[i] - 2*dot(centres[j*dim:(j+1)*dim], xi) + cNorm[j]
		}
	}
}

// dot4 returns the dot products of c with four vectors of its length.
func dot4(c, a0, a1, a2, a3 []float32) (s0, s1, s2, s3 float32) {
	n := len(c)
	a0, a1, a2, a3 = a0[:n], a1[:n], a2[:n], a3[:n]
	var t0, t1, t2, t3 float32
	d := 0
	for ; d+2 <= n; d += 2 {
		c0, c1 := c[d], c[d+1]
		s0 += c0 * a0[d]
		t0 += c1 * a0[d+1]
		s1 += c0 * a1[d]
		t1 += c1 * a1[d+1]
		s2 += c0 * a2[d]
		t2 += c1 * a2[d+1]
		s3 += c0 * a3[d]
		t3 += c1 * a3[d+1]
	}
	for ; d < n; d++ {
		s0 += c[d] * a0[d]
		s1 += c[d] * a1[d]
		s2 += c[d] * a2[d]
		s3 += c[d] * a3[d]
	}
	return s0 + t0, s1 + t1, s2 + t2, s3 + t3
}

// dot returns the dot product of two vectors of the same length.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	d := 0
	for ; d+4 <= len(a); d += 4 {
		s0 += a[d] * b[d]
		s1 += a[d+1] * b[d+1]
		s2 += a[d+2] * b[d+2]
		s3 += a[d+3] * b[d+3]
	}
	for ; d < len(a); d++ {
		s0 += a[d] * b[d]
	}
	return s0 + s1 + s2 + s3
}

// parallel calls fn on blocks [lo, hi) of at most `block` items covering [0, n), spread over
// GOMAXPROCS goroutines.
func parallel(n, block int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), (n+block-1)/block)
	if workers <= 1 {
		for lo := 0; lo < n; lo += block {
			fn(lo, min(lo+block, n))
		}
		return
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				lo := next
				next += block
				mu.Unlock()
				if lo >= n {
					return
				}
				fn(lo, min(lo+block, n))
			}
		}()
	}
	wg.Wait()
}

// NearestDistinct returns, for each of the k centres ([k, dim]), a distinct point of x
// ([n, dim], n ≥ k) near it: the (centre, point) pairs are taken in increasing order of
// distance, skipping centres already served and points already taken, so each centre gets
// its nearest point unless a closer centre took it first.
func NearestDistinct(x []float32, n, dim int, centres []float32, k int) ([]int, error) {
	if k > n {
		return nil, fmt.Errorf("nearest: %d centres but only %d points", k, n)
	}
	if len(x) != n*dim || len(centres) != k*dim {
		return nil, fmt.Errorf("nearest: %d values for %d points and %d for %d centres of dimension %d", len(x), n, len(centres), k, dim)
	}
	xNorm := rowNorms(x, n, dim)
	cNorm := rowNorms(centres, k, dim)
	// Each centre's k nearest points suffice: at most k-1 are taken by the others.
	type pair struct {
		d    float32
		c, i int
	}
	cands := make([][]pair, n/64+1)
	parallel(n, 64, func(lo, hi int) {
		d := make([]float32, (hi-lo)*k)
		distances(x[lo*dim:hi*dim], xNorm[lo:hi], hi-lo, dim, centres, cNorm, k, d)
		var ps []pair
		for i := lo; i < hi; i++ {
			for j := 0; j < k; j++ {
				ps = append(ps, pair{d[(i-lo)*k+j], j, i})
			}
		}
		cands[lo/64] = ps
	})
	perCentre := make([][]pair, k)
	for _, ps := range cands {
		for _, p := range ps {
			perCentre[p.c] = append(perCentre[p.c], p)
		}
	}
	less := func(a, b pair) bool {
		if a.d != b.d {
			return a.d < b.d
		}
		if a.c != b.c {
			return a.c < b.c
		}
		return a.i < b.i
	}
	var all []pair
	for _, ps := range perCentre {
		sort.Slice(ps, func(a, b int) bool { return less(ps[a], ps[b]) })
		all = append(all, ps[:min(k, len(ps))]...)
	}
	sort.Slice(all, func(a, b int) bool { return less(all[a], all[b]) })
	out := make([]int, k)
	for j := range out {
		out[j] = -1
	}
	taken := make(map[int]bool, k)
	left := k
	for _, p := range all {
		if left == 0 {
			break
		}
		if out[p.c] >= 0 || taken[p.i] {
			continue
		}
		out[p.c] = p.i
		taken[p.i] = true
		left--
	}
	for j, i := range out {
		if i < 0 || math.IsNaN(float64(cNorm[j])) {
			return nil, fmt.Errorf("nearest: centre %d got no point", j)
		}
	}
	return out, nil
}
