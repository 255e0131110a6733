package verify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/pkg/encrypt"
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

func (e *RequirementError) Error() string {
	return fmt.Sprintf("verify: %s (required: %v)", e.Reason, e.Require)
}

// LayerError says which layer of a layered message failed: Depth is 1 for
// the outermost layer.
type LayerError struct {
	Depth int
	Kind  LayerKind
	Err   error
}

func (e *LayerError) Error() string {
	return fmt.Sprintf("verify: layer %d (%s): %s", e.Depth, e.Kind, strings.TrimPrefix(e.Err.Error(), "verify: "))
}

func (e *LayerError) Unwrap() error { return e.Err }

// ErrNoKey means an enveloped layer was met and Options.Decrypt is nil.
var ErrNoKey = errors.New("verify: the message is encrypted and no key was given to decrypt it")

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
// to SpoolThreshold, then a temporary file), so memory stays flat. After a
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
}

// open is Open and Verify, as policy says.
func open(ctx context.Context, w io.Writer, r io.Reader, opts Options, policy peelPolicy) (*Result, error) {
	res := &Result{At: opts.now().UTC()}
	if policy.layered {
		res.Signers = []*Signer{}
	}
	v := &verifier{ctx: ctx, opts: &opts, res: res}
	defer func() {
		if v.cancelNet != nil {
			v.cancelNet()
		}
	}()
	p := &peeler{v: v, res: res, policy: policy,
		w: walker{spoolDir: opts.SpoolDir, threshold: opts.SpoolThreshold, batch: opts.Batch}}
	defer p.w.close()
	r, err := v.openInput(r)
	if err != nil {
		return nil, err
	}
	perr := p.w.walk(r, p)
	if p.wrapper != nil {
		// Issue #15 item 5: signed parts below the top level.
		return openParts(ctx, w, p.wrapper, p.w.content, res, opts)
	}
	if !policy.layered {
		return p.finishVerify(w, perr)
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
		return nil, err // not S/MIME, or broken before any layer
	}
	signed := slices.ContainsFunc(res.Layers, func(l *Layer) bool { return l.Kind == KindSigned })
	if err == nil && signed {
		err = checkVouched(res.Signers)
	}
	if err != nil {
		res.Error = err.Error()
		return res, err
	}
	// Without a signed layer (AllowUnsigned), the content is released but
	// nothing vouches for it: never Valid.
	res.Valid = signed
	return res, release(w, p.outer, p.w.content, p.protected, v.bare)
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

// peeler is the layerVisitor of one Open or Verify call.
type peeler struct {
	v        *verifier
	res      *Result
	policy   peelPolicy
	w        walker
	outer    mime.Header
	firstErr error // the first signature or trust failure
	// checked is set once a signed layer's signers were checked.
	checked bool
	// protected is the header protection of the payload, once reached.
	protected *ProtectedHeaders
	// wrapper is set when the message is not a layer but may hold signed
	// parts (multipart/mixed, message/rfc822): its body is then in the
	// walker's content.
	wrapper *mime.Entity
}

// top notes the outermost header; Verify refuses a message that is not
// one signed layer here, before reading it.
func (p *peeler) top(ent entity) (bool, error) {
	p.outer, _ = ent.e.Header.Split()
	if p.policy.origin != nil {
		p.outer = *p.policy.origin
	}
	p.res.Form = ent.mt
	if ent.mt == "application/x-pkcs7-mime" {
		p.res.Form = "application/pkcs7-mime"
	}
	pkcs7 := ent.mt == "application/pkcs7-mime" || ent.mt == "application/x-pkcs7-mime"
	if !p.policy.layered && pkcs7 && ent.st != "" && !strings.EqualFold(ent.st, "signed-data") {
		return true, fmt.Errorf("%w: it is %s (smime-type=%s)", ErrNotSigned, ent.mt, strings.ToLower(ent.st))
	}
	p.v.readOriginator(p.outer)
	return false, nil
}

func (p *peeler) content(depth int, ent entity) error {
	switch {
	case ent.e == nil:
		return nil
	case depth > 1:
		p.protected = mime.ReadProtection(p.outer, ent.e.Header)
		return nil
	case p.policy.layered && wrapperType(ent.mt) && p.policy.origin == nil:
		return p.spoolWrapper(ent.e)
	}
	return fmt.Errorf("%w: its type is %s", ErrNotSigned, ent.mt)
}

func (p *peeler) unreadable(_ int, err error) error { return err }

// spoolWrapper keeps the body of the wrapper e, byte-exact, for openParts.
func (p *peeler) spoolWrapper(e *mime.Entity) error {
	body := &mime.Spool{Dir: p.w.spoolDir, Threshold: p.w.threshold}
	if _, err := io.Copy(body, e.Body); err != nil {
		body.Close()
		var se *mime.SpoolError
		if errors.As(err, &se) {
			return err
		}
		return malformed(err)
	}
	p.w.content, p.wrapper = body, e
	return nil
}

// layer opens one layer read into next: checks a signed one, decrypts an
// enveloped one. Open lists it in the result, and names it in its error
// (a *LayerError); Verify stops after it.
func (p *peeler) layer(depth int, ent entity, read *layerRead, err error, next *mime.Spool) (bool, error) {
	if err == nil {
		err = read.refused
	}
	if !p.policy.layered {
		switch {
		case err != nil:
			return true, err
		case read.l.Kind != KindSigned:
			return true, fmt.Errorf("%w: it is %s (%s)", ErrNotSigned, ent.mt, read.l.Kind)
		}
		p.protected = p.v.readProtection(p.outer, next)
		return true, p.checkLayer(read.l, read, next, depth)
	}
	// A layer that can't be read (or that verify refuses) is listed as
	// what its header says it is.
	l := &Layer{Kind: ent.kind, MediaType: ent.mt, SMIMEType: ent.st}
	if err == nil {
		l = read.l
		if l.Kind == KindSigned {
			err = p.checkLayer(l, read, next, depth)
		} else {
			err = p.decrypt(l, ent.e, next)
		}
	}
	l.Depth = depth
	p.res.Layers = append(p.res.Layers, l)
	if err != nil {
		var le *LayerError
		if !errors.As(err, &le) {
			le = &LayerError{Depth: depth, Kind: l.Kind, Err: err}
			l.fail(le)
			err = le
		}
		return true, err
	}
	return false, nil
}

// checkLayer checks every signer of the signed layer l, read into
// content. A signer's failure is noted in the layer and kept as the first
// failure, and the walk goes on (the inner layers are still opened and
// reported); a layer without signers is an error that ends it.
func (p *peeler) checkLayer(l *Layer, read *layerRead, content *mime.Spool, depth int) error {
	p.v.msg = &message{content: content, sd: read.sd}
	p.v.digests = read.digests
	if p.v.digests == nil {
		p.v.digests = map[crypto.Hash][]byte{}
	}
	if p.policy.layered {
		p.v.readProtection(p.outer, content)
	}
	signers, first := p.v.checkSigners(read.sd)
	l.Signers = signers
	if len(read.sd.SignerInfos) == 0 {
		if !p.policy.layered {
			p.checked, p.res.Signers = true, signers
		}
		return first
	}
	p.checked, p.res.Signers = true, signers
	l.Valid = first == nil
	if first != nil {
		if !p.policy.layered {
			p.firstErr = first
			return nil
		}
		le := &LayerError{Depth: depth, Kind: l.Kind, Err: first}
		l.fail(le)
		if p.firstErr == nil {
			p.firstErr = le
		}
	}
	return nil
}

// decrypt decrypts an enveloped layer into next with opts.Decrypt.
func (p *peeler) decrypt(l *Layer, e *mime.Entity, next *mime.Spool) error {
	id := p.v.opts.Decrypt
	if id == nil {
		l.Note = "the encrypted content needs a key"
		return ErrNoKey
	}
	// Only the layer's own Content-* fields: the outer ones are in p.outer.
	_, entity := e.Header.Split()
	var hdr bytes.Buffer
	if _, err := entity.WriteTo(&hdr); err != nil {
		return err
	}
	hdr.WriteString("\r\n")
	in, form := io.MultiReader(&hdr, e.Body), FormMIME
	if p.v.bare {
		// A bare CMS file's content need not be MIME: decrypt the CMS as
		// such, so that it is not held to what mail must be.
		body, err := mime.DecodeBody(e)
		if err != nil {
			return malformed(err)
		}
		in, form = body, FormDER
	}
	dres, err := encrypt.Decrypt(next, in, encrypt.DecryptOptions{
		Certificate: id.Certificate, Key: id.Key, TryAll: id.TryAll,
		SpoolDir: p.v.opts.SpoolDir, SpoolThreshold: p.v.opts.SpoolThreshold,
		KeepPayloadHeader: true, Form: form,
	})
	if err != nil {
		var nf *encrypt.NotForUsError
		if errors.As(err, &nf) {
			l.Recipients = recipientInfos(nf.Recipients)
		}
		return err
	}
	l.ContentType = "data"
	l.ContentCipher = dres.CipherName
	l.KeyManagement = dres.KeyManagement
	l.Recipients = recipientInfos(dres.Recipients)
	l.Valid = true
	p.res.Warnings = append(p.res.Warnings, dres.Warnings...)
	return nil
}

func recipientInfos(rs []encrypt.Recipient) []RecipientInfo {
	out := make([]RecipientInfo, len(rs))
	for i, r := range rs {
		kind := "other"
		switch {
		case strings.HasPrefix(r.KeyManagement, "rsa"):
			kind = "key-transport"
		case strings.HasPrefix(r.KeyManagement, "ecdh"):
			kind = "key-agreement"
		}
		out[i] = RecipientInfo{Kind: kind, Issuer: r.Issuer, Serial: r.Serial, SubjectKeyID: r.SubjectKeyID,
			KeyManagement: r.KeyManagement, Us: r.Us}
	}
	return out
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
