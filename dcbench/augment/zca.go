package augment

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // gomlx's usual style.
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"gonum.org/v1/gonum/mat"
)

// DefaultZCARegularization is the eps that MTT (through kornia's ZCAWhitening(eps=0.1))
// adds to the covariance eigenvalues; KIP uses the per-image variant of FitZCAKIP.
const DefaultZCARegularization = 0.1

// zcaChunk is the number of rows processed at a time, bounding the float64 scratch memory.
const zcaChunk = 256

// ZCA is a ZCA whitening transform fitted on a training set, as kornia's
// ZCAWhitening(eps, compute_inv=True): with the feature mean m and the unbiased covariance
// U diag(λ) Uᵀ of the flattened images, it maps x to (x - m) W with W = U diag(1/sqrt(λ+eps)) Uᵀ, and
// back with the inverse U diag(sqrt(λ+eps)) Uᵀ.
//
// Features are the flattened images in whatever layout they come (NHWC in dcbench). The transform
// does not depend on the order of the features, so it whitens exactly as the reference's NCHW one.
type ZCA struct {
	dim  int
	eps  float64
	mean []float64 // [dim]
	w    []float64 // [dim*dim], symmetric, row-major.
	inv  []float64 // [dim*dim], symmetric, row-major.
}

// FitZCA fits ZCA whitening on n images of d features each (flattened, e.g. d = h*w*c), given as
// n*d float32 values, adding regularization (eps, DefaultZCARegularization in the reference) to the
// covariance eigenvalues. It needs n >= 2; a zero regularization needs a non-singular covariance.
func FitZCA(images []float32, n, d int, regularization float64) (*ZCA, error) {
	if n < 2 || d < 1 {
		return nil, fmt.Errorf("augment: FitZCA needs n >= 2 images of d >= 1 features, got n=%d, d=%d", n, d)
	}
	if len(images) != n*d {
		return nil, fmt.Errorf("augment: FitZCA got %d values, want n*d = %d*%d = %d", len(images), n, d, n*d)
	}
	if !(regularization >= 0) || math.IsInf(regularization, 0) {
		return nil, fmt.Errorf("augment: FitZCA regularization must be finite and >= 0, got %g", regularization)
	}

	// Mean of each feature.
	mean := make([]float64, d)
	for i := range n {
		for k, v := range images[i*d : (i+1)*d] {
			mean[k] += float64(v)
		}
	}
	for k := range mean {
		mean[k] /= float64(n)
	}

	// Unbiased covariance, accumulated chunk by chunk: cov += Xcᵀ Xc.
	cov := mat.NewSymDense(d, nil)
	buf := make([]float64, zcaChunk*d)
	for start := 0; start < n; start += zcaChunk {
		rows := min(zcaChunk, n-start)
		centred := buf[:rows*d]
		for i := range rows {
			for k, v := range images[(start+i)*d : (start+i+1)*d] {
				centred[i*d+k] = float64(v) - mean[k]
			}
		}
		block := mat.NewDense(rows, d, centred)
		cov.SymRankK(cov, 1, block.T())
	}
	cov.ScaleSym(1/float64(n-1), cov)

	var eig mat.EigenSym
	if !eig.Factorize(cov, true) {
		return nil, errors.New("augment: FitZCA: eigen-decomposition of the covariance failed")
	}
	values := eig.Values(nil)
	var u mat.Dense
	eig.VectorsTo(&u)
	invRoot := make([]float64, d)
	root := make([]float64, d)
	// Eigenvalues within round-off of zero (they can even come out negative) are taken as zero.
	tol := 0.0
	for _, l := range values {
		tol = max(tol, math.Abs(l))
	}
	tol *= float64(d) * 0x1p-52
	for k, l := range values {
		if l <= tol {
			l = 0
		}
		l += regularization
		if !(l > 0) {
			return nil, fmt.Errorf("augment: FitZCA: the covariance is singular (eigenvalue %d is %g); "+
				"use a positive regularization", k, values[k])
		}
		invRoot[k] = 1 / math.Sqrt(l)
		root[k] = math.Sqrt(l)
	}
	return &ZCA{dim: d, eps: regularization, mean: mean, w: symProduct(&u, invRoot), inv: symProduct(&u, root)}, nil
}

