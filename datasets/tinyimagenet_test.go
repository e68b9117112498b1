package datasets

import (
	"fmt"
	"image"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// tinyImageNetTree returns a miniature TinyImageNet release with 8x8 images: 3 wnids (not
// sorted), words.txt naming two of them, 3 train images per class (one grayscale), and 4 val
// images.
func tinyImageNetTree(t *testing.T) (files map[string][]byte, want map[string][]float32) {
	wnids := []string{"n02000002", "n01000001", "n03000003"}
	files = map[string][]byte{
		"tiny-imagenet-200/wnids.txt": []byte("n02000002\nn01000001\r\nn03000003\n"),
		"tiny-imagenet-200/words.txt": []byte("n00000009\tentity\nn01000001\tgoldfish, Carassius auratus\nn02000002\tEgyptian cat\nn09999999\tother\n"),
		"tiny-imagenet-200/val/val_annotations.txt": []byte("val_0.JPEG\tn03000003\t0\t1\t2\t3\n" +
			"val_1.JPEG\tn02000002\t0\t1\t2\t3\nval_2.JPEG\tn01000001\t0\t1\t2\t3\nval_3.JPEG\tn03000003\t0\t1\t2\t3\n"),
	}
	want = map[string][]float32{}
	seed := 0
	for _, w := range wnids {
		files["tiny-imagenet-200/train/"+w+"/"+w+"_boxes.txt"] = []byte(w + "_0.JPEG\t0\t0\t8\t8\n")
		for _, i := range []int{0, 1, 10} {
			name := fmt.Sprintf("tiny-imagenet-200/train/%s/images/%s_%d.JPEG", w, w, i)
			seed++
			if w == "n01000001" && i == 1 { // grayscale JPEG
				g := image.NewGray(image.Rect(0, 0, 8, 8))
				for k := range g.Pix {
					g.Pix[k] = uint8(k * 4)
				}
				files[name] = encodeJPEG(t, g)
			} else {
				files[name] = encodeJPEG(t, testRGBA(8, 8, seed))
			}
			want[name] = jpegReference(t, files[name])
		}
	}
	for i := range 4 {
		name := fmt.Sprintf("tiny-imagenet-200/val/images/val_%d.JPEG", i)
		files[name] = encodeJPEG(t, testRGBA(8, 8, 50+i))
		want[name] = jpegReference(t, files[name])
	}
	return files, want
}

func TestLoadTinyImageNet(t *testing.T) {
	files, want := tinyImageNetTree(t)
	root := writeFiles(t, t.TempDir(), files)
	zipPath := filepath.Join(t.TempDir(), "tiny-imagenet-200.zip")
	os.WriteFile(zipPath, zipBytes(t, files), 0o644)
	for _, dir := range []string{root, filepath.Join(root, "tiny-imagenet-200"), zipPath} {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			p, err := Load("tinyimagenet", dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range []*Dataset{p.Train, p.Test} {
				if err := d.Validate(); err != nil {
					t.Fatal(err)
				}
				if d.Name != "tinyimagenet" || d.H != 8 || d.W != 8 || d.C != 3 ||
					!slices.Equal(d.Classes, []string{"Egyptian cat", "goldfish", "n03000003"}) ||
					!slices.Equal(d.Mean, []float32{0.485, 0.456, 0.406}) || !slices.Equal(d.Std, []float32{0.229, 0.224, 0.225}) {
					t.Fatalf("%v classes %q mean %v std %v", d, d.Classes, d.Mean, d.Std)
				}
			}
			if !slices.Equal(p.Train.Labels, []int32{0, 0, 0, 1, 1, 1, 2, 2, 2}) || !slices.Equal(p.Test.Labels, []int32{2, 0, 1, 2}) {
				t.Fatalf("labels %v %v", p.Train.Labels, p.Test.Labels)
			}
			// Within a class, files are in name order: _0, _1, _10.
			for k, name := range []string{
				"train/n02000002/images/n02000002_0.JPEG", "train/n02000002/images/n02000002_1.JPEG", "train/n02000002/images/n02000002_10.JPEG",
				"train/n01000001/images/n01000001_0.JPEG", "train/n01000001/images/n01000001_1.JPEG",
			} {
				if diff := maxAbsDiff(p.Train.Image(k), want["tiny-imagenet-200/"+name]); diff > 1.01/255 {
					t.Errorf("train image %d (%s) differs by %g", k, name, diff)
				}
			}
			gray := p.Train.Image(4)
			for i := 0; i < len(gray); i += 3 {
				if gray[i] != gray[i+1] || gray[i] != gray[i+2] {
					t.Fatalf("grayscale JPEG not replicated to RGB at %d: %v", i, gray[i:i+3])
				}
			}
			for k := range 4 {
				if diff := maxAbsDiff(p.Test.Image(k), want[fmt.Sprintf("tiny-imagenet-200/val/images/val_%d.JPEG", k)]); diff > 1.01/255 {
					t.Errorf("val image %d differs by %g", k, diff)
				}
			}
		})
	}
}

func TestLoadTinyImageNetErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(f map[string][]byte)
		parts  []string
	}{
		{"no wnids", func(f map[string][]byte) { delete(f, "tiny-imagenet-200/wnids.txt") }, []string{"wnids.txt", "no such file"}},
		{"duplicate wnid", func(f map[string][]byte) { f["tiny-imagenet-200/wnids.txt"] = []byte("n01000001\nn01000001\n") }, []string{"wnids.txt", "twice"}},
		{"missing class folder", func(f map[string][]byte) {
			f["tiny-imagenet-200/wnids.txt"] = append(f["tiny-imagenet-200/wnids.txt"], "n04000004\n"...)
		},
			[]string{filepath.Join("train", "n04000004", "images"), "no such file"}},
		{"no annotations", func(f map[string][]byte) { delete(f, "tiny-imagenet-200/val/val_annotations.txt") }, []string{"val_annotations.txt"}},
		{"unknown val wnid", func(f map[string][]byte) {
			f["tiny-imagenet-200/val/val_annotations.txt"] = []byte("val_0.JPEG\tn03000003\nval_1.JPEG\tn05555555\n")
		}, []string{"val_annotations.txt", "line 2", "n05555555"}},
		{"short line", func(f map[string][]byte) { f["tiny-imagenet-200/val/val_annotations.txt"] = []byte("val_0.JPEG\n") }, []string{"val_annotations.txt", "line 1"}},
		{"missing val image", func(f map[string][]byte) { delete(f, "tiny-imagenet-200/val/images/val_2.JPEG") }, []string{filepath.Join("val", "images", "val_2.JPEG")}},
		{"corrupt train image", func(f map[string][]byte) {
			f["tiny-imagenet-200/train/n03000003/images/n03000003_1.JPEG"] = []byte("GIF89a")
		},
			[]string{"decode", "n03000003_1.JPEG"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files, _ := tinyImageNetTree(t)
			tc.modify(files)
			dir := writeFiles(t, t.TempDir(), files)
			_, err := LoadTinyImageNet(dir)
			wantErr(t, err, append(tc.parts, dir)...)
		})
	}
}
