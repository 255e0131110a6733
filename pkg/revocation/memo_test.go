package revocation

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingChecker answers Good after a pause, counting the questions.
type countingChecker struct{ n atomic.Int64 }

func (c *countingChecker) Check(ctx context.Context, cert, issuer *x509.Certificate, at time.Time) (Outcome, error) {
	c.n.Add(1)
	time.Sleep(time.Millisecond)
	if string(cert.Raw) == "down" {
		return Outcome{Status: Unknown, Fetches: []Fetch{{URL: "http://ca.example/crl"}}}, &UnavailableError{Cert: cert, Err: errors.New("connection refused")}
	}
	return Outcome{Status: Good, Fetches: []Fetch{{URL: "http://ca.example/crl"}}}, nil
}

// Issue #13 item 2: the workers of a batch share one revocation answer per
// certificate, issuer and time, asked once even when they ask together.
func TestMemo(t *testing.T) {
	alice, bob, down, ca := &x509.Certificate{Raw: []byte("alice")}, &x509.Certificate{Raw: []byte("bob")}, &x509.Certificate{Raw: []byte("down")}, &x509.Certificate{Raw: []byte("ca")}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cc := &countingChecker{}
	m := Memo(cc, 0)
	var wg sync.WaitGroup
	var fetched atomic.Int64
	for range 50 {
		wg.Go(func() {
			o, err := m.Check(context.Background(), alice, ca, at)
			if err != nil || o.Status != Good {
				t.Errorf("got %v, %v; want good", o.Status, err)
			}
			fetched.Add(int64(len(o.Fetches)))
		})
	}
	wg.Wait()
	if n := cc.n.Load(); n != 1 {
		t.Errorf("50 concurrent questions asked the checker %d times, want 1", n)
	}
	if f := fetched.Load(); f != 1 {
		t.Errorf("%d answers list fetches, want 1 (the one that made it)", f)
	}
	m.Check(context.Background(), bob, ca, at)
	m.Check(context.Background(), alice, ca, at.Add(time.Hour))
	if n := cc.n.Load(); n != 3 {
		t.Errorf("another certificate and another time: checker asked %d times in all, want 3", n)
	}
	// An unavailable answer is kept too, error and all.
	for range 3 {
		if _, err := m.Check(context.Background(), down, ca, at); !errors.As(err, new(*UnavailableError)) {
			t.Errorf("got %v, want *UnavailableError", err)
		}
	}
	if n := cc.n.Load(); n != 4 {
		t.Errorf("an unreachable server was asked %d times in all, want once (4 in all)", n-3)
	}
}

// Past max answers, the checker is asked every time: memory is bounded.
func TestMemoFull(t *testing.T) {
	cc := &countingChecker{}
	m := Memo(cc, 2)
	ca := &x509.Certificate{Raw: []byte("ca")}
	for i := range 4 {
		for range 2 {
			m.Check(context.Background(), &x509.Certificate{Raw: fmt.Appendf(nil, "c%d", i)}, ca, time.Time{})
		}
	}
	if n := cc.n.Load(); n != 2+4 {
		t.Errorf("checker asked %d times, want 6 (2 kept answers, 2 certificates asked twice)", n)
	}
}

func ExampleMemo() {
	cc := &countingChecker{}
	checker := Memo(cc, 0) // shared by every worker of a batch
	cert, issuer := &x509.Certificate{Raw: []byte("alice")}, &x509.Certificate{Raw: []byte("ca")}
	for range 3 {
		o, _ := checker.Check(context.Background(), cert, issuer, time.Time{})
		fmt.Println(o.Status)
	}
	fmt.Println("asked", cc.n.Load(), "time")
	// Output:
	// good
	// good
	// good
	// asked 1 time
}
