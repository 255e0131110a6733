package main

import (
	"context"
	"errors"
	"io"

	"github.com/spf13/cobra"

	"github.com/smimectl/smimectl/pkg/certsel"
	"github.com/smimectl/smimectl/pkg/encrypt"
	"github.com/smimectl/smimectl/pkg/sign"
)

// tripleWrapOptions are the options of triple-wrap: encrypt's recipient, cipher
// and policy flags, the signature flags of sign, and the outer signer.
type tripleWrapOptions struct {
	encryptOptions             // --in, --out, --recipient-cert, --to, --certs, --cipher, ...; --key/--cert/--p12 sign
	sign           signOptions // the signature flags (--digest, --include, ...)
	Inner          sign.Mode   // --inner: clear or opaque
	Outer          keyFlags    // --outer-key, --outer-cert, --outer-p12: another outer signer
}

func newTripleWrapCmd(e *env, runF func(*tripleWrapOptions) error) *cobra.Command {
	opts := &tripleWrapOptions{}
	opts.encryptOptions.env = e
	opts.sign.env = e
	cmd := &cobra.Command{
		Use:   "triple-wrap {--key <file> --cert <file> | --p12 <file> | --pkcs11 <uri>} {--recipient-cert <file> | --to <address> --certs <path>}... [flags] [<file>]",
		Short: "Sign, encrypt and sign again (RFC 2634 triple wrap)",
		Long: `Sign and encrypt a message as the guide's Chapter 6 "Sending a Digitally Signed
and Encrypted E-Mail Message" and Appendix B TripleWrap describe (RFC 2634
section 1.1): sign the MIME entity (the inner signature, clear by default,
--inner opaque for application/pkcs7-mime), encrypt the signed entity for the
recipients, and sign the encrypted entity again with an opaque signature (the
outer signature). The outer header fields (From, To, Subject, ...) stay readable
outside all three layers; Bcc is removed.

The signer comes from --key with --cert, --p12 or --pkcs11, or, as sign picks
it, from --from with --certs (the valid signing certificate for the address with
a private key beside it; -v says which), and is checked as sign checks it (exit
status 3 if it can't sign for the sender). The outer signature carries
the same signer unless --outer-key with --outer-cert, or --outer-p12, name
another, such as a mail list agent's (RFC 2634 lets it sign the outside; a reader
whose From is not in that certificate then needs --sender-check warn).
Recipients, cipher and the sender's own copy follow encrypt's flags: --cipher,
--oaep, --keyid (recipients by subject key identifier), --no-self,
--allow-missing; a recipient without a certificate stops the command with exit
status 3 and nothing written. --signer-keyid names the signers by subject key
identifier.

--protect-headers copies the header fields (From, To, Cc, Subject, Date,
Message-ID, ...; not Bcc) into the innermost, signed part, marked hp="cipher"
(RFC 9788 header protection, the guide's SecurityFlags 0x200), and hides the
Subject outside as "[...]"; --keep-subject leaves it readable. decrypt --trust
checks them against the outer header and puts them back.

The layers are streamed into each other; the result is written only if all
three succeeded. decrypt --trust opens it again in one call.`,
		Example: `  # Triple-wrap for Bob, signed by Alice.
  smimectl triple-wrap --p12 alice.p12 --pass-file pass --recipient-cert bob.crt < msg.eml | sendmail -t

  # Opaque inside, AES-GCM, recipients from the message looked up in a directory.
  smimectl triple-wrap --key alice.key --cert alice.crt --inner opaque --cipher aes-256-gcm --certs certs/ --in msg.eml --out sealed.eml`,
		Args:              maxArgs(1),
		ValidArgsFunction: completeMessageFiles,
		RunE: func(_ *cobra.Command, args []string) error {
			if err := opts.takeArg(args); err != nil { // issue #16 item 8
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runTripleWrap(opts)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	opts.ioFlags.addFlags(fs)
	opts.keyFlags.addFlags(fs)
	textEnumFlag(fs, &opts.Inner, "inner", sign.Clear, signModes, "the inner signature: clear (multipart/signed) or opaque (application/pkcs7-mime)")
	opts.addRecipientFlags(fs)
	s := &opts.sign
	fs.StringArrayVar(&s.Intermediates, "intermediates", nil, "include the certificates in `file` as the signers' chain (repeatable)")
	enumFlag(fs, &s.Digest, "digest", "", []string{"sha256", "sha384", "sha512"}, "digest algorithm of both signatures (default sha256; sha512 for Ed25519 and ML-DSA keys)")
	fs.BoolVar(&s.PSS, "pss", false, "sign with RSASSA-PSS instead of RSA PKCS#1 v1.5 (RSA keys only)")
	textEnumFlag(fs, &s.Include, "include", sign.IncludeChain, includes,
		"certificates to send with each signature: none, the signer's, the chain without the root, or with it")
	fs.BoolVar(&s.KeyID, "signer-keyid", false, "identify the signers by subject key identifier instead of issuer and serial number")
	fs.BoolVar(&s.Force, "force", false, "sign even if a signer's certificate is expired, not for signing or not for the sender")
	fs.BoolVar(&s.NoCapabilities, "no-capabilities", false, "leave out the S/MIME capabilities attribute")
	fs.StringVar(&s.At, "at", "", "sign as of `time` (RFC 3339, 2006-01-02 or @unix-seconds) instead of now")
	fs.StringVar(&opts.Outer.Key, "outer-key", "", "sign the outside with the private key in PEM `file` instead")
	fs.StringVar(&opts.Outer.Cert, "outer-cert", "", "certificate `file` for --outer-key, with any intermediates")
	fs.StringVar(&opts.Outer.URI, "outer-pkcs11", "", "sign the outside with the key on a smart card named by the pkcs11: `URI` instead (its PIN from --pin-file or --pin-env)")
	fs.StringVar(&opts.Outer.P12, "outer-p12", "", "sign the outside with the PKCS#12 `file` instead (its password from --pass-file or --pass-env)")
	fs.BoolVarP(&opts.Verbose, "verbose", "v", false, "say which certificate signs, which each recipient gets, and where they came from, on standard error")
	markFileFlag(fs, "intermediates", certExts...)
	markFileFlag(fs, "outer-key", keyExts...)
	markFileFlag(fs, "outer-cert", certExts...)
	markFileFlag(fs, "outer-p12", p12Exts...)
	return cmd
}

// runTripleWrap loads both signers and the recipients, then streams the
// message through the inner signature, the encryption and the outer signature.
func runTripleWrap(opts *tripleWrapOptions) error {
	e := opts.env
	in, err := openInput(e, opts.In) // an unreadable input is said first
	if err != nil {
		return err
	}
	defer in.Close()
	inner, outer, err := opts.signatures()
	if err != nil {
		return err
	}
	p, err := opts.setup()
	if err != nil {
		return err
	}
	w, commit, abort := openOutput(e, opts.Out)
	if _, err := w.Write(nil); err != nil {
		return err
	}
	eo := p.encryptOptions(&opts.encryptOptions)
	eo.ProtectHeaders = false // protected inside the inner signature instead
	err = wrapThree(w, in, inner, eo, outer)
	if err != nil {
		abort()
		return err
	}
	return commit()
}

// signatures loads the signer (and the outer signer, if another) and returns
// the options of the inner and the outer signature.
func (opts *tripleWrapOptions) signatures() (inner, outer sign.Options, err error) {
	e := opts.env
	at, err := atTime(e, opts.sign.At)
	if err != nil {
		return inner, outer, err
	}
	// The signer as sign finds it: --key/--cert, --p12 or --pkcs11, or else
	// chosen among --certs for --from (issue #16 item 7); -v says which.
	s := &opts.sign
	s.From, s.Verbose = opts.From, opts.Verbose
	s.keyFlags, s.certSourceFlags = opts.keyFlags, opts.certSourceFlags
	id, err := s.signer(at)
	if err != nil {
		return inner, outer, err
	}
	opts.sign.Mode = opts.Inner
	if inner, err = opts.sign.libraryOptions(id, at); err != nil {
		return inner, outer, err
	}
	// RFC 9788: the protected fields go in the payload, inside the inner
	// signature, marked for an encrypted message.
	inner.ProtectHeaders, inner.Confidential, inner.KeepSubject = opts.ProtectHeaders, true, opts.KeepSubject
	outerID := id
	if opts.Outer.Key != "" || opts.Outer.Cert != "" || opts.Outer.P12 != "" || opts.Outer.URI != "" {
		ko := opts.Outer
		ko.PassFile, ko.PassEnv = opts.PassFile, opts.PassEnv
		ko.Module, ko.PINFile, ko.PINEnv = opts.Module, opts.PINFile, opts.PINEnv
		switch {
		case ko.URI != "" && (ko.Key != "" || ko.P12 != ""):
			return inner, outer, usagef([]string{"give one outer key: --outer-pkcs11, --outer-key or --outer-p12"}, "--outer-pkcs11 can't be used with --outer-key or --outer-p12")
		case ko.URI != "":
		case ko.P12 != "" && (ko.Key != "" || ko.Cert != ""):
			return inner, outer, usagef([]string{"give either --outer-p12, or --outer-key with --outer-cert"}, "--outer-p12 can't be used with --outer-key or --outer-cert")
		case ko.P12 == "" && (ko.Key == "" || ko.Cert == ""):
			return inner, outer, usagef(nil, "--outer-key and --outer-cert go together")
		}
		if outerID, err = ko.loadIdentity(e, ""); err != nil {
			return inner, outer, err
		}
	}
	opts.sign.Mode = sign.Opaque
	if outer, err = opts.sign.libraryOptions(outerID, at); err != nil {
		return inner, outer, err
	}
	outer.ProtectHeaders = false
	if outerID != id {
		// Another outer signer (a mail list agent) signs for itself, not for
		// the message's From: its certificate is checked for its own address.
		if addrs := certsel.Addresses(outerID.Certificate); len(addrs) > 0 {
			outer.From = addrs[0]
		}
	}
	return inner, outer, nil
}

// errStageStopped ends a stage of wrapThree whose reader stopped reading.
var errStageStopped = errors.New("a later stage stopped")

// wrapThree streams r through sign (inner), encrypt and sign (outer) into w,
// each of the first two stages in its own goroutine, joined by pipes. The error
// is that of the first stage that failed: a later stage's failure is only its
// consequence.
func wrapThree(w io.Writer, r io.Reader, inner sign.Options, enc encrypt.Options, outer sign.Options) error {
	r1, w1 := io.Pipe()
	r2, w2 := io.Pipe()
	innerDone, encDone := make(chan error, 1), make(chan error, 1)
	go func() {
		err := sign.Sign(context.Background(), w1, r, inner)
		w1.CloseWithError(err)
		innerDone <- err
	}()
	go func() {
		err := encrypt.Encrypt(w2, r1, enc)
		w2.CloseWithError(err)
		r1.CloseWithError(errStageStopped)
		encDone <- err
	}()
	outerErr := sign.Sign(context.Background(), w, r2, outer)
	r2.CloseWithError(errStageStopped)
	for _, err := range []error{<-innerDone, <-encDone, outerErr} {
		if err != nil && !errors.Is(err, errStageStopped) {
			return err
		}
	}
	return nil
}