// symProduct returns U diag(s) Uᵀ as a row-major slice.
func symProduct(u *mat.Dense, s []float64) []float64 {
	d := len(s)
	scaled := mat.DenseCopyOf(u)
	for k := range d {
		for i := range d {
			scaled.Set(i, k, scaled.At(i, k)*s[k])
		}
	}
	out := mat.NewDense(d, d, nil)
	out.Mul(scaled, u.T())
	// Symmetrise away the round-off.
	data := out.RawMatrix().Data
	for i := range d {
		for j := i + 1; j < d; j++ {
			v := (data[i*d+j] + data[j*d+i]) / 2
			data[i*d+j], data[j*d+i] = v, v
		}
	}
	return data
}

// Dim returns the number of features.
func (z *ZCA) Dim() int { return z.dim }

// Regularization returns the eps added to the covariance eigenvalues.
func (z *ZCA) Regularization() float64 { return z.eps }

// Mean returns a copy of the feature mean subtracted before whitening.
func (z *ZCA) Mean() []float64 { return append([]float64(nil), z.mean...) }

// Matrix returns a copy of the whitening matrix W (dim×dim, row-major, symmetric).
func (z *ZCA) Matrix() []float64 { return append([]float64(nil), z.w...) }

// InverseMatrix returns a copy of the inverse (colouring) matrix (dim×dim, row-major, symmetric).
func (z *ZCA) InverseMatrix() []float64 { return append([]float64(nil), z.inv...) }

// Apply whitens n images of Dim features in place: x ← (x - mean) W.
func (z *ZCA) Apply(images []float32, n int) error {
	return z.transform(images, n, z.w, z.mean, nil)
}

// Inverse undoes Apply in place, e.g. for display: x ← x W⁻¹ + mean.
func (z *ZCA) Inverse(images []float32, n int) error {
	return z.transform(images, n, z.inv, nil, z.mean)
}

// transform computes images ← (images - sub) m + add, chunk by chunk.
func (z *ZCA) transform(images []float32, n int, m, sub, add []float64) error {
	d := z.dim
	if n < 0 || len(images) != n*d {
		return fmt.Errorf("augment: ZCA of dim %d got %d values for n=%d images, want %d", d, len(images), n, n*d)
	}
	mm := mat.NewDense(d, d, m)
	buf := make([]float64, zcaChunk*d)
	outBuf := make([]float64, zcaChunk*d)
	for start := 0; start < n; start += zcaChunk {
		rows := min(zcaChunk, n-start)
		in := buf[:rows*d]
		chunk := images[start*d : (start+rows)*d]
		for i, v := range chunk {
			in[i] = float64(v)
			if sub != nil {
				in[i] -= sub[i%d]
			}
		}
		out := mat.NewDense(rows, d, outBuf[:rows*d])
		out.Mul(mat.NewDense(rows, d, in), mm)
		for i, v := range out.RawMatrix().Data {
			if add != nil {
				v += add[i%d]
			}
			chunk[i] = float32(v)
		}
	}
	return nil
}

// ApplyGraph whitens x in the graph: x has shape [N, ...] with Dim features per example, and the result
// has x's shape and dtype. It is a subtraction and a matrix product, so it is differentiable.
func (z *ZCA) ApplyGraph(x *Node) *Node {
	return z.transformGraph(x, z.w, z.mean, nil)
}

// InverseGraph undoes ApplyGraph in the graph.
func (z *ZCA) InverseGraph(x *Node) *Node {
	return z.transformGraph(x, z.inv, nil, z.mean)
}

