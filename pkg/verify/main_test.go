package verify_test

import (
	"flag"
	"os"
	"testing"
)

// fuzzMinimizeTime is how long go test -fuzz minimizes each new input of
// this package's targets unless -fuzzminimizetime is given: not at all.
// Go's default is up to 60s per input that adds coverage, and its minimizer
// deletes bytes one by one and then ranges of bytes, quadratic in the input
// size; our inputs are messages of kilobytes and an Open call takes about a
// millisecond, so every new input took the whole minute, during which a
// single worker (-parallel 1) fuzzed nothing: FuzzOpen ran 6 inputs in its
// first minute. Without minimization it runs thousands a second. Pass
// -fuzzminimizetime (e.g. 60s) to get crashers minimized.
const fuzzMinimizeTime = "0s"

// TestMain sets the fuzz minimization time (fuzzMinimizeTime) when
// fuzzing, before the testing package reads it.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.fuzz"); f != nil && f.Value.String() != "" {
		given := false
		flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.fuzzminimizetime" })
		if !given {
			if err := flag.Set("test.fuzzminimizetime", fuzzMinimizeTime); err != nil {
				panic(err)
			}
		}
	}
	os.Exit(m.Run())
}
