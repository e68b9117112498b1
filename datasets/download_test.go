package datasets

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fileServer serves files by name, recording requests; it can ignore Range headers and drop
// the connection midway through the next responses.
type fileServer struct {
	*httptest.Server
	mu       sync.Mutex
	files    map[string][]byte
	requests []string // "name range"
	noRange  bool
	dies     int // number of next responses cut after half the body
}

func newFileServer(t *testing.T, files map[string][]byte) *fileServer {
	s := &fileServer{files: files}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *fileServer) serve(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/")
	s.mu.Lock()
	s.requests = append(s.requests, strings.TrimSpace(name+" "+r.Header.Get("Range")))
	data, ok := s.files[name]
	noRange, die := s.noRange, s.dies > 0
	if die {
		s.dies--
	}
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	if die {
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusOK)
		w.Write(data[:len(data)/2])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // drop the connection
	}
	if noRange {
		w.Write(data)
		return
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
}

func (s *fileServer) log() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func md5Hex(b []byte) string    { s := md5.Sum(b); return hex.EncodeToString(s[:]) }
func sha256Hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// payload returns n deterministic, poorly compressible bytes.
func payload(n int) []byte {
	b := make([]byte, n)
	x := uint32(1)
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = byte(x >> 24)
	}
	return b
}

// withRemote replaces the remote files of dataset name for the test.
func withRemote(t *testing.T, name string, files []RemoteFile) {
	old, had := remoteFiles[name]
	remoteFiles[name] = files
	t.Cleanup(func() {
		if had {
			remoteFiles[name] = old
		} else {
			delete(remoteFiles, name)
		}
	})
}

// cifar10Archive returns a cifar-10-binary.tar.gz built from a test release.
func cifar10Archive(t *testing.T) []byte {
	dir := t.TempDir()
	writeCIFAR10(t, dir, "cifar-10-batches-bin")
	files := map[string][]byte{}
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files[filepath.ToSlash(rel)], _ = os.ReadFile(p)
		}
		return err
	})
	return tarGz(t, files)
}

func TestDownloadCIFAR10(t *testing.T) {
	archive := cifar10Archive(t)
	srv := newFileServer(t, map[string][]byte{"cifar-10-binary.tar.gz": archive})
	withRemote(t, "cifar10", []RemoteFile{{Name: "cifar-10-binary.tar.gz", URLs: []string{srv.URL + "/cifar-10-binary.tar.gz"},
		Size: int64(len(archive)), MD5: md5Hex(archive), Extract: "tar.gz"}})
	cache := t.TempDir()
	var progress [][2]int64
	opts := DownloadOptions{CacheDir: cache, Progress: func(done, total int64) { progress = append(progress, [2]int64{done, total}) }}
	dir, err := Download(context.Background(), "CIFAR-10", opts)
	if err != nil {
		t.Fatal(err)
	}
	if dir != filepath.Join(cache, "cifar10") {
		t.Fatalf("dir %s", dir)
	}
	last := progress[len(progress)-1]
	if last != [2]int64{int64(len(archive)), int64(len(archive))} {
		t.Fatalf("last progress %v, want done=total=%d", last, len(archive))
	}
	for i := 1; i < len(progress); i++ {
		if progress[i][0] < progress[i-1][0] {
			t.Fatalf("progress went back: %v", progress)
		}
	}
	p, err := Load("cifar10", dir)
	if err != nil {
		t.Fatal(err)
	}
	if p.Train.N != 10 || p.Test.N != 3 {
		t.Fatalf("%v %v", p.Train, p.Test)
	}
	if _, err := os.Stat(filepath.Join(dir, "cifar-10-binary.tar.gz.part")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(".part left behind")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".extract") {
			t.Fatalf("temporary folder %s left behind", e.Name())
		}
	}

	// A second Download, and LoadOrDownload from the cache, do no network work.
	if _, err := Download(context.Background(), "cifar10", opts); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DCBENCH_DATA", cache)
	if p, err := LoadOrDownload("cifar10", ""); err != nil || p.Train.N != 10 {
		t.Fatalf("LoadOrDownload: %v", err)
	}
	if got := srv.log(); len(got) != 1 {
		t.Fatalf("requests %v, want one", got)
	}
	// With the archive deleted to save space, the extracted data is still used.
	os.Remove(filepath.Join(dir, "cifar-10-binary.tar.gz"))
	if _, err := Download(context.Background(), "cifar10", opts); err != nil || len(srv.log()) != 1 {
		t.Fatalf("after deleting the archive: %v, requests %v", err, srv.log())
	}
}

