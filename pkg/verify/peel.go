package verify

import (
	"bufio"
	"bytes"
	"crypto"
	"errors"
	"io"
	"net/mail"
	"strings"
	"time"

	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/pkg/encrypt"
)

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
		return true, notSigned("it is %s (smime-type=%s)", ent.mt, strings.ToLower(ent.st))
	}
	p.v.readOriginator(p.outer)
	return false, nil
}

func (p *peeler) content(depth int, ent entity) error {
	switch {
	case ent.e == nil:
		return nil
	case depth > 1:
		p.protected = protectionOf(p.outer, ent.e.Header)
		return nil
	case p.policy.layered && wrapperType(ent.mt) && p.policy.origin == nil:
		return p.spoolWrapper(ent.e)
	}
	return notSigned("its type is %s", ent.mt)
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
			return true, notSigned("it is %s (%s)", ent.mt, read.l.Kind)
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
		out[i] = RecipientInfo{Kind: r.Kind, Issuer: r.Issuer, Serial: r.Serial, SubjectKeyID: r.SubjectKeyID,
			KeyManagement: r.KeyManagement, Us: r.Us}
	}
	return out
}

// readProtection returns the RFC 9788 header protection of content, the
// signed or decrypted entity, if it is a protected payload root, and notes
// its From and Sender fields for the sender check of the signers over it.
//
// An entity that is itself a signed or enveloped layer is not the payload
// root (RFC 9788: the root is the entity inside every layer), so an hp
// parameter on it protects nothing: a mail client shows the outer From,
// and the signers of the layer over it are held to that From. Taking it
// would let a signer vouch for a From of its own choosing in the
// intermediate layer of sign(encrypt(...)) while the client, and the
// released message, show another.
func (v *verifier) readProtection(outer mime.Header, content *mime.Spool) *ProtectedHeaders {
	v.prot = nil
	r, err := content.Open()
	if err != nil {
		return nil
	}
	h, err := mime.ReadHeader(bufio.NewReader(r))
	if err != nil {
		return nil
	}
	if kind, _, _, err := layerKind(&mime.Entity{Header: h}); err != nil || kind != "" {
		return nil
	}
	p := protectionOf(outer, h)
	if p != nil {
		if o, ok, err := (*mime.Protection)(p).Originator(); ok {
			v.prot = &originator{o, err}
		}
	}
	return p
}

// readOriginator reads the From and Sender fields of the outermost header,
// which the signers are compared with unless a protected From stands for
// them, and notes them in the result.
func (v *verifier) readOriginator(outer mime.Header) {
	var o mime.Originator
	var err error
	if !v.bare {
		o, err = mime.ReadOriginator(outer)
	}
	v.outer = v.signerOriginator(originator{o, err})
	v.res.setOriginator(v.outer.Originator)
	v.date, v.dateErr, v.dateSet = time.Time{}, nil, false
	if d := outer.Values("Date"); len(d) > 0 {
		v.dateSet = true
		v.date, v.dateErr = mail.ParseDate(d[0])
		if len(d) > 1 {
			v.dateErr = errors.New("the message has more than one Date field")
		}
	}
}
