package revocation

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"sync"
	"time"
)

// Memo returns a [Checker] that asks c once for each certificate, issuer
// and time, and gives every later caller the same answer: the in-memory
// cache of a batch that checks many messages signed by the same few
// certificates (smimectl verify with many messages), in front of c's own
// on-disk cache. It is safe for concurrent use by many goroutines if c is;
// a caller that asks while the first answer is coming waits for it, or,
// when its own ctx ends first, asks c itself.
//
// Every answer is kept, an unavailable one too, so an unreachable server
// costs its timeout once per run rather than once per message. An answer
// given from memory has no Fetches: no request was made for it. At most
// max answers are kept (0 means 10,000); past that, c is asked every time.
func Memo(c Checker, max int) Checker {
	if max == 0 {
		max = 10_000
	}
	return &memo{c: c, max: max, answers: make(map[memoKey]*memoAnswer)}
}

type memoKey struct {
	cert, issuer [sha256.Size]byte
	at           int64
}

type memoAnswer struct {
	done chan struct{} // closed when o and err are set
	o    Outcome
	err  error
}

type memo struct {
	c   Checker
	max int

	mu      sync.Mutex
	answers map[memoKey]*memoAnswer
}

// Check implements [Checker].
func (m *memo) Check(ctx context.Context, cert, issuer *x509.Certificate, at time.Time) (Outcome, error) {
	k := memoKey{cert: sha256.Sum256(cert.Raw), issuer: sha256.Sum256(issuer.Raw), at: at.UnixNano()}
	m.mu.Lock()
	a, ok := m.answers[k]
	if !ok && len(m.answers) < m.max {
		a = &memoAnswer{done: make(chan struct{})}
		m.answers[k] = a
	}
	m.mu.Unlock()
	switch {
	case a == nil: // full
		return m.c.Check(ctx, cert, issuer, at)
	case !ok: // ours to ask
		a.o, a.err = m.c.Check(ctx, cert, issuer, at)
		close(a.done)
		return a.o, a.err
	}
	select {
	case <-a.done:
		o := a.o
		o.Fetches = nil
		return o, a.err
	case <-ctx.Done():
		return m.c.Check(ctx, cert, issuer, at)
	}
}
