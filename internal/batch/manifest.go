package batch

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
)

// Expectation is what a manifest says of one fixture.
type Expectation struct {
	// Path is the fixture as the manifest names it.
	Path string
	// Line is the manifest line it is on, from 1.
	Line int
	// Pass is true for "pass"; false for "fail:REASON".
	Pass bool
	// Reason is the REASON of "fail:REASON".
	Reason string
}

// String is the expectation as the manifest writes it: "pass" or "fail:REASON".
func (e *Expectation) String() string {
	if e.Pass {
		return "pass"
	}
	return "fail:" + e.Reason
}

// Manifest is a parsed --expect file: the expected outcome of each fixture.
type Manifest struct {
	dir     string
	entries []*Expectation
	byPath  map[string]*Expectation
	used    map[*Expectation]bool
}

// ParseManifest reads a manifest: one fixture a line, "PATH pass" or
// "PATH fail:REASON" separated by white space, "#" starting a comment,
// empty lines ignored. PATH is matched as given on the command line or
// relative to dir, the manifest's directory; "PATH#N" names the message of
// index N of an mbox. known reports whether a REASON is a reason code;
// an unknown one, a line of another shape or a PATH given twice is an
// error naming the line.
func ParseManifest(r io.Reader, dir string, known func(string) bool) (*Manifest, error) {
	m := &Manifest{dir: dir, byPath: make(map[string]*Expectation), used: make(map[*Expectation]bool)}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 {
			return nil, fmt.Errorf("line %d: want \"PATH pass\" or \"PATH fail:REASON\", got %d fields", n, len(f))
		}
		e := &Expectation{Path: f[0], Line: n}
		switch reason, ok := strings.CutPrefix(f[1], "fail:"); {
		case f[1] == "pass":
			e.Pass = true
		case ok && known(reason):
			e.Reason = reason
		case ok:
			return nil, fmt.Errorf("line %d: unknown reason %q", n, reason)
		default:
			return nil, fmt.Errorf("line %d: want pass or fail:REASON, got %q", n, f[1])
		}
		key := filepath.Clean(e.Path)
		if prev := m.byPath[key]; prev != nil {
			return nil, fmt.Errorf("line %d: %q is already on line %d", n, e.Path, prev.Line)
		}
		m.byPath[key] = e
		m.entries = append(m.entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return m, nil
}

// Lookup returns the expectation for the message at path (with its mbox
// index, or -1), or nil if the manifest has none, and marks it used. An
// entry for "PATH#N" wins over one for the whole mbox PATH.
func (m *Manifest) Lookup(path string, mboxIndex int) *Expectation {
	var keys []string
	for _, p := range []string{filepath.Clean(path), filepath.Clean(relTo(m.dir, path))} {
		if mboxIndex >= 0 {
			keys = append(keys, p+"#"+strconv.Itoa(mboxIndex))
		}
		keys = append(keys, p)
	}
	for _, k := range keys {
		if e := m.byPath[k]; e != nil {
			m.used[e] = true
			return e
		}
	}
	return nil
}

// relTo is path relative to dir, or path itself if it is not under dir.
func relTo(dir, path string) string {
	ad, err1 := filepath.Abs(dir)
	ap, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return path
	}
	if rel, err := filepath.Rel(ad, ap); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
		return rel
	}
	return path
}

// Unused returns the expectations that no Lookup has returned, in manifest
// order: fixtures the manifest names that the run did not find.
func (m *Manifest) Unused() []*Expectation {
	var out []*Expectation
	for _, e := range m.entries {
		if !m.used[e] {
			out = append(out, e)
		}
	}
	return out
}