func TestLoadOrDownload(t *testing.T) {
	archive := cifar10Archive(t)
	srv := newFileServer(t, map[string][]byte{"cifar-10-binary.tar.gz": archive})
	withRemote(t, "cifar10", []RemoteFile{{Name: "cifar-10-binary.tar.gz", URLs: []string{srv.URL + "/cifar-10-binary.tar.gz"},
		MD5: md5Hex(archive), Extract: "tar.gz"}})
	cache := t.TempDir()
	t.Setenv("DCBENCH_DATA", cache)
	if d, err := CacheDir(); err != nil || d != cache {
		t.Fatalf("CacheDir() = %q, %v", d, err)
	}
	p, err := LoadOrDownload("cifar10", "")
	if err != nil {
		t.Fatal(err)
	}
	if p.Train.N != 10 || len(srv.log()) != 1 {
		t.Fatalf("%v, requests %v", p.Train, srv.log())
	}
	// An explicit folder is loaded without looking at the cache or the network.
	dir := t.TempDir()
	writeCIFAR10(t, dir, "")
	if p, err := LoadOrDownload("cifar10", dir); err != nil || p.Test.N != 3 || len(srv.log()) != 1 {
		t.Fatalf("explicit dir: %v", err)
	}
	_, err = LoadOrDownload("svhn", "")
	wantErr(t, err, "unknown dataset", "cifar10")
}

func TestDownloadErrors(t *testing.T) {
	data := payload(5000)
	good := RemoteFile{Name: "data.bin", MD5: md5Hex(data)}
	srv := newFileServer(t, map[string][]byte{"data.bin": data})

	t.Run("checksum mismatch", func(t *testing.T) {
		dir := t.TempDir()
		f := good
		f.MD5 = strings.Repeat("0", 32)
		err := FetchFiles(context.Background(), dir, []RemoteFile{f}, DownloadOptions{BaseURL: srv.URL})
		wantErr(t, err, "checksum mismatch", "data.bin", "md5 "+md5Hex(data), "want "+f.MD5, "5000 bytes")
		for _, n := range []string{"data.bin", "data.bin.part"} {
			if _, err := os.Stat(filepath.Join(dir, n)); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("%s left behind", n)
			}
		}
	})
	t.Run("sha256 mismatch", func(t *testing.T) {
		f := good
		f.SHA256 = sha256Hex([]byte("other"))
		err := FetchFiles(context.Background(), t.TempDir(), []RemoteFile{f}, DownloadOptions{BaseURL: srv.URL})
		wantErr(t, err, "checksum mismatch", "sha256 "+sha256Hex(data))
	})
	t.Run("404", func(t *testing.T) {
		f := good
		f.Name = "missing.bin"
		err := FetchFiles(context.Background(), t.TempDir(), []RemoteFile{f}, DownloadOptions{BaseURL: srv.URL + "/"})
		wantErr(t, err, "cannot download missing.bin from "+srv.URL+"/missing.bin", "404", "download it by hand", "--data DIR")
	})
	t.Run("offline", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		url := dead.URL
		dead.Close()
		withRemote(t, "mnist", []RemoteFile{{Name: "train-images-idx3-ubyte.gz", URLs: []string{url + "/a.gz", url + "/b.gz"}, MD5: md5Hex(data), Extract: "gz"}})
		_, err := Download(context.Background(), "mnist", DownloadOptions{CacheDir: t.TempDir()})
		wantErr(t, err, "cannot download train-images-idx3-ubyte.gz from "+url+"/a.gz", "from "+url+"/b.gz", "by hand")
	})
	t.Run("mirror", func(t *testing.T) {
		dir := t.TempDir()
		f := good
		f.URLs = []string{srv.URL + "/nothing-here", srv.URL + "/data.bin"}
		if err := FetchFiles(context.Background(), dir, []RemoteFile{f}, DownloadOptions{}); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "data.bin")); !bytes.Equal(b, data) {
			t.Fatal("wrong content")
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := FetchFiles(ctx, t.TempDir(), []RemoteFile{good}, DownloadOptions{BaseURL: srv.URL})
		wantErr(t, err, "interrupted")
	})
	t.Run("bad remote file", func(t *testing.T) {
		err := FetchFiles(context.Background(), t.TempDir(), []RemoteFile{{Name: "../x", MD5: good.MD5}}, DownloadOptions{BaseURL: srv.URL})
		wantErr(t, err, "bad remote file name")
		err = FetchFiles(context.Background(), t.TempDir(), []RemoteFile{{Name: "x"}}, DownloadOptions{BaseURL: srv.URL})
		wantErr(t, err, "no md5 checksum")
	})
	if _, err := Download(context.Background(), "imagenet", DownloadOptions{}); err == nil {
		t.Fatal("unknown dataset downloaded")
	}
}

