package reference

import "strings"

// fold lower-cases s and drops everything but letters and digits, so that "K-Center",
// "k_center" and "kcenter" compare equal.
func fold(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Cyrillic letters that the OCR produces for "MTT"; folded to Latin before matching.
var cyrillic = strings.NewReplacer("М", "M", "Т", "T", "м", "m", "т", "t")

func lookupName(table map[string]string, s string) (string, bool) {
	v, ok := table[fold(cyrillic.Replace(s))]
	return v, ok
}

var datasetNames = map[string]string{
	"cifar10":      "CIFAR-10",
	"cifar100":     "CIFAR-100",
	"tinyimagenet": "TinyImageNet",
	"tiny":         "TinyImageNet",
	"imagenettiny": "TinyImageNet",
}

var methodNames = map[string]string{
	"random":    "Random",
	"kcenter":   "K-Center",
	"kmeansemb": "K-Center", // the leaderboard's name
	"dc":        "DC",
	"dsa":       "DSA",
	"dm":        "DM",
	"kip":       "KIP",
	"mtt":       "MTT",
	"tm":        "MTT", // the leaderboard's name
}

var modelNames = map[string]string{
	"convnet":   "ConvNet",
	"convnetd3": "ConvNet",
	"mlp":       "MLP",
	"resnet18":  "ResNet18",
	"resnet152": "ResNet152",
	"vit":       "ViT",
}

var augmentationNames = map[string]string{
	"none":        "none",
	"na":          "none",
	"noaug":       "none",
	"imagenetaug": "imagenet_aug",
	"imagenet":    "imagenet_aug",
	"randaug":     "randaug",
	"randaugment": "randaug",
	"autoaug":     "autoaug",
	"autoaugment": "autoaug",
	"dsa":         "dsa",
	"dsaaug":      "dsa",
	"siamese":     "dsa",
	"siameseaug":  "dsa",
}

var optimizerNames = map[string]string{
	"sgd":  "SGD",
	"adam": "Adam",
}

var tableNames = map[string]string{
	"table4": TableAugmentation, "4": TableAugmentation, "t4": TableAugmentation, "augmentation": TableAugmentation,
	"table5": TableTransfer, "5": TableTransfer, "t5": TableTransfer, "transfer": TableTransfer,
	"table6": TableIPCSweep, "6": TableIPCSweep, "t6": TableIPCSweep, "ipcsweep": TableIPCSweep,
	"table7": TableOptimizer, "7": TableOptimizer, "t7": TableOptimizer, "optimizer": TableOptimizer,
	"table8": TableCost, "8": TableCost, "t8": TableCost, "cost": TableCost, "timememory": TableCost,
	"table9": TableKCenterFeatures, "9": TableKCenterFeatures, "t9": TableKCenterFeatures, "kcenterfeatures": TableKCenterFeatures,
	"leaderboard": TableLeaderboard, "lb": TableLeaderboard,
}

// NormalizeDataset returns the canonical dataset name ("CIFAR-10", "CIFAR-100",
// "TinyImageNet") for names like "cifar10", "CIFAR-10", "cifar_100", "tinyimagenet" or
// "Tiny-ImageNet"; ok is false for unknown names.
func NormalizeDataset(name string) (canonical string, ok bool) {
	return lookupName(datasetNames, name)
}

// NormalizeMethod returns the canonical method name ("Random", "K-Center", "DC", "DSA",
// "DM", "KIP", "MTT"), case-insensitively; "kcenter"/"k-center", and the leaderboard's "TM"
// and "Kmeans-emb", are accepted. ok is false for unknown names.
func NormalizeMethod(name string) (canonical string, ok bool) {
	return lookupName(methodNames, name)
}

// NormalizeModel returns the canonical evaluation-model name ("ConvNet", "MLP", "ResNet18",
// "ResNet152", "ViT") for names like "convnet" or "resnet-18"; ok is false for unknown names.
func NormalizeModel(name string) (canonical string, ok bool) {
	return lookupName(modelNames, name)
}

// NormalizeAugmentation returns the canonical evaluation-augmentation name as used in
// Table 4 ("none", "imagenet_aug", "randaug", "autoaug", "dsa"); "n/a", "RandAugment",
// "AutoAugment", "imagenet" are accepted. ok is false for unknown names.
func NormalizeAugmentation(name string) (canonical string, ok bool) {
	return lookupName(augmentationNames, name)
}

// NormalizeOptimizer returns "SGD" or "Adam"; ok is false for other names.
func NormalizeOptimizer(name string) (canonical string, ok bool) {
	return lookupName(optimizerNames, name)
}

// NormalizeTable returns the canonical table name (one of the Table* constants) for
// "table4"/"4"/"t4"/"augmentation", "table5"/"transfer", "table6"/"ipc_sweep",
// "table7"/"optimizer", "table8"/"cost"/"time_memory", "table9"/"kcenter_features" and
// "leaderboard"/"lb"; ok is false for unknown names.
func NormalizeTable(name string) (canonical string, ok bool) {
	return lookupName(tableNames, name)
}

// normalizeKey normalises a Lookup key for the given (canonical) table; "" selects the
// table's headline column.
func normalizeKey(table, key string) (string, bool) {
	f := fold(key)
	switch table {
	case TableAugmentation, TableIPCSweep:
		if f == "" {
			return "dsa", true
		}
		k, ok := NormalizeAugmentation(key)
		if table == TableIPCSweep && k != "dsa" {
			return "", false
		}
		return k, ok
	case TableTransfer:
		if f == "" {
			return "ConvNet", true
		}
		return NormalizeModel(key)
	case TableOptimizer:
		if f == "" {
			return "SGD", true
		}
		return NormalizeOptimizer(key)
	case TableCost:
		switch f {
		case "", "secondsperiter", "secondsperiteration", "time", "seconds", "secperiter":
			return KeySecondsPerIter, true
		case "gpumemorymb", "gpumemory", "memory", "memorymb", "mem":
			return KeyGPUMemoryMB, true
		}
	case TableKCenterFeatures:
		switch f {
		case "", "embedding", "emb":
			return KeyEmbedding, true
		case "rawinput", "raw", "pixels":
			return KeyRawInput, true
		}
	case TableLeaderboard:
		switch f {
		case "", "best":
			return KeyBest, true
		case "avg", "average", "mean":
			return KeyAvg, true
		case "transfer":
			return KeyTransfer, true
		case "nasspearman", "nas", "spearman":
			return KeyNASSpearman, true
		}
	}
	return "", false
}
