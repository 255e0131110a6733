package verify

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/smimectl/smimectl/internal/mime"
)

// Signed parts inside a wrapper (issue #15 item 5). A mailing list that
// appends a footer wraps the signed message in multipart/mixed (the signed
// entity, then the footer); a client that forwards a message attaches it as
// message/rfc822. [Open] looks below the top level of such a message for
// signed entities, checks each as a message of its own, and lists every
// part with what covers it: a message is valid only when every part it
// shows is signed, unless Options.AllowUnsignedParts accepts the parts no
// signature covers.
//
// The sender. A signature never covers the header of the message it is in
// (unless it protects it, RFC 9788), so the From a signer is held to is the
// one a mail client shows over the signed part: for a part of the message
// itself (the list's wrapper), the message's own From field, which a list
// keeps or rewrites ("Alice via List"), and a rewritten one fails as any
// other mismatch; for a signed message forwarded as message/rfc822, the
// From of that attached message, which a client shows when it opens the
// attachment, never the forwarder's From: the forwarder did not sign, and
// a verdict on the attachment must not read as a verdict on the forwarder.
// Each part lists the From it was compared with.

// MaxPartDepth bounds how deep [Open] looks for signed parts: multipart
// entities and attached messages nested in each other. A message nested
// deeper fails with a [*LimitError] (a sign of a hostile message).
const MaxPartDepth = 8

// MaxParts bounds how many MIME entities [Open] looks at in one message
// when it looks for signed parts; more fail with a [*LimitError].
const MaxParts = 1000

// MaxSignedParts bounds how many signed entities [Open] checks in one
// message: each is a whole verification (chains, revocation), so a message
// of a thousand signed parts must not cost a thousand. More fail with a
// [*LimitError] (reason too-complex).
const MaxSignedParts = 16

// Part is one part of a message whose signatures are below its top level:
// a signed entity, or a part that no signature covers.
type Part struct {
	// Section names the part as an IMAP section (RFC 3501 section 6.4.5):
	// "1", "2.1"; the body of an attached message (message/rfc822) at
	// section N is "N.TEXT".
	Section   string `json:"section"`
	MediaType string `json:"media_type"`
	// Signed is true for a signed entity (multipart/signed or
	// application/pkcs7-mime signed-data); the fields below describe it.
	Signed bool `json:"signed"`
	// Covers is the section of the content the signature covers: the
	// first part of a multipart/signed entity, the entity itself for an
	// application/pkcs7-mime one.
	Covers string `json:"covers,omitempty"`
	// From is the From field the signers were compared with (see the
	// package comment): the message's, or an attached message's.
	From string `json:"from,omitempty"`
	// Attached is true when the signed entity is the body of an attached
	// message (message/rfc822), whose header is its From's.
	Attached bool      `json:"attached,omitempty"`
	Valid    bool      `json:"valid"`
	Signers  []*Signer `json:"signers,omitempty"`
	Layers   []*Layer  `json:"layers,omitempty"`
	Warnings []string  `json:"warnings,omitempty"`
	Error    string    `json:"error,omitempty"`
	// Err is the failure of a signed part, nil when it is valid.
	Err error `json:"-"`
}

// PartError is the failure of a signed part of a wrapped message.
type PartError struct {
	Section string
	Err     error
}

func (e *PartError) Error() string  { return "verify: " + e.detail() }
func (e *PartError) detail() string { return fmt.Sprintf("part %s: %s", e.Section, detailOf(e.Err)) }

func (e *PartError) Unwrap() error { return e.Err }

// PartialError reports a message of which only some parts are signed: the
// parts no signature covers are Unsigned (a mailing list's footer, the
// forwarder's own text, or what a forger added beside a signed part).
type PartialError struct {
	Signed   []string // sections of the signed entities
	Unsigned []*Part
}

func (e *PartialError) Error() string { return "verify: " + e.detail() }

