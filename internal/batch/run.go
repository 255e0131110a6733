package batch

import (
	"iter"
	"sync"
)

// Run calls work on every item of items, on up to jobs goroutines
// at once (at least 1), and emit with each item and its result in the
// order items gave them, on the calling goroutine. At most about window
// items (at least jobs) are between items and emit: a slow item holds up
// emit but not memory, since items is not asked for another until a place
// is free. items runs on a goroutine of its own. Run returns when every
// item has been emitted.
func Run[T, R any](jobs, window int, items iter.Seq[T], work func(T) R, emit func(T, R)) {
	jobs = max(jobs, 1)
	window = max(window, jobs)
	type slot struct {
		item T
		done chan R
	}
	work1 := make(chan *slot)
	order := make(chan *slot, window)
	var wg sync.WaitGroup
	for range jobs {
		wg.Go(func() {
			for s := range work1 {
				s.done <- work(s.item)
			}
		})
	}
	go func() {
		defer close(work1)
		defer close(order)
		for item := range items {
			s := &slot{item: item, done: make(chan R, 1)}
			order <- s // blocks while window items wait to be emitted
			work1 <- s
		}
	}()
	for s := range order {
		emit(s.item, <-s.done)
	}
	wg.Wait()
}
