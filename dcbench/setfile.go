package dcbench

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/dcbench/dcbench/datasets"
)

// setMagic opens every condensed-set file.
const setMagic = "DCBSET01"

// maxHeader bounds the JSON header so that a corrupt length cannot allocate gigabytes.
const maxHeader = 16 << 20

// setHeader is the JSON header of a condensed-set file.
type setHeader struct {
	Format     string         `json:"format"`
	Method     string         `json:"method"`
	IPC        int            `json:"ipc"`
	Seed       uint64         `json:"seed"`
	Params     map[string]any `json:"params,omitempty"`
	Source     string         `json:"source"`
	Dataset    string         `json:"dataset"`
	Backend    string         `json:"backend,omitempty"`
	Seconds    float64        `json:"seconds"`
	Created    time.Time      `json:"created"`
	Version    string         `json:"version"`
	N          int            `json:"n"`
	H          int            `json:"h"`
	W          int            `json:"w"`
	C          int            `json:"c"`
	Classes    []string       `json:"classes"`
	Mean       []float32      `json:"mean"`
	Std        []float32      `json:"std"`
	Normalized bool           `json:"normalized"`
}

// Save writes the set to path atomically (a temporary file in the same folder, renamed at the
// end), so an interrupted save never leaves a truncated file behind.
//
// Format (all little-endian): the 8 bytes "DCBSET01"; a uint32 header length L; L bytes of
// JSON header (method, ipc, seed, params, source dataset, backend, seconds, creation time,
// version, n/h/w/c, class names, mean/std, normalized); n·h·w·c float32 images, NHWC; n int32
// labels; a uint32 CRC-32 (IEEE) of everything before it.
func (s *Set) Save(path string) error {
	if err := s.Validate(); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("saving condensed set: %w", err)
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("saving condensed set: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := s.Write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("saving condensed set to %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("saving condensed set to %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("saving condensed set to %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil { // CreateTemp makes 0600; sets are shared
		return fmt.Errorf("saving condensed set to %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

// Write encodes the set in the format described at Save.
func (s *Set) Write(w io.Writer) error {
	d := s.Data
	h := setHeader{Format: setMagic, Method: s.Method, IPC: s.IPC, Seed: s.Seed, Params: s.Params, Source: s.Source,
		Dataset: d.Name, Backend: s.Backend, Seconds: s.Seconds, Created: s.Created, Version: s.Version,
		N: d.N, H: d.H, W: d.W, C: d.C, Classes: d.Classes, Mean: d.Mean, Std: d.Std, Normalized: d.Normalized}
	js, err := json.Marshal(h)
	if err != nil {
		return err
	}
	crc := crc32.NewIEEE()
	bw := bufio.NewWriter(io.MultiWriter(w, crc))
	bw.WriteString(setMagic)
	binary.Write(bw, binary.LittleEndian, uint32(len(js)))
	bw.Write(js)
	buf := make([]byte, 4)
	for _, v := range d.Images {
		binary.LittleEndian.PutUint32(buf, math.Float32bits(v))
		bw.Write(buf)
	}
	for _, l := range d.Labels {
		binary.LittleEndian.PutUint32(buf, uint32(l))
		bw.Write(buf)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	binary.LittleEndian.PutUint32(buf, crc.Sum32())
	_, err = w.Write(buf)
	return err
}

// LoadSet reads a condensed set saved by Save, with a clear error for a missing, truncated,
// corrupt or foreign file.
func LoadSet(path string) (*Set, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading condensed set: %w", err)
	}
	s, err := ReadSet(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("loading condensed set %s: %w", path, err)
	}
	return s, nil
}

// ReadSet decodes a condensed set in the format described at Save.
func ReadSet(r io.Reader) (*Set, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if len(b) < len(setMagic)+8 || string(b[:len(setMagic)]) != setMagic {
		return nil, errors.New("not a dcbench condensed-set file (bad magic)")
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	hl := int(binary.LittleEndian.Uint32(b[len(setMagic):]))
	off := len(setMagic) + 4
	if hl > maxHeader || off+hl > len(body) {
		return nil, fmt.Errorf("truncated file: header of %d bytes does not fit in %d bytes", hl, len(b))
	}
	var h setHeader
	if err := json.Unmarshal(b[off:off+hl], &h); err != nil {
		return nil, fmt.Errorf("corrupt header: %w", err)
	}
	off += hl
	if h.N < 0 || h.H <= 0 || h.W <= 0 || h.C <= 0 {
		return nil, fmt.Errorf("corrupt header: shape %dx%dx%dx%d", h.N, h.H, h.W, h.C)
	}
	nImg := h.N * h.H * h.W * h.C
	want := off + 4*nImg + 4*h.N
	if len(body) != want {
		return nil, fmt.Errorf("truncated or padded file: %d bytes of data, want %d for %d images of %dx%dx%d",
			len(body), want, h.N, h.H, h.W, h.C)
	}
	if got := crc32.ChecksumIEEE(body); got != sum {
		return nil, fmt.Errorf("corrupt file: checksum %08x, want %08x", got, sum)
	}
	d := &datasets.Dataset{Name: h.Dataset, Split: "condensed", N: h.N, H: h.H, W: h.W, C: h.C,
		Classes: h.Classes, Mean: h.Mean, Std: h.Std, Normalized: h.Normalized,
		Images: make([]float32, nImg), Labels: make([]int32, h.N)}
	for i := range d.Images {
		d.Images[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[off+4*i:]))
	}
	off += 4 * nImg
	for i := range d.Labels {
		d.Labels[i] = int32(binary.LittleEndian.Uint32(b[off+4*i:]))
	}
	s := &Set{Data: d, Method: h.Method, IPC: h.IPC, Seed: h.Seed, Params: h.Params, Source: h.Source,
		Backend: h.Backend, Seconds: h.Seconds, Created: h.Created, Version: h.Version}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}
