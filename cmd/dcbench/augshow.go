package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // gomlx's usual style.
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench/augment"
	"github.com/dcbench/dcbench/dcbench/backend"
	"github.com/dcbench/dcbench/kernelext"
)

// augshowOptions are the flags of "dcbench augshow".
type augshowOptions struct {
	out, class, backendName string
	n, index, draws, scale  int
	seed                    uint64
}

// Limits of the augshow flags.
const (
	augshowMaxDraws = 16
	augshowMaxScale = 8
)

func cmdAugshow(args []string) error {
	fs := newFlagSet("augshow")
	var o augshowOptions
	fs.StringVar(&o.out, "out", "augmentations.png", "PNG file to write")
	fs.IntVar(&o.n, "n", 1, "number of images (1-10): one per class, from --class on")
	fs.StringVar(&o.class, "class", "automobile", "class of the first image: a CIFAR-10 class name or number")
	fs.IntVar(&o.index, "index", 0, "which image of each class (0-99, in the embedded train split's order)")
	fs.IntVar(&o.draws, "draws", 4, fmt.Sprintf("random draws (seeds) per random row (1-%d)", augshowMaxDraws))
	fs.Uint64Var(&o.seed, "seed", 0, "seed of the random rows: draw k uses seed+k")
	fs.IntVar(&o.scale, "scale", 3, fmt.Sprintf("zoom factor of each 32x32 image (1-%d)", augshowMaxScale))
	fs.StringVar(&o.backendName, "backend", "", "backend for the DSA graph: cpu, gpu, go[:opts], xla:PLUGIN (default: as eval)")
	if err := parse(fs, args); err != nil {
		if err == errHelp {
			return nil
		}
		return err
	}
	switch {
	case o.n < 1 || o.n > 10:
		return usageError{fmt.Errorf("--n must be in [1, 10], got %d", o.n)}
	case o.index < 0:
		return usageError{fmt.Errorf("--index must be non-negative, got %d", o.index)}
	case o.draws < 1 || o.draws > augshowMaxDraws:
		return usageError{fmt.Errorf("--draws must be in [1, %d], got %d", augshowMaxDraws, o.draws)}
	case o.scale < 1 || o.scale > augshowMaxScale:
		return usageError{fmt.Errorf("--scale must be in [1, %d], got %d", augshowMaxScale, o.scale)}
	case o.out == "":
		return usageError{fmt.Errorf("--out must name a file")}
	}
	data, err := datasets.Embedded()
	if err != nil {
		return err
	}
	data.Normalize()
	train := data.Train
	first, err := classIndex(train.Classes, o.class)
	if err != nil {
		return usageError{err}
	}
	idx := make([]int, o.n)
	var picked []string
	for i := range idx {
		c := (first + i) % train.NumClasses()
		ci := train.ClassIndices(c)
		if o.index >= len(ci) {
			return usageError{fmt.Errorf("--index %d: class %s has %d images", o.index, train.Classes[c], len(ci))}
		}
		idx[i] = ci[o.index]
		picked = append(picked, fmt.Sprintf("%s #%d", train.Classes[c], o.index))
	}
	b, choice, err := backend.New(o.backendName)
	if err != nil {
		return err
	}
	rows, err := augshowRows(b, train.Batch(idx, nil), o.n, train.H, train.W, train.C, train.Mean, train.Std, o.draws, o.seed)
	if err != nil {
		return err
	}
	var all []float32
	var labels []int32
	var names []string
	for r, row := range rows {
		names = append(names, row.label)
		for i := range o.n {
			for _, v := range row.variants {
				size := train.H * train.W * train.C
				all = append(all, v[i*size:(i+1)*size]...)
				labels = append(labels, int32(r))
			}
		}
	}
	img, err := kernelext.ImageGrid(all, len(labels), train.H, train.W, train.C, labels, names, train.Mean, train.Std,
		kernelext.GridOptions{Scale: o.scale, Padding: 2, Labels: true, LabelScale: max(1, o.scale*2/3)})
	if err != nil {
		return err
	}
	png, err := kernelext.EncodePNG(img)
	if err != nil {
		return err
	}
	if dir := filepath.Dir(o.out); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(o.out, png, 0o644); err != nil {
		return err
	}
	fmt.Printf("images: %s (embedded CIFAR-10 train split); backend %s\n", strings.Join(picked, ", "), choice.Spec)
	for _, row := range rows {
		fmt.Printf("%-13s %s\n", row.label, strings.Join(row.notes, " | "))
	}
	bounds := img.Bounds()
	fmt.Printf("wrote %s (%dx%d pixels, %d rows)\n", o.out, bounds.Dx(), bounds.Dy(), len(rows))
	return nil
}

