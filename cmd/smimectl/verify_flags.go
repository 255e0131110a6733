package main

import (
	"crypto"
	"net/mail"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/verify"
)

// verifyFlags are the flags that say how signed layers are checked, shared by
// verify, decrypt --trust (one message or a batch) and filter mode
// (--annotate) of both (issue #17 item 5): bound once by addFlags, turned into
// verify.Options once by options.
type verifyFlags struct {
	trustFlags
	revocationFlags
	SenderCheck verify.SenderCheck // --sender-check: strict, warn or off
	MinDigest   string             // --min-digest: sha1 or sha256
	dateFlags                      // --max-clock-skew, --strict-date
	// Require (--require: signed, encrypted, signed-inner) and informFlags
	// (--inform, --signer) are bound where each command lists them, by
	// addRequireFlag and informFlags.addFlags.
	Require []string
	informFlags
}

var senderChecks = []string{"strict", "warn", "off"}

// minDigests are the values of --min-digest (issue #15 item 8); "sha1", the
// default, accepts SHA-1 with a warning.
var minDigests = map[string]crypto.Hash{"sha1": crypto.SHA1, "sha256": crypto.SHA256}

// addFlags binds --trust and the other trust flags, the revocation flags,
// --sender-check, --min-digest, --max-clock-skew and --strict-date, in that
// order. with starts the help of --sender-check: "" for verify, "with --trust: "
// for decrypt.
func (f *verifyFlags) addFlags(fs *pflag.FlagSet, with string) {
	f.trustFlags.addFlags(fs)
	f.revocationFlags.addFlags(fs)
	textEnumFlag(fs, &f.SenderCheck, "sender-check", verify.SenderStrict, senderChecks,
		with+"a From or Sender mailbox missing from every signer's certificate: strict fails, warn warns, off does not compare")
	addMinDigestFlag(fs, &f.MinDigest)
	f.dateFlags.addFlags(fs)
}

// options turns the flags into verify.Options, reading the trust files.
// verbose is -v (every network request is told of); batch says the run draws
// a progress bar, so no status line (issue #16 item 6).
func (f *verifyFlags) options(e *env, verbose, batch bool) (verify.Options, error) {
	f.revocationFlags.verbose = verbose
	f.revocationFlags.noStatus = f.revocationFlags.noStatus || batch
	vopts, err := certificateCheckOptions(e, &f.trustFlags, &f.revocationFlags)
	if err != nil {
		return verify.Options{}, err
	}
	req, err := parseRequire(f.Require)
	if err != nil {
		return verify.Options{}, err
	}
	vopts.Require = req
	vopts.SenderCheck = f.SenderCheck
	vopts.MinDigest = minDigests[f.MinDigest]
	vopts.MaxClockSkew, vopts.StrictDate = f.MaxClockSkew, f.StrictDate
	if f.MaxClockSkew == 0 {
		vopts.MaxClockSkew = -1 // --max-clock-skew 0: no comparison
	}
	if err := f.informFlags.apply(&vopts); err != nil {
		return verify.Options{}, err
	}
	return vopts, nil
}

// certificateCheckOptions turns the trust and revocation flags into the
// verify.Options of the certificate checks, reading the trust files: what
// verify and cert-verify share.
func certificateCheckOptions(e *env, tf *trustFlags, rf *revocationFlags) (verify.Options, error) {
	at, err := tf.evalTime(e)
	if err != nil {
		return verify.Options{}, err
	}
	var mode revocation.Mode
	if err := mode.UnmarshalText([]byte(tf.Revocation)); err != nil {
		return verify.Options{}, usagef(nil, "--revocation: %w", err)
	}
	inter, err := loadCertificates("--intermediates", tf.Intermediates)
	if err != nil {
		return verify.Options{}, err
	}
	crls, err := loadCRLs(tf.CRLs)
	if err != nil {
		return verify.Options{}, err
	}
	ropts, err := rf.options(e, mode, crls, tf.MaxAge)
	if err != nil {
		return verify.Options{}, err
	}
	if len(tf.Trust) == 0 {
		return verify.Options{}, errNoTrust() // issue #16 item 2
	}
	roots, err := loadTrust(e, tf.Trust)
	if err != nil {
		return verify.Options{}, err
	}
	return verify.Options{
		Roots:         roots,
		Intermediates: inter,
		Now:           func() time.Time { return at },
		Revocation:    revocation.New(ropts),
		FetchIssuers:  rf.fetchIssuers(ropts),
		// --crl-total-timeout bounds the whole verification, not each certificate.
		NetworkTimeout: rf.CRLTotalTimeout,
		OptionName:     verifyOptionName,
	}, nil
}

// dateFlags compare the Date field with the signing time (issue #15 item 9).
type dateFlags struct {
	MaxClockSkew time.Duration // --max-clock-skew: 0 turns the comparison off
	StrictDate   bool          // --strict-date: a difference fails the message
}

func (f *dateFlags) addFlags(fs *pflag.FlagSet) {
	fs.DurationVar(&f.MaxClockSkew, "max-clock-skew", time.Hour, "how far the Date field may be from the signing time before a warning (0: not compared)")
	fs.BoolVar(&f.StrictDate, "strict-date", false, "fail a message whose Date field is further than --max-clock-skew from the signing time")
}

// addMinDigestFlag defines --min-digest, shared by verify and decrypt.
func addMinDigestFlag(fs *pflag.FlagSet, p *string) {
	enumFlag(fs, p, "min-digest", "sha1", []string{"sha1", "sha256"},
		"the weakest digest accepted in the signature and in the certificate signatures of its chain: sha1 accepts SHA-1 with a warning, sha256 refuses it")
}

// informFlags say how the input presents the message (issue #15 item 1):
// --inform forces the form detection would find, --signer names the
// signer a bare CMS file (which has no From) is checked against.
type informFlags struct {
	Inform string // --inform: smime, der or pem; "" detects
	Signer string // --signer: the mail address a valid signer must carry
}

func (f *informFlags) addFlags(fs *pflag.FlagSet, signer bool) {
	fs.StringVar(&f.Inform, "inform", "", "read the input as `form` smime (a mail message), der or pem (a bare CMS file) instead of detecting it")
	if signer {
		fs.StringVar(&f.Signer, "signer", "", "require a valid signer whose certificate carries `address`; input without a From field (a bare CMS file, --content) is checked against it alone")
	}
}

// form reads --inform.
func (f *informFlags) form() (verify.Form, error) {
	var form verify.Form
	if err := form.UnmarshalText([]byte(f.Inform)); err != nil {
		return form, usagef(nil, "--inform %q: want smime, der or pem", f.Inform)
	}
	return form, nil
}

// signer reads --signer: one bare address, such as alice@example.com.
func (f *informFlags) signer() (string, error) {
	if f.Signer == "" {
		return "", nil
	}
	a, err := mail.ParseAddress(f.Signer)
	if err != nil || a.Name != "" || a.Address != strings.TrimSpace(f.Signer) {
		return "", usagef(nil, "--signer %q is not a mail address such as alice@example.com", f.Signer)
	}
	return a.Address, nil
}

// apply sets the form and signer of vopts.
func (f *informFlags) apply(vopts *verify.Options) error {
	form, err := f.form()
	if err != nil {
		return err
	}
	signer, err := f.signer()
	if err != nil {
		return err
	}
	vopts.Form, vopts.Signer = form, signer
	return nil
}
