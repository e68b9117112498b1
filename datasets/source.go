package datasets

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// root is a folder of a dataset: a file system plus the name shown for it in error
// messages (a disk path, or an archive path followed by the folder inside it).
type root struct {
	fsys fs.FS
	disp string
}

// show returns the display name of the slash-separated name inside r.
func (r root) show(name string) string {
	if name == "." || name == "" {
		return r.disp
	}
	return filepath.Join(r.disp, filepath.FromSlash(name))
}

// sub returns the root of folder dir inside r.
func (r root) sub(dir string) (root, error) {
	if dir == "." {
		return r, nil
	}
	f, err := fs.Sub(r.fsys, dir)
	if err != nil {
		return root{}, r.wrap(dir, err)
	}
	return root{fsys: f, disp: r.show(dir)}, nil
}

// wrap turns err, returned for name inside r, into an error naming the full display path.
// A *fs.PathError keeps its type (so errors.Is(err, fs.ErrNotExist) still works) with the
// path replaced; any other error is prefixed with the path.
func (r root) wrap(name string, err error) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("datasets: %w", &fs.PathError{Op: pe.Op, Path: r.show(name), Err: pe.Err})
	}
	return fmt.Errorf("datasets: %s: %w", r.show(name), err)
}

// errorf returns an error about file name inside r.
func (r root) errorf(name, format string, args ...any) error {
	return fmt.Errorf("datasets: %s: %s", r.show(name), fmt.Sprintf(format, args...))
}

func (r root) readFile(name string) ([]byte, error) {
	b, err := fs.ReadFile(r.fsys, name)
	return b, r.wrap(name, err)
}

func (r root) readDir(name string) ([]fs.DirEntry, error) {
	e, err := fs.ReadDir(r.fsys, name)
	if err != nil {
		return nil, r.wrap(name, err)
	}
	slices.SortFunc(e, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return e, nil
}

func (r root) isFile(name string) bool {
	st, err := fs.Stat(r.fsys, name)
	return err == nil && !st.IsDir()
}

func (r root) isDir(name string) bool {
	st, err := fs.Stat(r.fsys, name)
	return err == nil && st.IsDir()
}

// subdirs returns the names of the visible (not dot-prefixed) folders of dir, sorted.
func (r root) subdirs(dir string) ([]string, error) {
	entries, err := r.readDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") && e.IsDir() {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// find looks for a folder of r (r itself, one of the named candidate folders, or, failing
// those, the content of a lone subfolder, recursively up to depth 2) for which ok returns
// true.
func (r root) find(ok func(root) bool, candidates ...string) (root, bool) {
	return r.findDepth(ok, candidates, 2)
}

func (r root) findDepth(ok func(root) bool, candidates []string, depth int) (root, bool) {
	if ok(r) {
		return r, true
	}
	for _, c := range candidates {
		if r.isDir(c) {
			if s, err := r.sub(c); err == nil && ok(s) {
				return s, true
			}
		}
	}
	if depth == 0 {
		return root{}, false
	}
	dirs, err := r.subdirs(".")
	if err != nil || len(dirs) != 1 {
		return root{}, false
	}
	s, err := r.sub(dirs[0])
	if err != nil {
		return root{}, false
	}
	return s.findDepth(ok, candidates, depth-1)
}

// openRoot opens a dataset location: a folder on disk, or a .tar.gz/.tgz/.tar/.zip archive
// read as a file system. The returned function releases it.
func openRoot(p string) (root, func(), error) {
	nop := func() {}
	if p == "" {
		return root{}, nop, errors.New("datasets: no data folder given")
	}
	st, err := os.Stat(p)
	if err != nil {
		return root{}, nop, fmt.Errorf("datasets: %w", err)
	}
	if st.IsDir() {
		return root{fsys: os.DirFS(p), disp: p}, nop, nil
	}
	lower := strings.ToLower(p)
	switch {
	case strings.HasSuffix(lower, ".zip"):
		zr, err := zip.OpenReader(p)
		if err != nil {
			return root{}, nop, fmt.Errorf("datasets: %s: %w", p, err)
		}
		return root{fsys: zr, disp: p}, func() { zr.Close() }, nil
	case strings.HasSuffix(lower, ".tar.gz"), strings.HasSuffix(lower, ".tgz"), strings.HasSuffix(lower, ".tar"):
		f, err := os.Open(p)
		if err != nil {
			return root{}, nop, fmt.Errorf("datasets: %w", err)
		}
		defer f.Close()
		fsys, err := TarFS(f)
		if err != nil {
			return root{}, nop, fmt.Errorf("datasets: %s: %w", p, err)
		}
		return root{fsys: fsys, disp: p}, nop, nil
	}
	return root{}, nop, fmt.Errorf("datasets: %s is neither a folder nor a .tar.gz, .tgz, .tar or .zip archive", p)
}

// TarFS reads a whole tar archive, gzip-compressed or not, into memory and returns it as a
// read-only file system. Only regular files and folders are kept; entries whose names are
// not valid local paths (absolute, or with ".." elements) are an error. It is how the
// embedded subset is read, and lets Load read e.g. cifar10-jpeg.tar.gz without unpacking it.
func TarFS(r io.Reader) (fs.FS, error) {
	br := bufio.NewReader(r)
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		r = zr
	} else {
		r = br
	}
	m := &memFS{files: map[string]*memFile{}, dirs: map[string]map[string]bool{".": {}}}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		name, err := archivePath(h.Name)
		if err != nil {
			return nil, err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if name != "." {
				m.addDir(name)
			}
		case tar.TypeReg:
			if name == "." {
				continue
			}
			var buf bytes.Buffer
			if h.Size > 0 && h.Size < 1<<30 {
				buf.Grow(int(h.Size))
			}
			if _, err := io.Copy(&buf, tr); err != nil {
				return nil, fmt.Errorf("%s: %w", h.Name, err)
			}
			m.addDir(path.Dir(name))
			m.dirs[path.Dir(name)][path.Base(name)] = false
			m.files[name] = &memFile{name: path.Base(name), data: buf.Bytes(), mod: h.ModTime}
		}
	}
	return m, nil
}