// classIndex resolves a class name (case-insensitive) or number.
func classIndex(classes []string, s string) (int, error) {
	if k, err := strconv.Atoi(s); err == nil {
		if k < 0 || k >= len(classes) {
			return 0, fmt.Errorf("--class %d out of range [0, %d)", k, len(classes))
		}
		return k, nil
	}
	for k, c := range classes {
		if strings.EqualFold(c, s) {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown --class %q (valid: %s, or 0-%d)", s, strings.Join(classes, ", "), len(classes)-1)
}

// augshowRow is one row of the grid: a label and its variants, each n normalised NHWC images.
type augshowRow struct {
	label    string
	notes    []string // one per variant, printed
	variants [][]float32
}

// dsaVariant is a fixed DSA transformation shown in a row.
type dsaVariant struct {
	note string
	v    augment.ParamValues
}

// dsaFixedRows lists the fixed-parameter DSA rows: one per op, with parameters at (or near) the
// ends of the default ranges so each effect is plain to see.
func dsaFixedRows() []struct {
	label    string
	variants []dsaVariant
} {
	with := func(op augment.Op, f func(v *augment.ParamValues)) augment.ParamValues {
		v := augment.IdentityValues()
		v.Op = op
		f(&v)
		return v
	}
	color := func(b, s, c float64) dsaVariant {
		return dsaVariant{fmt.Sprintf("brightness %+g saturation %g contrast %g", b, s, c),
			with(augment.OpColor, func(v *augment.ParamValues) { v.Brightness, v.Saturation, v.Contrast = b, s, c })}
	}
	crop := func(x, y int) dsaVariant {
		return dsaVariant{fmt.Sprintf("crop x %+d y %+d", x, y),
			with(augment.OpCrop, func(v *augment.ParamValues) { v.CropX, v.CropY = x, y })}
	}
	cutout := func(x, y int) dsaVariant {
		return dsaVariant{fmt.Sprintf("cutout centre x %d y %d", x, y),
			with(augment.OpCutout, func(v *augment.ParamValues) { v.CutoutX, v.CutoutY = x, y })}
	}
	scale := func(x, y float64) dsaVariant {
		return dsaVariant{fmt.Sprintf("scale x %.3g y %.3g", x, y),
			with(augment.OpScale, func(v *augment.ParamValues) { v.ScaleX, v.ScaleY = x, y })}
	}
	rotate := func(deg float64) dsaVariant {
		return dsaVariant{fmt.Sprintf("rotate %+g deg", deg),
			with(augment.OpRotate, func(v *augment.ParamValues) { v.Rotate = deg * math.Pi / 180 })}
	}
	return []struct {
		label    string
		variants []dsaVariant
	}{
		{"DSA COLOR", []dsaVariant{color(-0.5, 1, 1), color(0.5, 1, 1), color(0, 0, 1), color(0, 2, 1), color(0, 1, 0.5), color(0, 1, 1.5)}},
		{"DSA CROP", []dsaVariant{crop(4, 0), crop(0, 4), crop(-4, -4)}},
		{"DSA CUTOUT", []dsaVariant{cutout(8, 8), cutout(16, 16), cutout(26, 20)}},
		{"DSA FLIP", []dsaVariant{{"flip", with(augment.OpFlip, func(v *augment.ParamValues) { v.Flip = true })}}},
		{"DSA SCALE", []dsaVariant{scale(1.2, 1.2), scale(1/1.2, 1/1.2), scale(1.2, 1/1.2)}},
		{"DSA ROTATE", []dsaVariant{rotate(15), rotate(-15), rotate(90)}},
	}
}

// augshowRows computes every row for the n images x (normalised NHWC).
func augshowRows(b backends.Backend, x []float32, n, h, w, c int, mean, std []float32, draws int, seed uint64) (rows []augshowRow, err error) {
	rows = append(rows, augshowRow{label: "ORIGINAL", notes: []string{"unchanged"}, variants: [][]float32{x}})

	one, err := augment.NewDSA(augment.DefaultConfig())
	if err != nil {
		return nil, err
	}
	allCfg := augment.DefaultConfig()
	allCfg.Mode = augment.AllOpsInTurn
	all, err := augment.NewDSA(allCfg)
	if err != nil {
		return nil, err
	}
	fixed := dsaFixedRows()
	graphFn := func(x *Node) []*Node {
		g := x.Graph()
		var outs []*Node
		for _, row := range fixed {
			for _, v := range row.variants {
				outs = append(outs, one.Apply(v.v.Const(g), x))
			}
		}
		for _, a := range []*augment.DSA{one, all} {
			for k := range draws {
				_, p := a.Draw(RNGStateFromSeedForGraph(g, int64(seed)+int64(k)), n, h, w)
				outs = append(outs, a.Apply(p, x), p.Op)
			}
		}
		return outs
	}
	exec, err := NewExec(b, graphFn)
	if err != nil {
		return nil, err
	}
	defer exec.Finalize()
	outs, err := exec.Exec(tensors.FromFlatDataAndDimensions(x, n, h, w, c))
	if err != nil {
		return nil, fmt.Errorf("augshow: running the DSA graph: %w", err)
	}
	next := func() *tensors.Tensor {
		t := outs[0]
		outs = outs[1:]
		return t
	}
	for _, row := range fixed {
		r := augshowRow{label: row.label}
		for _, v := range row.variants {
			r.variants = append(r.variants, tensors.MustCopyFlatData[float32](next()))
			r.notes = append(r.notes, v.note)
		}
		rows = append(rows, r)
	}
	for _, label := range []string{"DSA RANDOM", "DSA ALL OPS"} {
		r := augshowRow{label: label}
		for k := range draws {
			r.variants = append(r.variants, tensors.MustCopyFlatData[float32](next()))
			op := augment.Op(tensors.MustCopyFlatData[int32](next())[0])
			note := fmt.Sprintf("seed %d", seed+uint64(k))
			if label == "DSA RANDOM" {
				note += ": " + op.String()
			}
			r.notes = append(r.notes, note)
		}
		rows = append(rows, r)
	}

	for _, name := range []string{augment.NameImageNetAug, augment.NameRandAug, augment.NameAutoAug} {
		aug, err := augment.NewHost(name, mean, std, augment.HostOptions{})
		if err != nil {
			return nil, err
		}
		r := augshowRow{label: strings.ToUpper(name)}
		for k := range draws {
			s := seed + uint64(k)
			im := append([]float32(nil), x...)
			if err := aug.Apply(im, n, h, w, c, rand.New(rand.NewPCG(s, 0))); err != nil {
				return nil, err
			}
			r.variants = append(r.variants, im)
			r.notes = append(r.notes, fmt.Sprintf("seed %d", s))
		}
		rows = append(rows, r)
	}
	return rows, nil
}
