package verify

import (
	"bufio"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/smimectl/smimectl/internal/mime"
)

// Identity is a recipient's certificate and private key, with which [Open]
// decrypts enveloped layers.
type Identity struct {
	Certificate *x509.Certificate
	// Key is a crypto.Decrypter for RSA, an encrypt.KeyAgreer or
	// *ecdsa.PrivateKey for EC.
	Key crypto.PrivateKey
	// TryAll tries Key on every recipient entry when none names
	// Certificate (see encrypt.DecryptOptions).
	TryAll bool
}

// Requirement is a set of layers a message must have (the CLI's
// --require), checked by [Open] after every layer was opened. Open always
// requires RequireSigned unless Options.AllowUnsigned is set.
type Requirement uint8

// Requirements (RFC 2634 section 1.1 names the layers).
const (
	// RequireSigned: at least one signed layer.
	RequireSigned Requirement = 1 << iota
	// RequireEncrypted: at least one enveloped layer.
	RequireEncrypted
	// RequireSignedInner: a signed layer inside an enveloped one — the
	// content was signed before it was encrypted, as in the triple wrap.
	RequireSignedInner
)

var requirementNames = []string{"signed", "encrypted", "signed-inner"}

func (q Requirement) String() string {
	var names []string
	for i, n := range requirementNames {
		if q&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	return strings.Join(names, ",")
}

// MarshalText gives the requirements as String does: "signed",
// "signed,encrypted".
func (q Requirement) MarshalText() ([]byte, error) { return []byte(q.String()), nil }

// UnmarshalText reads a comma-separated list of "signed", "encrypted" and
// "signed-inner" (the CLI's --require), as MarshalText writes it; "" is
// no requirement.
func (q *Requirement) UnmarshalText(b []byte) error {
	var r Requirement
	if len(b) > 0 {
		for n := range strings.SplitSeq(string(b), ",") {
			i, err := unmarshalEnum(requirementNames, []byte(n))
			if err != nil {
				return err
			}
			r |= 1 << i
		}
	}
	*q = r
	return nil
}

// RequirementError reports a message without a layer that Options.Require
// asked for.
type RequirementError struct {
	Require Requirement
	Reason  string
}

func (e *RequirementError) Error() string { return "verify: " + e.detail() }
func (e *RequirementError) detail() string {
	return fmt.Sprintf("%s (required: %v)", e.Reason, e.Require)
}

// LayerError says which layer of a layered message failed: Depth is 1 for
// the outermost layer.
type LayerError struct {
	Depth int
	Kind  LayerKind
	Err   error
}

func (e *LayerError) Error() string { return "verify: " + e.detail() }

func (e *LayerError) detail() string {
	return fmt.Sprintf("layer %d (%s): %s", e.Depth, e.Kind, detailOf(e.Err))
}

func (e *LayerError) Unwrap() error { return e.Err }

// ErrNoKey means an enveloped layer was met and Options.Decrypt is nil.
var ErrNoKey error = errorString("the message is encrypted and no key was given to decrypt it")

// Verify reads a signed message from r, checks every signer, and only if
// all pass writes the message to w: the outer header fields followed by the
// signed MIME entity, without the signature. On failure nothing is written
// to w, and the error is the first failing check; the Result, when not nil,
// describes every signer and check either way.
func Verify(ctx context.Context, w io.Writer, r io.Reader, opts Options) (*Result, error) {
	return open(ctx, w, r, opts, peelPolicy{})
}

// Open peels a layered message: any nesting of signed layers (clear or
// opaque) and enveloped layers (enveloped-data or authEnveloped-data), up
// to [MaxDepth] layers, such as the triple wrap of RFC 2634 (sign, encrypt,
// sign). Every signed layer is checked as [Verify] checks a message, every
// enveloped layer is decrypted with opts.Decrypt (an enveloped layer
// without it fails with [ErrNoKey]), and opts.Require is checked at the
// end. Result.Layers lists every layer, outermost first; Result.Signers
// are those of the innermost signed layer, the one over the content.
//
// The message must have at least one signed layer: a message that is only
// encrypted fails with a [*RequirementError] for RequireSigned, whoever
// could decrypt it, unless opts.AllowUnsigned says the caller (a decrypt
// command) wants it anyway; it is then released with no signers, a
// warning, and Result.Valid false. Result.Valid is true only when there
// is a signed layer and every signer of every signed layer is valid. In
// each signed layer, every From mailbox (and the Sender) must be carried
// by a valid signer's certificate; see [Options.SenderCheck].
//
// Open writes to w only if every layer opened, every signed layer is valid
// and the requirements are met: the outermost message's header fields,
// then the innermost entity. Between layers content is spooled (memory up
// to SpoolThreshold, then a temporary file), so memory stays flat. When w
// is io.Discard and r an io.Seeker (a file), the content is not spooled
// past its header, and r is read again from where it was if a check needs
// the rest (Verify too). After a
// signature or trust failure the inner layers are still opened and
// reported; after any other failure Open stops. The error is the first
// failure, as a [*LayerError] naming its layer when the message has more
// than one (a message of one layer fails with Verify's errors). The Result
// is nil when no layer could be read.
func Open(ctx context.Context, w io.Writer, r io.Reader, opts Options) (*Result, error) {
	return open(ctx, w, r, opts, peelPolicy{layered: true})
}

// peelPolicy is what a caller of the peeler asks of a message: Open peels
// every layer, Verify reads one signed layer.
type peelPolicy struct {
	// layered: descend into every layer's content, decrypt enveloped
	// layers, look for signed parts in a wrapper, check opts.Require and
	// list the layers (Open). Otherwise the message must be one signed
	// layer, whose content is released as it is (Verify).
	layered bool
	// origin, if not nil, stands for the header fields of the entity read
	// from r (a signed part of a wrapped message, whose From is its
	// message's).
	origin *mime.Header
	// discard: the content goes nowhere (w is io.Discard) and r can be
	// read again, so a layer's content is kept only as far as the walk
	// reads it (walker.drop).
	discard bool
	// dropAfter, if not zero, replaces how much of a layer's content a
	// dropping walk keeps (FuzzDiscardFastPath keeps little).
	dropAfter int
	// net, if not nil, is the NetworkTimeout deadline shared with the
	// other reading of the same call.
	net *netDeadline
}

// open is Open and Verify, as policy says. When the content goes nowhere
// (w is io.Discard: verify --out /dev/null, --json) and r can be read
// again from where it is (a file), the content is not spooled past its
// header (issue #13, large messages): only the digests taken on the way
// are kept. If anything wanted the bytes that were not kept — a signer
// whose digest algorithm micalg did not name, content that was a further
// layer after all — the message is read again from the start, with
// everything spooled, and that reading alone gives the result.
func open(ctx context.Context, w io.Writer, r io.Reader, opts Options, policy peelPolicy) (*Result, error) {
	if rs, start, ok := rereadable(w, r); ok {
		// Both readings are one call: one NetworkTimeout deadline, or a
		// sender who makes the message read again (a lie in micalg)
		// doubles the time the network may take (red team rtperf).
		net := &netDeadline{}
		defer net.release()
		policy.discard, policy.net = true, net
		res, drop, err := openOnce(ctx, w, r, opts, policy)
		if !drop.missed {
			return res, err
		}
		if _, err := rs.Seek(start, io.SeekStart); err != nil {
			return nil, fmt.Errorf("verify: reading the message again: %w", err)
		}
		policy.discard = false
	}
	res, _, err := openOnce(ctx, w, r, opts, policy)
	return res, err
}

// rereadable returns r as an io.Seeker and where it is, when w is
// io.Discard and r can seek.
func rereadable(w io.Writer, r io.Reader) (io.Seeker, int64, bool) {
	rs, ok := r.(io.Seeker)
	if w != io.Discard || !ok {
		return nil, 0, false
	}
	start, err := rs.Seek(0, io.SeekCurrent)
	return rs, start, err == nil
}

// openOnce reads the message once, as open says; drop says whether it
// dropped content, and whether a reader wanted it (the result is then
// void).
func openOnce(ctx context.Context, w io.Writer, r io.Reader, opts Options, policy peelPolicy) (_ *Result, drop dropOutcome, _ error) {
	res := &Result{At: opts.now().UTC()}
	if policy.layered {
		res.Signers = []*Signer{}
	}
	v := &verifier{ctx: ctx, opts: &opts, res: res, net: policy.net}
	defer func() {
		if v.cancelNet != nil {
			v.cancelNet()
		}
	}()
	p := &peeler{v: v, res: res, policy: policy,
		w: walker{spoolDir: opts.SpoolDir, threshold: opts.SpoolThreshold, batch: opts.Batch,
			drop: policy.discard, dropAfter: policy.dropAfter}}
	defer func() {
		drop = p.w.dropOutcome()
		p.w.close()
	}()
	r, err := v.openInput(r)
	if err != nil {
		return nil, drop, err
	}
	perr := p.w.walk(r, p)
	if p.wrapper != nil {
		// Issue #15 item 5: signed parts below the top level.
		res, err := openParts(ctx, w, p.wrapper, p.w.content, res, opts)
		return res, drop, err
	}
	if !policy.layered {
		res, err := p.finishVerify(w, perr)
		return res, drop, err
	}
	err = perr
	if p.firstErr != nil {
		err = p.firstErr
	} else if err == nil {
		err = p.require()
	}
	if err == nil && p.protected != nil {
		err = v.checkProtected(p.protected, p.outer)
	}
	// A message of one layer fails as Verify's would, without the layer.
	var le, ple *LayerError
	single := len(res.Layers) == 1 && (perr == nil || errors.As(perr, &ple) && ple.Depth == 1)
	if single && errors.As(err, &le) && le.Depth == 1 {
		err = le.Err
	}
	if err != nil && len(res.Layers) == 0 {
		return nil, drop, err // not S/MIME, or broken before any layer
	}
	signed := slices.ContainsFunc(res.Layers, func(l *Layer) bool { return l.Kind == KindSigned })
	if err == nil && signed {
		err = checkVouched(res.Signers)
	}
	if err != nil {
		res.Error = err.Error()
		return res, drop, err
	}
	// Without a signed layer (AllowUnsigned), the content is released but
	// nothing vouches for it: never Valid.
	res.Valid = signed
	return res, drop, release(w, p.outer, p.w.content, p.protected, v.bare)
}

// finishVerify ends Verify's reading of the one signed layer: perr is the
// walk's error.
func (p *peeler) finishVerify(w io.Writer, perr error) (*Result, error) {
	if !p.checked {
		return nil, perr // not a signed message, or one that can't be read
	}
	err := p.firstErr
	if err == nil {
		err = perr
	}
	if err == nil && p.protected != nil {
		err = p.v.checkProtected(p.protected, p.outer)
	}
	if err == nil {
		err = checkVouched(p.res.Signers)
	}
	if err != nil {
		p.res.Error = err.Error()
		return p.res, err
	}
	p.res.Valid = true
	return p.res, release(w, p.outer, p.w.content, p.protected, p.v.bare)
}

// require checks opts.Require and notes RFC 2634's weak shapes: content
// encrypted but not signed inside, or signed only outside.
func (p *peeler) require() error {
	var signed, encrypted, signedInner bool
	for _, l := range p.res.Layers {
		switch l.Kind {
		case KindSigned:
			signed = true
			signedInner = signedInner || encrypted
		default:
			encrypted = true
		}
	}
	if encrypted && !signedInner && signed {
		p.res.warn("the content inside the encryption is not signed: the only signature is outside it, over the encrypted layer")
	}
	q := p.v.opts.Require
	if !p.v.opts.AllowUnsigned {
		q |= RequireSigned
	}
	if !signed && q&RequireSigned == 0 {
		p.res.warn("the message is not signed: nothing vouches for who wrote it or that it is unchanged")
	}
	switch {
	case q&RequireSigned != 0 && !signed:
		return &RequirementError{Require: RequireSigned, Reason: "the message is not signed"}
	case q&RequireEncrypted != 0 && !encrypted:
		return &RequirementError{Require: RequireEncrypted, Reason: "the message is not encrypted"}
	case q&RequireSignedInner != 0 && !signedInner:
		return &RequirementError{Require: RequireSignedInner, Reason: "the content is not signed inside the encryption"}
	}
	return nil
}

// release writes the outer header fields and the content; with header
// protection, the protected fields stand for the outer ones.
//
// Content without a MIME header (a body some clients sign or encrypt as it
// is) is a body with RFC 2045's defaults: a blank line goes between the
// header fields and it, so its first line is never read as a field (issue
// #15 item 4). The content of a bare CMS file (bare) has no header fields
// before it and is written as it is, byte for byte.
func release(w io.Writer, outer mime.Header, content *mime.Spool, prot *ProtectedHeaders, bare bool) error {
	if w == io.Discard {
		return nil // nowhere to write: nothing to read (issue #13)
	}
	cr, err := content.Open()
	if err != nil {
		return err
	}
	br := bufio.NewReaderSize(cr, mime.MaxFirstLine)
	head, _ := br.Peek(mime.MaxFirstLine)
	if prot != nil {
		return mime.WriteEffective(w, outer, br)
	}
	if _, err := outer.WriteTo(w); err != nil {
		return err
	}
	if !bare && !mime.StartsEntity(head) {
		if _, err := io.WriteString(w, "\r\n"); err != nil {
			return err
		}
	}
	_, err = io.Copy(w, br)
	return err
}

// checkProtected records the protected header fields in the result and
// compares them with the outer ones. An outer From field that names other
// mailboxes than the protected one (or cannot be read), or an outer Sender
// that names another mailbox than the protected Sender, fails under
// SenderStrict and is a warning under SenderWarn: the outer header was
// rewritten, and a client that does not read protected headers shows it.
// Every other change in transit is a warning.
func (v *verifier) checkProtected(p *ProtectedHeaders, outer mime.Header) error {
	v.res.ProtectedHeaders = p
	var err error
	reported := "From" // the From difference is this check's own
	if po, ok, perr := (*mime.Protection)(p).Originator(); ok && perr == nil {
		v.res.setOriginator(po)
		if v.bare {
			// A bare CMS file has no outer header to compare with: the
			// protected fields are the only ones (issue #15 item 1).
			return nil
		}
		if he := rewrittenOriginator(po, outer); he != nil && v.opts.SenderCheck != SenderOff {
			reported = he.Field
			if v.opts.SenderCheck == SenderStrict {
				err = he
			} else {
				v.res.warn("%s", he.detail())
			}
		}
	}
	for _, d := range p.Differences {
		if !mime.IsFault(d) || strings.EqualFold(d.Field, "From") || strings.EqualFold(d.Field, reported) {
			continue
		}
		switch d.Kind {
		case mime.DiffChanged:
			was := fmt.Sprintf("protected %q", d.Protected)
			if p.HP == mime.HPCipher {
				was = fmt.Sprintf("sent as %q", d.Sent)
			}
			v.res.warn("the %s field was changed in transit: %s, received %q", d.Field, was, d.Outer)
		case mime.DiffAdded:
			v.res.warn("the %s field was added in transit: %q is not protected", d.Field, d.Outer)
		case mime.DiffMissing:
			v.res.warn("the %s field was removed in transit", d.Field)
		}
	}
	return err
}

// rewrittenOriginator compares the protected originator po with the outer
// header's: the outer From must name the same mailboxes (RFC 9788 section
// 4.4 "From" is the field a forger rewrites), and an outer Sender the
// protected Sender's mailbox.
func rewrittenOriginator(po mime.Originator, outer mime.Header) *HeaderError {
	from, err := mime.FieldMailboxes(outer, "From")
	if err != nil || !(mime.Originator{From: from}).Same(mime.Originator{From: po.From}) {
		shown := strings.Join(from, ", ")
		if err != nil {
			shown = strings.Join(outer.Values("From"), ", ")
		}
		return &HeaderError{Field: "From", Protected: strings.Join(po.From, ", "), Outer: shown}
	}
	sender, err := mime.FieldMailboxes(outer, "Sender")
	if err != nil || len(sender) > 1 || len(sender) == 1 && !(mime.Originator{Sender: sender[0]}).Same(mime.Originator{Sender: po.Sender}) {
		return &HeaderError{Field: "Sender", Protected: po.Sender, Outer: strings.Join(outer.Values("Sender"), ", ")}
	}
	return nil
}