// archivePath validates and cleans the name of an archive entry: it must stay inside the
// destination folder (no absolute path, volume name or ".." escaping it).
func archivePath(name string) (string, error) {
	n := strings.ReplaceAll(name, "\\", "/")
	if path.IsAbs(n) {
		return "", fmt.Errorf("archive entry %q escapes the destination folder", name)
	}
	c := path.Clean(n)
	if c == "." {
		return c, nil
	}
	if c == ".." || strings.HasPrefix(c, "../") || !fs.ValidPath(c) || !filepath.IsLocal(filepath.FromSlash(c)) {
		return "", fmt.Errorf("archive entry %q escapes the destination folder", name)
	}
	return c, nil
}

// memFS is an in-memory read-only file system built by TarFS.
type memFS struct {
	files map[string]*memFile
	dirs  map[string]map[string]bool // folder -> child name -> is folder
}

func (m *memFS) addDir(dir string) {
	for dir != "." {
		if _, ok := m.dirs[dir]; ok {
			return
		}
		m.dirs[dir] = map[string]bool{}
		parent := path.Dir(dir)
		if m.dirs[parent] == nil {
			m.addDir(parent)
		}
		m.dirs[parent][path.Base(dir)] = true
		dir = parent
	}
}

type memFile struct {
	name string
	data []byte
	mod  time.Time
}

func (f *memFile) Name() string               { return f.name }
func (f *memFile) Size() int64                { return int64(len(f.data)) }
func (f *memFile) Mode() fs.FileMode          { return 0o444 }
func (f *memFile) ModTime() time.Time         { return f.mod }
func (f *memFile) IsDir() bool                { return false }
func (f *memFile) Sys() any                   { return nil }
func (f *memFile) Type() fs.FileMode          { return 0 }
func (f *memFile) Info() (fs.FileInfo, error) { return f, nil }

type memDirInfo struct{ name string }

func (d memDirInfo) Name() string               { return d.name }
func (d memDirInfo) Size() int64                { return 0 }
func (d memDirInfo) Mode() fs.FileMode          { return fs.ModeDir | 0o555 }
func (d memDirInfo) ModTime() time.Time         { return time.Time{} }
func (d memDirInfo) IsDir() bool                { return true }
func (d memDirInfo) Sys() any                   { return nil }
func (d memDirInfo) Type() fs.FileMode          { return fs.ModeDir }
func (d memDirInfo) Info() (fs.FileInfo, error) { return d, nil }

// Open implements fs.FS.
func (m *memFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if f, ok := m.files[name]; ok {
		return &openFile{f: f, r: bytes.NewReader(f.data)}, nil
	}
	if _, ok := m.dirs[name]; ok {
		entries, _ := m.ReadDir(name)
		return &openDir{info: memDirInfo{name: path.Base(name)}, entries: entries}, nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// ReadFile implements fs.ReadFileFS; the returned slice is a copy.
func (m *memFS) ReadFile(name string) ([]byte, error) {
	if f, ok := m.files[name]; ok && fs.ValidPath(name) {
		return slices.Clone(f.data), nil
	}
	if _, ok := m.dirs[name]; ok {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// ReadDir implements fs.ReadDirFS.
func (m *memFS) ReadDir(name string) ([]fs.DirEntry, error) {
	children, ok := m.dirs[name]
	if !ok || !fs.ValidPath(name) {
		if _, isFile := m.files[name]; isFile {
			return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	entries := make([]fs.DirEntry, 0, len(children))
	for child, isDir := range children {
		if isDir {
			entries = append(entries, memDirInfo{name: child})
		} else {
			entries = append(entries, m.files[path.Join(name, child)])
		}
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, nil
}

// Stat implements fs.StatFS.
func (m *memFS) Stat(name string) (fs.FileInfo, error) {
	if f, ok := m.files[name]; ok && fs.ValidPath(name) {
		return f, nil
	}
	if _, ok := m.dirs[name]; ok && fs.ValidPath(name) {
		return memDirInfo{name: path.Base(name)}, nil
	}
	return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
}

type openFile struct {
	f *memFile
	r *bytes.Reader
}

func (o *openFile) Stat() (fs.FileInfo, error) { return o.f, nil }
func (o *openFile) Read(p []byte) (int, error) { return o.r.Read(p) }
func (o *openFile) Close() error               { return nil }

type openDir struct {
	info    memDirInfo
	entries []fs.DirEntry
	off     int
}

func (d *openDir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *openDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: errors.New("is a directory")}
}
func (d *openDir) Close() error { return nil }

// ReadDir implements fs.ReadDirFile.
func (d *openDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.off += n
	return rest[:n], nil
}
