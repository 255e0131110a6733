package main

import (
	"context"
	"crypto"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/smimectl/smimectl/internal/keys"
	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/sign"
)

// signOptions are the options of sign, clear-sign and opaque-sign.
type signOptions struct {
	ioFlags
	keyFlags
	certSourceFlags
	Verbose        bool            // -v, --verbose: say which certificate signed
	Mode           sign.Mode       // --mode: clear or opaque
	Intermediates  []string        // --intermediates: extra chain certificates to include
	Digest         string          // --digest: sha256, sha384 or sha512; "" lets the key choose
	PSS            bool            // --pss: RSASSA-PSS instead of PKCS#1 v1.5
	Include        sign.Include    // --include: none, signer, chain or chain+root
	KeyID          bool            // --keyid: name the signer by subject key identifier
	From           string          // --from: the sender address the certificate must carry
	Force          bool            // --force: skip the checks of the signer's certificate
	NoCapabilities bool            // --no-capabilities: leave out S/MIME capabilities
	At             string          // --at: signing time; "" is now
	SmartCardOnly  bool            // --smartcard-only: private keys only from smart cards
	CRLs           []string        // --crl: CRL files for the check of the signer's own certificate
	Revocation     revocation.Mode // --revocation: off (default), soft or hard
	MaxAge         time.Duration   // --revocation-max-age: how long an answer without nextUpdate counts
	ProtectHeaders bool            // --protect-headers: copy the header fields into the signed part (RFC 9788)
	Binary         bool            // --binary: sign an 8-bit or binary body as is
	Detached       bool            // --detached: a detached signature over the bytes of a file
	OutForm        string          // --outform: der or pem, with --detached
	revocationFlags

	env *env
}

// protectHeadersUsage is the text of --protect-headers on sign and encrypt.
const protectHeadersUsage = "copy From, To, Cc, Subject, Date, Message-ID and the other header fields into the protected part (RFC 9788)"

// Values of the sign enum flags.
var (
	signModes = []string{"clear", "opaque"}
	digests   = map[string]crypto.Hash{"sha256": crypto.SHA256, "sha384": crypto.SHA384, "sha512": crypto.SHA512}
	includes  = []string{"none", "signer", "chain", "chain+root"}
)

// signDoc is the help of one of the signing commands; with fixed, mode is the
// mode of clear-sign or opaque-sign, else sign has its --mode flag.
type signDoc struct {
	use, short, long, example string
	mode                      sign.Mode
	fixed                     bool
}

const signLongCommon = `
The signer's key comes from --key with --cert (a PEM certificate file that may
hold the chain too), from --p12 with its password in --pass-file or --pass-env,
or from a smart card or token: --pkcs11 with an RFC 7512 pkcs11: URI naming the
key (token=, object=, id=; the module in module-path= or --pkcs11-module), the
certificate from the card unless --cert gives it, the PIN from --pin-file,
--pin-env, the URI's pin-source or a prompt on the terminal, never the command
line. A card that is not inserted gives exit status 3, a wrong PIN (tried once)
exit status 2.
Before anything is written, the signer's own certificate is checked, as the guide
has the client do: it must be valid now (or at --at), allow signing
(digitalSignature or nonRepudiation, and emailProtection if it lists extended key
usages) and carry the sender's address, from --from or else the message's From
field. A certificate that fails is refused with exit status 3; --force signs
anyway.

Instead of --key or --p12, --from with --certs picks the signing identity as
cert-match does: among the .p12 files (with --pass-file or --pass-env) and the
directories of certificates with a private key beside them (STEM.key next to
STEM.crt or STEM.pem, as smimectl lab writes them), the valid signing
certificate for the address, preferring a signing-only one; -v says which.
--smartcard-only (the guide's SmartCardOnly) refuses every private key that is
not on a smart card: --key and --p12 files, and the keys --certs finds in files;
a --certs pkcs11: URI offers the certificates and keys of a card.

The signature uses SHA-256 unless --digest says otherwise (SHA-512 with Ed25519
and ML-DSA keys, as RFC 8419 and RFC 9882 have it), carries the signing
time and the S/MIME capabilities (unless --no-capabilities), and includes the
signer's certificate and its intermediates (--include). The outer header fields
(From, To, Subject, ...) stay outside the signature; --protect-headers copies
them into the signed part too (RFC 9788 header protection, hp="clear"; the
guide's SecurityFlags 0x200), so that verify can tell if one was changed on the
way.

A body with 8-bit or binary bytes is encoded before it is signed, as RFC 8551
section 3.1.3 asks: quoted-printable for text, base64 otherwise (-v says so), so
that a mail hop that only carries 7-bit data can't break the signature; --binary
signs it as is, for a transport known to be 8-bit clean. The parts of a multipart
body are not re-encoded: clear-signing one that holds 8-bit data warns.
Signing warns about what recipients would otherwise discover: the signer's
certificate sent without its issuer (give it with --intermediates), a certificate
used outside its validity with --force, and a message with no From and no --from
(nobody can check that the signer is the sender).
` + directoryHelp

