// Command mksubset cuts the CIFAR-10 subset embedded in package datasets out of the
// cifar10-jpeg.tar.gz release ({train,test}/<class>/NNNN.jpg): the first -n images by file
// name of every class of both splits, kept as the original JPEG bytes, written as one
// deterministic .tar.gz under the folder -top. Run from datasets/ (go generate does):
//
//	go run ./internal/mksubset -src ../../shared/datasets/cifar10-jpeg.tar.gz -out embedded/cifar10_subset.tar.gz
package main

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/dcbench/dcbench/datasets/internal/subset"
)

func main() {
	src := flag.String("src", "../../shared/datasets/cifar10-jpeg.tar.gz", "source archive: <top>/{train,test}/<class>/<image>")
	out := flag.String("out", "embedded/cifar10_subset.tar.gz", "output .tar.gz")
	n := flag.Int("n", 100, "images per class and split")
	top := flag.String("top", "cifar10-subset", "top folder inside the output archive")
	flag.Parse()

	f, err := os.Open(*src)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	files, err := subset.Select(f, *n)
	if err != nil {
		log.Fatalf("%s: %v", *src, err)
	}
	var buf bytes.Buffer
	if err := subset.Write(&buf, *top, files); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	counts := map[string]int{}
	for _, f := range files {
		counts[f.Split]++
	}
	fmt.Printf("%s: %d files (%v), %d bytes, sha256 %x\n", *out, len(files), counts, buf.Len(), sha256.Sum256(buf.Bytes()))
}
