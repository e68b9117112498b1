package datasets

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// IDX magic numbers (big-endian): two zero bytes, the element type (0x08: unsigned byte) and
// the number of dimensions.
const (
	idxImagesMagic = 0x00000803 // 2051: ubyte, 3 dimensions (N, rows, cols)
	idxLabelsMagic = 0x00000801 // 2049: ubyte, 1 dimension (N)

	mnistSide = 28
	maxIDX    = 1 << 31 // largest IDX payload accepted, in bytes
)

// LoadMNIST loads MNIST from the official IDX files in dir: train-images-idx3-ubyte,
// train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each raw or
// gzip-compressed (with or without a .gz suffix). dir may also hold them in a raw/,
// MNIST/raw/ or mnist/ folder. Images are 28x28x1, classes "0".."9".
func LoadMNIST(dir string) (*Pair, error) {
	return loadIDXPair(dir, "mnist", mnistClasses, mnistMean, mnistStd, "raw", "MNIST/raw", "mnist", "MNIST")
}

// LoadFashionMNIST loads Fashion-MNIST from its IDX files in dir (same file names and rules
// as LoadMNIST; also looked for in raw/, FashionMNIST/raw/, fashion-mnist/ and fashion/).
func LoadFashionMNIST(dir string) (*Pair, error) {
	return loadIDXPair(dir, "fashionmnist", fashionMNISTClasses, fashionMNISTMean, fashionMNISTStd, "raw", "FashionMNIST/raw", "fashion-mnist", "fashion", "FashionMNIST")
}

func loadIDXPair(dir, name string, classes []string, mean, std []float32, candidates ...string) (*Pair, error) {
	r, done, err := openRoot(dir)
	if err != nil {
		return nil, err
	}
	defer done()
	present := func(r root) bool {
		return r.isFile("train-images-idx3-ubyte") || r.isFile("train-images-idx3-ubyte.gz")
	}
	if found, ok := r.find(present, candidates...); ok {
		r = found
	}
	p := &Pair{}
	for _, s := range []struct {
		split, prefix string
		dst           **Dataset
	}{{"train", "train", &p.Train}, {"test", "t10k", &p.Test}} {
		imgName, dims, pix, err := readIDXFile(r, s.prefix+"-images-idx3-ubyte", idxImagesMagic)
		if err != nil {
			return nil, err
		}
		if dims[1] != mnistSide || dims[2] != mnistSide {
			return nil, r.errorf(imgName, "images are %dx%d, want %dx%d", dims[1], dims[2], mnistSide, mnistSide)
		}
		lblName, ldims, lbl, err := readIDXFile(r, s.prefix+"-labels-idx1-ubyte", idxLabelsMagic)
		if err != nil {
			return nil, err
		}
		if ldims[0] != dims[0] {
			return nil, r.errorf(lblName, "%d labels for %d images in %s", ldims[0], dims[0], r.show(imgName))
		}
		d := &Dataset{
			Name: name, Split: s.split, N: dims[0], H: mnistSide, W: mnistSide, C: 1,
			Classes: clone(classes), Mean: clone(mean), Std: clone(std),
			Images: make([]float32, len(pix)), Labels: make([]int32, len(lbl)),
		}
		for i, v := range pix {
			d.Images[i] = u8[v]
		}
		for i, v := range lbl {
			if int(v) >= len(classes) {
				return nil, r.errorf(lblName, "corrupt: label %d of item %d, want < %d", v, i, len(classes))
			}
			d.Labels[i] = int32(v)
		}
		*s.dst = d
	}
	return p, nil
}

// readIDXFile reads the IDX file base (or base+".gz") of r, checks its magic number and
// returns the name actually read, the dimensions and the data.
func readIDXFile(r root, base string, magic uint32) (name string, dims []int, data []byte, err error) {
	name = base
	f, err := r.fsys.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		name = base + ".gz"
		f, err = r.fsys.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			return base, nil, nil, r.wrap(base, err)
		}
	}
	if err != nil {
		return name, nil, nil, r.wrap(name, err)
	}
	defer f.Close()
	_, dims, data, err = readIDX(f, magic)
	if err != nil {
		return name, nil, nil, r.errorf(name, "%v", err)
	}
	return name, dims, data, nil
}

// ReadIDX reads an IDX file of unsigned bytes (the MNIST format), gzip-compressed or not,
// and returns its magic number, its dimensions and its data (the product of the dimensions
// bytes). It fails on an unsupported element type, a truncated file or trailing bytes.
func ReadIDX(r io.Reader) (magic uint32, dims []int, data []byte, err error) {
	return readIDX(r, 0)
}

// readIDX is ReadIDX, failing early when want is not 0 and the magic number differs.
func readIDX(r io.Reader, want uint32) (magic uint32, dims []int, data []byte, err error) {
	br := bufio.NewReader(r)
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return 0, nil, nil, fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}
	var hdr [4]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return 0, nil, nil, fmt.Errorf("truncated: reading magic number: %w", err)
	}
	magic = binary.BigEndian.Uint32(hdr[:])
	if want != 0 && magic != want {
		return magic, nil, nil, fmt.Errorf("bad magic number %d (0x%08x), want %d", magic, magic, want)
	}
	if hdr[0] != 0 || hdr[1] != 0 || hdr[2] != 0x08 || hdr[3] == 0 {
		return magic, nil, nil, fmt.Errorf("bad magic number %d (0x%08x): not an IDX file of unsigned bytes", magic, magic)
	}
	total := 1
	dims = make([]int, hdr[3])
	for i := range dims {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return magic, nil, nil, fmt.Errorf("truncated: reading dimension %d: %w", i, err)
		}
		dims[i] = int(binary.BigEndian.Uint32(hdr[:]))
		if dims[i] != 0 && total > maxIDX/dims[i] {
			return magic, nil, nil, fmt.Errorf("corrupt: dimensions %v too large", dims[:i+1])
		}
		total *= dims[i]
	}
	data = make([]byte, total)
	if n, err := io.ReadFull(br, data); err != nil {
		return magic, nil, nil, fmt.Errorf("truncated: %d data bytes, want %d for dimensions %v", n, total, dims)
	}
	switch n, err := io.CopyN(io.Discard, br, 1); {
	case n != 0:
		return magic, nil, nil, fmt.Errorf("corrupt: trailing bytes after the %d data bytes of dimensions %v", total, dims)
	case err != nil && err != io.EOF:
		return magic, nil, nil, fmt.Errorf("corrupt: %w", err)
	}
	return magic, dims, data, nil
}
