package expert

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
)

// Magic starts every buffer shard file.
const Magic = "DCBTRAJ1"

// Version is the shard header's format version.
const Version = 1

// Header is the JSON header of a shard file. A shard holds whole trajectories of consecutive
// experts.
//
// File layout: the 8 bytes Magic; the header length L as a little-endian uint32; L bytes
// of JSON Header; the CRC-32 (IEEE) of those L bytes as a little-endian uint32; then, for
// each expert of Experts in order, its trajectory: Epochs+1 parameter vectors (epoch 0 = the
// initialisation, then after every epoch) of Arch.NumParams() little-endian float32 each,
// laid out as Arch.Layout says. Blocks[i].CRC is the CRC-32 of expert i's bytes.
type Header struct {
	Version int `json:"version"`
	// Setup is what every shard of a buffer shares (data, architecture, training
	// settings, seed); a shard whose identity differs is foreign.
	Setup Setup `json:"identity"`
	// Shard is the shard number, Experts the expert indices it holds.
	Shard   int   `json:"shard"`
	Experts []int `json:"experts"`
	// Blocks hold one CRC-32 per expert trajectory.
	Blocks []Block `json:"blocks"`
}

// Block describes one stored trajectory.
type Block struct {
	Expert int    `json:"expert"`
	CRC    uint32 `json:"crc32"`
	// FinalLoss is the training loss of the last batch of the last epoch.
	FinalLoss float64 `json:"final_loss"`
}

// Setup is the setting that made a buffer: it must match for a shard to be resumed or
// read together with the others.
type Setup struct {
	Dataset   string  `json:"dataset"`
	Arch      Arch    `json:"arch"`
	NumParams int     `json:"num_params"`
	Epochs    int     `json:"epochs"`
	LR        float64 `json:"lr"`
	Batch     int     `json:"batch"`
	DSA       string  `json:"dsa"`
	Seed      uint64  `json:"seed"`
	PerShard  int     `json:"experts_per_shard"`
	// ZCA says whether the experts trained on ZCA-whitened images (Config.ZCA); absent
	// (false) in buffers written before the field existed, and omitted when false so that
	// such buffers keep their identity.
	ZCA bool `json:"zca,omitempty"`
}

// ShardName is the file name of shard k: "replay_buffer_K.bin".
func ShardName(k int) string { return fmt.Sprintf("replay_buffer_%d.bin", k) }

var shardRE = regexp.MustCompile(`^replay_buffer_(\d+)\.bin$`)

// trajBytes is the size in bytes of one trajectory.
func (id Setup) trajBytes() int64 { return int64(id.Epochs+1) * int64(id.NumParams) * 4 }

// encodeShard writes a shard's bytes: header, then trajectories (each
// (Epochs+1)·NumParams float32).
func encodeShard(h Header, trajs [][]float32, losses []float64) ([]byte, error) {
	var data bytes.Buffer
	h.Blocks = h.Blocks[:0:0]
	var payload [][]byte
	for i, tr := range trajs {
		if int64(len(tr))*4 != h.Setup.trajBytes() {
			return nil, fmt.Errorf("expert %d: trajectory of %d values, want %d", h.Experts[i], len(tr), h.Setup.trajBytes()/4)
		}
		b := make([]byte, len(tr)*4)
		for j, v := range tr {
			binary.LittleEndian.PutUint32(b[4*j:], math.Float32bits(v))
		}
		payload = append(payload, b)
	}
	for i, b := range payload {
		blk := Block{Expert: h.Experts[i], CRC: crc32.ChecksumIEEE(b)}
		if i < len(losses) {
			blk.FinalLoss = losses[i]
		}
		h.Blocks = append(h.Blocks, blk)
	}
	js, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	data.WriteString(Magic)
	var u [4]byte
	binary.LittleEndian.PutUint32(u[:], uint32(len(js)))
	data.Write(u[:])
	data.Write(js)
	binary.LittleEndian.PutUint32(u[:], crc32.ChecksumIEEE(js))
	data.Write(u[:])
	for _, b := range payload {
		data.Write(b)
	}
	return data.Bytes(), nil
}

// readHeader reads and checks a shard's header; it returns the header and the offset of the
// first trajectory.
func readHeader(path string) (*Header, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	var pre [12]byte
	if _, err := io.ReadFull(f, pre[:]); err != nil || string(pre[:8]) != Magic {
		return nil, 0, fmt.Errorf("%s is not an expert buffer shard (no %q magic)", path, Magic)
	}
	n := binary.LittleEndian.Uint32(pre[8:])
	if int64(n)+16 > st.Size() || n > 1<<26 {
		return nil, 0, fmt.Errorf("%s: truncated or damaged expert buffer shard (header of %d bytes in a %d-byte file)", path, n, st.Size())
	}
	js := make([]byte, n+4)
	if _, err := io.ReadFull(f, js); err != nil {
		return nil, 0, fmt.Errorf("%s: truncated expert buffer shard: %w", path, err)
	}
	if crc32.ChecksumIEEE(js[:n]) != binary.LittleEndian.Uint32(js[n:]) {
		return nil, 0, fmt.Errorf("%s: damaged expert buffer shard (header checksum mismatch)", path)
	}
	var h Header
	if err := json.Unmarshal(js[:n], &h); err != nil {
		return nil, 0, fmt.Errorf("%s: damaged expert buffer shard header: %w", path, err)
	}
	if h.Version != Version {
		return nil, 0, fmt.Errorf("%s: expert buffer format version %d, this build reads %d", path, h.Version, Version)
	}
	if len(h.Blocks) != len(h.Experts) || h.Setup.NumParams != h.Setup.Arch.NumParams() || h.Setup.Epochs < 1 {
		return nil, 0, fmt.Errorf("%s: inconsistent expert buffer shard header", path)
	}
	off := int64(16 + n)
	want := off + int64(len(h.Experts))*h.Setup.trajBytes()
	if st.Size() != want {
		return nil, 0, fmt.Errorf("%s: expert buffer shard is %d bytes, want %d (truncated or damaged)", path, st.Size(), want)
	}
	return &h, off, nil
}

