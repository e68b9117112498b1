package datasets

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// FolderOptions configure LoadImageFolder and LoadImageFolderDir.
type FolderOptions struct {
	// Name is recorded in Dataset.Name; "" means "imagefolder".
	Name string
	// Classes is the preferred class order, used when the class folders are exactly these
	// names; otherwise the classes are the folder names sorted.
	Classes []string
	// Mean and Std are the normalisation constants (one per channel). When nil they are
	// computed from the train split.
	Mean, Std []float32
	// Channels is 3 (RGB, the default when 0) or 1 (grayscale, luminance of colour images).
	Channels int
	// Workers is the number of parallel decoders; 0 means runtime.NumCPU().
	Workers int
}

// imageExts are the file extensions (lower case) read from an image folder.
var imageExts = []string{".jpg", ".jpeg", ".png"}

func isImageFile(name string) bool {
	return !strings.HasPrefix(name, ".") && slices.Contains(imageExts, strings.ToLower(path.Ext(name)))
}

// LoadImageFolder loads an image folder tree from fsys: train/<class>/*.jpg|jpeg|png and
// test/<class>/... (a val/ folder stands in for a missing test/), found at the top of fsys or
// inside a single top-level folder. Each class folder is one class; files are read in name
// order, other files and dot-files are ignored. Images are decoded in parallel, converted to
// RGB (or grayscale, see FolderOptions.Channels) and must all have the same size. The class
// folders of test must be among those of train.
func LoadImageFolder(fsys fs.FS, opts FolderOptions) (*Pair, error) {
	r := root{fsys: fsys, disp: "."}
	tree, ok := findFolderTree(r)
	if !ok {
		return nil, fmt.Errorf("datasets: no image folder tree (train/<class>/*.jpg, test/<class>/*.jpg) found")
	}
	return loadImageFolder(tree, opts)
}

// LoadImageFolderDir is LoadImageFolder on a folder of the disk (or a .tar.gz/.zip archive),
// with errors naming the files by their disk path.
func LoadImageFolderDir(dir string, opts FolderOptions) (*Pair, error) {
	r, done, err := openRoot(dir)
	if err != nil {
		return nil, err
	}
	defer done()
	tree, ok := findFolderTree(r)
	if !ok {
		return nil, fmt.Errorf("datasets: no image folder tree (train/<class>/*.jpg, test/<class>/*.jpg) in %s", dir)
	}
	return loadImageFolder(tree, opts)
}

// findFolderTree finds the folder holding train/ (and test/ or val/) in r or a lone subfolder.
func findFolderTree(r root) (root, bool) {
	return r.find(func(r root) bool { return r.isDir("train") && (r.isDir("test") || r.isDir("val")) })
}

func cifar10FolderOptions() FolderOptions {
	return FolderOptions{Name: "cifar10", Classes: cifar10Classes, Mean: cifar10Mean, Std: cifar10Std}
}

func loadImageFolder(r root, opts FolderOptions) (*Pair, error) {
	if opts.Name == "" {
		opts.Name = "imagefolder"
	}
	switch opts.Channels {
	case 0:
		opts.Channels = 3
	case 1, 3:
	default:
		return nil, fmt.Errorf("datasets: FolderOptions.Channels is %d, want 1 or 3", opts.Channels)
	}
	if (opts.Mean != nil || opts.Std != nil) && (len(opts.Mean) != opts.Channels || len(opts.Std) != opts.Channels) {
		return nil, fmt.Errorf("datasets: FolderOptions.Mean and Std need %d values, have %d and %d", opts.Channels, len(opts.Mean), len(opts.Std))
	}
	testDir := "test"
	if !r.isDir(testDir) && r.isDir("val") {
		testDir = "val"
	}
	classes, err := r.subdirs("train")
	if err != nil {
		return nil, err
	}
	if len(classes) == 0 {
		return nil, r.errorf("train", "no class folders")
	}
	if len(opts.Classes) == len(classes) && sameSet(opts.Classes, classes) {
		classes = clone(opts.Classes)
	}
	testClasses, err := r.subdirs(testDir)
	if err != nil {
		return nil, err
	}
	for _, c := range testClasses {
		if !slices.Contains(classes, c) {
			return nil, r.errorf(path.Join(testDir, c), "class folder not among the train classes %v", classes)
		}
	}
	p := &Pair{}
	for _, s := range []struct {
		split, dir string
		dst        **Dataset
	}{{"train", "train", &p.Train}, {"test", testDir, &p.Test}} {
		var jobs []imageJob
		for label, class := range classes {
			dir := path.Join(s.dir, class)
			if s.split == "test" && !slices.Contains(testClasses, class) {
				continue
			}
			entries, err := r.readDir(dir)
			if err != nil {
				return nil, err
			}
			for _, e := range entries { // fs.ReadDir sorts by name
				if !e.IsDir() && isImageFile(e.Name()) {
					jobs = append(jobs, imageJob{name: path.Join(dir, e.Name()), label: int32(label)})
				}
			}
		}
		if len(jobs) == 0 {
			return nil, r.errorf(s.dir, "no .jpg, .jpeg or .png images in the class folders")
		}
		d, err := decodeDataset(r, jobs, opts.Channels, opts.Workers)
		if err != nil {
			return nil, err
		}
		d.Name, d.Split, d.Classes = opts.Name, s.split, clone(classes)
		*s.dst = d
	}
	if p.Train.H != p.Test.H || p.Train.W != p.Test.W {
		return nil, r.errorf(testDir, "test images are %dx%d but train images %dx%d", p.Test.W, p.Test.H, p.Train.W, p.Train.H)
	}
	mean, std := clone(opts.Mean), clone(opts.Std)
	if mean == nil {
		mean, std = p.Train.ChannelStats()
		for c := range std {
			if std[c] == 0 {
				std[c] = 1
			}
		}
	}
	p.Train.Mean, p.Train.Std = mean, std
	p.Test.Mean, p.Test.Std = clone(mean), clone(std)
	return p, nil
}

// decodeDataset decodes jobs into a Dataset holding images, labels and shape.
func decodeDataset(r root, jobs []imageJob, c, workers int) (*Dataset, error) {
	images, h, w, err := decodeImages(r, jobs, c, workers)
	if err != nil {
		return nil, err
	}
	labels := make([]int32, len(jobs))
	for i, j := range jobs {
		labels[i] = j.label
	}
	return &Dataset{Images: images, Labels: labels, N: len(jobs), H: h, W: w, C: c}, nil
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
