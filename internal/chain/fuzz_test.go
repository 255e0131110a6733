package chain

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the committed fuzz seed corpus of FuzzDifferential from the matrix")

const diffCorpusDir = "testdata/fuzz/FuzzDifferential"

// diffSeeds picks seeds from the matrix: every loop case and every 8th of
// the others, so that every property and product is near a seed.
func diffSeeds() map[string][]byte {
	seeds := map[string][]byte{}
	for i, tc := range diffMatrix(false) {
		if i%8 == 0 || strings.HasPrefix(tc.name, "loop/") {
			seeds[fmt.Sprintf("seed-%03d", len(seeds))] = tc.set.encode()
		}
	}
	return seeds
}

func corpusFile(data []byte) []byte {
	return fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", data)
}

// TestFuzzDifferentialCorpus checks that the committed seeds are those the
// matrix gives (regenerate with go test ./internal/chain -run
// TestFuzzDifferentialCorpus -update-corpus).
func TestFuzzDifferentialCorpus(t *testing.T) {
	seeds := diffSeeds()
	if *updateCorpus {
		if err := os.RemoveAll(diffCorpusDir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(diffCorpusDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range seeds {
			if err := os.WriteFile(filepath.Join(diffCorpusDir, name), corpusFile(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	files, _ := filepath.Glob(filepath.Join(diffCorpusDir, "seed-*"))
	if len(files) != len(seeds) {
		t.Fatalf("%d seed files in %s, the matrix gives %d: run with -update-corpus", len(files), diffCorpusDir, len(seeds))
	}
	for name, data := range seeds {
		got, err := os.ReadFile(filepath.Join(diffCorpusDir, name))
		if err != nil || string(got) != string(corpusFile(data)) {
			t.Fatalf("%s is stale or missing (%v): run with -update-corpus", name, err)
		}
	}
}

// FuzzDifferential (issue #11 item 6): any byte string is a certificate
// set (decodeDiffSet is total); on every set crypto/x509 can write, Build's
// verdict equals crypto/x509's, and a chain Build returns is one
// crypto/x509 accepts. See differential_test.go for the known differences
// kept out by construction.
func FuzzDifferential(f *testing.F) {
	diffKeys() // before the workers fork their inputs
	f.Fuzz(func(t *testing.T, data []byte) {
		s := decodeDiffSet(data)
		o := compareDiff(s, nil)
		if o.disagree != "" {
			t.Fatalf("%s\n  Build: %v\n  crypto/x509: %v\n  set:\n%s", o.disagree, errText(o.ours), errText(o.std), s)
		}
	})
}

var diffRandom = flag.Int("diff.random", 300, "TestDifferentialRandom: how many pseudo-random sets to compare")

// TestDifferentialRandom compares pseudo-random sets (a fixed seed, so a
// failure reproduces) and reports the disagreement classes, as
// TestDifferential does; -diff.random=N explores further.
func TestDifferentialRandom(t *testing.T) {
	n := *diffRandom
	if testing.Short() {
		n = min(n, 100)
	}
	rng := rand.New(rand.NewPCG(11, 6))
	classes := map[string]int{}
	skipped := 0
	data := make([]byte, 1+diffMaxCerts*diffCertBytes)
	for i := range n {
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		s := decodeDiffSet(data)
		o := compareDiff(s, nil)
		if o.skip != "" {
			skipped++
			continue
		}
		if o.disagree == "" {
			continue
		}
		class := diffClass(s, o)
		if classes[class]++; classes[class] <= 2 {
			t.Errorf("random set %d (input %x): %s\n  class: %s\n  Build: %v\n  crypto/x509: %v\n  set:\n%s", i, data, o.disagree, class, errText(o.ours), errText(o.std), s)
		}
	}
	var summary []string
	for c, k := range classes {
		summary = append(summary, fmt.Sprintf("  %4d  %s", k, c))
	}
	sort.Strings(summary)
	t.Logf("%d random sets, %d skipped, disagreement classes:\n%s", n, skipped, strings.Join(summary, "\n"))
}
