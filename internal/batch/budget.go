package batch

import (
	"iter"
	"sync"
)

// DefaultMaxHeld is the bytes of mbox messages a batch holds in memory at
// once by default: two messages of the largest size read
// (DefaultMaxMboxMessage).
const DefaultMaxHeld = 2 * DefaultMaxMboxMessage

// Budget bounds the bytes of mbox messages ([Input.Data]) held at once
// between the walk and the end of their work. [Run]'s window bounds the
// number of inputs in flight, not their size: an mbox of large messages
// (attachments; or a hostile one of many near the 64 MiB limit) would hold
// a window's worth of them, gigabytes with a few dozen workers. With a
// Budget the walk waits until the messages before have been released.
//
// A Budget is safe for concurrent use: [Budget.Inputs] runs on Run's
// producer goroutine and [Budget.Release] on its emitting one.
type Budget struct {
	max  int64
	mu   sync.Mutex
	cond *sync.Cond
	held int64
	peak int64 // the most held at once, for tests
}

// NewBudget returns a Budget of max bytes; max <= 0 is DefaultMaxHeld.
func NewBudget(max int64) *Budget {
	if max <= 0 {
		max = DefaultMaxHeld
	}
	b := &Budget{max: max}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// Inputs passes on the inputs of seq, waiting before one with Data until
// its bytes fit in the budget beside those held; an input alone always
// fits, so the walk never stalls for good. Every input it gives must be
// given back with Release once its Data is no longer used.
func (b *Budget) Inputs(seq iter.Seq[Input]) iter.Seq[Input] {
	return func(yield func(Input) bool) {
		for in := range seq {
			if n := int64(len(in.Data)); n > 0 {
				b.mu.Lock()
				for b.held > 0 && b.held+n > b.max {
					b.cond.Wait()
				}
				b.held += n
				b.peak = max(b.peak, b.held)
				b.mu.Unlock()
			}
			if !yield(in) {
				return
			}
		}
	}
}

// Release gives back the bytes of in, an input Inputs gave.
func (b *Budget) Release(in Input) {
	if n := int64(len(in.Data)); n > 0 {
		b.mu.Lock()
		b.held -= n
		b.mu.Unlock()
		b.cond.Broadcast()
	}
}
