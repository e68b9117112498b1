package subset

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"slices"
	"strings"
	"testing"
)

func source(t *testing.T, names []string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, n := range names {
		tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(n)), Typeflag: tar.TypeReg})
		tw.Write([]byte(n))
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func TestSelectAndWrite(t *testing.T) {
	src := source(t, []string{
		"top/train/cat/0002.jpg", "top/train/cat/0000.jpg", "top/train/cat/0001.jpg",
		"top/test/dog/b.jpg", "top/test/dog/a.jpg", "top/train/dog/z.jpg", "top/train/dog/y.jpg",
		"top/README", "top/train/cat/.hidden",
	})
	files, err := Select(bytes.NewReader(src), 2)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, f.Path("out"))
		if string(f.Data) != "top/"+strings.TrimPrefix(f.Path("out"), "out/") {
			t.Fatalf("%s holds %q", f.Path("out"), f.Data)
		}
	}
	want := []string{"out/test/dog/a.jpg", "out/test/dog/b.jpg", "out/train/cat/0000.jpg", "out/train/cat/0001.jpg", "out/train/dog/y.jpg", "out/train/dog/z.jpg"}
	if !slices.Equal(got, want) {
		t.Fatalf("selected %v, want %v", got, want)
	}
	if _, err := Select(bytes.NewReader(src), 3); err == nil || !strings.Contains(err.Error(), "test/dog has 2 files, fewer than 3") {
		t.Fatalf("err = %v", err)
	}

	var a, b bytes.Buffer
	if err := Write(&a, "out", files); err != nil {
		t.Fatal(err)
	}
	Write(&b, "out", files)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("Write is not deterministic")
	}
	zr, err := gzip.NewReader(&a)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var regular []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			regular = append(regular, h.Name)
		}
	}
	if !slices.Equal(regular, want) {
		t.Fatalf("archive holds %v", regular)
	}
}