// transformGraph computes (x - sub) m + add on the flattened examples of x.
func (z *ZCA) transformGraph(x *Node, m, sub, add []float64) *Node {
	if x.Rank() < 1 || !x.DType().IsFloat() || x.Shape().Size() != x.Shape().Dimensions[0]*z.dim {
		panicf("augment: ZCA of dim %d needs a float tensor [N, ...] with %d features per example, got %s",
			z.dim, z.dim, x.Shape())
	}
	g := x.Graph()
	n := x.Shape().Dimensions[0]
	dt := x.DType()
	constant := func(v []float64, dims ...int) *Node {
		if dt == dtypes.Float64 {
			return Const(g, tensors.FromFlatDataAndDimensions(v, dims...))
		}
		v32 := make([]float32, len(v))
		for i, f := range v {
			v32[i] = float32(f)
		}
		c := Const(g, tensors.FromFlatDataAndDimensions(v32, dims...))
		if dt != dtypes.Float32 {
			c = ConvertDType(c, dt)
		}
		return c
	}
	flat := Reshape(x, n, z.dim)
	if sub != nil {
		flat = Sub(flat, constant(sub, 1, z.dim))
	}
	flat = MatMul(flat, constant(m, z.dim, z.dim))
	if add != nil {
		flat = Add(flat, constant(add, 1, z.dim))
	}
	return Reshape(flat, x.Shape().Dimensions...)
}

// zcaMagic starts the files written by ZCA.Save: the format name and version 1.
var zcaMagic = [8]byte{'D', 'C', 'B', 'Z', 'C', 'A', 0, 1}

// zcaMaxDim bounds the dimension read back by LoadZCA (ImageNet 64×64×3 is 12288).
const zcaMaxDim = 1 << 16

// Save writes the transform in a little-endian binary format: the 8-byte header "DCBZCA\x00\x01",
// the dimension (uint64), the regularization, the mean, the matrix and its inverse (float64).
func (z *ZCA) Save(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for _, v := range []any{zcaMagic, uint64(z.dim), z.eps, z.mean, z.w, z.inv} {
		if err := binary.Write(bw, binary.LittleEndian, v); err != nil {
			return fmt.Errorf("augment: saving ZCA: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("augment: saving ZCA: %w", err)
	}
	return nil
}

// LoadZCA reads a transform written by Save.
func LoadZCA(r io.Reader) (*ZCA, error) {
	br := bufio.NewReader(r)
	var magic [8]byte
	if err := binary.Read(br, binary.LittleEndian, &magic); err != nil {
		return nil, fmt.Errorf("augment: loading ZCA header: %w", err)
	}
	if magic != zcaMagic {
		return nil, fmt.Errorf("augment: not a ZCA file or unknown version (header %q)", magic[:])
	}
	var dim uint64
	var eps float64
	if err := binary.Read(br, binary.LittleEndian, &dim); err != nil {
		return nil, fmt.Errorf("augment: loading ZCA: %w", err)
	}
	if dim == 0 || dim > zcaMaxDim {
		return nil, fmt.Errorf("augment: loading ZCA: invalid dimension %d", dim)
	}
	if err := binary.Read(br, binary.LittleEndian, &eps); err != nil {
		return nil, fmt.Errorf("augment: loading ZCA: %w", err)
	}
	d := int(dim)
	z := &ZCA{dim: d, eps: eps, mean: make([]float64, d), w: make([]float64, d*d), inv: make([]float64, d*d)}
	for _, v := range [][]float64{z.mean, z.w, z.inv} {
		if err := binary.Read(br, binary.LittleEndian, v); err != nil {
			return nil, fmt.Errorf("augment: loading ZCA data: %w", err)
		}
	}
	return z, nil
}

// SaveFile writes the transform to path (see Save).
func (z *ZCA) SaveFile(path string) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("augment: saving ZCA: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("augment: saving ZCA: %w", cerr)
		}
	}()
	return z.Save(f)
}

// LoadZCAFile reads a transform written by SaveFile.
func LoadZCAFile(path string) (*ZCA, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("augment: loading ZCA: %w", err)
	}
	defer func() { _ = f.Close() }()
	return LoadZCA(f)
}