func TestDownloadResume(t *testing.T) {
	data := payload(200000)
	f := RemoteFile{Name: "data.bin", Size: int64(len(data)), SHA256: sha256Hex(data)}
	check := func(t *testing.T, dir string) {
		t.Helper()
		if b, _ := os.ReadFile(filepath.Join(dir, "data.bin")); !bytes.Equal(b, data) {
			t.Fatal("wrong content")
		}
	}

	t.Run("range", func(t *testing.T) {
		srv := newFileServer(t, map[string][]byte{"data.bin": data})
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "data.bin.part"), data[:70000], 0o644)
		var first [2]int64
		opts := DownloadOptions{BaseURL: srv.URL, Progress: func(done, total int64) {
			if first == [2]int64{} {
				first = [2]int64{done, total}
			}
		}}
		if err := FetchFiles(context.Background(), dir, []RemoteFile{f}, opts); err != nil {
			t.Fatal(err)
		}
		check(t, dir)
		if got := srv.log(); !slices.Equal(got, []string{"data.bin bytes=70000-"}) {
			t.Fatalf("requests %v", got)
		}
		if first != [2]int64{70000, 200000} {
			t.Fatalf("first progress %v", first)
		}
	})
	t.Run("server without range support", func(t *testing.T) {
		srv := newFileServer(t, map[string][]byte{"data.bin": data})
		srv.noRange = true
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "data.bin.part"), data[:70000], 0o644)
		if err := FetchFiles(context.Background(), dir, []RemoteFile{f}, DownloadOptions{BaseURL: srv.URL}); err != nil {
			t.Fatal(err)
		}
		check(t, dir)
	})
	t.Run("server dies midway", func(t *testing.T) {
		srv := newFileServer(t, map[string][]byte{"data.bin": data})
		srv.dies = 1
		dir := t.TempDir()
		err := FetchFiles(context.Background(), dir, []RemoteFile{f}, DownloadOptions{BaseURL: srv.URL})
		wantErr(t, err, "cannot download data.bin")
		st, serr := os.Stat(filepath.Join(dir, "data.bin.part"))
		if serr != nil || st.Size() == 0 || st.Size() >= int64(len(data)) {
			t.Fatalf("partial file: %v %v", st, serr)
		}
		if err := FetchFiles(context.Background(), dir, []RemoteFile{f}, DownloadOptions{BaseURL: srv.URL}); err != nil {
			t.Fatal(err)
		}
		check(t, dir)
		got := srv.log()
		if len(got) != 2 || got[0] != "data.bin" || !regexp.MustCompile(`^data.bin bytes=[1-9][0-9]*-$`).MatchString(got[1]) {
			t.Fatalf("requests %v", got)
		}
	})
	t.Run("retries resume in one call", func(t *testing.T) {
		srv := newFileServer(t, map[string][]byte{"data.bin": data})
		srv.dies = 2
		dir := t.TempDir()
		if err := FetchFiles(context.Background(), dir, []RemoteFile{f}, DownloadOptions{BaseURL: srv.URL, Retries: 2}); err != nil {
			t.Fatal(err)
		}
		check(t, dir)
		if got := srv.log(); len(got) != 3 {
			t.Fatalf("requests %v", got)
		}
	})
	t.Run("stalled server", func(t *testing.T) {
		release := make(chan struct{})
		stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(data)))
			w.Write(data[:1000])
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer stall.Close()
		defer close(release)
		start := time.Now()
		err := FetchFiles(context.Background(), t.TempDir(), []RemoteFile{f}, DownloadOptions{BaseURL: stall.URL, IdleTimeout: 100 * time.Millisecond})
		wantErr(t, err, "cannot download data.bin", "no data received for 100ms")
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("took %v", d)
		}
	})
	t.Run("stale part", func(t *testing.T) {
		srv := newFileServer(t, map[string][]byte{"data.bin": data})
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "data.bin.part"), payload(300)[100:], 0o644) // not a prefix of data
		if err := FetchFiles(context.Background(), dir, []RemoteFile{f}, DownloadOptions{BaseURL: srv.URL}); err != nil {
			t.Fatal(err)
		}
		check(t, dir)
		if got := srv.log(); !slices.Equal(got, []string{"data.bin bytes=200-", "data.bin"}) {
			t.Fatalf("requests %v", got)
		}
	})
	t.Run("complete part", func(t *testing.T) {
		srv := newFileServer(t, map[string][]byte{"data.bin": data})
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "data.bin.part"), data, 0o644) // server answers 416
		if err := FetchFiles(context.Background(), dir, []RemoteFile{f}, DownloadOptions{BaseURL: srv.URL}); err != nil {
			t.Fatal(err)
		}
		check(t, dir)
	})
	t.Run("file fetched by hand", func(t *testing.T) {
		srv := newFileServer(t, map[string][]byte{"data.bin": data})
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "data.bin"), data, 0o644)
		if err := FetchFiles(context.Background(), dir, []RemoteFile{f}, DownloadOptions{BaseURL: srv.URL}); err != nil {
			t.Fatal(err)
		}
		if got := srv.log(); len(got) != 0 {
			t.Fatalf("requests %v", got)
		}
		os.WriteFile(filepath.Join(dir, "data.bin"), data[:10], 0o644) // corrupt, marker present
		os.Remove(markerPath(dir, f))
		if err := FetchFiles(context.Background(), dir, []RemoteFile{f}, DownloadOptions{BaseURL: srv.URL}); err != nil {
			t.Fatal(err)
		}
		check(t, dir)
		if got := srv.log(); len(got) != 1 {
			t.Fatalf("requests %v", got)
		}
	})
}

