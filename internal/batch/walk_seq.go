package batch

import "iter"

// Inputs is [Walk] as an iterator.
func Inputs(paths []string, opts Options) iter.Seq[Input] {
	return func(yield func(Input) bool) { Walk(paths, opts, yield) }
}
