package datasets

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// jpegReference decodes b with the standard library's generic colour conversion, as HWC
// RGB floats.
func jpegReference(t *testing.T, b []byte) []float32 {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var out []float32
	for y := range img.Bounds().Dy() {
		for x := range img.Bounds().Dx() {
			r, g, b, _ := img.At(x, y).RGBA()
			out = append(out, float32(r>>8)/255, float32(g>>8)/255, float32(b>>8)/255)
		}
	}
	return out
}

// folderTree returns an image folder tree of 4x3 images: train/cat {a.jpg, b.png},
// train/dog {c.png (grayscale), notes.txt}, test/cat {d.PNG}, test/dog {e.jpeg}.
func folderTree(t *testing.T) (files map[string][]byte, want map[string][]float32) {
	gray := image.NewGray(image.Rect(0, 0, 4, 3))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(20 * i)
	}
	var grayWant []float32
	for _, v := range gray.Pix {
		f := float32(v) / 255
		grayWant = append(grayWant, f, f, f)
	}
	a, b, d, e := testRGBA(4, 3, 1), testRGBA(4, 3, 2), testRGBA(4, 3, 3), testRGBA(4, 3, 4)
	b.SetNRGBA(1, 1, color.NRGBA{10, 20, 30, 0}) // transparent: colour kept, alpha dropped
	files = map[string][]byte{
		"train/cat/b.png":     encodePNG(t, b),
		"train/cat/a.jpg":     encodeJPEG(t, a),
		"train/dog/c.png":     encodePNG(t, gray),
		"train/dog/notes.txt": []byte("not an image"),
		"test/cat/d.PNG":      encodePNG(t, d),
		"test/dog/e.jpeg":     encodeJPEG(t, e),
	}
	want = map[string][]float32{
		"a": jpegReference(t, files["train/cat/a.jpg"]),
		"b": rgbFloats(b),
		"c": grayWant,
		"d": rgbFloats(d),
		"e": jpegReference(t, files["test/dog/e.jpeg"]),
	}
	// Sanity: the JPEGs are close to their source.
	if diff := maxAbsDiff(want["a"], rgbFloats(a)); diff > 0.1 {
		t.Fatalf("JPEG round trip error %g", diff)
	}
	return files, want
}

func checkFolderPair(t *testing.T, p *Pair, want map[string][]float32) {
	t.Helper()
	if err := p.Train.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := p.Test.Validate(); err != nil {
		t.Fatal(err)
	}
	if p.Train.N != 3 || p.Test.N != 2 || p.Train.H != 3 || p.Train.W != 4 || p.Train.C != 3 {
		t.Fatalf("%v %v", p.Train, p.Test)
	}
	if !slices.Equal(p.Train.Classes, []string{"cat", "dog"}) || !slices.Equal(p.Train.Labels, []int32{0, 0, 1}) || !slices.Equal(p.Test.Labels, []int32{0, 1}) {
		t.Fatalf("classes %v labels %v %v", p.Train.Classes, p.Train.Labels, p.Test.Labels)
	}
	for _, c := range []struct {
		d    *Dataset
		i    int
		name string
		tol  float64
	}{{p.Train, 0, "a", 1.01 / 255}, {p.Train, 1, "b", 0}, {p.Train, 2, "c", 0}, {p.Test, 0, "d", 0}, {p.Test, 1, "e", 1.01 / 255}} {
		if diff := maxAbsDiff(c.d.Image(c.i), want[c.name]); diff > c.tol {
			t.Errorf("image %s differs by %g", c.name, diff)
		}
	}
}

