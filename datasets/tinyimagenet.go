package datasets

import (
	"fmt"
	"path"
	"strings"
)

const tinyImageNetFolder = "tiny-imagenet-200"

// LoadTinyImageNet loads TinyImageNet (200 classes, 64x64 RGB) from dir in the official
// layout: tiny-imagenet-200/{wnids.txt, words.txt, train/<wnid>/images/*.JPEG,
// val/images/*.JPEG, val/val_annotations.txt}. dir may be tiny-imagenet-200 itself, its
// parent, or a .zip/.tar.gz archive of it. The class order is that of wnids.txt; class names
// are the first synonym in words.txt, or the wnid when it is not listed there. The test split
// is the official val split (in val_annotations.txt order); the unlabelled test images are
// not read. Grayscale JPEGs are converted to RGB.
func LoadTinyImageNet(dir string) (*Pair, error) {
	r, done, err := openRoot(dir)
	if err != nil {
		return nil, err
	}
	defer done()
	t, ok := r.find(hasFile("wnids.txt"), tinyImageNetFolder)
	if !ok {
		t = r
		if r.isDir(tinyImageNetFolder) {
			t, _ = r.sub(tinyImageNetFolder)
		}
	}
	return loadTinyImageNet(t, 0)
}

func loadTinyImageNet(r root, workers int) (*Pair, error) {
	b, err := r.readFile("wnids.txt")
	if err != nil {
		return nil, err
	}
	var wnids []string
	index := map[string]int32{}
	for line := range strings.Lines(string(b)) {
		w := strings.TrimSpace(line)
		if w == "" {
			continue
		}
		if _, dup := index[w]; dup {
			return nil, r.errorf("wnids.txt", "corrupt: wnid %s listed twice", w)
		}
		index[w] = int32(len(wnids))
		wnids = append(wnids, w)
	}
	if len(wnids) == 0 {
		return nil, r.errorf("wnids.txt", "no wnids")
	}
	classes := clone(wnids)
	if r.isFile("words.txt") {
		b, err := r.readFile("words.txt")
		if err != nil {
			return nil, err
		}
		for line := range strings.Lines(string(b)) {
			w, words, ok := strings.Cut(strings.TrimRight(line, "\r\n"), "\t")
			if i, known := index[w]; ok && known {
				if first, _, _ := strings.Cut(words, ","); strings.TrimSpace(first) != "" {
					classes[i] = strings.TrimSpace(first)
				}
			}
		}
	}

	var train []imageJob
	for label, w := range wnids {
		dir := path.Join("train", w, "images")
		entries, err := r.readDir(dir)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if !e.IsDir() && isImageFile(e.Name()) {
				train = append(train, imageJob{name: path.Join(dir, e.Name()), label: int32(label)})
			}
		}
	}

	const annotations = "val/val_annotations.txt"
	b, err = r.readFile(annotations)
	if err != nil {
		return nil, err
	}
	var val []imageJob
	lineNo := 0
	for line := range strings.Lines(string(b)) {
		lineNo++
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(strings.TrimRight(line, "\r\n"), "\t")
		if len(f) < 2 {
			return nil, r.errorf(annotations, "corrupt: line %d has %d tab-separated fields, want at least 2", lineNo, len(f))
		}
		label, ok := index[f[1]]
		if !ok {
			return nil, r.errorf(annotations, "corrupt: line %d: wnid %q is not in wnids.txt", lineNo, f[1])
		}
		if path.Base(f[0]) != f[0] || f[0] == "." || f[0] == ".." {
			return nil, r.errorf(annotations, "corrupt: line %d: bad file name %q", lineNo, f[0])
		}
		val = append(val, imageJob{name: path.Join("val", "images", f[0]), label: label})
	}

	p := &Pair{}
	for _, s := range []struct {
		split string
		jobs  []imageJob
		dir   string
		dst   **Dataset
	}{{"train", train, "train", &p.Train}, {"test", val, annotations, &p.Test}} {
		if len(s.jobs) == 0 {
			return nil, r.errorf(s.dir, "no images")
		}
		d, err := decodeDataset(r, s.jobs, 3, workers)
		if err != nil {
			return nil, err
		}
		d.Name, d.Split, d.Classes = "tinyimagenet", s.split, clone(classes)
		d.Mean, d.Std = clone(imageNetMean), clone(imageNetStd)
		*s.dst = d
	}
	if p.Train.H != p.Test.H || p.Train.W != p.Test.W {
		return nil, fmt.Errorf("datasets: %s: val images are %dx%d but train images %dx%d", r.disp, p.Test.W, p.Test.H, p.Train.W, p.Train.H)
	}
	return p, nil
}
