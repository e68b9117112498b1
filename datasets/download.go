package datasets

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// RemoteFile is a file that Download fetches into a dataset's cache folder.
type RemoteFile struct {
	Name    string   // file name in the cache folder (and the last element of BaseURL URLs)
	URLs    []string // official URL first, then mirrors, tried in order
	Size    int64    // size in bytes as published, 0 when unknown (progress and messages only)
	MD5     string   // hex MD5 published by the authors, "" when none
	SHA256  string   // hex SHA-256, "" when none; checked in preference to MD5
	Extract string   // after verification: "tar.gz", "zip" or "gz" to unpack in the folder, "" to keep
}

// checksum returns the algorithm and expected hex digest of f.
func (f RemoteFile) checksum() (algo, want string, h hash.Hash) {
	if f.SHA256 != "" {
		return "sha256", strings.ToLower(f.SHA256), sha256.New()
	}
	return "md5", strings.ToLower(f.MD5), md5.New()
}

const (
	torontoURL  = "https://www.cs.toronto.edu/~kriz/"
	mnistURL    = "https://ossci-datasets.s3.amazonaws.com/mnist/"
	lecunURL    = "http://yann.lecun.com/exdb/mnist/"
	fashionURL  = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
	fashionGHub = "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/"
)

// remoteFiles lists, per dataset, the official archives with their published checksums
// (the CIFAR pages, the TinyImageNet release and the MNIST/Fashion-MNIST mirrors publish MD5).
var remoteFiles = map[string][]RemoteFile{
	"cifar10": {{Name: "cifar-10-binary.tar.gz", URLs: []string{torontoURL + "cifar-10-binary.tar.gz"},
		Size: 170052171, MD5: "c32a1d4ab5d03f1284b67883e8d87530", Extract: "tar.gz"}},
	"cifar100": {{Name: "cifar-100-binary.tar.gz", URLs: []string{torontoURL + "cifar-100-binary.tar.gz"},
		Size: 168513733, MD5: "03b5dce01913d631647c71ecec9e9cb8", Extract: "tar.gz"}},
	"tinyimagenet": {{Name: "tiny-imagenet-200.zip", URLs: []string{"http://cs231n.stanford.edu/tiny-imagenet-200.zip"},
		Size: 248100043, MD5: "90528d7ca1a48142e341f4ef8d21d0de", Extract: "zip"}},
	"mnist": {
		{Name: "train-images-idx3-ubyte.gz", URLs: []string{mnistURL + "train-images-idx3-ubyte.gz", lecunURL + "train-images-idx3-ubyte.gz"},
			Size: 9912422, MD5: "f68b3c2dcbeaaa9fbdd348bbdeb94873", Extract: "gz"},
		{Name: "train-labels-idx1-ubyte.gz", URLs: []string{mnistURL + "train-labels-idx1-ubyte.gz", lecunURL + "train-labels-idx1-ubyte.gz"},
			Size: 28881, MD5: "d53e105ee54ea40749a09fcbcd1e9432", Extract: "gz"},
		{Name: "t10k-images-idx3-ubyte.gz", URLs: []string{mnistURL + "t10k-images-idx3-ubyte.gz", lecunURL + "t10k-images-idx3-ubyte.gz"},
			Size: 1648877, MD5: "9fb629c4189551a2d022fa330f9573f3", Extract: "gz"},
		{Name: "t10k-labels-idx1-ubyte.gz", URLs: []string{mnistURL + "t10k-labels-idx1-ubyte.gz", lecunURL + "t10k-labels-idx1-ubyte.gz"},
			Size: 4542, MD5: "ec29112dd5afa0611ce80d1b7f02629c", Extract: "gz"},
	},
	"fashionmnist": {
		{Name: "train-images-idx3-ubyte.gz", URLs: []string{fashionURL + "train-images-idx3-ubyte.gz", fashionGHub + "train-images-idx3-ubyte.gz"},
			Size: 26421880, MD5: "8d4fb7e6c68d591d4c3dfef9ec88bf0d", Extract: "gz"},
		{Name: "train-labels-idx1-ubyte.gz", URLs: []string{fashionURL + "train-labels-idx1-ubyte.gz", fashionGHub + "train-labels-idx1-ubyte.gz"},
			Size: 29515, MD5: "25c81989df183df01b3e8a0aad5dffbe", Extract: "gz"},
		{Name: "t10k-images-idx3-ubyte.gz", URLs: []string{fashionURL + "t10k-images-idx3-ubyte.gz", fashionGHub + "t10k-images-idx3-ubyte.gz"},
			Size: 4422102, MD5: "bef4ecab320f06d8554ea6380940ec79", Extract: "gz"},
		{Name: "t10k-labels-idx1-ubyte.gz", URLs: []string{fashionURL + "t10k-labels-idx1-ubyte.gz", fashionGHub + "t10k-labels-idx1-ubyte.gz"},
			Size: 5148, MD5: "bb300cfdad3c16e7a12a480ee83cd310", Extract: "gz"},
	},
}

