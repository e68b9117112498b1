package datasets

import (
	"fmt"
	"strings"
)

// CIFAR binary layouts: each record is the label byte(s) followed by 3072 bytes holding the
// red, green and blue 32x32 planes (CHW, row-major).
const (
	cifarSide      = 32
	cifarPixels    = cifarSide * cifarSide * 3
	cifar10Record  = 1 + cifarPixels
	cifar100Record = 2 + cifarPixels

	cifar10Folder  = "cifar-10-batches-bin"
	cifar100Folder = "cifar-100-binary"
)

var (
	cifar10TrainFiles = []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}
	cifar10TestFiles  = []string{"test_batch.bin"}
)

// LoadCIFAR10 loads CIFAR-10 from dir, detecting its layout: the official binary release
// (see LoadCIFAR10Binary) or an image folder tree {train,test}/<class>/*.jpg|png such as
// cifar10-jpeg/ (see LoadImageFolderDir). dir may hold the files directly, hold them in a
// single subfolder (cifar-10-batches-bin/, cifar10-jpeg/, ...), or be a .tar.gz/.zip archive
// of either layout.
func LoadCIFAR10(dir string) (*Pair, error) {
	r, done, err := openRoot(dir)
	if err != nil {
		return nil, err
	}
	defer done()
	if bin, ok := r.find(hasFile("data_batch_1.bin"), cifar10Folder); ok {
		return loadCIFAR10Binary(bin)
	}
	if tree, ok := findFolderTree(r); ok {
		return loadImageFolder(tree, cifar10FolderOptions())
	}
	return nil, fmt.Errorf("datasets: no CIFAR-10 data in %s: want the binary release (%s/data_batch_1.bin ...) or an image folder tree (train/<class>/*.jpg, test/<class>/*.jpg)", dir, cifar10Folder)
}

// LoadCIFAR10Binary loads the official CIFAR-10 binary release from dir, which holds
// data_batch_1.bin ... data_batch_5.bin and test_batch.bin (records of one label byte and
// 3072 pixel bytes) either directly or in a cifar-10-batches-bin folder. Class names come
// from batches.meta.txt when present, else the official list is used.
func LoadCIFAR10Binary(dir string) (*Pair, error) {
	r, done, err := openRoot(dir)
	if err != nil {
		return nil, err
	}
	defer done()
	bin, ok := r.find(hasFile("data_batch_1.bin"), cifar10Folder)
	if !ok {
		bin = r
		if r.isDir(cifar10Folder) {
			bin, _ = r.sub(cifar10Folder)
		}
	}
	return loadCIFAR10Binary(bin)
}

// LoadCIFAR100 loads the official CIFAR-100 binary release from dir (train.bin, test.bin and
// fine_label_names.txt, directly or in a cifar-100-binary folder, or a .tar.gz of it), with
// the 100 fine labels. An image folder tree {train,test}/<class>/ is accepted as well.
func LoadCIFAR100(dir string) (*Pair, error) { return loadCIFAR100(dir, false) }

// LoadCIFAR100Coarse is LoadCIFAR100 with the 20 coarse (superclass) labels; the datasets
// are named "cifar100-coarse" and have the CIFAR-100 mean and std.
func LoadCIFAR100Coarse(dir string) (*Pair, error) { return loadCIFAR100(dir, true) }

