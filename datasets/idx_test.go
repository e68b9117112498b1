package datasets

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"
	"time"
)

// idxBytes encodes an IDX file of unsigned bytes.
func idxBytes(magic uint32, dims []int, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	return append(b, data...)
}

func mnistPixel(split, i, p int) byte { return byte(split*77 + i*13 + p) }

// mnistFiles returns MNIST IDX files with 3 train and 2 test images, gzip-compressed or not.
func mnistFiles(t *testing.T, gz bool, prefix string) map[string][]byte {
	files := map[string][]byte{}
	for split, s := range []struct {
		prefix string
		labels []byte
	}{{"train", []byte{5, 0, 9}}, {"t10k", []byte{7, 2}}} {
		n := len(s.labels)
		var pix []byte
		for i := range n {
			for p := range 28 * 28 {
				pix = append(pix, mnistPixel(split, i, p))
			}
		}
		img := idxBytes(2051, []int{n, 28, 28}, pix)
		lbl := idxBytes(2049, []int{n}, s.labels)
		imgName, lblName := prefix+s.prefix+"-images-idx3-ubyte", prefix+s.prefix+"-labels-idx1-ubyte"
		if gz {
			img, lbl = gzipBytes(t, img), gzipBytes(t, lbl)
			imgName, lblName = imgName+".gz", lblName+".gz"
		}
		files[imgName], files[lblName] = img, lbl
	}
	return files
}

func TestLoadMNIST(t *testing.T) {
	for _, tc := range []struct {
		name, dataset, prefix string
		gz                    bool
		classes               []string
		mean, std             float32
	}{
		{"mnist raw", "mnist", "", false, mnistClasses, 0.1307, 0.3081},
		{"mnist gz", "mnist", "", true, mnistClasses, 0.1307, 0.3081},
		{"mnist torchvision layout", "mnist", "MNIST/raw/", false, mnistClasses, 0.1307, 0.3081},
		{"fashion gz", "fashionmnist", "", true, fashionMNISTClasses, 0.2861, 0.3530},
		{"fashion in folder", "Fashion-MNIST", "fashion-mnist/", false, fashionMNISTClasses, 0.2861, 0.3530},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, t.TempDir(), mnistFiles(t, tc.gz, tc.prefix))
			p, err := Load(tc.dataset, dir)
			if err != nil {
				t.Fatal(err)
			}
			for split, d := range []*Dataset{p.Train, p.Test} {
				if err := d.Validate(); err != nil {
					t.Fatal(err)
				}
				if d.Name != canonical(tc.dataset) || d.H != 28 || d.W != 28 || d.C != 1 || !slices.Equal(d.Classes, tc.classes) ||
					!slices.Equal(d.Mean, []float32{tc.mean}) || !slices.Equal(d.Std, []float32{tc.std}) {
					t.Fatalf("%v classes %v mean %v std %v", d, d.Classes, d.Mean, d.Std)
				}
				for i := range d.N {
					img := d.Image(i)
					for _, px := range []int{0, 1, 400, 783} {
						if want := float32(mnistPixel(split, i, px)) / 255; img[px] != want {
							t.Fatalf("%s image %d pixel %d = %v, want %v", d.Split, i, px, img[px], want)
						}
					}
				}
			}
			if !slices.Equal(p.Train.Labels, []int32{5, 0, 9}) || !slices.Equal(p.Test.Labels, []int32{7, 2}) {
				t.Fatalf("labels %v %v", p.Train.Labels, p.Test.Labels)
			}
		})
	}
}

func TestLoadMNISTErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		gz     bool
		modify func(f map[string][]byte)
		parts  []string
	}{
		{"missing images", false, func(f map[string][]byte) { delete(f, "train-images-idx3-ubyte") }, []string{"train-images-idx3-ubyte", "no such file"}},
		{"missing labels gz", true, func(f map[string][]byte) { delete(f, "t10k-labels-idx1-ubyte.gz") }, []string{"t10k-labels-idx1-ubyte", "no such file"}},
		{"swapped magic", false, func(f map[string][]byte) { binary.BigEndian.PutUint32(f["train-images-idx3-ubyte"], 2049) }, []string{"train-images-idx3-ubyte", "bad magic number 2049", "want 2051"}},
		{"not idx", false, func(f map[string][]byte) { f["t10k-labels-idx1-ubyte"] = []byte("hello world") }, []string{"t10k-labels-idx1-ubyte", "bad magic number"}},
		{"truncated", false, func(f map[string][]byte) { f["train-images-idx3-ubyte"] = f["train-images-idx3-ubyte"][:1000] }, []string{"train-images-idx3-ubyte", "truncated"}},
		{"truncated header", false, func(f map[string][]byte) { f["train-labels-idx1-ubyte"] = f["train-labels-idx1-ubyte"][:6] }, []string{"train-labels-idx1-ubyte", "truncated"}},
		{"truncated gz", true, func(f map[string][]byte) { f["t10k-images-idx3-ubyte.gz"] = f["t10k-images-idx3-ubyte.gz"][:100] }, []string{"t10k-images-idx3-ubyte.gz", "truncated"}},
		{"trailing bytes", false, func(f map[string][]byte) { f["train-labels-idx1-ubyte"] = append(f["train-labels-idx1-ubyte"], 1) }, []string{"train-labels-idx1-ubyte", "trailing"}},
		{"label count", false, func(f map[string][]byte) { f["t10k-labels-idx1-ubyte"] = idxBytes(2049, []int{3}, []byte{1, 2, 3}) }, []string{"t10k-labels-idx1-ubyte", "3 labels for 2 images"}},
		{"image size", false, func(f map[string][]byte) {
			f["t10k-images-idx3-ubyte"] = idxBytes(2051, []int{2, 27, 28}, make([]byte, 2*27*28))
		}, []string{"t10k-images-idx3-ubyte", "27x28, want 28x28"}},
		{"label range", false, func(f map[string][]byte) { f["train-labels-idx1-ubyte"] = idxBytes(2049, []int{3}, []byte{1, 10, 3}) }, []string{"train-labels-idx1-ubyte", "label 10 of item 1"}},
		{"huge dims", false, func(f map[string][]byte) {
			f["train-images-idx3-ubyte"] = idxBytes(2051, []int{1 << 30, 1 << 30, 28}, nil)
		}, []string{"train-images-idx3-ubyte", "too large"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := mnistFiles(t, tc.gz, "")
			tc.modify(files)
			dir := writeFiles(t, t.TempDir(), files)
			_, err := LoadMNIST(dir)
			wantErr(t, err, append(tc.parts, dir)...)
		})
	}
}

func TestReadIDX(t *testing.T) {
	b := idxBytes(0x00000802, []int{2, 3}, []byte{1, 2, 3, 4, 5, 6})
	for _, in := range [][]byte{b, gzipBytes(t, b)} {
		magic, dims, data, err := ReadIDX(bytes.NewReader(in))
		if err != nil || magic != 0x802 || !slices.Equal(dims, []int{2, 3}) || !slices.Equal(data, []byte{1, 2, 3, 4, 5, 6}) {
			t.Fatalf("ReadIDX = %x %v %v %v", magic, dims, data, err)
		}
	}
	_, _, _, err := ReadIDX(bytes.NewReader(idxBytes(0x00000d01, []int{1}, []byte{0, 0, 0, 0})))
	wantErr(t, err, "not an IDX file of unsigned bytes")
}

// TestRealMNIST loads the shared copy of the official MNIST files.
func TestRealMNIST(t *testing.T) {
	dir := sharedFile(t, "mnist")
	start := time.Now()
	p, err := Load("mnist", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded %v and %v in %v", p.Train, p.Test, time.Since(start))
	if p.Train.N != 60000 || p.Test.N != 10000 || p.Train.Labels[0] != 5 || p.Test.Labels[0] != 7 {
		t.Fatalf("train %v test %v, first labels %d %d", p.Train, p.Test, p.Train.Labels[0], p.Test.Labels[0])
	}
	if err := p.Train.Validate(); err != nil {
		t.Fatal(err)
	}
	// The training-set mean and std are the published normalisation constants.
	mean, std := p.Train.ChannelStats()
	if d := maxAbsDiff(mean, mnistMean); d > 1e-4 {
		t.Fatalf("mean %v", mean)
	}
	if d := maxAbsDiff(std, mnistStd); d > 1e-4 {
		t.Fatalf("std %v", std)
	}
}