// RemoteFiles returns the files Download fetches for dataset name, with their official
// URLs, sizes and checksums.
func RemoteFiles(name string) ([]RemoteFile, error) {
	c, _, err := lookup(name)
	if err != nil {
		return nil, err
	}
	out := clone(remoteFiles[c])
	for i := range out {
		out[i].URLs = clone(out[i].URLs)
	}
	return out, nil
}

// DownloadOptions configure Download and FetchFiles.
type DownloadOptions struct {
	// CacheDir is the cache root; each dataset goes to CacheDir/<name>. "" means CacheDir().
	CacheDir string
	// BaseURL, when set, replaces the official URLs: file F is fetched from BaseURL + "/" + F
	// (a mirror, or a test server).
	BaseURL string
	// HTTPClient does the requests; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Progress, when set, is called as bytes arrive with the bytes of the current file
	// present so far (resumed bytes included) and its total size (-1 when unknown).
	Progress func(done, total int64)
	// Retries is the number of further attempts, each resuming where the previous one
	// stopped, after a transfer fails midway or a server error (5xx).
	Retries int
	// IdleTimeout aborts a request when no byte arrives for that long (the response
	// headers included); 0 means one minute.
	IdleTimeout time.Duration
}

// CacheDir returns the default root of the dataset cache: $DCBENCH_DATA when set, else
// dcbench/ in the user's cache folder (os.UserCacheDir, e.g. ~/.cache/dcbench).
func CacheDir() (string, error) {
	if d := os.Getenv("DCBENCH_DATA"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("datasets: no cache folder (set DCBENCH_DATA): %w", err)
	}
	return filepath.Join(d, "dcbench"), nil
}

func (o DownloadOptions) datasetDir(name string) (string, error) {
	root := o.CacheDir
	if root == "" {
		var err error
		if root, err = CacheDir(); err != nil {
			return "", err
		}
	}
	return filepath.Join(root, name), nil
}

// Download fetches the official archives of dataset name into its cache folder
// (opts.CacheDir/<name>), verifies their checksums, unpacks them and returns that folder,
// ready for Load(name, dir). Work already done is skipped: a verified and unpacked file is
// not fetched again, and an interrupted download resumes from its .part file when the server
// supports HTTP range requests.
func Download(ctx context.Context, name string, opts DownloadOptions) (dir string, err error) {
	c, _, err := lookup(name)
	if err != nil {
		return "", err
	}
	dir, err = opts.datasetDir(c)
	if err != nil {
		return "", err
	}
	if err := FetchFiles(ctx, dir, remoteFiles[c], opts); err != nil {
		return "", err
	}
	return dir, nil
}

// LoadOrDownload loads dataset name from dir when dir is not empty; otherwise from its cache
// folder, downloading it there first when it is missing or incomplete.
func LoadOrDownload(name, dir string) (*Pair, error) {
	return LoadOrDownloadContext(context.Background(), name, dir, DownloadOptions{})
}

