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
	u := &unwrapper{w: walker{spoolDir: opts.SpoolDir, threshold: opts.SpoolThreshold}, out: w}
	defer u.w.close()
	err := u.w.walk(br, u)
	return u.layers, err
}

// unwrapper is UnwrapSigned's layerVisitor: it takes off signed layers,
// describing them, until it meets an encrypted one, which it writes out.
type unwrapper struct {
	w      walker
	out    io.Writer
	outer  mime.Header
	layers []*Layer
}

// top writes a message whose top layer is not signed unchanged: its
// header fields as read, its body byte-exact.
func (u *unwrapper) top(ent entity) (bool, error) {
	u.outer, _ = ent.e.Header.Split()
	if ent.kind == KindSigned {
		return false, nil
	}
	if _, err := ent.e.Header.WriteTo(u.out); err != nil {
		return true, err
	}
	if _, err := io.WriteString(u.out, "\r\n"); err != nil {
		return true, err
	}
	_, err := io.Copy(u.out, ent.e.Body)
	return true, err
}

// content is reached inside signed layers only: there is nothing to
// decrypt.
func (u *unwrapper) content(_ int, ent entity) error {
	mt := ent.mt
	if ent.e == nil {
		mt = "text/plain"
	}
	return fmt.Errorf("%w: it is signed (%s), and what is signed is %s; read it with verify", encrypt.ErrNotEncrypted, describeUnwrapped(u.layers), mt)
}

func (u *unwrapper) unreadable(_ int, err error) error { return err }

// layer takes off a signed layer, and writes an encrypted one: the outer
// header fields, then the encrypted entity.
func (u *unwrapper) layer(depth int, ent entity, read *layerRead, err error, _ *mime.Spool) (bool, error) {
	if err == nil {
		err = read.refused
	}
	if err != nil {
		return true, err
	}
	if read.l.Kind == KindSigned {
		read.l.Depth = depth
		u.layers = append(u.layers, read.l)
		return false, nil
	}
	if _, err := u.outer.WriteTo(u.out); err != nil {
		return true, err
	}
	_, fields := ent.e.Header.Split()
	if _, err := fields.WriteTo(u.out); err != nil {
		return true, err
	}
	if _, err := io.WriteString(u.out, "\r\n"); err != nil {
		return true, err
	}
	_, err = io.Copy(u.out, ent.e.Body)
	return true, err
}

// UnwrappedWarning is the warning a caller of [UnwrapSigned] gives for the
// layers it removed: which, and that their signatures were not checked,
// unlike [Open] with OptionRoots set. name, if not nil, names that option in
// the caller's words (as Options.OptionName does).
func UnwrappedWarning(layers []*Layer, name func(Option) string) string {
	return fmt.Sprintf("%s removed without checking: %s; nothing vouches for the sender (%s checks signatures)",
		plural(len(layers), "a signed layer was", "signed layers were"), describeUnwrapped(layers), optionName(name, OptionRoots))
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
