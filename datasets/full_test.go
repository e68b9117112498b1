package datasets

import (
	"os"
	"runtime"
	"testing"
	"time"
)

// TestFullSharedData loads the complete shared datasets (CIFAR-10 JPEG straight from its
// .tar.gz, and TinyImageNet when DCBENCH_FULL_DATA=all) and checks their sizes. It takes
// seconds to minutes and gigabytes of memory, so it only runs when DCBENCH_FULL_DATA is set.
// DCBENCH_CIFAR10_DIR / DCBENCH_TINYIMAGENET_DIR may point at unpacked copies instead.
func TestFullSharedData(t *testing.T) {
	mode := os.Getenv("DCBENCH_FULL_DATA")
	if mode == "" {
		t.Skip("set DCBENCH_FULL_DATA=1 (or =all for TinyImageNet too) to load the full shared datasets")
	}
	for _, tc := range []struct {
		name, env, shared string
		train, test       int
		all               bool
	}{
		{"cifar10", "DCBENCH_CIFAR10_DIR", "cifar10-jpeg.tar.gz", 50000, 10000, false},
		{"tinyimagenet", "DCBENCH_TINYIMAGENET_DIR", "tiny-imagenet-200.tar.gz", 100000, 10000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.all && mode != "all" {
				t.Skip("DCBENCH_FULL_DATA=all loads it")
			}
			dir := os.Getenv(tc.env)
			if dir == "" {
				dir = sharedFile(t, tc.shared)
			}
			runtime.GC()
			start := time.Now()
			p, err := Load(tc.name, dir)
			if err != nil {
				t.Fatal(err)
			}
			elapsed := time.Since(start)
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			t.Logf("Load(%q, %s): %v, heap in use %d MiB, allocated %d MiB in total", tc.name, dir, elapsed, ms.HeapInuse>>20, ms.TotalAlloc>>20)
			if p.Train.N != tc.train || p.Test.N != tc.test {
				t.Fatalf("%v %v", p.Train, p.Test)
			}
			for _, d := range []*Dataset{p.Train, p.Test} {
				if err := d.Validate(); err != nil {
					t.Fatal(err)
				}
				for c, n := range d.ClassCounts() {
					if n != d.N/d.NumClasses() {
						t.Fatalf("%s: class %d has %d images", d.Split, c, n)
					}
				}
			}
			mean, std := p.Train.ChannelStats()
			t.Logf("train channel mean %v std %v (constants %v %v)", mean, std, p.Train.Mean, p.Train.Std)
			if d := maxAbsDiff(mean, p.Train.Mean); d > 0.02 {
				t.Fatalf("train mean %v far from %v", mean, p.Train.Mean)
			}
		})
	}
}