// Buffer is a folder of expert trajectories, opened for reading.
type Buffer struct {
	dir      string
	id       Setup
	where    map[int]location // expert index → where its trajectory is
	experts  []int            // sorted expert indices
	cacheIdx int
	cache    *Trajectory
}

type location struct {
	path string
	off  int64
	crc  uint32
}

// Open reads the headers of every shard in dir. All shards must share one identity; it
// returns an error naming the file when a shard is damaged, truncated or foreign, and when
// the folder holds no shard.
func Open(dir string) (*Buffer, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("expert buffer: %w", err)
	}
	b := &Buffer{dir: dir, where: map[int]location{}, cacheIdx: -1}
	first := ""
	for _, e := range entries {
		if e.IsDir() || !shardRE.MatchString(e.Name()) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		h, off, err := readHeader(path)
		if err != nil {
			return nil, fmt.Errorf("expert buffer: %w", err)
		}
		if first == "" {
			b.id, first = h.Setup, path
		} else if h.Setup != b.id {
			return nil, fmt.Errorf("expert buffer: %s was made with different settings than %s (%+v vs %+v)", path, first, h.Setup, b.id)
		}
		for i, ex := range h.Experts {
			if _, dup := b.where[ex]; dup {
				return nil, fmt.Errorf("expert buffer: expert %d stored twice (again in %s)", ex, path)
			}
			b.where[ex] = location{path: path, off: off + int64(i)*h.Setup.trajBytes(), crc: h.Blocks[i].CRC}
			b.experts = append(b.experts, ex)
		}
	}
	if first == "" {
		return nil, fmt.Errorf("expert buffer: no %s files in %s (write them with 'dcbench buffer' or expert.Train)", "replay_buffer_*.bin", dir)
	}
	sort.Ints(b.experts)
	return b, nil
}

// Setup returns the setting that made the buffer.
func (b *Buffer) Setup() Setup { return b.id }

// ZCA says whether the experts trained on ZCA-whitened images.
func (b *Buffer) ZCA() bool { return b.id.ZCA }

// Arch returns the architecture of the experts.
func (b *Buffer) Arch() Arch { return b.id.Arch }

// Epochs is the number of training epochs of each expert (a trajectory holds Epochs+1
// parameter vectors).
func (b *Buffer) Epochs() int { return b.id.Epochs }

// NumExperts is the number of stored trajectories.
func (b *Buffer) NumExperts() int { return len(b.experts) }

// Experts lists the stored expert indices, sorted.
func (b *Buffer) Experts() []int { return append([]int(nil), b.experts...) }

// Trajectory is one expert's parameters after every epoch.
type Trajectory struct {
	// Expert is the expert's index.
	Expert int
	// NumParams is the length of each parameter vector.
	NumParams int
	data      []float32
}

// Epochs is the number of epochs (Params accepts 0..Epochs).
func (t *Trajectory) Epochs() int { return len(t.data)/t.NumParams - 1 }

// Params returns the flat parameter vector after epoch e (0: the initialisation), sharing
// the trajectory's memory. It returns an error when e is out of range.
func (t *Trajectory) Params(e int) ([]float32, error) {
	if e < 0 || e > t.Epochs() {
		return nil, fmt.Errorf("expert %d: epoch %d out of range 0..%d", t.Expert, e, t.Epochs())
	}
	return t.data[e*t.NumParams : (e+1)*t.NumParams : (e+1)*t.NumParams], nil
}

// Trajectory reads (and checks against its checksum) the trajectory of expert index i
// (one of Experts). The last one read is cached.
func (b *Buffer) Trajectory(i int) (*Trajectory, error) {
	if i == b.cacheIdx && b.cache != nil {
		return b.cache, nil
	}
	loc, ok := b.where[i]
	if !ok {
		return nil, fmt.Errorf("expert buffer %s: no expert %d (it has %d: %s)", b.dir, i, len(b.experts), summarize(b.experts))
	}
	f, err := os.Open(loc.path)
	if err != nil {
		return nil, fmt.Errorf("expert buffer: %w", err)
	}
	defer f.Close()
	raw := make([]byte, b.id.trajBytes())
	if _, err := f.ReadAt(raw, loc.off); err != nil {
		return nil, fmt.Errorf("expert buffer: %s: reading expert %d: %w", loc.path, i, err)
	}
	if crc32.ChecksumIEEE(raw) != loc.crc {
		return nil, fmt.Errorf("expert buffer: %s: expert %d is damaged (checksum mismatch)", loc.path, i)
	}
	data := make([]float32, len(raw)/4)
	for j := range data {
		data[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
	}
	t := &Trajectory{Expert: i, NumParams: b.id.NumParams, data: data}
	b.cacheIdx, b.cache = i, t
	return t, nil
}

func summarize(xs []int) string {
	if len(xs) == 0 {
		return "none"
	}
	if len(xs) <= 6 {
		s := ""
		for i, x := range xs {
			if i > 0 {
				s += ", "
			}
			s += strconv.Itoa(x)
		}
		return s
	}
	return fmt.Sprintf("%d..%d", xs[0], xs[len(xs)-1])
}