// LoadOrDownloadContext is LoadOrDownload with a context and download options.
func LoadOrDownloadContext(ctx context.Context, name, dir string, opts DownloadOptions) (*Pair, error) {
	if dir != "" {
		return Load(name, dir)
	}
	c, _, err := lookup(name)
	if err != nil {
		return nil, err
	}
	cached, err := opts.datasetDir(c)
	if err != nil {
		return nil, err
	}
	if complete(cached, remoteFiles[c]) {
		return Load(c, cached)
	}
	if _, err := os.Stat(cached); err == nil {
		if p, err := Load(c, cached); err == nil {
			return p, nil // put there by hand
		}
	}
	if _, err := Download(ctx, c, opts); err != nil {
		return nil, err
	}
	return Load(c, cached)
}

// complete reports whether every file of files has been fetched and verified into dir.
func complete(dir string, files []RemoteFile) bool {
	for _, f := range files {
		if !verifiedBefore(dir, f) {
			return false
		}
	}
	return true
}

// FetchFiles downloads files into dir (created if needed), as Download does for a dataset:
// each file is skipped when already fetched, verified and unpacked; otherwise it is fetched
// into NAME.part (resumed with an HTTP range request when the .part exists), its checksum
// verified, renamed to NAME and unpacked if asked. opts.CacheDir is not used.
func FetchFiles(ctx context.Context, dir string, files []RemoteFile, opts DownloadOptions) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	for _, f := range files {
		if err := fetchFile(ctx, dir, f, opts); err != nil {
			return err
		}
	}
	return nil
}

// markerPath is the file recording that f was verified (and unpacked) in dir.
func markerPath(dir string, f RemoteFile) string { return filepath.Join(dir, "."+f.Name+".ok") }

func markerContent(f RemoteFile) string {
	algo, want, _ := f.checksum()
	return algo + ":" + want + " extract:" + f.Extract + "\n"
}

// verifiedBefore reports whether f was verified and unpacked in dir by an earlier call and
// is still there (an unpacked archive may have been deleted to save space).
func verifiedBefore(dir string, f RemoteFile) bool {
	b, err := os.ReadFile(markerPath(dir, f))
	if err != nil || string(b) != markerContent(f) {
		return false
	}
	if f.Extract != "" {
		return true
	}
	_, err = os.Stat(filepath.Join(dir, f.Name))
	return err == nil
}

func fetchFile(ctx context.Context, dir string, f RemoteFile, opts DownloadOptions) error {
	if f.Name == "" || filepath.Base(f.Name) != f.Name || f.Name == "." || f.Name == ".." {
		return fmt.Errorf("datasets: bad remote file name %q", f.Name)
	}
	if algo, want, _ := f.checksum(); want == "" {
		return fmt.Errorf("datasets: no %s checksum for %s", algo, f.Name)
	}
	if verifiedBefore(dir, f) {
		return nil
	}
	final := filepath.Join(dir, f.Name)
	if _, err := os.Stat(final); err == nil {
		if err := verify(final, f); err == nil {
			return finish(dir, final, f)
		}
		os.Remove(final) // corrupt or different: fetch again
	}
	urls := f.URLs
	if opts.BaseURL != "" {
		urls = []string{strings.TrimSuffix(opts.BaseURL, "/") + "/" + f.Name}
	}
	if len(urls) == 0 {
		return fmt.Errorf("datasets: no URL for %s", f.Name)
	}
	part := final + ".part"
	var errs []string
	for _, u := range urls {
		err := fetchURL(ctx, u, part, f, opts)
		if err == nil {
			if err := os.Rename(part, final); err != nil {
				return fmt.Errorf("datasets: %w", err)
			}
			return finish(dir, final, f)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("datasets: download of %s from %s interrupted (%v); run again to resume", f.Name, u, err)
		}
		var cm *checksumError
		if errors.As(err, &cm) {
			return fmt.Errorf("datasets: %s from %s: %w", f.Name, u, err)
		}
		errs = append(errs, fmt.Sprintf("from %s: %v", u, err))
	}
	return fmt.Errorf("datasets: cannot download %s %s; download it by hand (into %s, or anywhere and pass --data DIR)", f.Name, strings.Join(errs, "; "), dir)
}

