package datasets

import (
	"bytes"
	_ "embed" // for the go:embed directive below
	"fmt"
)

//go:generate go run ./internal/mksubset -src ../../shared/datasets/cifar10-jpeg.tar.gz -out embedded/cifar10_subset.tar.gz

// embeddedCIFAR10 is a real CIFAR-10 subset (100 train and 100 test images per class, the
// original JPEG bytes of cifar10-jpeg.tar.gz); see embedded/README.md for its provenance.
//
//go:embed embedded/cifar10_subset.tar.gz
var embeddedCIFAR10 []byte

// Embedded returns the small CIFAR-10 subset compiled into the package: 1000 train and 1000
// test images (100 per class, the first by file name of each class of cifar10-jpeg), 32x32x3,
// named "cifar10" with the CIFAR-10 classes, mean and std, raw pixels in [0,1]. It needs no
// files or network, for examples, tests and smoke runs.
func Embedded() (*Pair, error) {
	fsys, err := TarFS(bytes.NewReader(embeddedCIFAR10))
	if err != nil {
		return nil, fmt.Errorf("datasets: embedded subset: %w", err)
	}
	tree, ok := findFolderTree(root{fsys: fsys, disp: "embedded/cifar10_subset.tar.gz"})
	if !ok {
		return nil, fmt.Errorf("datasets: embedded subset: no train/ and test/ folders")
	}
	return loadImageFolder(tree, cifar10FolderOptions())
}