func TestLoadImageFolder(t *testing.T) {
	files, want := folderTree(t)
	opts := FolderOptions{Name: "toy", Mean: []float32{0.5, 0.5, 0.5}, Std: []float32{0.25, 0.25, 0.25}, Workers: 2}

	t.Run("disk", func(t *testing.T) {
		dir := writeFiles(t, t.TempDir(), files)
		p, err := LoadImageFolderDir(dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		checkFolderPair(t, p, want)
		if p.Train.Name != "toy" || !slices.Equal(p.Test.Std, opts.Std) {
			t.Fatalf("name %q std %v", p.Train.Name, p.Test.Std)
		}
	})
	t.Run("fs.FS in a top folder", func(t *testing.T) {
		m := fstest.MapFS{}
		for n, b := range files {
			m["top/"+n] = &fstest.MapFile{Data: b}
		}
		p, err := LoadImageFolder(m, opts)
		if err != nil {
			t.Fatal(err)
		}
		checkFolderPair(t, p, want)
	})
	t.Run("tar.gz", func(t *testing.T) {
		archive := filepath.Join(t.TempDir(), "tree.tar.gz")
		os.WriteFile(archive, tarGz(t, files), 0o644)
		p, err := LoadImageFolderDir(archive, opts)
		if err != nil {
			t.Fatal(err)
		}
		checkFolderPair(t, p, want)
	})
	t.Run("zip with val", func(t *testing.T) {
		renamed := map[string][]byte{}
		for n, b := range files {
			renamed[strings.Replace(n, "test/", "val/", 1)] = b
		}
		archive := filepath.Join(t.TempDir(), "tree.zip")
		os.WriteFile(archive, zipBytes(t, renamed), 0o644)
		p, err := LoadImageFolderDir(archive, opts)
		if err != nil {
			t.Fatal(err)
		}
		checkFolderPair(t, p, want)
	})
}

func TestLoadImageFolderOptions(t *testing.T) {
	files, want := folderTree(t)
	dir := writeFiles(t, t.TempDir(), files)

	// Preferred order used when the folder names match it, sorted names otherwise.
	for _, tc := range []struct {
		classes, want []string
	}{{[]string{"dog", "cat"}, []string{"dog", "cat"}}, {[]string{"dog", "cow"}, []string{"cat", "dog"}}, {nil, []string{"cat", "dog"}}} {
		p, err := LoadImageFolderDir(dir, FolderOptions{Classes: tc.classes})
		if err != nil {
			t.Fatal(err)
		}
		// Images are listed class by class in class order.
		var names []string
		for _, l := range p.Train.Labels {
			names = append(names, p.Train.Classes[l])
		}
		wantNames := []string{"cat", "cat", "dog"}
		if tc.want[0] == "dog" {
			wantNames = []string{"dog", "cat", "cat"}
		}
		if !slices.Equal(p.Train.Classes, tc.want) || !slices.Equal(names, wantNames) {
			t.Fatalf("Classes option %v: classes %v labels %v", tc.classes, p.Train.Classes, p.Train.Labels)
		}
	}

	// Mean and Std computed from the train split when not given; Name defaults.
	p, err := LoadImageFolderDir(dir, FolderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mean, std := p.Train.ChannelStats()
	if p.Train.Name != "imagefolder" || !slices.Equal(p.Train.Mean, mean) || !slices.Equal(p.Test.Std, std) {
		t.Fatalf("name %q mean %v std %v, want %v %v", p.Train.Name, p.Train.Mean, p.Test.Std, mean, std)
	}

	// Grayscale output.
	g, err := LoadImageFolderDir(dir, FolderOptions{Channels: 1})
	if err != nil {
		t.Fatal(err)
	}
	if g.Train.C != 1 || g.Train.ImageSize() != 12 || len(g.Train.Mean) != 1 {
		t.Fatalf("grayscale: %v mean %v", g.Train, g.Train.Mean)
	}
	var wantGray []float32
	for i := 0; i < len(want["c"]); i += 3 {
		wantGray = append(wantGray, want["c"][i])
	}
	if maxAbsDiff(g.Train.Image(2), wantGray) != 0 {
		t.Fatalf("grayscale image %v, want %v", g.Train.Image(2), wantGray)
	}
	if diff := maxAbsDiff(g.Train.Image(1), lum(want["b"])); diff > 1.01/255 {
		t.Fatalf("luminance differs by %g", diff)
	}
	if _, err := LoadImageFolderDir(dir, FolderOptions{Channels: 2}); err == nil {
		t.Fatal("Channels 2 accepted")
	}
	if _, err := LoadImageFolderDir(dir, FolderOptions{Mean: []float32{0.5}, Std: []float32{0.5}}); err == nil {
		t.Fatal("1 mean for 3 channels accepted")
	}
}

func lum(rgb []float32) []float32 {
	var out []float32
	for i := 0; i < len(rgb); i += 3 {
		out = append(out, 0.299*rgb[i]+0.587*rgb[i+1]+0.114*rgb[i+2])
	}
	return out
}

func TestLoadImageFolderErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(files map[string][]byte)
		parts  []string
	}{
		{"size mismatch", func(f map[string][]byte) { f["train/dog/c.png"] = encodePNG(t, testRGBA(5, 3, 0)) },
			[]string{filepath.Join("train", "dog", "c.png"), "image is 5x3, want 4x3", filepath.Join("train", "cat", "a.jpg")}},
		{"corrupt jpeg", func(f map[string][]byte) { f["test/dog/e.jpeg"] = f["test/dog/e.jpeg"][:40] },
			[]string{"decode", filepath.Join("test", "dog", "e.jpeg")}},
		{"not an image", func(f map[string][]byte) { f["train/cat/b.png"] = []byte("hello") },
			[]string{"decode", filepath.Join("train", "cat", "b.png")}},
		{"corrupt first image", func(f map[string][]byte) { f["train/cat/a.jpg"] = []byte{0xff, 0xd8, 0xff} },
			[]string{"decode", filepath.Join("train", "cat", "a.jpg")}},
		{"test size differs", func(f map[string][]byte) {
			f["test/cat/d.PNG"] = encodePNG(t, testRGBA(2, 2, 0))
			f["test/dog/e.jpeg"] = encodePNG(t, testRGBA(2, 2, 0))
		}, []string{"test", "2x2", "4x3"}},
		{"unknown test class", func(f map[string][]byte) { f["test/cow/x.png"] = f["test/cat/d.PNG"] },
			[]string{filepath.Join("test", "cow"), "not among the train classes"}},
		{"no test images", func(f map[string][]byte) {
			delete(f, "test/cat/d.PNG")
			delete(f, "test/dog/e.jpeg")
			f["test/dog/x.txt"] = nil
		},
			[]string{"test", "no .jpg"}},
		{"no test folder", func(f map[string][]byte) { delete(f, "test/cat/d.PNG"); delete(f, "test/dog/e.jpeg") },
			[]string{"no image folder tree"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files, _ := folderTree(t)
			tc.modify(files)
			dir := writeFiles(t, t.TempDir(), files)
			_, err := LoadImageFolderDir(dir, FolderOptions{})
			wantErr(t, err, tc.parts...)
			if !strings.Contains(tc.name, "no test folder") {
				wantErr(t, err, dir)
			}
		})
	}
}