// finish unpacks final if asked and records the verification.
func finish(dir, final string, f RemoteFile) error {
	if err := extract(dir, final, f.Extract); err != nil {
		return err
	}
	if err := os.WriteFile(markerPath(dir, f), []byte(markerContent(f)), 0o644); err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	return nil
}

// checksumError reports a downloaded file whose checksum differs from the published one.
type checksumError struct {
	file, algo, got, want string
	size, wantSize        int64
}

func (e *checksumError) Error() string {
	s := fmt.Sprintf("checksum mismatch for %s: %s %s, want %s (%d bytes", e.file, e.algo, e.got, e.want, e.size)
	if e.wantSize > 0 {
		s += fmt.Sprintf(", published size %d", e.wantSize)
	}
	return s + "); the file was deleted"
}

// verify checks the checksum of file p against f.
func verify(p string, f RemoteFile) error {
	algo, want, h := f.checksum()
	file, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	defer file.Close()
	n, err := io.Copy(h, file)
	if err != nil {
		return fmt.Errorf("datasets: %s: %w", p, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return &checksumError{file: f.Name, algo: algo, got: got, want: want, size: n, wantSize: f.Size}
	}
	return nil
}

// statusError is an HTTP response that is neither 200 nor 206.
type statusError struct{ code int }

func (e *statusError) Error() string {
	return fmt.Sprintf("HTTP %d %s", e.code, http.StatusText(e.code))
}

// fetchURL downloads url into part (resuming it), with retries, and verifies it. A resumed
// file that fails verification is fetched once more from scratch before giving up.
func fetchURL(ctx context.Context, url, part string, f RemoteFile, opts DownloadOptions) error {
	resumed := false
	for attempt := 0; ; attempt++ {
		r, err := transfer(ctx, url, part, f, opts)
		resumed = resumed || r
		if err == nil {
			err = verify(part, f)
			if err == nil {
				return nil
			}
			os.Remove(part)
			if resumed {
				resumed = false
				continue // the kept part may have been stale: start over once
			}
			return err
		}
		var se *statusError
		if ctx.Err() != nil || attempt >= opts.Retries || errors.As(err, &se) && se.code < 500 {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 200 * time.Millisecond):
		}
	}
}

// transfer makes one request for url and appends the body to part, asking only for the
// missing bytes when part exists. It reports whether it resumed an existing part.
func transfer(ctx context.Context, url, part string, f RemoteFile, opts DownloadOptions) (resumed bool, err error) {
	var have int64
	if st, err := os.Stat(part); err == nil {
		have = st.Size()
		if f.Size > 0 && have > f.Size {
			have = 0
		}
	}
	idle := opts.IdleTimeout
	if idle <= 0 {
		idle = time.Minute
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stalled := fmt.Errorf("no data received for %v", idle)
	watchdog := time.AfterFunc(idle, func() { cancel(stalled) })
	defer watchdog.Stop()
	defer func() {
		if err != nil && context.Cause(ctx) == stalled {
			err = stalled
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("User-Agent", "dcbench-datasets")
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
	}
	client := opts.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	flags := os.O_WRONLY | os.O_CREATE
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0 && rangeStart(resp.Header.Get("Content-Range")) == have:
		flags |= os.O_APPEND
		resumed = true
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && have > 0:
		return true, nil // the part is already complete (or stale: verification decides)
	case resp.StatusCode == http.StatusOK:
		flags |= os.O_TRUNC
		have = 0
	default:
		if resp.StatusCode == http.StatusPartialContent { // a range we did not ask for
			os.Remove(part)
			return false, errors.New("server sent an unexpected range; partial file discarded")
		}
		return false, &statusError{resp.StatusCode}
	}
	total := int64(-1)
	if resp.ContentLength >= 0 {
		total = have + resp.ContentLength
	} else if f.Size > 0 {
		total = f.Size
	}
	out, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return resumed, err
	}
	if opts.Progress != nil {
		opts.Progress(have, total)
	}
	w := &progressWriter{w: out, done: have, total: total, fn: func(done, total int64) {
		watchdog.Reset(idle)
		if opts.Progress != nil {
			opts.Progress(done, total)
		}
	}}
	_, err = io.Copy(w, resp.Body)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return resumed, err
}

