package datasets

import (
	"slices"
	"testing"
)

func TestNames(t *testing.T) {
	if got := Names(); !slices.Equal(got, []string{"cifar10", "cifar100", "fashionmnist", "mnist", "tinyimagenet"}) {
		t.Fatalf("Names() = %v", got)
	}
}

func TestInfo(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		want                 string
		classes, h, w, c     int
		train, test          int
		mean, std            []float32
		firstClass, firstURL string
	}{
		{"cifar10", "cifar10", 10, 32, 32, 3, 50000, 10000, []float32{0.4914, 0.4822, 0.4465}, []float32{0.2023, 0.1994, 0.2010}, "airplane", "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"},
		{"CIFAR-100", "cifar100", 100, 32, 32, 3, 50000, 10000, []float32{0.5071, 0.4866, 0.4409}, []float32{0.2673, 0.2564, 0.2762}, "apple", "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz"},
		{"tiny_imagenet", "tinyimagenet", 200, 64, 64, 3, 100000, 10000, []float32{0.485, 0.456, 0.406}, []float32{0.229, 0.224, 0.225}, "", "http://cs231n.stanford.edu/tiny-imagenet-200.zip"},
		{"MNIST", "mnist", 10, 28, 28, 1, 60000, 10000, []float32{0.1307}, []float32{0.3081}, "0", "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz"},
		{"Fashion-MNIST", "fashionmnist", 10, 28, 28, 1, 60000, 10000, []float32{0.2861}, []float32{0.3530}, "T-shirt/top", "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz"},
	} {
		info, err := Info(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		if info.Name != tc.want || info.NumClasses != tc.classes || info.H != tc.h || info.W != tc.w || info.C != tc.c ||
			info.TrainSize != tc.train || info.TestSize != tc.test || !slices.Equal(info.Mean, tc.mean) || !slices.Equal(info.Std, tc.std) ||
			len(info.URLs) == 0 || info.URLs[0] != tc.firstURL || info.Homepage == "" || info.Title == "" {
			t.Errorf("Info(%q) = %+v", tc.name, info)
		}
		if tc.firstClass != "" && (len(info.Classes) != tc.classes || info.Classes[0] != tc.firstClass) {
			t.Errorf("Info(%q).Classes = %v", tc.name, info.Classes)
		}
		info.Mean[0] = 42 // must not change the package constants
		if again, _ := Info(tc.name); again.Mean[0] == 42 {
			t.Fatalf("Info(%q) shares its Mean slice", tc.name)
		}
	}
	_, err := Info("imagenet")
	wantErr(t, err, `unknown dataset "imagenet"`, "cifar10, cifar100, fashionmnist, mnist, tinyimagenet")
}

func TestLoadUnknownAndMissing(t *testing.T) {
	_, err := Load("svhn", t.TempDir())
	wantErr(t, err, `unknown dataset "svhn"`, "valid names", "tinyimagenet")
	for _, name := range Names() {
		_, err := Load(name, t.TempDir()+"/absent")
		wantErr(t, err, "absent")
		_, err = Load(name, "")
		wantErr(t, err, "no data folder")
	}
}
