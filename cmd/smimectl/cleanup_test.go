package main

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

// TestTempFiles (issue #11 item 14): the files a signal must remove are
// exactly those on disk under a temporary name — named from the start where
// O_TMPFILE can't be used, or parked while others are written — and promote
// puts all in place or none.
func TestTempFiles(t *testing.T) {
	for _, named := range []bool{true, false} {
		name := "unnamed until complete"
		if named {
			name = "named from the start"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			temps := &tempFiles{named: named}
			a, err := temps.create(dir, ".a.tmp*")
			if err != nil {
				t.Fatal(err)
			}
			b, err := temps.create(dir, ".b.tmp*")
			if err != nil {
				t.Fatal(err)
			}
			a.f.WriteString("a")
			b.f.WriteString("b")
			if err := temps.park(b); err != nil {
				t.Fatal(err)
			}
			want := 2
			if !named && runtime.GOOS == "linux" {
				want = 1 // only the parked one has a name
			}
			if got := dirNames(t, dir); len(got) != want || len(temps.names) != want {
				t.Errorf("directory holds %q, recorded %v; want %d names", got, temps.names, want)
			}
			// A signal now: every temporary file goes.
			temps.removeAll()
			if got := dirNames(t, dir); len(got) != 0 {
				t.Errorf("after removeAll the directory holds %q", got)
			}
			a.close()
		})
		t.Run(name+", promote", func(t *testing.T) {
			dir := t.TempDir()
			temps := &tempFiles{named: named}
			var files []rename
			for _, n := range []string{"one", "two", "three"} {
				tf, err := temps.create(dir, "."+n+".tmp*")
				if err != nil {
					t.Fatal(err)
				}
				tf.f.WriteString(n)
				if n == "one" {
					if err := temps.park(tf); err != nil {
						t.Fatal(err)
					}
				}
				files = append(files, rename{tf, filepath.Join(dir, n)})
			}
			if err := temps.promote(files); err != nil {
				t.Fatal(err)
			}
			if got := dirNames(t, dir); !slices.Equal(got, []string{"one", "three", "two"}) || len(temps.names) != 0 {
				t.Errorf("directory holds %q, recorded %v; want one, three, two and nothing recorded", got, temps.names)
			}
			for _, n := range []string{"one", "two", "three"} {
				if b, err := os.ReadFile(filepath.Join(dir, n)); err != nil || string(b) != n {
					t.Errorf("%s: %q, %v", n, b, err)
				}
			}
		})
		t.Run(name+", promote fails", func(t *testing.T) {
			dir := t.TempDir()
			// "two" can't be renamed over: a directory with a file in it.
			if err := os.MkdirAll(filepath.Join(dir, "two", "keep"), 0o755); err != nil {
				t.Fatal(err)
			}
			temps := &tempFiles{named: named}
			var files []rename
			for _, n := range []string{"one", "two", "three"} {
				tf, err := temps.create(dir, "."+n+".tmp*")
				if err != nil {
					t.Fatal(err)
				}
				files = append(files, rename{tf, filepath.Join(dir, n)})
			}
			if err := temps.promote(files); err == nil {
				t.Fatal("promote over a directory succeeded")
			}
			if got := dirNames(t, dir); !slices.Equal(got, []string{"two"}) || len(temps.names) != 0 {
				t.Errorf("directory holds %q, recorded %v; want only what was there", got, temps.names)
			}
		})
	}

	// Where /proc refuses the link, the unnamed file's content is copied
	// to a named one, mode and all.
	t.Run("copy when the link fails", func(t *testing.T) {
		dir := t.TempDir()
		temps := &tempFiles{}
		tf, err := temps.create(dir, ".c.tmp*")
		if err != nil {
			t.Fatal(err)
		}
		tf.f.WriteString("content")
		tf.f.Chmod(0o640)
		temps.mu.Lock()
		err = temps.copyNamed(tf)
		temps.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		if tf.name == "" || !temps.names[tf.name] {
			t.Fatalf("copy has name %q, recorded %v", tf.name, temps.names)
		}
		if err := temps.promote([]rename{{tf, filepath.Join(dir, "c")}}); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(filepath.Join(dir, "c"))
		b, _ := os.ReadFile(filepath.Join(dir, "c"))
		if err != nil || string(b) != "content" || fi.Mode().Perm() != 0o640 {
			t.Errorf("got %q, %v, %v; want \"content\" with mode 0640", b, fi.Mode(), err)
		}
		if got := dirNames(t, dir); !slices.Equal(got, []string{"c"}) {
			t.Errorf("directory holds %q, want c", got)
		}
	})
}