func TestDownloadExtract(t *testing.T) {
	tiny, _ := tinyImageNetTree(t)
	zipData := zipBytes(t, tiny)
	mnist := mnistFiles(t, true, "")
	served := map[string][]byte{"tiny-imagenet-200.zip": zipData}
	var mnistRemote []RemoteFile
	for name, b := range mnist {
		served[name] = b
		mnistRemote = append(mnistRemote, RemoteFile{Name: name, MD5: md5Hex(b), Extract: "gz"})
	}
	srv := newFileServer(t, served)
	withRemote(t, "tinyimagenet", []RemoteFile{{Name: "tiny-imagenet-200.zip", MD5: md5Hex(zipData), Extract: "zip"}})
	withRemote(t, "mnist", mnistRemote)
	cache := t.TempDir()
	for _, name := range []string{"tinyimagenet", "mnist"} {
		p, err := LoadOrDownloadContext(context.Background(), name, "", DownloadOptions{CacheDir: cache, BaseURL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Test.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(cache, "tinyimagenet", "tiny-imagenet-200", "wnids.txt")); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(cache, "mnist", "t10k-labels-idx1-ubyte"))
	if err != nil || !bytes.Equal(raw, idxBytes(2049, []int{2}, []byte{7, 2})) {
		t.Fatalf("gunzipped labels %v %v", raw, err)
	}
}

func TestExtractRefusesEscapingEntries(t *testing.T) {
	for _, tc := range []struct {
		name, kind string
		data       []byte
	}{
		{"evil.tar.gz", "tar.gz", tarGz(t, map[string][]byte{"ok/a.txt": []byte("a"), "ok/../../evil.txt": []byte("x")})},
		{"abs.tar.gz", "tar.gz", tarGz(t, map[string][]byte{"/tmp/evil.txt": []byte("x")})},
		{"evil.zip", "zip", zipBytes(t, map[string][]byte{"../evil.txt": []byte("x")})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "ds")
			srv := newFileServer(t, map[string][]byte{tc.name: tc.data})
			err := FetchFiles(context.Background(), dir, []RemoteFile{{Name: tc.name, MD5: md5Hex(tc.data), Extract: tc.kind}}, DownloadOptions{BaseURL: srv.URL})
			wantErr(t, err, "escapes the destination folder", tc.name)
			for _, p := range []string{filepath.Join(parent, "evil.txt"), filepath.Join(dir, "evil.txt"), filepath.Join(dir, "ok")} {
				if _, err := os.Stat(p); err == nil {
					t.Fatalf("%s was written", p)
				}
			}
			if _, err := TarFS(bytes.NewReader(tc.data)); tc.kind == "tar.gz" && err == nil {
				t.Fatal("TarFS accepted the archive")
			}
		})
	}
}

