package verify_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// swapReader is a file that an MTA rewrites while verify reads it: it
// reads as first until it is sought back to where it was first read from,
// and as second after that. It counts those readings.
type swapReader struct {
	first, second []byte
	r             *bytes.Reader
	start         int64
	readings      int
}

func newSwapReader(prefix, first, second []byte) *swapReader {
	s := &swapReader{first: append(append([]byte(nil), prefix...), first...),
		second: append(append([]byte(nil), prefix...), second...), start: int64(len(prefix))}
	s.r = bytes.NewReader(s.first)
	s.r.Seek(s.start, io.SeekStart)
	s.readings = 1
	return s
}

func (s *swapReader) Read(p []byte) (int, error) { return s.r.Read(p) }

func (s *swapReader) Seek(off int64, whence int) (int64, error) {
	if whence == io.SeekStart {
		if off != s.start {
			return 0, fmt.Errorf("sought to %d, not to the message's start %d", off, s.start)
		}
		s.readings++
		s.r = bytes.NewReader(s.second)
	}
	return s.r.Seek(off, whence)
}

// bigText is a message whose content is past what a dropping spool keeps.
func bigText() []byte {
	var b strings.Builder
	b.WriteString("From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nSubject: large\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n")
	for i := 0; b.Len() < 1300<<10; i++ {
		fmt.Fprintf(&b, "line %06d of the signed text, long enough to be a line\r\n", i)
	}
	return []byte(b.String())
}

// TestDiscardRereadBytesChecked attacks the second reading of the fast
// path of content that goes nowhere (issue #13; red team rtperf): a
// message inside a larger file (an mbox, a batch reader) is read again
// from its own offset, not the file's start; a file rewritten between the
// two readings gets the verdict on the bytes of the reading that gave it;
// and the message is read at most twice.
func TestDiscardRereadBytesChecked(t *testing.T) {
	l := labtest.Default(t)
	clear := signLab(t, l, sign.Clear, bigText())
	lying := regexp.MustCompile(`micalg="?sha-256"?`).ReplaceAll(clear, []byte("micalg=sha-512"))
	forged := bytes.Replace(lying, []byte("line 020000 of the signed"), []byte("line 020000 of the forged"), 1)
	prefix := []byte("From MAILER-DAEMON Thu Jan  1 00:00:00 2026\r\nnot this message\r\n\r\n")
	opts := verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at }, SpoolDir: t.TempDir()}
	for _, tc := range []struct {
		name          string
		first, second []byte
		readings      int
	}{
		{"at its offset", lying, lying, 2},
		{"forged after the first reading", lying, forged, 2},
		{"mended after the first reading", forged, lying, 2},
		{"honest, rewritten", clear, forged, 1},
	} {
		for _, f := range []struct {
			name string
			f    func(context.Context, io.Writer, io.Reader, verify.Options) (*verify.Result, error)
		}{{"Open", verify.Open}, {"Verify", verify.Verify}} {
			t.Run(tc.name+"/"+f.name, func(t *testing.T) {
				sr := newSwapReader(prefix, tc.first, tc.second)
				got, gerr := f.f(context.Background(), io.Discard, sr, opts)
				// The verdict is the spooling path's on the bytes of the
				// reading that gave it.
				verdictOn := tc.first
				if tc.readings == 2 {
					verdictOn = tc.second
				}
				want, werr := f.f(context.Background(), io.Discard, onlyReader{bytes.NewReader(verdictOn)}, opts)
				sameOutcome(t, "fast path", got, gerr, want, werr)
				if sr.readings != tc.readings {
					t.Errorf("read %d times, want %d", sr.readings, tc.readings)
				}
			})
		}
	}
}

