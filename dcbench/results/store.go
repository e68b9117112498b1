package results

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Store is a results folder:
//
//	<dir>/records/<writer>.jsonl   one JSON record per line, one file per writer (sweep shard)
//	<dir>/sets/<set hash>.dcb      condensed sets, written once (dcbench.Set.Save), reused
//	<dir>/results.jsonl            what `dcbench eval` appends (read like the others)
//
// Every writer appends to its own file, so n shards on a network filesystem never write to
// the same file; a line is written with one write call and files are never rewritten.
type Store struct {
	// Dir is the results folder.
	Dir string
	// Writer names this process's records file (default "records"); sweeps use
	// "shard-<i>-of-<n>".
	Writer string
}

// Open returns the store in dir for the given writer, creating the folder.
func Open(dir, writer string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("results: empty folder name")
	}
	if writer == "" {
		writer = "records"
	}
	if strings.ContainsAny(writer, `/\`) {
		return nil, fmt.Errorf("results: writer name %q has a path separator", writer)
	}
	for _, d := range []string{filepath.Join(dir, "records"), filepath.Join(dir, "sets")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("results folder: %w", err)
		}
	}
	return &Store{Dir: dir, Writer: writer}, nil
}

// File is the records file of this writer.
func (s *Store) File() string { return filepath.Join(s.Dir, "records", s.Writer+".jsonl") }

// SetPath is the cache file of the condensed set with the given hash (Config.SetHash).
func (s *Store) SetPath(setHash string) string { return filepath.Join(s.Dir, "sets", setHash+".dcb") }

// Append stamps the records (Record.Stamp) and appends them to this writer's file.
func (s *Store) Append(recs ...Record) error { return AppendFile(s.File(), recs...) }

// Read returns every record in the folder (see ReadPaths).
func (s *Store) Read() ([]Record, []string, error) { return ReadPaths(s.Dir) }

// AppendFile stamps the records and appends them to path (created with its folder), as JSON
// lines in a single write, so that they land together or not at all. If the file does not
// end with a newline (a record cut short by a crash), the write starts with one, so the new
// records are never glued to the broken line.
func AppendFile(path string, recs ...Record) error {
	if path == "" || len(recs) == 0 {
		return nil
	}
	var buf []byte
	for i := range recs {
		recs[i].Stamp()
		b, err := json.Marshal(recs[i])
		if err != nil {
			return fmt.Errorf("results: %w", err)
		}
		buf = append(append(buf, b...), '\n')
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("results file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("results file: %w", err)
	}
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, st.Size()-1); err == nil && last[0] != '\n' {
			buf = append([]byte{'\n'}, buf...)
		}
	}
	if _, err := f.Write(buf); err != nil {
		f.Close()
		return fmt.Errorf("results file %s: %w", path, err)
	}
	return f.Close()
}

// ReadPaths reads the records of every path: a .jsonl file, or a folder whose .jsonl files
// (recursively; the sets folder is skipped) are read in name order. A line that is not a
// valid record (a record cut short when a process was killed, or a corrupt line) is skipped
// with a warning naming the file and line; the other records are returned.
func ReadPaths(paths ...string) (recs []Record, warnings []string, err error) {
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, warnings, fmt.Errorf("results: %w", err)
		}
		var files []string
		if st.IsDir() {
			err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if d.IsDir() && path != p && d.Name() == "sets" {
					return filepath.SkipDir
				}
				if !d.IsDir() && strings.HasSuffix(d.Name(), ".jsonl") {
					files = append(files, path)
				}
				return nil
			})
			if err != nil {
				return nil, warnings, fmt.Errorf("results: %w", err)
			}
			sort.Strings(files)
		} else {
			files = []string{p}
		}
		for _, f := range files {
			r, w, err := ReadFile(f)
			if err != nil {
				return nil, warnings, err
			}
			recs = append(recs, r...)
			warnings = append(warnings, w...)
		}
	}
	return recs, warnings, nil
}

// ReadFile reads one JSON-lines file of records, skipping (with a warning) lines that do
// not parse.
func ReadFile(path string) (recs []Record, warnings []string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("results: %w", err)
	}
	defer f.Close()
	return readRecords(f, path)
}

func readRecords(r io.Reader, name string) (recs []Record, warnings []string, err error) {
	br := bufio.NewReader(r)
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		complete := err == nil
		if err != nil && err != io.EOF {
			return recs, warnings, fmt.Errorf("results: reading %s: %w", name, err)
		}
		if t := bytes.TrimSpace(b); len(t) > 0 {
			var rec Record
			if jerr := json.Unmarshal(t, &rec); jerr != nil {
				what := "corrupt record"
				if !complete {
					what = "truncated last record"
				}
				warnings = append(warnings, fmt.Sprintf("%s:%d: %s skipped (%d bytes: %v)", name, line, what, len(t), jerr))
			} else {
				rec.upgrade()
				recs = append(recs, rec)
			}
		}
		if !complete {
			return recs, warnings, nil
		}
	}
}

// Latest returns, for every run key, the record that settles it: the latest final record
// (ok, oom or failed) if any, else the latest skipped one. Records written with the same key
// twice (two `dcbench eval` of the same setting) therefore count once.
func Latest(recs []Record) map[string]Record {
	out := make(map[string]Record, len(recs))
	for _, r := range recs {
		k := r.Key()
		old, seen := out[k]
		switch {
		case !seen:
			out[k] = r
		case old.Final() != r.Final():
			if r.Final() {
				out[k] = r
			}
		case !r.Time.Before(old.Time):
			out[k] = r
		}
	}
	return out
}
