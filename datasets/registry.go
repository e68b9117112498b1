package datasets

import (
	"fmt"
	"slices"
	"strings"
)

// Normalisation constants and class names of the dataset families (the values used by the
// DC-Bench reference code).
var (
	cifar10Mean      = []float32{0.4914, 0.4822, 0.4465}
	cifar10Std       = []float32{0.2023, 0.1994, 0.2010}
	cifar100Mean     = []float32{0.5071, 0.4866, 0.4409}
	cifar100Std      = []float32{0.2673, 0.2564, 0.2762}
	imageNetMean     = []float32{0.485, 0.456, 0.406}
	imageNetStd      = []float32{0.229, 0.224, 0.225}
	mnistMean        = []float32{0.1307}
	mnistStd         = []float32{0.3081}
	fashionMNISTMean = []float32{0.2861}
	fashionMNISTStd  = []float32{0.3530}

	cifar10Classes = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

	cifar100Classes = []string{
		"apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
		"bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
		"chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
		"dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard",
		"lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain",
		"mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
		"plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road", "rocket",
		"rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider",
		"squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor",
		"train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
	}

	cifar100CoarseClasses = []string{
		"aquatic_mammals", "fish", "flowers", "food_containers", "fruit_and_vegetables",
		"household_electrical_devices", "household_furniture", "insects", "large_carnivores",
		"large_man-made_outdoor_things", "large_natural_outdoor_scenes", "large_omnivores_and_herbivores",
		"medium_mammals", "non-insect_invertebrates", "people", "reptiles", "small_mammals", "trees",
		"vehicles_1", "vehicles_2",
	}

	mnistClasses        = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	fashionMNISTClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}
)

// DatasetInfo describes a registered dataset.
type DatasetInfo struct {
	Name                string    // registry name
	Title               string    // human-readable name
	NumClasses          int       // number of classes
	H, W, C             int       // image shape
	TrainSize, TestSize int       // images per split (TinyImageNet: the val split is the test split)
	Mean, Std           []float32 // per-channel normalisation constants
	Classes             []string  // class names in official order; nil for TinyImageNet (read from wnids.txt/words.txt)
	Homepage            string    // official page
	URLs                []string  // official download URLs of the files Download fetches
}

type entry struct {
	info DatasetInfo
	load func(dir string) (*Pair, error)
}

var registry = map[string]entry{
	"cifar10": {DatasetInfo{
		Name: "cifar10", Title: "CIFAR-10", NumClasses: 10, H: 32, W: 32, C: 3, TrainSize: 50000, TestSize: 10000,
		Mean: cifar10Mean, Std: cifar10Std, Classes: cifar10Classes, Homepage: "https://www.cs.toronto.edu/~kriz/cifar.html",
	}, LoadCIFAR10},
	"cifar100": {DatasetInfo{
		Name: "cifar100", Title: "CIFAR-100", NumClasses: 100, H: 32, W: 32, C: 3, TrainSize: 50000, TestSize: 10000,
		Mean: cifar100Mean, Std: cifar100Std, Classes: cifar100Classes, Homepage: "https://www.cs.toronto.edu/~kriz/cifar.html",
	}, LoadCIFAR100},
	"tinyimagenet": {DatasetInfo{
		Name: "tinyimagenet", Title: "TinyImageNet", NumClasses: 200, H: 64, W: 64, C: 3, TrainSize: 100000, TestSize: 10000,
		Mean: imageNetMean, Std: imageNetStd, Homepage: "http://cs231n.stanford.edu/",
	}, LoadTinyImageNet},
	"mnist": {DatasetInfo{
		Name: "mnist", Title: "MNIST", NumClasses: 10, H: 28, W: 28, C: 1, TrainSize: 60000, TestSize: 10000,
		Mean: mnistMean, Std: mnistStd, Classes: mnistClasses, Homepage: "http://yann.lecun.com/exdb/mnist/",
	}, LoadMNIST},
	"fashionmnist": {DatasetInfo{
		Name: "fashionmnist", Title: "Fashion-MNIST", NumClasses: 10, H: 28, W: 28, C: 1, TrainSize: 60000, TestSize: 10000,
		Mean: fashionMNISTMean, Std: fashionMNISTStd, Classes: fashionMNISTClasses, Homepage: "https://github.com/zalandoresearch/fashion-mnist",
	}, LoadFashionMNIST},
}

// Names returns the registered dataset names, sorted: cifar10, cifar100, fashionmnist,
// mnist, tinyimagenet.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// canonical maps a user-written dataset name to its registry name: case, '-', '_' and spaces
// are ignored, so "CIFAR-10", "Fashion-MNIST" and "tiny_imagenet" are accepted.
func canonical(name string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '-', '_', ' ':
			return -1
		}
		return r
	}, strings.ToLower(name))
}

func lookup(name string) (string, entry, error) {
	c := canonical(name)
	e, ok := registry[c]
	if !ok {
		return "", entry{}, fmt.Errorf("datasets: unknown dataset %q, valid names: %s", name, strings.Join(Names(), ", "))
	}
	return c, e, nil
}

// Info returns the description of dataset name (see Names).
func Info(name string) (DatasetInfo, error) {
	c, e, err := lookup(name)
	if err != nil {
		return DatasetInfo{}, err
	}
	info := e.info
	info.Mean, info.Std, info.Classes = clone(info.Mean), clone(info.Std), clone(info.Classes)
	for _, f := range remoteFiles[c] {
		if len(f.URLs) > 0 {
			info.URLs = append(info.URLs, f.URLs[0])
		}
	}
	return info, nil
}

// Load loads dataset name (see Names) from dir, a folder or archive in the layout the
// dataset's loader expects (LoadCIFAR10, LoadCIFAR100, LoadTinyImageNet, LoadMNIST,
// LoadFashionMNIST). For cifar10 the binary release and an image folder tree are both
// recognised, also inside a single subfolder such as cifar10-jpeg/. Images are raw, in [0,1].
func Load(name, dir string) (*Pair, error) {
	_, e, err := lookup(name)
	if err != nil {
		return nil, err
	}
	return e.load(dir)
}