func (e *PartialError) detail() string {
	var un []string
	for i, p := range e.Unsigned {
		if i == maxListed {
			un = append(un, fmt.Sprintf("and %d more", len(e.Unsigned)-maxListed))
			break
		}
		un = append(un, fmt.Sprintf("%s (%s)", p.Section, p.MediaType))
	}
	return fmt.Sprintf("the message is only partly signed: %s %s signed, %s %s not",
		plural(len(e.Signed), "part", "parts"), strings.Join(e.Signed, ", "),
		plural(len(e.Unsigned), "part", "parts"), strings.Join(un, ", "))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// wrapperType reports whether a message of media type mt may hold signed
// parts below its top level.
func wrapperType(mt string) bool {
	return strings.HasPrefix(mt, "multipart/") || mt == "message/rfc822"
}

// partWalker looks for signed parts in one message.
type partWalker struct {
	ctx     context.Context
	opts    Options
	outer   mime.Header // the message's header fields other than Content-*
	entries int
	checked int // signed entities checked
	parts   []*Part
}

// openParts checks the signed parts of the wrapper e, whose raw body is in
// body, and releases the message as received when every part is covered
// (or AllowUnsignedParts) and every signed part is valid.
func openParts(ctx context.Context, w io.Writer, e *mime.Entity, body *mime.Spool, res *Result, opts Options) (*Result, error) {
	outer, _ := e.Header.Split()
	if opts.NetworkTimeout > 0 {
		// One deadline for the network steps of every signed part, as for
		// every signer of one message (--crl-total-timeout).
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.NetworkTimeout)
		defer cancel()
	}
	pw := &partWalker{ctx: ctx, opts: opts, outer: outer}
	r, err := body.Open()
	if err != nil {
		return nil, fmt.Errorf("verify: reading the spooled message: %w", err)
	}
	top := &mime.Entity{Header: e.Header, Body: bufio.NewReaderSize(r, 64<<10)}
	mt, _, _ := e.Header.MediaType()
	if err := pw.walkEntity(top, nil, "", true, nil, 1); err != nil {
		var le *LimitError
		if !errors.As(err, &le) && !slices.ContainsFunc(pw.parts, func(p *Part) bool { return p.Signed }) {
			// Broken, but no signature was found before the break: what
			// it was before this search, a message that is not signed.
			var se *mime.SpoolError
			if !errors.As(err, &se) {
				return nil, notSigned("its type is %s", mt)
			}
		}
		return nil, err
	}
	res.Parts = pw.parts
	var signed []string
	var unsigned []*Part
	var first error
	for _, p := range pw.parts {
		if !p.Signed {
			unsigned = append(unsigned, p)
			continue
		}
		signed = append(signed, p.Section)
		if len(res.Signers) == 0 {
			res.Signers = p.Signers
		}
		for _, wn := range p.Warnings {
			res.warn("part %s: %s", p.Section, wn)
		}
		if p.Err != nil && first == nil {
			first = &PartError{Section: p.Section, Err: p.Err}
		}
	}
	if len(signed) == 0 {
		return nil, notSigned("its type is %s, and none of its parts is signed", mt)
	}
	if res.Signers == nil {
		res.Signers = []*Signer{}
	}
	if first == nil && len(unsigned) > 0 {
		pe := &PartialError{Signed: signed, Unsigned: unsigned}
		if !opts.AllowUnsignedParts {
			first = pe
		} else {
			res.warn("%s (accepted: %s)", pe.detail(), opts.name(OptionAllowUnsignedParts))
		}
	}
	if first != nil {
		res.Error = first.Error()
		return res, first
	}
	res.Valid = true
	if _, err := e.Header.WriteTo(w); err != nil {
		return res, err
	}
	if _, err := io.WriteString(w, "\r\n"); err != nil {
		return res, err
	}
	if r, err = body.Open(); err != nil {
		return res, err
	}
	_, err = io.Copy(w, r)
	return res, err
}

// walkEntity looks at the entity e, whose raw bytes are in raw (nil for
// the message itself), at IMAP section section ("" for the message).
// inMessage is true when e is the body of a message (the message itself,
// or an attached one), whose signed entity is named "<section>.TEXT" (or
// "TEXT"). origin is the header of the attached message e is in, nil for
// the message's own parts. depth counts the levels of nesting.
func (pw *partWalker) walkEntity(e *mime.Entity, raw *mime.Spool, section string, inMessage bool, origin *mime.Header, depth int) error {
	if depth > MaxPartDepth {
		return partLimit("levels of nested MIME parts", MaxPartDepth)
	}
	pw.entries++
	if pw.entries > MaxParts {
		return partLimit("MIME parts", MaxParts)
	}
	if err := mime.CheckEntityHeader(e.Header); err != nil {
		return &AmbiguousError{Err: err}
	}
	kind, mt, _, err := layerKind(e)
	if err != nil {
		return err
	}
	name := section
	if inMessage {
		name = joinSection(section, "TEXT")
	}
	switch {
	case kind == KindSigned && raw != nil:
		return pw.signed(raw, name, mt, origin)
	case kind == KindSigned:
		// The message itself is signed: Open does not come here.
		return fmt.Errorf("verify: internal error: a signed message taken for a wrapper")
	case kind != "":
		// An encrypted part: what is inside is not looked at here (decrypt
		// reads encrypted mail); it is a part no signature covers.
	case strings.HasPrefix(mt, "multipart/"):
		spool := mime.Spool{Dir: pw.opts.SpoolDir, Threshold: pw.opts.SpoolThreshold}
		err := mime.ReadParts(e, spool, MaxParts, func(i int, part *mime.Spool) error {
			r, err := part.Open()
			if err != nil {
				return fmt.Errorf("verify: reading the spooled part: %w", err)
			}
			sub, err := mime.ReadEntity(r)
			if err != nil {
				return malformed(err)
			}
			return pw.walkEntity(sub, part, joinSection(section, strconv.Itoa(i+1)), false, origin, depth+1)
		})
		var (
			me *MalformedError
			ae *AmbiguousError
			se *mime.SpoolError
		)
		switch {
		case err == nil, errors.As(err, &me), errors.As(err, &ae), errors.As(err, &se):
			return err
		}
		var mae *mime.AmbiguousError
		if errors.As(err, &mae) {
			return &AmbiguousError{Err: err}
		}
		return malformed(err)
	case mt == "message/rfc822":
		return pw.attached(e, section, depth)
	}
	if inMessage && section != "" {
		name = joinSection(section, "1") // the non-multipart body of an attached message
	}
	pw.parts = append(pw.parts, &Part{Section: name, MediaType: mt})
	return nil
}

