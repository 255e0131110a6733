package verify

import (
	"context"
	"crypto"
	"fmt"
	"hash"
	"io"
	"strings"

	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/pkg/encrypt"
)

// DetachedOptions controls [VerifyDetached] besides the checks of Options.
type DetachedOptions struct {
	// Text canonicalises the content's line ends to CRLF before it is
	// hashed, as a text/plain MIME body is; false, the default, hashes the
	// content byte for byte, as `openssl cms -verify -binary` and gpgsm do.
	Text bool
}

// VerifyDetached checks a detached signature over a file (issue #15 item
// 2): sig is a CMS SignedData without content — DER, PEM or bare base64,
// or an application/pkcs7-signature MIME entity (a saved .p7s part) —
// and content the bytes it signs. Every signer is checked as [Verify]
// checks one: the signature over the content, the certificate at the
// signing time and at Options.Now, the chain to Options.Roots, key usage,
// revocation. The signature has no From field beside it, so the sender
// check compares nothing, with a warning, unless Options.Signer names the
// expected signer. Nothing is released: the caller has the content. The
// Result's Form is "detached".
//
// The content is hashed as it is read, with each digest algorithm the
// signature names, and is not kept.
func VerifyDetached(ctx context.Context, sig, content io.Reader, opts Options, dopts DetachedOptions) (*Result, error) {
	v := &verifier{ctx: ctx, opts: &opts, digests: map[crypto.Hash][]byte{}}
	sd, err := readDetachedSignature(sig, &opts)
	if err != nil {
		return nil, err
	}
	v.bare = true
	if err := digestContent(sd, content, dopts.Text); err != nil {
		return nil, err
	}
	empty := &mime.Spool{}
	defer empty.Close()
	res := &Result{Form: "detached", At: opts.now().UTC(), Signers: []*Signer{}}
	v.msg, v.res = &message{content: empty, sd: sd}, res
	defer func() {
		if v.cancelNet != nil {
			v.cancelNet()
		}
	}()
	v.readOriginator(mime.Header{})
	signers, firstErr := v.checkSigners(sd)
	res.Signers = append(res.Signers, signers...)
	if firstErr == nil {
		firstErr = checkVouched(res.Signers)
	}
	if firstErr != nil {
		res.Error = firstErr.Error()
		return res, firstErr
	}
	res.Valid = true
	return res, nil
}

// readDetachedSignature reads the SignedData of a detached signature in
// any of its forms.
func readDetachedSignature(r io.Reader, opts *Options) (*cms.SignedData, error) {
	r, _, err := encrypt.OpenInput(r, opts.Form)
	if err != nil {
		return nil, malformed(err)
	}
	e, err := mime.ReadEntity(r)
	if err != nil {
		return nil, malformed(err)
	}
	mt, params, err := e.Header.MediaType()
	if err != nil {
		return nil, malformed(err)
	}
	switch mt {
	case "application/pkcs7-signature", "application/x-pkcs7-signature":
	case "application/pkcs7-mime", "application/x-pkcs7-mime":
		if st := strings.ToLower(params["smime-type"]); st != "" && st != "signed-data" {
			return nil, notSigned("it is %s (smime-type=%s), not a detached signature", mt, st)
		}
	case "multipart/signed":
		return nil, &MalformedError{Err: fmt.Errorf("the signature is a whole multipart/signed message, which carries its content: verify it without %s", opts.name(OptionContent))}
	default:
		return nil, notSigned("its type is %s, not a detached signature", mt)
	}
	body, err := mime.DecodeBody(e)
	if err != nil {
		return nil, malformed(err)
	}
	sd, err := cms.ReadSignedData(body, io.Discard)
	if err != nil {
		return nil, malformed(err)
	}
	if !sd.Detached {
		return nil, &MalformedError{Err: fmt.Errorf("the signature carries content of its own, so it is not a detached signature: verify it without %s", opts.name(OptionContent))}
	}
	return sd, nil
}

// digestContent hashes content with every digest algorithm of sd into
// sd.ContentDigests, where the signature checks look for them.
func digestContent(sd *cms.SignedData, content io.Reader, text bool) error {
	hashers := map[crypto.Hash]hash.Hash{}
	var ws []io.Writer
	for _, alg := range sd.DigestAlgorithms {
		h := cms.HashForOID(alg.Algorithm)
		if h == 0 || !h.Available() || hashers[h] != nil {
			continue
		}
		hashers[h] = h.New()
		ws = append(ws, hashers[h])
	}
	for _, si := range sd.SignerInfos {
		h := si.Hash()
		if h == 0 || hashers[h] != nil {
			continue // an unknown digest fails the signer's digest check
		}
		if !h.Available() {
			// Never let a signer's digest fall back to the (empty) spool.
			return &PolicyError{Err: fmt.Errorf("unsupported digest algorithm %v", h)}
		}
		hashers[h] = h.New()
		ws = append(ws, hashers[h])
	}
	var w io.Writer = io.MultiWriter(ws...)
	var cw io.WriteCloser
	if text {
		cw = mime.NewCanonicalWriter(w)
		w = cw
	}
	if _, err := io.Copy(w, content); err != nil {
		return fmt.Errorf("verify: reading the signed content: %w", err)
	}
	if cw != nil {
		if err := cw.Close(); err != nil {
			return fmt.Errorf("verify: reading the signed content: %w", err)
		}
	}
	sd.ContentDigests = map[crypto.Hash][]byte{}
	for h, hh := range hashers {
		sd.ContentDigests[h] = hh.Sum(nil)
	}
	return nil
}