// TestDiscardSignedParts: a wrapper (a list's multipart/mixed, issue #15
// item 5) whose signed part is large and lies in micalg: the part is
// checked through the fast path (its spool is a file that can seek) and
// the verdict is the spooling path's (red team rtperf).
func TestDiscardSignedParts(t *testing.T) {
	l := labtest.Default(t)
	clear := signLab(t, l, sign.Clear, bigText())
	lying := regexp.MustCompile(`micalg="?sha-256"?`).ReplaceAll(clear, []byte("micalg=sha-512"))
	forged := bytes.Replace(lying, []byte("line 020000 of the signed"), []byte("line 020000 of the forged"), 1)
	for _, tc := range []struct {
		name string
		part []byte
	}{{"honest", clear}, {"micalg lies", lying}, {"forged", forged}} {
		outer, entity := entityOf(t, tc.part)
		msg := []byte(outer + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\n" +
			strings.TrimSuffix(entity, "\r\n") + "\r\n--m\r\nContent-Type: text/plain\r\n\r\nlist footer\r\n--m--\r\n")
		for _, threshold := range []int64{0, 64 << 10} {
			t.Run(fmt.Sprintf("%s/threshold=%d", tc.name, threshold), func(t *testing.T) {
				opts := verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at },
					SpoolDir: t.TempDir(), SpoolThreshold: threshold, AllowUnsignedParts: true}
				want, werr := verify.Open(context.Background(), io.Discard, onlyReader{bytes.NewReader(msg)}, opts)
				got, gerr := verify.Open(context.Background(), io.Discard, bytes.NewReader(msg), opts)
				sameOutcome(t, "fast path", got, gerr, want, werr)
				var out bytes.Buffer
				res, err := verify.Open(context.Background(), &out, bytes.NewReader(msg), opts)
				sameOutcome(t, "written out", res, err, want, werr)
			})
		}
	}
}

// TestDiscardRereadNetworkTimeout: NetworkTimeout is one deadline for the
// network steps of one Open or Verify call, and the fast path's second
// reading is part of that call: a sender who lies in micalg (which makes
// the message read twice) must not double the time an MTA gave it, with
// distribution points that never answer (red team rtperf, issue #13).
func TestDiscardRereadNetworkTimeout(t *testing.T) {
	l := hangingCRLLab(t)
	clear := signLab(t, l, sign.Clear, bigText())
	lying := regexp.MustCompile(`micalg="?sha-256"?`).ReplaceAll(clear, []byte("micalg=sha-512"))
	// A signature over the lying one: the outer signer's revocation
	// check is done on the first reading, before the inner layer misses.
	over := signLab(t, l, sign.Clear, lying)
	const limit = 600 * time.Millisecond
	for _, f := range []struct {
		name string
		msg  []byte
		f    func(context.Context, io.Writer, io.Reader, verify.Options) (*verify.Result, error)
	}{{"Open", lying, verify.Open}, {"Verify", lying, verify.Verify}, {"Open nested", over, verify.Open}} {
		t.Run(f.name, func(t *testing.T) {
			sr := newSwapReader(nil, f.msg, f.msg)
			start := time.Now()
			res, err := f.f(context.Background(), io.Discard, sr, verify.Options{
				Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at }, NetworkTimeout: limit,
				Revocation: revocation.New(revocation.Options{URLTimeout: 5 * time.Second, TotalTimeout: 5 * time.Second}),
			})
			d := time.Since(start)
			if err != nil || !res.Valid {
				t.Fatalf("%v; want valid", err)
			}
			if sr.readings != 2 {
				t.Fatalf("read %d times; want 2 (micalg lies)", sr.readings)
			}
			if d > limit+400*time.Millisecond {
				t.Errorf("took %v with NetworkTimeout %v: the second reading started a deadline of its own", d, limit)
			}
		})
	}
}

// hangingCRLLab is a lab whose CRL distribution points never answer (until
// the test ends).
func hangingCRLLab(t *testing.T) *lab.Lab {
	t.Helper()
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) })
	l, err := lab.New(lab.Options{CRLBaseURL: srv.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	return l
}