const signExample = `  # Sign with a PEM key and certificate and hand the result to sendmail.
  smimectl clear-sign --key alice.key --cert alice.crt < msg.eml | sendmail -t

  # Sign with a PKCS#12 file, its password in a file.
  smimectl clear-sign --p12 alice.p12 --pass-file pass < msg.eml | sendmail -t

  # Sign with the key on a smart card (OpenSC), the PIN from a file.
  smimectl clear-sign --pkcs11 'pkcs11:token=My%20Card;object=Signing%20key?module-path=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so' --pin-file ~/.card-pin < msg.eml

  # Opaque-sign for a mail system that rewrites clear text, into a file.
  smimectl sign --mode opaque --p12 alice.p12 --pass-env P12PASS --in msg.eml --out signed.eml`

func newSignCmd(e *env, runF func(*signOptions) error) *cobra.Command {
	return newSignModeCmd(e, runF, signDoc{
		use:   "sign [--mode {clear | opaque}] {--key <file> --cert <file> | --p12 <file> | --pkcs11 <uri>} [flags] [<file>]",
		short: "Sign a message, clear (multipart/signed) or opaque",
		long: `Sign a message as the guide's Figure 1.16 and Chapter 6 "Sending a Digitally
Signed E-Mail Message" describe: check the sender's own certificate, digest the
MIME entity in canonical form, sign the digest with the sender's private key, and
wrap message and signature for transport.

--mode clear (the default, as the guide's ClearSign default) writes
multipart/signed with a detached signature, readable by any mail reader;
--mode opaque writes application/pkcs7-mime, which survives mail systems that
rewrite text but needs an S/MIME reader to show. clear-sign and opaque-sign are
this command with the mode fixed.

--detached signs the bytes of any file, not a message: the output is
a detached CMS signature, DER (.p7s) or with --outform pem a BEGIN CMS block, as
openssl cms -sign -binary and gpgsm --detach-sign write; the file is hashed byte
for byte and not written. Check one with verify --content FILE SIG. A file has
no From field: --from names the address the certificate must carry.
` + signLongCommon,
		example: signExample,
	})
}

