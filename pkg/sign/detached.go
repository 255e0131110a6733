package sign

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"

	"github.com/smimectl/smimectl/internal/cms"
)

// SignDetached writes to w a detached signature over the bytes of content
// (issue #15 item 2): a CMS SignedData without content, DER, or PEM
// ("-----BEGIN CMS-----", RFC 7468 section 9) when armor is true — what
// `openssl cms -sign -binary -outform DER|PEM` and `gpgsm --detach-sign`
// write. The content is hashed byte for byte, with no canonicalisation,
// and is not written. opts.Mode and opts.ProtectHeaders do not apply; the
// certificate is checked as [Sign] checks it, against opts.From if given
// (a file has no From field). Nothing is written to w unless the
// signature was made.
// ctx bounds the revocation check, as for [Sign].
func SignDetached(ctx context.Context, w io.Writer, content io.Reader, opts Options, armor bool) error {
	if opts.Key == nil || opts.Certificate == nil {
		return errors.New("sign: a key and its certificate are required")
	}
	if opts.ProtectHeaders {
		return errors.New("sign: a detached signature over a file has no header fields to protect")
	}
	if err := checkSigner(ctx, &opts, opts.From); err != nil {
		return err
	}
	copts := cmsOptions(&opts)
	if copts.Rand == nil {
		copts.Rand = rand.Reader
	}
	h := opts.Hash
	if h == 0 {
		h = crypto.SHA256
	}
	digest := h.New()
	if _, err := io.Copy(digest, content); err != nil {
		return fmt.Errorf("sign: reading the content: %w", err)
	}
	sig, err := cms.SignDetachedDigest(digest.Sum(nil), copts)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	if armor {
		sig = pem.EncodeToMemory(&pem.Block{Type: "CMS", Bytes: sig})
	}
	if _, err := w.Write(sig); err != nil {
		return fmt.Errorf("sign: writing the signature: %w", err)
	}
	return nil
}
