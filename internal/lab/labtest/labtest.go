// Package labtest gives tests one lab PKI per seed and test binary: deriving
// a lab's RSA keys takes a while, and it is the same every time for a seed.
// Test helper only: import it from _test.go files.
package labtest

import (
	"sync"
	"testing"

	"github.com/smimectl/smimectl/internal/lab"
)

type entry struct {
	once sync.Once
	lab  *lab.Lab
	err  error
}

// labs caches one lab per seed for the test binary's lifetime.
var labs sync.Map // seed -> *entry

// Seeded returns the lab for seed (lab.New with default options otherwise),
// built once per test binary; t fails if it cannot be built.
func Seeded(t testing.TB, seed string) *lab.Lab {
	t.Helper()
	v, _ := labs.LoadOrStore(seed, new(entry))
	e := v.(*entry)
	e.once.Do(func() { e.lab, e.err = lab.New(lab.Options{Seed: seed}) })
	if e.err != nil {
		t.Fatalf("building the lab: %v", e.err)
	}
	return e.lab
}

// Default returns the lab of the default seed.
func Default(t testing.TB) *lab.Lab {
	t.Helper()
	return Seeded(t, "")
}