// newSignModeCmd builds sign, clear-sign or opaque-sign from doc.
func newSignModeCmd(e *env, runF func(*signOptions) error, doc signDoc) *cobra.Command {
	opts := &signOptions{env: e, Mode: doc.mode}
	cmd := &cobra.Command{
		Use:               doc.use,
		Short:             doc.short,
		Long:              doc.long,
		Example:           doc.example,
		Args:              maxArgs(1),
		ValidArgsFunction: completeMessageFiles,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.takeArg(args); err != nil { // issue #16 item 8
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runSign(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	if !doc.fixed {
		textEnumFlag(fs, &opts.Mode, "mode", sign.Clear, signModes,
			"clear writes multipart/signed, opaque writes application/pkcs7-mime")
		fs.BoolVar(&opts.Detached, "detached", false, "write a detached signature over the bytes of the input file (any file, not a message), as openssl cms -sign -binary and gpgsm --detach-sign do")
		enumFlag(fs, &opts.OutForm, "outform", "der", []string{"der", "pem"}, "with --detached: write the signature as DER (.p7s) or PEM (BEGIN CMS)")
	}
	opts.ioFlags.addFlags(fs)
	opts.keyFlags.addFlags(fs)
	opts.certSourceFlags.addFlags(fs)
	addSignFlags(fs, opts)
	fs.BoolVar(&opts.SmartCardOnly, "smartcard-only", false, "sign only with a private key on a smart card (PKCS#11), never from a file (the guide's SmartCardOnly)")
	fs.BoolVarP(&opts.Verbose, "verbose", "v", false, "say which certificate signed, and where it came from, on standard error")
	return cmd
}

// addSignFlags defines the flags that shape the signature.
func addSignFlags(fs *pflag.FlagSet, opts *signOptions) {
	fs.StringArrayVar(&opts.Intermediates, "intermediates", nil, "include the certificates in `file` as the signer's chain (repeatable)")
	enumFlag(fs, &opts.Digest, "digest", "", []string{"sha256", "sha384", "sha512"}, "digest algorithm (default sha256; sha512 for Ed25519 and ML-DSA keys)")
	fs.BoolVar(&opts.PSS, "pss", false, "sign with RSASSA-PSS instead of RSA PKCS#1 v1.5 (RSA keys only)")
	textEnumFlag(fs, &opts.Include, "include", sign.IncludeChain, includes,
		"certificates to send with the signature: none, the signer's, the chain without the root, or with it")
	fs.BoolVar(&opts.KeyID, "keyid", false, "identify the signer by subject key identifier instead of issuer and serial number")
	fs.StringVar(&opts.From, "from", "", "the sender `address` the certificate must carry (default: the message's From)")
	fs.BoolVar(&opts.Force, "force", false, "sign even if the certificate is expired, not for signing or not for the sender")
	fs.BoolVar(&opts.NoCapabilities, "no-capabilities", false, "leave out the S/MIME capabilities attribute")
	fs.BoolVar(&opts.ProtectHeaders, "protect-headers", false, protectHeadersUsage)
	fs.BoolVar(&opts.Binary, "binary", false, "sign an 8-bit or binary body as is, for an 8-bit clean transport (by default it is encoded first: quoted-printable for text, base64 otherwise)")
	fs.StringVar(&opts.At, "at", "", "sign as of `time` (RFC 3339, 2006-01-02 or @unix-seconds) instead of now")
	markFileFlag(fs, "intermediates", certExts...)
	textEnumFlag(fs, &opts.Revocation, "revocation", revocation.Off, []string{"off", "soft", "hard"},
		"check the signer's own certificate for revocation first: off, soft (an unanswered check passes) or hard (it fails, exit 75)")
	fs.StringArrayVar(&opts.CRLs, "crl", nil, "check the signer's certificate against the CRL in `file` (repeatable; implies --revocation soft unless given)")
	markFileFlag(fs, "crl", crlExts...)
	maxAgeFlag(fs, &opts.MaxAge)
	opts.revocationFlags.addCheckFlags(fs)
}

// runSign loads the signer, signs the message once and commits the output; ctx,
// the command's, bounds the revocation check of the signer's certificate.
func runSign(ctx context.Context, opts *signOptions) error {
	e := opts.env
	if opts.Detached && (opts.Mode != sign.Clear || opts.ProtectHeaders) {
		return usagef(nil, "--detached signs a file's bytes: it can't be used with --mode opaque or --protect-headers")
	}
	if !opts.Detached && opts.OutForm != "der" && opts.OutForm != "" {
		return usagef(nil, "--outform applies to --detached only")
	}
	at, err := atTime(e, opts.At)
	if err != nil {
		return err
	}
	id, err := opts.signer(at)
	if err != nil {
		return err
	}
	sopts, err := opts.libraryOptions(id, at)
	if err != nil {
		return err
	}
	in, err := openInput(e, opts.In)
	if err != nil {
		return err
	}
	defer in.Close()
	w, commit, abort := openOutput(e, opts.Out)
	if _, err := w.Write(nil); err != nil {
		return err
	}
	if opts.Detached {
		err = sign.SignDetached(ctx, w, in, sopts, opts.OutForm == "pem")
	} else {
		err = sign.Sign(ctx, w, in, sopts)
	}
	if err != nil {
		abort()
		return err
	}
	return commit()
}

// libraryOptions turns the signature flags and the signer id into sign.Options
// (used by sign and, for its two signatures, triple-wrap).
func (opts *signOptions) libraryOptions(id *keys.Identity, at time.Time) (sign.Options, error) {
	extra, err := loadCertificates("--intermediates", opts.Intermediates)
	if err != nil {
		return sign.Options{}, err
	}
	checker, err := opts.revocationChecker()
	if err != nil {
		return sign.Options{}, err
	}
	return sign.Options{
		Key:            id.Signer,
		Certificate:    id.Certificate,
		Chain:          slices.Concat(id.Chain, extra),
		Mode:           opts.Mode,
		Hash:           digests[opts.Digest],
		PSS:            opts.PSS,
		SubjectKeyID:   opts.KeyID,
		Include:        opts.Include,
		From:           opts.From,
		Force:          opts.Force,
		NoCapabilities: opts.NoCapabilities,
		ProtectHeaders: opts.ProtectHeaders,
		Now:            func() time.Time { return at },
		Revocation:     checker,
		Binary:         opts.Binary,
		Notes:          opts.notes,
		OptionName:     signOptionName,
	}, nil
}

// notes prints what sign.Sign tells: warnings always (issue #15 item 12), what it
// did to the content with -v (item 11).
func (opts *signOptions) notes(n sign.Note) {
	switch {
	case n.Warning:
		warn(opts.env.Stderr, "%s", n.Text)
	case opts.Verbose:
		fmt.Fprintf(opts.env.Stderr, "smimectl: %s\n", n.Text)
	}
}
