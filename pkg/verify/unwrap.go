package verify

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/pkg/encrypt"
)

// UnwrapOptions controls [UnwrapSigned]. The zero value is ready to use.
type UnwrapOptions struct {
	// SpoolDir is where a layer's content larger than SpoolThreshold is
	// kept; "" is the system temporary directory.
	SpoolDir string
	// SpoolThreshold is 8 MiB if zero.
	SpoolThreshold int64
	// Form is how the input presents the message (see [Options].Form): a
	// bare CMS file, given or detected, is written through unchanged, for
	// the decrypter to read in the same form.
	Form Form
}

// UnwrapSigned takes off, without checking them, the signed layers above
// the first encrypted layer of the message read from r, and writes the
// message to w: its outer header fields, then the encrypted entity (issue
// #15 item 6). It is for a caller that decrypts without checking
// signatures (decrypt without --trust): a gateway's signature over an
// encrypted message, or one that no longer verifies, must not keep the
// recipient from the plaintext. The removed layers are returned, outermost
// first, described as [Inspect] describes them: their signers are named
// from the certificates in the message and NOT checked, so nothing about
// them may be shown as verified.
//
// A bare CMS file (opts.Form) is written through unchanged. A message
// whose top layer is not signed is written unchanged (its header
// fields as read, its body byte-exact) and no layer is returned. A message
// whose signed layers hold no encrypted layer fails with an error that
// wraps encrypt.ErrNotEncrypted, and one nested deeper than [MaxDepth]
// with a [*DepthError]. w is written only once an encrypted layer was
// reached.
func UnwrapSigned(w io.Writer, r io.Reader, opts UnwrapOptions) ([]*Layer, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(4096)
	if _, form, err := mime.OpenInput(bytes.NewReader(head), mime.Form(opts.Form)); err != nil || form != mime.FormMIME {
		// Not mail (a bare CMS file, or what the decrypter will refuse in
		// its own words): nothing to take off.
		_, err := io.Copy(w, br)
		return nil, err
	}
	e, err := mime.ReadEntity(br)
	if err != nil {
		return nil, malformed(err)
	}
	kind, mt, st, err := layerKind(e)
	if err != nil {
		return nil, err
	}
	outer, _ := e.Header.Split()
	if kind != KindSigned {
		if _, err := e.Header.WriteTo(w); err != nil {
			return nil, err
		}
		if _, err := io.WriteString(w, "\r\n"); err != nil {
			return nil, err
		}
		_, err = io.Copy(w, e.Body)
		return nil, err
	}
	var layers []*Layer
	var content *mime.Spool
	defer func() {
		if content != nil {
			content.Close()
		}
	}()
	for depth := 1; ; depth++ {
		if depth > MaxDepth {
			return layers, &DepthError{Max: MaxDepth}
		}
		next := &mime.Spool{Dir: opts.SpoolDir, Threshold: opts.SpoolThreshold}
		l, _, _, err := readSignedLayer(e, mt, st, next, nil)
		if err != nil || l.Kind != KindSigned {
			next.Close()
			if err != nil {
				return layers, err
			}
			break // an encrypted layer: e is its entity
		}
		l.Depth = depth
		layers = append(layers, l)
		if content != nil {
			content.Close()
		}
		content = next
		cr, err := content.Open()
		if err != nil {
			return layers, fmt.Errorf("verify: reading the spooled content: %w", err)
		}
		if e, err = mime.ReadEntity(cr); err != nil {
			return layers, malformed(err)
		}
		if kind, mt, st, err = layerKind(e); err != nil {
			return layers, err
		}
		if kind == "" {
			return layers, fmt.Errorf("%w: it is signed (%s), and what is signed is %s; read it with verify", encrypt.ErrNotEncrypted, describeUnwrapped(layers), mt)
		}
	}
	// e is the encrypted entity, read from content: its header, then the
	// rest of content.
	if _, err := outer.WriteTo(w); err != nil {
		return layers, err
	}
	_, entity := e.Header.Split()
	if _, err := entity.WriteTo(w); err != nil {
		return layers, err
	}
	if _, err := io.WriteString(w, "\r\n"); err != nil {
		return layers, err
	}
	_, err = io.Copy(w, e.Body)
	return layers, err
}

// UnwrappedWarning is the warning a caller of [UnwrapSigned] gives for the
// layers it removed: which, and that their signatures were not checked.
func UnwrappedWarning(layers []*Layer) string {
	return fmt.Sprintf("%s removed without checking: %s; nothing vouches for the sender (decrypt --trust checks signatures)",
		plural(len(layers), "a signed layer was", "signed layers were"), describeUnwrapped(layers))
}

// describeUnwrapped names layers as `layer 1 (multipart/signed, by
// "alice@example.com")`: the names come from certificates nobody checked,
// so they are quoted.
func describeUnwrapped(layers []*Layer) string {
	var out []string
	for _, l := range layers {
		var who []string
		for _, s := range l.Signers {
			name := s.Subject
			if len(s.Emails) > 0 {
				name = strings.Join(s.Emails, ", ")
			}
			if name == "" {
				name = "an unknown signer"
			}
			who = append(who, strconv.Quote(name))
		}
		d := fmt.Sprintf("layer %d (%s", l.Depth, l.MediaType)
		if len(who) > 0 {
			d += ", by " + strings.Join(who, " and ")
		}
		out = append(out, d+")")
	}
	return strings.Join(out, ", ")
}
