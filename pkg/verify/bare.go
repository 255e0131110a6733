package verify

import (
	"io"
	"strings"

	"github.com/smimectl/smimectl/internal/certinfo"
	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/pkg/encrypt"
)

// Form is how the input presents the message (issue #15 item 1): a mail
// message, or a bare CMS file such as a saved smime.p7m attachment or what
// `openssl cms -outform DER|PEM` writes. [Open], [Verify] and [Inspect]
// tell them apart by their first bytes unless Options.Form names one.
type Form = encrypt.InputForm

// Input forms.
const (
	// FormAuto detects the form: DER (a ContentInfo SEQUENCE), PEM (a
	// BEGIN CMS, BEGIN PKCS7 or BEGIN PKCS #7 SIGNED DATA block, or bare
	// base64 of a ContentInfo), else a mail message.
	FormAuto = encrypt.FormAuto
	// FormMIME is a mail message or MIME entity.
	FormMIME = encrypt.FormMIME
	// FormDER is a bare CMS ContentInfo, DER or BER.
	FormDER = encrypt.FormDER
	// FormPEM is the base64 of a CMS ContentInfo, armored or bare.
	FormPEM = encrypt.FormPEM
)

// protectionOf is the header protection of the payload root whose header
// is entity (see mime.ReadProtection) as this package's type: the same
// struct, converted, not copied.
func protectionOf(outer, entity mime.Header) *ProtectedHeaders {
	return (*ProtectedHeaders)(mime.ReadProtection(outer, entity))
}

// noSenderDetail is the sender check of a signer of input without a From
// field when Options.Signer names nobody.
const noSenderDetail = "the input has no From field (a bare CMS file or a detached signature over a file): the sender was not compared"

// openInput turns r into a MIME entity reader by opts.Form and notes
// whether the input was a bare CMS file, which has no From field.
func (v *verifier) openInput(r io.Reader) (io.Reader, error) {
	r, form, err := encrypt.OpenInput(r, v.opts.Form)
	if err != nil {
		return nil, malformed(err)
	}
	v.bare = mime.Form(form).Bare()
	return r, nil
}

// signerOriginator adds Options.Signer to o: the mailbox a valid signer
// must carry besides the From and Sender mailboxes, or alone for input
// without a From field. A bare CMS file whose content has protected header
// fields (RFC 9788) has the protected From, which is checked as mail's.
func (v *verifier) signerOriginator(o originator) originator {
	s := strings.TrimSpace(v.opts.Signer)
	if s == "" {
		return o
	}
	if o.err == nil && len(o.From) == 0 && o.Sender == "" {
		// No From at all (a bare CMS file without protected headers).
		return originator{Originator: mime.Originator{From: []string{s}}}
	}
	if o.err == nil && !slicesContainsAddress(o.From, s) {
		o.From = append(append([]string(nil), o.From...), s)
	}
	return o
}

func slicesContainsAddress(list []string, a string) bool {
	for _, b := range list {
		if certinfo.SameAddress(a, b) {
			return true
		}
	}
	return false
}
