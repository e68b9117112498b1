// Package subset cuts a small, deterministic subset out of an image folder tree stored as a
// tar archive ({train,test}/<class>/<file>, under one top folder). It makes the CIFAR-10
// subset embedded in package datasets (see datasets/internal/mksubset).
package subset

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"
)

// File is one image of the subset.
type File struct {
	Split, Class, Name string // Name is the base name, e.g. "0000.jpg"
	Data               []byte // the original bytes, unchanged
}

// Path returns the path of f in the output archive, under top.
func (f File) Path(top string) string { return path.Join(top, f.Split, f.Class, f.Name) }

// Select reads the tar archive src (gzip-compressed or not), whose regular files are laid
// out as <top>/<split>/<class>/<name>, and returns, for every split and class, the first
// perClass files by name, sorted by split, class and name. A class with fewer files is an
// error.
func Select(src io.Reader, perClass int) ([]File, error) {
	br := bufio.NewReader(src)
	var r io.Reader = br
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		r = zr
	}
	groups := map[[2]string][]File{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		parts := strings.Split(strings.TrimPrefix(path.Clean(h.Name), "./"), "/")
		if len(parts) != 4 || strings.HasPrefix(parts[3], ".") {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", h.Name, err)
		}
		k := [2]string{parts[1], parts[2]}
		groups[k] = append(groups[k], File{Split: parts[1], Class: parts[2], Name: parts[3], Data: data})
	}
	if len(groups) == 0 {
		return nil, fmt.Errorf("no <top>/<split>/<class>/<file> entries in the archive")
	}
	keys := make([][2]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	})
	var out []File
	for _, k := range keys {
		g := groups[k]
		if len(g) < perClass {
			return nil, fmt.Errorf("%s/%s has %d files, fewer than %d", k[0], k[1], len(g), perClass)
		}
		slices.SortFunc(g, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
		out = append(out, g[:perClass]...)
	}
	return out, nil
}

// Write writes files as a gzip-compressed tar archive under folder top, with fixed
// metadata (mode 0644/0755, zero owner, mtime 2000-01-01) so the output depends only on the
// files: the same input gives the same bytes.
func Write(dst io.Writer, top string, files []File) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	dir := func(p string) error {
		if seen[p] {
			return nil
		}
		seen[p] = true
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: p + "/", Mode: 0o755, ModTime: mtime, Format: tar.FormatUSTAR})
	}
	for _, f := range files {
		for _, d := range []string{top, path.Join(top, f.Split), path.Join(top, f.Split, f.Class)} {
			if err := dir(d); err != nil {
				return err
			}
		}
		h := &tar.Header{Typeflag: tar.TypeReg, Name: f.Path(top), Mode: 0o644, Size: int64(len(f.Data)), ModTime: mtime, Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(dst, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(buf.Bytes()); err != nil {
		return err
	}
	return zw.Close()
}