func loadCIFAR100(dir string, coarse bool) (*Pair, error) {
	r, done, err := openRoot(dir)
	if err != nil {
		return nil, err
	}
	defer done()
	bin, ok := r.find(hasFile("train.bin"), cifar100Folder)
	if !ok {
		if tree, ok := findFolderTree(r); ok && !coarse {
			return loadImageFolder(tree, FolderOptions{Name: "cifar100", Classes: cifar100Classes, Mean: cifar100Mean, Std: cifar100Std})
		}
		bin = r
		if r.isDir(cifar100Folder) {
			bin, _ = r.sub(cifar100Folder)
		}
	}
	name, namesFile, official := "cifar100", "fine_label_names.txt", cifar100Classes
	if coarse {
		name, namesFile, official = "cifar100-coarse", "coarse_label_names.txt", cifar100CoarseClasses
	}
	classes, err := readClassNames(bin, namesFile, official)
	if err != nil {
		return nil, err
	}
	p := &Pair{}
	for _, s := range []struct {
		split string
		dst   **Dataset
	}{{"train", &p.Train}, {"test", &p.Test}} {
		d := &Dataset{Name: name, Split: s.split, Classes: classes, Mean: clone(cifar100Mean), Std: clone(cifar100Std)}
		if err := readCIFARBinary(bin, s.split+".bin", cifar100Record, labelOffset(coarse), d); err != nil {
			return nil, err
		}
		*s.dst = d
	}
	return p, nil
}

func labelOffset(coarse bool) int {
	if coarse {
		return 0
	}
	return 1
}

func loadCIFAR10Binary(bin root) (*Pair, error) {
	classes, err := readClassNames(bin, "batches.meta.txt", cifar10Classes)
	if err != nil {
		return nil, err
	}
	p := &Pair{}
	for _, s := range []struct {
		split string
		files []string
		dst   **Dataset
	}{{"train", cifar10TrainFiles, &p.Train}, {"test", cifar10TestFiles, &p.Test}} {
		d := &Dataset{Name: "cifar10", Split: s.split, Classes: classes, Mean: clone(cifar10Mean), Std: clone(cifar10Std)}
		for _, f := range s.files {
			if err := readCIFARBinary(bin, f, cifar10Record, 0, d); err != nil {
				return nil, err
			}
		}
		*s.dst = d
	}
	return p, nil
}

// readCIFARBinary appends the records of file name (of recSize bytes, label at byte
// labelAt, pixels in the last 3072 bytes) to d, converting CHW bytes to HWC floats.
func readCIFARBinary(r root, name string, recSize, labelAt int, d *Dataset) error {
	b, err := r.readFile(name)
	if err != nil {
		return err
	}
	if len(b) == 0 || len(b)%recSize != 0 {
		return r.errorf(name, "truncated: %d bytes is not a positive multiple of the %d-byte record", len(b), recSize)
	}
	n := len(b) / recSize
	d.H, d.W, d.C = cifarSide, cifarSide, 3
	base := len(d.Images)
	d.Images = append(d.Images, make([]float32, n*cifarPixels)...)
	const plane = cifarSide * cifarSide
	for i := range n {
		rec := b[i*recSize : (i+1)*recSize]
		label := int(rec[labelAt])
		if label >= len(d.Classes) {
			return r.errorf(name, "corrupt: record %d has label %d, want < %d", i, label, len(d.Classes))
		}
		d.Labels = append(d.Labels, int32(label))
		px := rec[recSize-cifarPixels:]
		out := d.Images[base+i*cifarPixels : base+(i+1)*cifarPixels]
		for p := range plane {
			out[3*p] = u8[px[p]]
			out[3*p+1] = u8[px[plane+p]]
			out[3*p+2] = u8[px[2*plane+p]]
		}
	}
	d.N += n
	return nil
}

// readClassNames reads one class name per non-empty line of file name; it returns official
// when the file is absent, and an error when it exists with a different number of names.
func readClassNames(r root, name string, official []string) ([]string, error) {
	if !r.isFile(name) {
		return clone(official), nil
	}
	b, err := r.readFile(name)
	if err != nil {
		return nil, err
	}
	var names []string
	for line := range strings.Lines(string(b)) {
		if s := strings.TrimSpace(line); s != "" {
			names = append(names, s)
		}
	}
	if len(names) != len(official) {
		return nil, r.errorf(name, "corrupt: %d class names, want %d", len(names), len(official))
	}
	return names, nil
}

// hasFile returns a predicate telling whether a root holds the file name.
func hasFile(name string) func(root) bool {
	return func(r root) bool { return r.isFile(name) }
}

func clone[T any](s []T) []T { return append([]T(nil), s...) }