// attached looks into the message attached as the message/rfc822 entity e
// at section: its signed parts are held to its own From.
func (pw *partWalker) attached(e *mime.Entity, section string, depth int) error {
	body, err := mime.DecodeBody(e)
	if err != nil {
		return malformed(err)
	}
	msg := &mime.Spool{Dir: pw.opts.SpoolDir, Threshold: pw.opts.SpoolThreshold}
	defer msg.Close()
	if _, err := io.Copy(msg, body); err != nil {
		var se *mime.SpoolError
		if errors.As(err, &se) {
			return err
		}
		return malformed(err)
	}
	r, err := msg.Open()
	if err != nil {
		return fmt.Errorf("verify: reading the spooled message: %w", err)
	}
	inner, err := mime.ReadEntity(r)
	if err != nil {
		return malformed(err)
	}
	origin, _ := inner.Header.Split()
	if section == "" {
		section = "1" // a message that is nothing but an attached message
	}
	kind, _, _, err := layerKind(inner)
	if err != nil {
		return err
	}
	if kind == KindSigned {
		// The attached message is signed as a whole: check it as a
		// message, with its own header.
		if depth+1 > MaxPartDepth {
			return partLimit("levels of nested MIME parts", MaxPartDepth)
		}
		pw.entries++
		mt, _, _ := inner.Header.MediaType()
		return pw.signedMessage(msg, joinSection(section, "TEXT"), mt, &origin)
	}
	return pw.walkEntity(inner, nil, section, true, &origin, depth+1)
}

// signed checks the signed entity in raw, at section name, against the
// From of origin (an attached message's header) or of the message.
func (pw *partWalker) signed(raw *mime.Spool, name, mt string, origin *mime.Header) error {
	o := pw.outer
	if origin != nil {
		o = *origin
	}
	return pw.check(raw, name, mt, o, origin != nil)
}

// signedMessage checks an attached message that is signed as a whole.
func (pw *partWalker) signedMessage(msg *mime.Spool, name, mt string, origin *mime.Header) error {
	return pw.check(msg, name, mt, *origin, true)
}

// check runs Open over one signed entity, with outer as its header fields.
func (pw *partWalker) check(raw *mime.Spool, name, mt string, outer mime.Header, attached bool) error {
	if pw.checked++; pw.checked > MaxSignedParts {
		return partLimit("signed parts", MaxSignedParts)
	}
	r, err := raw.Open()
	if err != nil {
		return fmt.Errorf("verify: reading the spooled part: %w", err)
	}
	covers := name
	if mt == "multipart/signed" {
		covers = joinSection(strings.TrimSuffix(strings.TrimSuffix(name, "TEXT"), "."), "1")
	}
	p := &Part{Section: name, MediaType: mt, Signed: true, Covers: covers, Attached: attached}
	res, verr := open(pw.ctx, io.Discard, r, pw.opts, peelPolicy{layered: true, origin: &outer})
	var se *mime.SpoolError
	if errors.As(verr, &se) {
		return verr
	}
	if res != nil {
		p.From, p.Valid, p.Signers, p.Warnings = res.From, res.Valid, res.Signers, res.Warnings
		if len(res.Layers) > 1 {
			p.Layers = res.Layers
		}
	}
	if p.Signers == nil {
		p.Signers = []*Signer{}
	}
	if verr != nil {
		p.Err, p.Error, p.Valid = verr, trimPrefixes(verr.Error()), false
	}
	pw.parts = append(pw.parts, p)
	return nil
}

// partLimit is the failure of a message past MaxPartDepth or MaxParts: a
// sign of a hostile message (reason code too-complex).
func partLimit(what string, max int) error {
	return &MalformedError{Err: &LimitError{What: what, Max: int64(max)}}
}

// joinSection appends sub to the IMAP section s ("" for the message).
func joinSection(s, sub string) string {
	if s == "" {
		return sub
	}
	return s + "." + sub
}
