package sign

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/smimectl/smimectl/internal/certinfo"
	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/internal/textenum"
)

// Note is something [Sign] tells its caller about the message it signed
// (Options.Notes): a Warning is what a recipient would otherwise discover
// (issue #15 item 12), the others say what was done to the content.
type Note struct {
	Warning bool
	Text    string
}

// Option is an input of [Sign] that one of its notes names as what decides
// (issue #17 item 4). Its value is its Go name ("Options.Force"); a caller
// with other words for it, such as a command whose flags set these
// options, gives them with Options.OptionName, so that the notes name its
// flags and the library names none.
type Option string

// The options the notes name.
const (
	OptionChain  Option = "Options.Chain"
	OptionForce  Option = "Options.Force"
	OptionFrom   Option = "Options.From"
	OptionBinary Option = "Options.Binary"
)

func (o Option) String() string { return string(o) }

// name is opt in the caller's words (Options.OptionName), else its Go
// name.
func (o *Options) name(opt Option) string { return textenum.Word(o.OptionName, opt) }

func (o *Options) note(warning bool, format string, args ...any) {
	if o.Notes != nil {
		o.Notes(Note{Warning: warning, Text: fmt.Sprintf(format, args...)})
	}
}

// warnRecipients warns about what recipients would discover: a chain that
// stops at the signer's certificate although its issuer is not sent, a
// certificate used outside its validity (Force), and no sender address.
func warnRecipients(opts *Options, addr string) {
	c := opts.Certificate
	if opts.Include == IncludeChain || opts.Include == IncludeChainWithRoot {
		issued := func(x *x509.Certificate) bool { return bytes.Equal(x.RawSubject, c.RawIssuer) }
		if !bytes.Equal(c.RawIssuer, c.RawSubject) && !slices.ContainsFunc(opts.Chain, issued) {
			opts.note(true, "the signature carries no issuer of the signer's certificate: %q is missing; recipients who do not "+
				"trust it as a root can't build the chain (give it with %s)", certinfo.Name(c.Issuer), opts.name(OptionChain))
		}
	}
	if opts.Force {
		now := opts.now()
		switch {
		case now.Before(c.NotBefore):
			opts.note(true, "the signer's certificate is not valid before %s: signed anyway (%s), recipients will refuse the signature",
				c.NotBefore.UTC().Format(time.RFC3339), opts.name(OptionForce))
		case now.After(c.NotAfter):
			opts.note(true, "the signer's certificate expired on %s: signed anyway (%s), recipients will refuse the signature",
				c.NotAfter.UTC().Format(time.RFC3339), opts.name(OptionForce))
		}
	}
	if addr == "" {
		opts.note(true, "the message has no From field and no %s was given: recipients can't check that the signer is the sender", opts.name(OptionFrom))
	}
}

// encodeBody returns the body to sign and the entity header to sign it
// under (issue #15 item 11): an 8-bit or binary body of a single-part
// entity is encoded first, quoted-printable for text and base64 otherwise,
// so that a 7-bit hop (RFC 8551 section 3.1.3) can't break the signature;
// opts.Binary keeps it as is. The body is spooled while it is looked at;
// the returned closer releases the spool.
func encodeBody(opts *Options, entity mime.Header, body io.Reader) (mime.Header, io.Reader, func(), error) {
	none := func() {}
	mt, _, err := entity.MediaType()
	if err != nil {
		mt = "text/plain" // RFC 2045 section 5.2's default
	}
	cte := strings.ToLower(strings.TrimSpace(entity.Get("Content-Transfer-Encoding")))
	if opts.Binary {
		return entity, body, none, nil
	}
	if strings.HasPrefix(mt, "multipart/") || strings.HasPrefix(mt, "message/") {
		// Parts are not re-encoded here (a multipart body has no transfer
		// encoding of its own); a clear signature over 8-bit parts is said
		// to be fragile once the body has been read.
		check := &eightBitCheck{w: io.Discard}
		return entity, io.TeeReader(body, check), func() {
			if check.found && opts.Mode == Clear {
				opts.note(true, "the %s body holds 8-bit data, signed as is: a mail hop that only carries 7-bit data "+
					"will re-encode it and break the signature; encode its parts first or opaque-sign (%s silences this)", mt, opts.name(OptionBinary))
			}
		}, nil
	}
	switch cte {
	case "", "7bit", "8bit", "binary":
	default:
		return entity, body, none, nil // already encoded
	}
	raw := &mime.Spool{}
	eight := &eightBitCheck{w: raw}
	if _, err := io.Copy(eight, body); err != nil {
		raw.Close()
		return entity, nil, none, fmt.Errorf("sign: reading the message body: %w", err)
	}
	r, err := raw.Open()
	if err != nil {
		raw.Close()
		return entity, nil, none, err
	}
	if !eight.found {
		return entity, r, func() { raw.Close() }, nil
	}
	enc := "base64"
	if strings.HasPrefix(mt, "text/") && !eight.nul {
		enc = "quoted-printable"
	}
	out := &mime.Spool{}
	w, err := mime.NewTransportEncoder(out, enc)
	if err == nil {
		if _, err = io.Copy(w, bufio.NewReader(r)); err == nil {
			err = w.Close()
		}
	}
	raw.Close()
	var er io.Reader
	if err == nil {
		er, err = out.Open()
	}
	if err != nil {
		out.Close()
		return entity, nil, none, fmt.Errorf("sign: encoding the body: %w", err)
	}
	entity = entity.Clone()
	entity.Set("Content-Transfer-Encoding", enc)
	opts.note(false, "the body is 8-bit (%s): encoded as %s before signing, so a 7-bit hop can't break the signature (%s signs it as is)", mt, enc, opts.name(OptionBinary))
	return entity, er, func() { out.Close() }, nil
}

// eightBitCheck passes bytes on and notes whether any is 8-bit or NUL.
type eightBitCheck struct {
	w          io.Writer
	found, nul bool
}

func (c *eightBitCheck) Write(p []byte) (int, error) {
	if !c.found || !c.nul {
		for _, b := range p {
			if b >= 0x80 || b == 0 {
				c.found = true
				c.nul = c.nul || b == 0
			}
		}
	}
	return c.w.Write(p)
}
