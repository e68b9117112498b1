package augment

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dcbench/dcbench/dcbench/internal/parity"
)

// TestDCAugParity replays the reference's draws of DC's augmentation
// (dcbench-evaluator_utils.py:EvaluatorUtils.augment; fixture dcaug, tools/parity/gen_dcaug.py)
// on the same batches: crop, scale, rotate (scipy.ndimage.rotate's cubic spline) and noise,
// square and non-square images. The reference computes in float32 (scipy's spline in float64,
// cast back), so the outputs must agree to float32 rounding.
func TestDCAugParity(t *testing.T) {
	fx := parity.Load(t, "dcaug")
	for i := range fx.Cases {
		c := &fx.Cases[i]
		t.Run(c.Name, func(t *testing.T) {
			x := parity.NCHWToNHWC(c.Array(t, "x"))
			n, h, w, ch := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
			d, err := newDCAug(DCAugParams{Strategy: c.String(t, "strategy"), Crop: c.Int(t, "crop"),
				Scale: c.Float(t, "scale"), Rotate: c.Int(t, "rotate"), Noise: c.Float(t, "noise")})
			if err != nil {
				t.Fatal(err)
			}
			draws := c.Array(t, "draws").Data
			var noise []float32
			if _, ok := c.Arrays["noise"]; ok {
				noise = parity.NCHWToNHWC(c.Array(t, "noise")).Float32()
			}
			pix := x.Float32()
			mean := batchChannelMeans(pix, ch)
			ops := map[string]int{}
			size := h * w * ch
			for j := range n {
				dr := dcDraw{op: d.ops[int(draws[3*j])], a: draws[3*j+1], b: draws[3*j+2]}
				if dr.op == "noise" {
					dr.noise, noise = noise[:size], noise[size:]
				}
				ops[dr.op]++
				d.applyOne(pix[j*size:(j+1)*size], h, w, ch, mean, dr)
			}
			want := parity.NCHWToNHWC(c.Array(t, "out")).Data
			got := make([]float64, len(pix))
			for j, v := range pix {
				got[j] = float64(v)
			}
			t.Logf("ops %v: max rel err %.2g", ops, parity.MaxRelErr(got, want))
			parity.Close(t, "augmented batch", got, want, 1e-6)
		})
	}
}

// TestDCAugDraws checks the draws' ranges (the reference's np.random.permutation(2·crop)[0],
// uniform(1−scale, 1+scale), randint(−rotate, rotate)), that every op of the strategy is drawn,
// that Apply repeats for a seed, and the settings' errors.
func TestDCAugDraws(t *testing.T) {
	d, err := newDCAug(DCAugParams{Strategy: "crop_scale_rotate_noise"})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[string]int{}
	lo, hi := math.Inf(1), math.Inf(-1)
	for range 4000 {
		dr := d.draw(rng, 8, 8, 1)
		seen[dr.op]++
		switch dr.op {
		case "crop":
			if dr.a < 0 || dr.a >= 8 || dr.b < 0 || dr.b >= 8 || dr.a != math.Trunc(dr.a) {
				t.Fatalf("crop offsets %v, %v outside [0, 8)", dr.a, dr.b)
			}
		case "scale":
			if dr.a < 0.8 || dr.a >= 1.2 || dr.b < 0.8 || dr.b >= 1.2 {
				t.Fatalf("scale factors %v, %v outside [0.8, 1.2)", dr.a, dr.b)
			}
		case "rotate":
			lo, hi = min(lo, dr.a), max(hi, dr.a)
		case "noise":
			if len(dr.noise) != 64 {
				t.Fatalf("%d noise values, want 64", len(dr.noise))
			}
		}
	}
	if len(seen) != 4 {
		t.Errorf("ops drawn %v, want all 4", seen)
	}
	if lo != -45 || hi != 44 {
		t.Errorf("angles in [%v, %v], want [-45, 44] (randint excludes the upper bound)", lo, hi)
	}
	aug, err := NewHost(NameDCAug, []float32{0.13}, []float32{0.31}, HostOptions{})
	if err != nil {
		t.Fatal(err)
	}
	batch := func(seed uint64) []float32 {
		im := make([]float32, 4*28*28)
		for j := range im {
			im[j] = float32(j%28) / 10
		}
		if err := aug.Apply(im, 4, 28, 28, 1, rand.New(rand.NewPCG(seed, 0))); err != nil {
			t.Fatal(err)
		}
		return im
	}
	a, b, other := batch(3), batch(3), batch(4)
	same, differ := true, false
	for j := range a {
		same = same && a[j] == b[j]
		differ = differ || a[j] != other[j]
	}
	if !same || !differ {
		t.Errorf("same seed same batch %v, another seed another batch %v", same, differ)
	}
	for _, tc := range []struct {
		p    DCAugParams
		want string
	}{
		{DCAugParams{Strategy: "crop_flip"}, `unknown DC augmentation op "flip"`},
		{DCAugParams{Scale: 1.5}, "scale must be in (0, 1)"},
		{DCAugParams{Crop: -1}, "crop must be positive"},
		{DCAugParams{Noise: -1}, "noise must be positive"},
	} {
		if _, err := newDCAug(tc.p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.p, err, tc.want)
		}
	}
}
