package verify_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/chain"
	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// Issue #13 (performance): a BatchCache shares parsed certificates and the
// certificate signatures found valid between the messages of a batch. It
// must never change a verdict: a certificate whose signature was altered
// fails after the genuine one passed and was remembered, before and after,
// at once on many goroutines, and every result equals the one without a
// cache.
func TestBatchCacheNeverChangesVerdict(t *testing.T) {
	l := labtest.Default(t)
	alice := l.User("alice-sign")
	// The same certificate with one bit of its issuer's signature flipped:
	// same subject, key and names, a signature that does not verify.
	raw := bytes.Clone(alice.Cert.Raw)
	raw[len(raw)-1] ^= 1
	forged, err := x509.ParseCertificate(raw)
	if err != nil {
		t.Fatal(err)
	}
	signWith := func(cert *x509.Certificate) []byte {
		var out bytes.Buffer
		if err := sign.Sign(context.Background(), &out, strings.NewReader(message("alice@example.com")), sign.Options{
			Key: alice.Key, Certificate: cert, Chain: l.Chain(), Force: true,
			Now: func() time.Time { return at.Add(-time.Hour) },
		}); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	good, bad := signWith(alice.Cert), signWith(forged)
	opts := verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at }}
	check := func(msg []byte, o verify.Options) error {
		_, err := verify.Open(context.Background(), io.Discard, bytes.NewReader(msg), o)
		return err
	}
	isBadCertSignature := func(err error) bool {
		var ce *chain.Error
		return errors.As(err, &ce) && ce.Reason == chain.BadSignature || err != nil && strings.Contains(err.Error(), "does not verify")
	}
	if err := check(good, opts); err != nil {
		t.Fatalf("without a cache, the genuine message: %v", err)
	}
	wantBad := check(bad, opts)
	if !isBadCertSignature(wantBad) {
		t.Fatalf("without a cache, the forged certificate: got %v, want a bad certificate signature", wantBad)
	}

	cached := opts
	cached.Batch = &verify.BatchCache{}
	for i, msg := range [][]byte{bad, good, good, bad, good} {
		err := check(msg, cached)
		switch {
		case bytes.Equal(msg, good) && err != nil:
			t.Fatalf("message %d, genuine, with the cache: %v", i, err)
		case bytes.Equal(msg, bad) && (err == nil || err.Error() != wantBad.Error()):
			t.Fatalf("message %d, forged, with the cache: got %v, want %v", i, err, wantBad)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Go(func() {
			msg, valid := good, true
			if i%3 == 0 {
				msg, valid = bad, false
			}
			if err := check(msg, cached); (err == nil) != valid {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent verification with the cache gave another verdict: %v", err)
	}
}
