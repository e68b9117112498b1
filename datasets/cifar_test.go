package datasets

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// cifarPixel is the byte written for channel c, pixel p of record i of file f.
func cifarPixel(f, i, c, p int) byte { return byte(f*101 + i*31 + c*7 + p*3) }

// cifarRecords builds n records of file number f; labels[i] are the label bytes of record i.
func cifarRecords(f int, labels [][]byte) []byte {
	var b []byte
	for i, l := range labels {
		b = append(b, l...)
		for c := range 3 {
			for p := range 1024 {
				b = append(b, cifarPixel(f, i, c, p))
			}
		}
	}
	return b
}

// checkCIFARImage checks image k of d against record i of file f.
func checkCIFARImage(t *testing.T, d *Dataset, k, f, i int) {
	t.Helper()
	img := d.Image(k)
	for p := range 1024 {
		for c := range 3 {
			if want := float32(cifarPixel(f, i, c, p)) / 255; img[3*p+c] != want {
				t.Fatalf("%s image %d pixel %d channel %d = %v, want %v", d.Split, k, p, c, img[3*p+c], want)
			}
		}
	}
}

// writeCIFAR10 writes a CIFAR-10 binary release with 2 records per training batch and 3
// test records into dir/sub and returns the labels per file.
func writeCIFAR10(t *testing.T, dir, sub string) map[string][]byte {
	files := map[string][]byte{}
	labels := map[string][]byte{}
	names := append(slices.Clone(cifar10TrainFiles), "test_batch.bin")
	for f, name := range names {
		ls := []byte{byte(f), byte(9 - f)}
		if name == "test_batch.bin" {
			ls = []byte{3, 1, 4}
		}
		var recLabels [][]byte
		for _, l := range ls {
			recLabels = append(recLabels, []byte{l})
		}
		files[filepath.Join(sub, name)] = cifarRecords(f, recLabels)
		labels[name] = ls
	}
	files[filepath.Join(sub, "batches.meta.txt")] = []byte(strings.Join(cifar10Classes, "\n") + "\n\n")
	writeFiles(t, dir, files)
	return labels
}

func TestLoadCIFAR10Binary(t *testing.T) {
	for _, sub := range []string{"", "cifar-10-batches-bin", "downloads/cifar-10-batches-bin"} {
		t.Run("in "+sub, func(t *testing.T) {
			dir := t.TempDir()
			labels := writeCIFAR10(t, dir, sub)
			for _, load := range []func(string) (*Pair, error){LoadCIFAR10, LoadCIFAR10Binary, func(d string) (*Pair, error) { return Load("CIFAR-10", d) }} {
				p, err := load(dir)
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range []*Dataset{p.Train, p.Test} {
					if err := d.Validate(); err != nil {
						t.Fatal(err)
					}
					if d.Name != "cifar10" || d.H != 32 || d.W != 32 || d.C != 3 || d.Normalized || !slices.Equal(d.Classes, cifar10Classes) ||
						!slices.Equal(d.Mean, []float32{0.4914, 0.4822, 0.4465}) || !slices.Equal(d.Std, []float32{0.2023, 0.1994, 0.2010}) {
						t.Fatalf("bad dataset %v %v %v %v", d, d.Classes, d.Mean, d.Std)
					}
				}
				if p.Train.N != 10 || p.Test.N != 3 || p.Train.Split != "train" || p.Test.Split != "test" {
					t.Fatalf("train %v test %v", p.Train, p.Test)
				}
				var wantTrain []int32
				for _, f := range cifar10TrainFiles {
					for _, l := range labels[f] {
						wantTrain = append(wantTrain, int32(l))
					}
				}
				if !slices.Equal(p.Train.Labels, wantTrain) || !slices.Equal(p.Test.Labels, []int32{3, 1, 4}) {
					t.Fatalf("labels %v %v", p.Train.Labels, p.Test.Labels)
				}
				checkCIFARImage(t, p.Train, 0, 0, 0)
				checkCIFARImage(t, p.Train, 7, 3, 1) // batch 4, record 1
				checkCIFARImage(t, p.Test, 2, 5, 2)
			}
		})
	}
}

func TestLoadCIFAR10BinaryErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(dir string)
		parts  []string
	}{
		{"missing batch", func(dir string) { os.Remove(filepath.Join(dir, "data_batch_3.bin")) }, []string{filepath.Join("data_batch_3.bin"), "no such file"}},
		{"missing test", func(dir string) { os.Remove(filepath.Join(dir, "test_batch.bin")) }, []string{"test_batch.bin"}},
		{"truncated", func(dir string) { truncate(t, filepath.Join(dir, "data_batch_2.bin"), 3073*2-100) }, []string{"data_batch_2.bin", "truncated", "3073-byte record"}},
		{"empty", func(dir string) { truncate(t, filepath.Join(dir, "test_batch.bin"), 0) }, []string{"test_batch.bin", "truncated"}},
		{"bad label", func(dir string) { patch(t, filepath.Join(dir, "data_batch_5.bin"), 3073, 10) }, []string{"data_batch_5.bin", "corrupt", "record 1 has label 10"}},
		{"bad meta", func(dir string) {
			os.WriteFile(filepath.Join(dir, "batches.meta.txt"), []byte("cat\ndog\n"), 0o644)
		}, []string{"batches.meta.txt", "2 class names, want 10"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeCIFAR10(t, dir, "")
			tc.modify(dir)
			_, err := LoadCIFAR10Binary(dir)
			wantErr(t, err, append(tc.parts, dir)...)
		})
	}
	_, err := LoadCIFAR10Binary(filepath.Join(t.TempDir(), "nowhere"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing folder: %v", err)
	}
	_, err = LoadCIFAR10(t.TempDir())
	wantErr(t, err, "no CIFAR-10 data", "cifar-10-batches-bin", "train/<class>")
}

