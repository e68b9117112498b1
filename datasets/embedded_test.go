package datasets

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dcbench/dcbench/datasets/internal/subset"
)

func TestEmbedded(t *testing.T) {
	start := time.Now()
	p, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Embedded() took %v", time.Since(start))
	for _, d := range []*Dataset{p.Train, p.Test} {
		if err := d.Validate(); err != nil {
			t.Fatal(err)
		}
		if d.Name != "cifar10" || d.N != 1000 || d.H != 32 || d.W != 32 || d.C != 3 || d.Normalized ||
			!slices.Equal(d.Classes, cifar10Classes) || !slices.Equal(d.Mean, cifar10Mean) || !slices.Equal(d.Std, cifar10Std) {
			t.Fatalf("%v classes %v mean %v std %v", d, d.Classes, d.Mean, d.Std)
		}
		for c, n := range d.ClassCounts() {
			if n != 100 {
				t.Fatalf("%s: class %d has %d images", d.Split, c, n)
			}
		}
		// Real photographs: the channel means are near the CIFAR-10 ones.
		mean, _ := d.ChannelStats()
		if diff := maxAbsDiff(mean, cifar10Mean); diff > 0.05 {
			t.Fatalf("%s: channel means %v far from %v", d.Split, mean, cifar10Mean)
		}
	}
	if p.Train.Labels[0] != 0 || p.Train.Labels[999] != 9 || p.Train.Labels[100] != 1 {
		t.Fatalf("labels not grouped by class: %v", p.Train.Labels[:3])
	}
}

// TestEmbeddedProvenance checks that embedded/README.md states the SHA-256 of the embedded
// archive, and, when the shared source archive is present, that the subset is exactly the
// first 100 files per class and split of that archive (what internal/mksubset cuts).
func TestEmbeddedProvenance(t *testing.T) {
	readme, err := os.ReadFile("embedded/README.md")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(embeddedCIFAR10)
	if !bytes.Contains(readme, []byte(hex.EncodeToString(sum[:]))) {
		t.Fatalf("embedded/README.md does not give the SHA-256 %x of cifar10_subset.tar.gz", sum)
	}
	if len(embeddedCIFAR10) > 2<<20 {
		t.Fatalf("embedded subset is %d bytes", len(embeddedCIFAR10))
	}

	src := sharedFile(t, "cifar10-jpeg.tar.gz")
	sums, err := os.ReadFile(sharedFile(t, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(sums)) {
		if f := strings.Fields(line); len(f) == 2 && f[1] == "cifar10-jpeg.tar.gz" && !bytes.Contains(readme, []byte(f[0])) {
			t.Fatalf("embedded/README.md does not give the source SHA-256 %s", f[0])
		}
	}
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want, err := subset.Select(f, 100)
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := TarFS(bytes.NewReader(embeddedCIFAR10))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	fs.WalkDir(fsys, ".", func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			got = append(got, p)
		}
		return err
	})
	if len(got) != len(want) || len(want) != 2000 {
		t.Fatalf("embedded archive has %d files, the cut %d", len(got), len(want))
	}
	for _, w := range want {
		b, err := fs.ReadFile(fsys, w.Path("cifar10-subset"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, w.Data) {
			t.Fatalf("%s differs from the source", w.Path("cifar10-subset"))
		}
	}
	if w := want[0]; path.Join(w.Split, w.Class, w.Name) != "test/airplane/0000.jpg" {
		t.Fatalf("first file %v", path.Join(w.Split, w.Class, w.Name))
	}
	// The subset archive is reproducible byte for byte.
	var buf bytes.Buffer
	if err := subset.Write(&buf, "cifar10-subset", want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), embeddedCIFAR10) {
		t.Logf("note: regenerated archive differs in bytes (same content); compress/gzip output may have changed")
	}
}

func BenchmarkEmbedded(b *testing.B) {
	for b.Loop() {
		if _, err := Embedded(); err != nil {
			b.Fatal(err)
		}
	}
}
