package augment

import (
	"math"
	"testing"

	"github.com/dcbench/dcbench/dcbench/internal/parity"
)

// TestHostOpsParity checks the host augmentation ops (uint8 pipeline, as DC-Bench's evaluator
// runs torchvision on uint8 batches) against torchvision's own on one image (fixture hostaug,
// tools/parity/gen_hostaug.py): every op of the RandAugment/AutoAugment space at fixed
// magnitudes and the ColorJitter adjustments. Outputs are uint8 levels: they must be equal.
func TestHostOpsParity(t *testing.T) {
	fx := parity.Load(t, "hostaug")
	for i := range fx.Cases {
		c := &fx.Cases[i]
		t.Run(c.Name, func(t *testing.T) {
			x := parity.NCHWToNHWC(parity.Array{Shape: append([]int{1}, c.Array(t, "x").Shape...), Data: c.Array(t, "x").Data})
			h, w, ch := x.Shape[1], x.Shape[2], x.Shape[3]
			im := newImage(h, w, ch, true)
			for j, v := range x.Data {
				im.pix[j] = float32(v)
			}
			name := c.String(t, "op")
			switch c.String(t, "kind") {
			case "op":
				op := -1
				for k, n := range hostOpNames {
					if n == name {
						op = k
					}
				}
				if op < 0 {
					t.Fatalf("no host op %q", name)
				}
				applyHostOp(im, hostOp(op), c.Float(t, "magnitude"))
			case "jitter":
				f := c.Float(t, "factor")
				switch name {
				case "adjust_hue":
					im.adjustHue(f)
				case "adjust_brightness":
					im.adjustBrightness(f)
				case "adjust_contrast":
					im.adjustContrast(f)
				case "adjust_saturation":
					im.adjustSaturation(f)
				case "hflip":
					im.hflip()
				default:
					t.Fatalf("unknown jitter op %q", name)
				}
			}
			want := parity.NCHWToNHWC(parity.Array{Shape: append([]int{1}, c.Array(t, "out").Shape...), Data: c.Array(t, "out").Data}).Data
			diff, worst, at := 0, 0.0, 0
			for j, v := range im.pix {
				if d := math.Abs(float64(v) - want[j]); d > 0 {
					diff++
					if d > worst {
						worst, at = d, j
					}
				}
			}
			if diff > 0 {
				t.Errorf("%d of %d values differ from torchvision (worst %g levels at %d: got %v, torchvision %v)",
					diff, len(want), worst, at, im.pix[at], want[at])
			}
		})
	}
}