func TestArchivePath(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"a/b.txt", "a/b.txt", true}, {"./a/b/", "a/b", true}, {"a/../b", "b", true}, {"./", ".", true},
		{"../a", "", false}, {"a/../../b", "", false}, {"/etc/passwd", "", false}, {`..\evil`, "", false}, {"..", "", false},
	} {
		got, err := archivePath(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("archivePath(%q) = %q, %v", tc.in, got, err)
		}
	}
}

// TestOfficialRemoteFiles checks the shape of the built-in download table.
func TestOfficialRemoteFiles(t *testing.T) {
	hexRE := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for _, name := range Names() {
		files, err := RemoteFiles(name)
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: %v %v", name, files, err)
		}
		for _, f := range files {
			if !hexRE.MatchString(f.MD5) || f.Size <= 0 || len(f.URLs) == 0 || !slices.Contains([]string{"tar.gz", "zip", "gz"}, f.Extract) {
				t.Errorf("%s: %+v", name, f)
			}
			for _, u := range f.URLs {
				if !strings.HasPrefix(u, "http") || !strings.HasSuffix(u, "/"+f.Name) {
					t.Errorf("%s: URL %s", name, u)
				}
			}
		}
	}
	files, _ := RemoteFiles("cifar10")
	if files[0].MD5 != "c32a1d4ab5d03f1284b67883e8d87530" || files[0].URLs[0] != "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz" {
		t.Fatalf("cifar10: %+v", files[0])
	}
	files[0].URLs[0] = "changed"
	if again, _ := RemoteFiles("cifar10"); again[0].URLs[0] == "changed" {
		t.Fatal("RemoteFiles returned shared slices")
	}
}
