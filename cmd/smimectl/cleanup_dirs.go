package main

// Directories a run makes (decrypt --out-dir): recorded, so that a failed or
// killed run removes the ones it made.

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// mkdirAll creates dir and its missing parents, as os.MkdirAll, and records
// the directories it created, deepest first, so that a signal removes them
// with the files (red team, attack3: a killed encrypt --bcc separate left the
// --out-dir it had made). It returns them for dropDirs.
func (t *tempFiles) mkdirAll(dir string, perm fs.FileMode) ([]string, error) {
	t.lock()
	defer t.unlock()
	var made []string
	for p := filepath.Clean(dir); ; p = filepath.Dir(p) {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			break
		}
		made = append(made, p)
		if filepath.Dir(p) == p {
			break
		}
	}
	if err := os.MkdirAll(dir, perm); err != nil {
		for _, d := range made {
			os.Remove(d)
		}
		return nil, err
	}
	if t != nil {
		t.dirs = append(t.dirs, made...)
	}
	return made, nil
}

// recordDirs records directories a run made inside one it made or was
// given (decrypt --out-dir's subdirectories), for a signal to remove if
// they are empty; they go first, as the deeper ones.
func (t *tempFiles) recordDirs(dirs ...string) {
	if t == nil {
		return
	}
	t.lock()
	defer t.unlock()
	t.dirs = append(slices.Clone(dirs), t.dirs...)
}

// dropDirs forgets the directories mkdirAll made; with remove, it removes
// those that are empty first (a failed run leaves no empty directory).
func (t *tempFiles) dropDirs(made []string, remove bool) {
	t.lock()
	defer t.unlock()
	for _, d := range made {
		if remove {
			os.Remove(d)
		}
		if t != nil {
			t.dirs = slices.DeleteFunc(t.dirs, func(x string) bool { return x == d })
		}
	}
}