// rangeStart parses the first byte position of a Content-Range header ("bytes 100-199/200").
func rangeStart(h string) int64 {
	s, ok := strings.CutPrefix(h, "bytes ")
	if !ok {
		return -1
	}
	s, _, _ = strings.Cut(s, "-")
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

type progressWriter struct {
	w           io.Writer
	done, total int64
	fn          func(done, total int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.done += int64(n)
	p.fn(p.done, p.total)
	return n, err
}

// extract unpacks archive (a file of dir) into dir according to kind ("" does nothing).
// Entries are first written to a temporary folder of dir and moved into place at the end,
// so an interrupted extraction leaves no half-written dataset behind; entries whose names
// would escape dir are refused.
func extract(dir, archive, kind string) (err error) {
	if kind == "" {
		return nil
	}
	tmp, err := os.MkdirTemp(dir, ".extract-")
	if err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	defer os.RemoveAll(tmp)
	switch kind {
	case "tar.gz":
		err = extractTar(archive, tmp)
	case "zip":
		err = extractZip(archive, tmp)
	case "gz":
		err = gunzipFile(archive, filepath.Join(tmp, strings.TrimSuffix(filepath.Base(archive), ".gz")))
	default:
		err = fmt.Errorf("unknown archive kind %q", kind)
	}
	if err != nil {
		return fmt.Errorf("datasets: extract %s: %w", archive, err)
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	for _, e := range entries {
		dst := filepath.Join(dir, e.Name())
		if err := os.RemoveAll(dst); err != nil {
			return fmt.Errorf("datasets: %w", err)
		}
		if err := os.Rename(filepath.Join(tmp, e.Name()), dst); err != nil {
			return fmt.Errorf("datasets: %w", err)
		}
	}
	return nil
}

// localTarget returns where archive entry name goes inside dst, refusing escaping names.
func localTarget(dst, name string) (string, error) {
	p, err := archivePath(name)
	if err != nil {
		return "", err
	}
	return filepath.Join(dst, filepath.FromSlash(p)), nil
}

// openGzip opens a gzip file; closing the result closes the file too.
func openGzip(archive string) (io.ReadCloser, error) {
	f, err := os.Open(archive)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		f.Close()
		return nil, err
	}
	return gzipFile{zr, f}, nil
}

// gzipFile closes both the gzip reader and its file.
type gzipFile struct {
	*gzip.Reader
	f *os.File
}

func (g gzipFile) Close() error {
	err := g.Reader.Close()
	if e := g.f.Close(); err == nil {
		err = e
	}
	return err
}

func extractTar(archive, dst string) error {
	zr, err := openGzip(archive)
	if err != nil {
		return err
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		target, err := localTarget(dst, h.Name)
		if err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := writeFile(target, tr); err != nil {
				return fmt.Errorf("%s: %w", h.Name, err)
			}
		default: // links, devices, ...: datasets do not need them
		}
	}
}

func extractZip(archive, dst string) error {
	zr, err := zip.OpenReader(archive)
	if err != nil {
		return err
	}
	defer zr.Close()
	for _, zf := range zr.File {
		target, err := localTarget(dst, zf.Name)
		if err != nil {
			return err
		}
		mode := zf.Mode()
		switch {
		case mode.IsDir():
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case mode.IsRegular():
			rc, err := zf.Open()
			if err != nil {
				return fmt.Errorf("%s: %w", zf.Name, err)
			}
			err = writeFile(target, rc)
			rc.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", zf.Name, err)
			}
		}
	}
	return nil
}

func gunzipFile(archive, target string) error {
	zr, err := openGzip(archive)
	if err != nil {
		return err
	}
	defer zr.Close()
	return writeFile(target, zr)
}

// writeFile writes r to a new file target, creating its folder.
func writeFile(target string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, r)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}
