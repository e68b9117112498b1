package gogemm

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// Name is the name the backend is registered under, for GOMLX_BACKEND.
const Name = "gogemm"

// MinFLOPs is the default least work (2·batch·M·N·K floating-point operations) for which a
// DotGeneral runs as a host product; smaller ones stay inside the simplego programs, where
// they cost less than splitting the graph around them. The backend option min_flops=N
// overrides it (min_flops=0 sends every float product to the GEMM, as tests do).
var MinFLOPs = 1 << 22

func init() {
	backends.Register(Name, New)
}

// Backend implements backends.Backend on top of a simplego backend, which holds every buffer.
type Backend struct {
	sg       backends.Backend
	minFLOPs float64
	minHost  int // see MinHostElements; -1 keeps broadcasts and sums in simplego
}

var _ backends.Backend = (*Backend)(nil)

// New creates the backend from a comma-separated config. gogemm's own options are
// min_flops=N (see MinFLOPs), min_host_elements=N (see MinHostElements) and no_host_ops
// (keep broadcasts and sums in simplego); everything else is handed to simplego.New (e.g. "ops_sequential").
func New(config string) (backends.Backend, error) {
	if err := GEMMError(); err != nil {
		return nil, err
	}
	minFLOPs, minHost := float64(MinFLOPs), MinHostElements
	var rest []string
	for _, part := range strings.Split(config, ",") {
		if v, ok := strings.CutPrefix(part, "min_flops="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 {
				return nil, fmt.Errorf("%s: min_flops=%q is not a non-negative number", Name, v)
			}
			minFLOPs = f
			continue
		}
		if part == "no_host_ops" {
			minHost = -1
			continue
		}
		if v, ok := strings.CutPrefix(part, "min_host_elements="); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("%s: min_host_elements=%q is not a non-negative integer", Name, v)
			}
			minHost = n
			continue
		}
		if part != "" {
			rest = append(rest, part)
		}
	}
	sg, err := simplego.New(strings.Join(rest, ","))
	if err != nil {
		return nil, err
	}
	return &Backend{sg: sg, minFLOPs: minFLOPs, minHost: minHost}, nil
}

// Name implements backends.Backend.
func (b *Backend) Name() string { return "SimpleGo with GEMM (gogemm)" }

// String implements backends.Backend.
func (b *Backend) String() string { return Name }

// Description implements backends.Backend.
func (b *Backend) Description() string {
	return fmt.Sprintf("simplego with matrix products from %s", GEMMName())
}

// NumDevices implements backends.Backend.
func (b *Backend) NumDevices() int { return b.sg.NumDevices() }

// DeviceDescription implements backends.Backend.
func (b *Backend) DeviceDescription(d backends.DeviceNum) string {
	return b.sg.DeviceDescription(d)
}

// Capabilities implements backends.Backend: those of simplego.
func (b *Backend) Capabilities() backends.Capabilities { return b.sg.Capabilities() }

// Builder implements backends.Backend.
func (b *Backend) Builder(name string) backends.Builder {
	return &Builder{backend: b, name: name, shadow: b.sg.Builder(name)}
}

// Finalize implements backends.Backend.
func (b *Backend) Finalize() { b.sg.Finalize() }

// IsFinalized implements backends.Backend.
func (b *Backend) IsFinalized() bool { return b.sg.IsFinalized() }

// BufferFinalize implements backends.DataInterface.
func (b *Backend) BufferFinalize(buf backends.Buffer) error { return b.sg.BufferFinalize(buf) }

// BufferShape implements backends.DataInterface.
func (b *Backend) BufferShape(buf backends.Buffer) (shapes.Shape, error) {
	return b.sg.BufferShape(buf)
}

// BufferDeviceNum implements backends.DataInterface.
func (b *Backend) BufferDeviceNum(buf backends.Buffer) (backends.DeviceNum, error) {
	return b.sg.BufferDeviceNum(buf)
}

// BufferToFlatData implements backends.DataInterface.
func (b *Backend) BufferToFlatData(buf backends.Buffer, flat any) error {
	return b.sg.BufferToFlatData(buf, flat)
}

// BufferFromFlatData implements backends.DataInterface.
func (b *Backend) BufferFromFlatData(d backends.DeviceNum, flat any, shape shapes.Shape) (backends.Buffer, error) {
	return b.sg.BufferFromFlatData(d, flat, shape)
}

// HasSharedBuffers implements backends.DataInterface.
func (b *Backend) HasSharedBuffers() bool { return b.sg.HasSharedBuffers() }

// NewSharedBuffer implements backends.DataInterface.
func (b *Backend) NewSharedBuffer(d backends.DeviceNum, shape shapes.Shape) (backends.Buffer, any, error) {
	return b.sg.NewSharedBuffer(d, shape)
}

// BufferData implements backends.DataInterface.
func (b *Backend) BufferData(buf backends.Buffer) (any, error) { return b.sg.BufferData(buf) }

// BufferCopyToDevice implements backends.DataInterface.
func (b *Backend) BufferCopyToDevice(src backends.Buffer, d backends.DeviceNum) (backends.Buffer, error) {
	return b.sg.BufferCopyToDevice(src, d)
}