// TestLoadCIFAR10Folder checks the cifar10 registry entry on an image folder tree inside a
// single subfolder, as cifar10-jpeg.tar.gz unpacks.
func TestLoadCIFAR10Folder(t *testing.T) {
	files := map[string][]byte{}
	for i, c := range slices.Backward(cifar10Classes) {
		img := testRGBA(32, 32, i)
		files["cifar10-jpeg/train/"+c+"/0000.png"] = encodePNG(t, img)
		files["cifar10-jpeg/train/"+c+"/0001.png"] = encodePNG(t, testRGBA(32, 32, i+10))
		files["cifar10-jpeg/test/"+c+"/0000.png"] = encodePNG(t, img)
	}
	dir := writeFiles(t, t.TempDir(), files)
	p, err := Load("cifar10", dir)
	if err != nil {
		t.Fatal(err)
	}
	if p.Train.N != 20 || p.Test.N != 10 || p.Train.Name != "cifar10" || !slices.Equal(p.Train.Classes, cifar10Classes) ||
		!slices.Equal(p.Train.Mean, cifar10Mean) || !slices.Equal(p.Test.Std, cifar10Std) {
		t.Fatalf("%v %v %v %v", p.Train, p.Test, p.Train.Mean, p.Test.Std)
	}
	for i := range 10 {
		if p.Test.Labels[i] != int32(i) || maxAbsDiff(p.Test.Image(i), rgbFloats(testRGBA(32, 32, i))) != 0 {
			t.Fatalf("test image %d: label %d", i, p.Test.Labels[i])
		}
		if maxAbsDiff(p.Train.Image(2*i+1), rgbFloats(testRGBA(32, 32, i+10))) != 0 {
			t.Fatalf("train image %d", 2*i+1)
		}
	}
}
