package parity

import "fmt"

// NCHWToNHWC converts a row-major [N, C, H, W] array (PyTorch's image layout) to
// [N, H, W, C] (dcbench's).
func NCHWToNHWC(a Array) Array {
	if len(a.Shape) != 4 {
		panic(fmt.Sprintf("parity.NCHWToNHWC: want rank 4, got shape %v", a.Shape))
	}
	n, c, h, w := a.Shape[0], a.Shape[1], a.Shape[2], a.Shape[3]
	out := make([]float64, len(a.Data))
	for b := 0; b < n; b++ {
		for ch := 0; ch < c; ch++ {
			for i := 0; i < h; i++ {
				for j := 0; j < w; j++ {
					out[((b*h+i)*w+j)*c+ch] = a.Data[((b*c+ch)*h+i)*w+j]
				}
			}
		}
	}
	return Array{Shape: []int{n, h, w, c}, Data: out}
}

// NHWCToNCHW is the inverse of NCHWToNHWC.
func NHWCToNCHW(a Array) Array {
	if len(a.Shape) != 4 {
		panic(fmt.Sprintf("parity.NHWCToNCHW: want rank 4, got shape %v", a.Shape))
	}
	n, h, w, c := a.Shape[0], a.Shape[1], a.Shape[2], a.Shape[3]
	out := make([]float64, len(a.Data))
	for b := 0; b < n; b++ {
		for ch := 0; ch < c; ch++ {
			for i := 0; i < h; i++ {
				for j := 0; j < w; j++ {
					out[((b*c+ch)*h+i)*w+j] = a.Data[((b*h+i)*w+j)*c+ch]
				}
			}
		}
	}
	return Array{Shape: []int{n, c, h, w}, Data: out}
}

// OIHWToHWIO converts a PyTorch convolution kernel [out, in, kh, kw] to dcbench's
// [kh, kw, in, out].
func OIHWToHWIO(a Array) Array {
	if len(a.Shape) != 4 {
		panic(fmt.Sprintf("parity.OIHWToHWIO: want rank 4, got shape %v", a.Shape))
	}
	o, in, kh, kw := a.Shape[0], a.Shape[1], a.Shape[2], a.Shape[3]
	out := make([]float64, len(a.Data))
	for oo := 0; oo < o; oo++ {
		for ii := 0; ii < in; ii++ {
			for i := 0; i < kh; i++ {
				for j := 0; j < kw; j++ {
					out[((i*kw+j)*in+ii)*o+oo] = a.Data[((oo*in+ii)*kh+i)*kw+j]
				}
			}
		}
	}
	return Array{Shape: []int{kh, kw, in, o}, Data: out}
}

// LinearToDense converts a PyTorch nn.Linear weight [out, in] to dcbench's [in, out].
func LinearToDense(a Array) Array {
	if len(a.Shape) != 2 {
		panic(fmt.Sprintf("parity.LinearToDense: want rank 2, got shape %v", a.Shape))
	}
	o, in := a.Shape[0], a.Shape[1]
	out := make([]float64, len(a.Data))
	for i := 0; i < o; i++ {
		for j := 0; j < in; j++ {
			out[j*o+i] = a.Data[i*in+j]
		}
	}
	return Array{Shape: []int{in, o}, Data: out}
}

// FlatCHWToHWC reorders the feature axis of [N, C·H·W] features (PyTorch's flatten of an
// NCHW map) to dcbench's flatten of the NHWC map, [N, H·W·C].
func FlatCHWToHWC(a Array, c, h, w int) Array {
	if len(a.Shape) != 2 || a.Shape[1] != c*h*w {
		panic(fmt.Sprintf("parity.FlatCHWToHWC: shape %v is not [N, %d·%d·%d]", a.Shape, c, h, w))
	}
	b := NCHWToNHWC(Array{Shape: []int{a.Shape[0], c, h, w}, Data: a.Data})
	return Array{Shape: a.Shape, Data: b.Data}
}

// LinearCHWToDenseHWC converts the weight [out, C·H·W] of a Linear layer applied to
// PyTorch's NCHW flatten into the [H·W·C, out] Dense weight applied to dcbench's NHWC flatten.
func LinearCHWToDenseHWC(a Array, c, h, w int) Array {
	if len(a.Shape) != 2 || a.Shape[1] != c*h*w {
		panic(fmt.Sprintf("parity.LinearCHWToDenseHWC: shape %v is not [out, %d·%d·%d]", a.Shape, c, h, w))
	}
	return LinearToDense(FlatCHWToHWC(a, c, h, w))
}