func truncate(t *testing.T, p string, size int64) {
	t.Helper()
	if err := os.Truncate(p, size); err != nil {
		t.Fatal(err)
	}
}

func patch(t *testing.T, p string, off int, b byte) {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	data[off] = b
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeCIFAR100 writes a CIFAR-100 binary release (4 train, 2 test records) into dir/sub.
func writeCIFAR100(t *testing.T, dir, sub string) {
	fine := strings.Join(cifar100Classes, "\n") + "\n"
	coarse := strings.Join(cifar100CoarseClasses, "\n") + "\n"
	writeFiles(t, dir, map[string][]byte{
		filepath.Join(sub, "train.bin"):              cifarRecords(0, [][]byte{{4, 30}, {1, 1}, {14, 99}, {19, 0}}),
		filepath.Join(sub, "test.bin"):               cifarRecords(1, [][]byte{{0, 49}, {7, 6}}),
		filepath.Join(sub, "fine_label_names.txt"):   []byte(fine),
		filepath.Join(sub, "coarse_label_names.txt"): []byte(coarse),
	})
}

func TestLoadCIFAR100(t *testing.T) {
	if len(cifar100Classes) != 100 || len(cifar100CoarseClasses) != 20 {
		t.Fatalf("%d fine, %d coarse class names", len(cifar100Classes), len(cifar100CoarseClasses))
	}
	dir := t.TempDir()
	writeCIFAR100(t, dir, "cifar-100-binary")
	p, err := Load("cifar100", dir)
	if err != nil {
		t.Fatal(err)
	}
	if p.Train.N != 4 || p.Test.N != 2 || p.Train.Name != "cifar100" || len(p.Train.Classes) != 100 {
		t.Fatalf("%v %v", p.Train, p.Test)
	}
	if !slices.Equal(p.Train.Labels, []int32{30, 1, 99, 0}) || !slices.Equal(p.Test.Labels, []int32{49, 6}) {
		t.Fatalf("fine labels %v %v", p.Train.Labels, p.Test.Labels)
	}
	if p.Train.Classes[99] != "worm" || p.Train.Classes[30] != "dolphin" {
		t.Fatalf("classes %v", p.Train.Classes)
	}
	if !slices.Equal(p.Test.Mean, []float32{0.5071, 0.4866, 0.4409}) || !slices.Equal(p.Test.Std, []float32{0.2673, 0.2564, 0.2762}) {
		t.Fatalf("mean %v std %v", p.Test.Mean, p.Test.Std)
	}
	checkCIFARImage(t, p.Train, 3, 0, 3)
	checkCIFARImage(t, p.Test, 1, 1, 1)

	c, err := LoadCIFAR100Coarse(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Train.Name != "cifar100-coarse" || len(c.Train.Classes) != 20 || !slices.Equal(c.Train.Labels, []int32{4, 1, 14, 19}) || c.Test.Classes[19] != "vehicles_2" {
		t.Fatalf("coarse %v %v %v", c.Train, c.Train.Labels, c.Test.Classes)
	}
	checkCIFARImage(t, c.Train, 2, 0, 2)
}

func TestLoadCIFAR100Errors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(dir string)
		coarse bool
		parts  []string
	}{
		{"missing train", func(dir string) { os.Remove(filepath.Join(dir, "train.bin")) }, false, []string{"train.bin", "no such file"}},
		{"truncated test", func(dir string) { truncate(t, filepath.Join(dir, "test.bin"), 3074*2+1) }, false, []string{"test.bin", "truncated", "3074-byte"}},
		{"fine label", func(dir string) { patch(t, filepath.Join(dir, "train.bin"), 1, 100) }, false, []string{"train.bin", "label 100"}},
		{"coarse label", func(dir string) { patch(t, filepath.Join(dir, "test.bin"), 3074, 20) }, true, []string{"test.bin", "record 1 has label 20, want < 20"}},
		{"fine names", func(dir string) {
			os.WriteFile(filepath.Join(dir, "fine_label_names.txt"), []byte("apple\n"), 0o644)
		}, false, []string{"fine_label_names.txt", "1 class names, want 100"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeCIFAR100(t, dir, "")
			tc.modify(dir)
			load := LoadCIFAR100
			if tc.coarse {
				load = LoadCIFAR100Coarse
			}
			_, err := load(dir)
			wantErr(t, err, append(tc.parts, dir)...)
		})
	}
}

// TestLoadCIFARFromArchive reads the binary release straight from a .tar.gz.
func TestLoadCIFARFromArchive(t *testing.T) {
	dir := t.TempDir()
	writeCIFAR10(t, dir, "cifar-10-batches-bin")
	files := map[string][]byte{}
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files[filepath.ToSlash(rel)], _ = os.ReadFile(p)
		}
		return err
	})
	archive := filepath.Join(t.TempDir(), "cifar-10-binary.tar.gz")
	if err := os.WriteFile(archive, tarGz(t, files), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Load("cifar10", archive)
	if err != nil {
		t.Fatal(err)
	}
	if p.Train.N != 10 || p.Test.N != 3 {
		t.Fatalf("%v %v", p.Train, p.Test)
	}
	checkCIFARImage(t, p.Test, 0, 5, 0)
}
