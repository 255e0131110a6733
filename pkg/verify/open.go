package verify

import (
	"bufio"
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
	return open(ctx, w, r, opts, nil)
}

// open is Open; origin, if not nil, stands for the header fields of the
// entity read from r (a signed part of a wrapped message, whose From is
// its message's).
func open(ctx context.Context, w io.Writer, r io.Reader, opts Options, origin *mime.Header) (*Result, error) {
	res := &Result{At: opts.now().UTC(), Signers: []*Signer{}}
	v := &verifier{ctx: ctx, opts: &opts, res: res}
	defer func() {
		if v.cancelNet != nil {
			v.cancelNet()
		}
	}()
	p := &peeler{v: v, res: res, origin: origin}
	defer p.close()
	r, err := v.openInput(r)
	if err != nil {
		return nil, err
	}
	perr := p.peel(r)
	if p.wrapper != nil {
		// Issue #15 item 5: signed parts below the top level.
		return openParts(ctx, w, p.wrapper, p.content, res, opts)
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
	return res, release(w, p.outer, p.content, p.protected, v.bare)
}

// peeler holds the state of one Open call.
type peeler struct {
	v        *verifier
	res      *Result
	outer    mime.Header
	content  *mime.Spool // the current layer's content
	firstErr error       // the first signature or trust failure
	// protected is the header protection of the payload, once reached.
	protected *ProtectedHeaders
	// origin, if not nil, stands for the header fields of the first layer.
	origin *mime.Header
	// wrapper is set when the message is not a layer but may hold signed
	// parts (multipart/mixed, message/rfc822): its body is then in content.
	wrapper *mime.Entity
}

func (p *peeler) close() {
	if p.content != nil {
		p.content.Close()
	}
}

func (p *peeler) spool() *mime.Spool {
	return &mime.Spool{Dir: p.v.opts.SpoolDir, Threshold: p.v.opts.SpoolThreshold}
}

// peel opens layer after layer, in a loop, until the content is reached.
func (p *peeler) peel(r io.Reader) error {
	for depth := 1; ; depth++ {
		if depth > 1 {
			br := bufio.NewReaderSize(r, mime.MaxFirstLine)
			if head, _ := br.Peek(mime.MaxFirstLine); !mime.StartsEntity(head) {
				// Content without a MIME header: a body with RFC
				// 2045's defaults, no further layer (issue #15 item 4).
				return nil
			}
			r = br
		}
		e, err := mime.ReadEntity(r)
		if err != nil {
			return malformed(err)
		}
		kind, mt, st, err := layerKind(e)
		if err != nil {
			return err
		}
		if depth == 1 {
			p.outer, _ = e.Header.Split()
			if p.origin != nil {
				p.outer = *p.origin
			}
			p.res.Form = mt
			if mt == "application/x-pkcs7-mime" {
				p.res.Form = "application/pkcs7-mime"
			}
			p.v.readOriginator(p.outer)
		}
		if kind == "" {
			if depth == 1 && wrapperType(mt) && p.origin == nil {
				return p.spoolWrapper(e)
			}
			if depth == 1 {
				return fmt.Errorf("%w: its type is %s", ErrNotSigned, mt)
			}
			p.protected = mime.ReadProtection(p.outer, e.Header)
			return nil
		}
		if depth > MaxDepth {
			return &DepthError{Max: MaxDepth}
		}
		next := p.spool()
		l, err := p.layer(e, mt, st, next, depth)
		if l == nil && err != nil {
			l = &Layer{Kind: kind, MediaType: mt, SMIMEType: st}
		}
		if l != nil {
			l.Depth = depth
			p.res.Layers = append(p.res.Layers, l)
		}
		p.close()
		p.content = next
		if err != nil {
			var le *LayerError
			if !errors.As(err, &le) {
				err = &LayerError{Depth: depth, Kind: kind, Err: err}
				if l != nil {
					err.(*LayerError).Kind = l.Kind
					l.fail(err)
				}
			}
			return err
		}
		if r, err = next.Open(); err != nil {
			return fmt.Errorf("verify: reading the spooled content: %w", err)
		}
	}
}

// spoolWrapper keeps the body of the wrapper e, byte-exact, for openParts.
func (p *peeler) spoolWrapper(e *mime.Entity) error {
	body := p.spool()
	if _, err := io.Copy(body, e.Body); err != nil {
		body.Close()
		var se *mime.SpoolError
		if errors.As(err, &se) {
			return err
		}
		return malformed(err)
	}
	p.content, p.wrapper = body, e
	return nil
}

// layer opens one layer into next: checks a signed one, decrypts an
// enveloped one.
func (p *peeler) layer(e *mime.Entity, mt, st string, next *mime.Spool, depth int) (*Layer, error) {
	l, sd, digests, err := readSignedLayer(e, mt, st, next, p.v.opts.Batch)
	if err != nil {
		return nil, err
	}
	if l.Kind != KindSigned {
		return l, p.decrypt(l, e, next)
	}
	p.v.msg = &message{form: mt, content: next, sd: sd}
	p.v.digests = digests
	if p.v.digests == nil {
		p.v.digests = map[crypto.Hash][]byte{}
	}
	p.v.readProtection(p.outer, next)
	l.Signers = nil
	var first error
	for i, si := range sd.SignerInfos {
		s, err := p.v.checkSigner(i, si)
		l.Signers = append(l.Signers, s)
		if err != nil && first == nil {
			first = err
		}
	}
	if err := p.v.checkSenders(l.Signers); err != nil && first == nil {
		first = err
	}
	if len(sd.SignerInfos) == 0 {
		return l, &MalformedError{Err: errors.New("the signature has no signers")}
	}
	p.res.Signers = l.Signers
	l.Valid = first == nil
	if first != nil {
		le := &LayerError{Depth: depth, Kind: l.Kind, Err: first}
		l.fail(le)
		if p.firstErr == nil {
			p.firstErr = le
		}
	}
	return l, nil
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
