package verify_test

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/smimectl/smimectl/internal/certinfo"
	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/pkg/verify"
)

// fuzzEntity is the signed MIME entity of the seed messages.
const fuzzEntity = "Content-Type: text/plain; charset=us-ascii\r\n\r\nHello,\r\n\r\nthis is signed.\r\n"

// released reports whether out ends in the signed entity: fuzzEntity, or
// with header protection (RFC 9788) fuzzEntity with the hp parameter the
// signer added, after the protected fields.
func released(res *verify.Result, out []byte) bool {
	want := fuzzEntity
	if ph := res.ProtectedHeaders; ph != nil {
		ct, rest, _ := strings.Cut(fuzzEntity, "\r\n")
		want = ct + `; hp="` + ph.HP + `"` + "\r\n" + rest
	}
	return bytes.HasSuffix(out, []byte(want))
}

// vouched reports whether a result that says valid has a signature behind
// it: at least one signer, every one valid (issue #11 item 1: never
// "valid" without a signature).
func vouched(res *verify.Result) bool {
	if len(res.Signers) == 0 {
		return false
	}
	for _, s := range res.Signers {
		if !s.Valid {
			return false
		}
	}
	return true
}

// FuzzVerify: a mutated message is never reported valid unless the content
// it releases is exactly the content that was signed, by signers that are
// all valid and, with the sender compared, whose certificates carry every
// From and Sender mailbox (changes to unsigned
// outer header fields or to transfer encoding whitespace are harmless); a
// failure releases nothing and is one of the package's error types.
//
// Its seeds are the committed testdata/fuzz/FuzzVerify corpus and its root
// is read from testdata/fuzzlab (TestFuzzCorpus makes both), so that fuzz
// workers do not derive the lab's RSA keys at start.
func FuzzVerify(f *testing.F) {
	opts := loadFuzzLab(f).verifyOptions()
	f.Fuzz(func(t *testing.T, msg []byte) {
		var out bytes.Buffer
		res, err := verify.Verify(context.Background(), &out, bytes.NewReader(msg), opts)
		if err != nil {
			if out.Len() != 0 {
				t.Fatalf("failed verification (%v) released %d bytes", err, out.Len())
			}
			if res != nil && res.Valid {
				t.Fatal("result valid with an error")
			}
			if errorKind(err) == "" {
				t.Fatalf("error of no package type: %v (%T)", err, err)
			}
			return
		}
		if !res.Valid || !released(res, out.Bytes()) {
			t.Fatalf("valid, but released content differs from what was signed: %q", out.Bytes())
		}
		if !vouched(res) {
			t.Fatalf("valid with %d signers, not all valid", len(res.Signers))
		}
		checkSenderCovered(t, msg, opts)
	})
}

// checkSenderCovered verifies msg again with the sender compared
// (SenderStrict) and, if it is valid and has no protected headers, checks
// that the header has one From field and at most one Sender field that read
// completely, and that each of their mailboxes is in a signer's
// certificate: no mutation of the header lets a mailbox past (issue #11
// item 2).
func checkSenderCovered(t *testing.T, msg []byte, opts verify.Options) {
	opts.SenderCheck = verify.SenderStrict
	res, err := verify.Verify(context.Background(), io.Discard, bytes.NewReader(msg), opts)
	if err != nil || res.ProtectedHeaders != nil {
		return
	}
	if _, form, err := mime.OpenInput(bytes.NewReader(msg), mime.FormAuto); err == nil && form.Bare() {
		// A bare CMS file has no From (issue #15 item 1): no sender may be
		// claimed, and every signer's sender check says it was skipped.
		if res.From != "" || res.Sender != "" {
			t.Fatalf("a bare CMS file claims sender %q %q", res.From, res.Sender)
		}
		for _, s := range res.Signers {
			if !slices.ContainsFunc(s.Checks, func(c verify.Check) bool { return c.Name == "sender" && c.Status == verify.StatusSkipped }) {
				t.Fatalf("a bare CMS file's signer %d has no skipped sender check", s.Index)
			}
		}
		return
	}
	e, err := mime.ReadEntity(bytes.NewReader(msg))
	if err != nil {
		t.Fatalf("valid, but the header does not read: %v", err)
	}
	o, err := mime.ReadOriginator(e.Header)
	if err != nil {
		t.Fatalf("valid with the sender check on, but: %v", err)
	}
	for _, m := range o.Mailboxes() {
		if !slices.ContainsFunc(res.Signers, func(s *verify.Signer) bool { return s.Valid && certinfo.HasAddress(s.Certificate, m) }) {
			t.Fatalf("valid, but no signer's certificate carries %s", m)
		}
	}
}
