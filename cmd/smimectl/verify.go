package main

import (
	"context"
	"crypto"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/verify"
)

// verifyOptions are the options of verify.
type verifyOptions struct {
	ioFlags
	trustFlags
	revocationFlags
	keyFlags                       // --key/--cert or --p12: to open encrypted layers
	Require     []string           // --require: signed, encrypted, signed-inner
	SenderCheck verify.SenderCheck // --sender-check: strict, warn or off
	AllowMD5    bool               // --allow-md5
	MinDigest   string             // --min-digest: sha1 or sha256
	// AllowUnsignedParts (--allow-unsigned-parts) accepts a signed part beside
	// unsigned ones (a mailing list's footer).
	AllowUnsignedParts bool
	dateFlags
	JSON    bool // --json: print the result as JSON on standard output
	Verbose bool // -v, --verbose: a summary line on standard error
	informFlags
	detachedFlags
	annotateFlags
	batchFlags
	capsFlags
	eolFlag
	Paths []string // the arguments: messages, directories, Maildirs, mbox files

	env *env
}

var senderChecks = []string{"strict", "warn", "off"}

// minDigests are the values of --min-digest (issue #15 item 8); "sha1", the
// default, accepts SHA-1 with a warning.
var minDigests = map[string]crypto.Hash{"sha1": crypto.SHA1, "sha256": crypto.SHA256}

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

func newVerifyCmd(e *env, runF func(*verifyOptions) error) *cobra.Command {
	opts := &verifyOptions{env: e}
	cmd := &cobra.Command{
		Use:   "verify [--trust <file>]... [--at <time>] [flags] [<path>...]",
		Short: "Check a signed message and write out its content",
		Long: `Verify a clear-signed (multipart/signed) or opaque-signed (application/pkcs7-mime)
message as the guide's Figure 1.17 and Chapter 6 "Validating a Digitally Signed
E-Mail Message" and "Certificate Validation" describe: check the signature over
the exact signed bytes, then the signer's certificate — valid when the message
was signed and now (or at --at), chained to a root given with --trust, allowed
to sign mail, not revoked — and that the signer is the sender: every mailbox of
the one From field, and the Sender field's mailbox if there is one, must be in
the certificate of a signer that passed every other check (RFC 8550 section 3).
A message with a second From field, or a From or Sender field that does not
parse completely, fails. A co-signer whose certificate carries none of those
mailboxes, beside signers whose certificates carry all of them, is not a
failure: -v shows it as "co-signed (not the sender)", --json gives its "sender"
check the status "note", and --annotate its smime=pass the reason "not the
sender".

A message must be signed: one that is only encrypted (which anyone with the
recipient's certificate can write, with any From) fails with exit status 1 and
"the message is not signed", whatever key opens it; read such mail with decrypt.

Only when every check passes is the message written out: its outer header
fields followed by the signed content, without the signature, so the result
can go on down a pipeline. On any failure nothing is written, the reason goes
to standard error, and the exit status is 1. Warnings (SHA-1 accepted, a CRL
that could not be had in soft mode, a sender mismatch with --sender-check warn,
a display name that reads as another address than its mailbox) are printed but
do not fail the message.

Revocation is checked for every certificate of the chain: first against the
CRLs given with --crl, then (with --ocsp) the certificate's OCSP responder, then
CRLs cached in --crl-cache until their nextUpdate, then the certificate's CRL
distribution points over HTTP or LDAP, each URL given --crl-timeout under an
overall --crl-total-timeout, one deadline shared by every certificate of every
signer (and by --fetch-intermediates); --offline uses only --crl files and the
cache. With --annotate they are 5s and 10s unless given, so that a CRL server that
never answers does not hold a delivery; "smimectl crl fetch" from cron keeps the
cache warm for --offline. -v prints one line per network request (URL, result,
time) on standard error; on a terminal, a request that takes more than 2s shows
a status line until it ends. A CRL or OCSP response that names no nextUpdate counts for
--revocation-max-age after it was issued (a week by default); one from the
future is refused. A partitioned CRL (one whose issuing distribution point names
a distribution point) counts only for certificates that name the same point;
a delta CRL or a CRL for some reasons only can prove a revocation, never that a
certificate is good; indirect CRLs are not used.
With --fetch-intermediates, an issuer missing from the message and
--intermediates is downloaded from the certificate's caIssuers URL (Authority
Information Access) under the same timeouts, and used only if the chain then
checks out; it is off by default and never with --offline.
Proxies come from HTTPS_PROXY, HTTP_PROXY and NO_PROXY. --revocation says what a
missing answer means: soft passes with a warning, hard fails with exit status
75 (try again later), off skips the check. A revoked certificate always fails,
with the date and reason. --json prints every signer and check
as one JSON object on standard output instead of the content (which then goes
only to --out, if given); a fault of this machine, such as a full or missing
TMPDIR, is no result on the message and prints no object, only the error
(exit status 2, or 75 where trying again can help).

The chain is checked as RFC 5280 path validation does: every issuer a CA that
may sign certificates, within its path length; an extended key usage, where a
certificate has one, that allows e-mail protection; and the name constraints of
every authority above a certificate binding its names (mail addresses, including
the subject's emailAddress and RFC 9598 SmtpUTF8Mailbox names, DNS names, URIs,
IP addresses, directory names). A critical constraint smimectl cannot check
fails the chain. Certificates that form more candidate chains than smimectl
examines (100 signature checks per chain, 1,000 per message) fail the message
as "could not be checked" (smime=permerror with --annotate).

Layered messages (RFC 2634's triple wrap: signed, encrypted, signed again) are
opened layer by layer, up to 8 layers: every signed layer, clear or opaque, is
checked as above, and the content is written only if all of them pass. An
encrypted layer needs your key (--key with --cert, or --p12); without one it is
a failure, since what is inside can't be checked. The error names the failing
layer; -v prints one line per layer, and --json adds "layers", each with
"depth", "kind", "media_type", "valid", "error", "signers" (with their checks),
"recipients" (with "us" on the entry that decrypted it) and "content_cipher".
--require signed, encrypted or signed-inner (a signature inside the encryption)
fails a message without that layer.

Protected headers (RFC 9788, sign --protect-headers): when the signed content
carries copies of From, To, Subject and the other header fields (hp="clear" or
hp="cipher" on its Content-Type), the signers are checked against the protected
From and Sender, the protected fields are compared with the outer ones and every
difference is reported, and the content is written with the protected fields in
place of the outer ones. An outer From naming other mailboxes, or an outer Sender
naming another one, fails the message (a warning with --sender-check warn); other
changes in transit are warnings. --json adds
"protected_headers" with "hp", "fields", "hp_outer" and "differences".

A message that is not signed at its top level but holds signed entities below
it (a mailing list's multipart/mixed with the signed message and a footer, a
message forwarded as message/rfc822) is searched, at most 8 levels and 1,000
entities deep and 16 signed parts: each signed entity is checked as a message, the signers of a
forwarded message against its own From (never the forwarder's), and the parts
no signature covers fail the message, named, unless --allow-unsigned-parts
accepts them; the message is then written as received. --json lists every part
by IMAP section ("parts", with "covers", the section each signature covers),
and --annotate gives each signer body.smime-part=<section>.

--min-digest sha256 refuses SHA-1 in the signature and in the certificate
signatures of its chain, as current clients do (the default, sha1, warns). The
Date field is compared with each signer's signing time: further apart than
--max-clock-skew (1h) is a warning, a failure with --strict-date. The content
is written with the line ends of the message read (--eol input; lf or crlf
choose), though the canonical CRLF form is what was hashed.

--annotate is filter mode, for procmail and Sieve: the message is written as
received, with an Authentication-Results header field (RFC 8601, method smime
of RFC 7281) added at the top of its header, so the mail client can still check
the signature itself. Every byte is kept but for Authentication-Results fields
that already claim this host's authserv-id, which are removed (RFC 8601 section
5: only a forger upstream could have written them). The field has one smime=
result per signer of every signed layer: pass, fail (bad signature,
untrusted, expired, revoked, not the sender's), policy (an algorithm refused,
a --require not met), temperror (no revocation answer with --revocation
hard), permerror (malformed), neutral (an encrypted layer not opened) or none
(not signed, even when an encrypted layer opened), with the signer's address,
serial number, issuer and part.
--authserv-id names this host in the field (default: the host name). The exit
status is 0 whenever the message was written, whatever the verdict: the
verdict is in the field, and the reason still goes to standard error. Only
when nothing could be written (a bad flag, an unreadable file, an unwritable
--out, a full or missing TMPDIR: 2, or 75 where trying again can help) is it
non-zero, and then nothing is written. --annotate can't be used with --json.

Batches, for CI fixtures and mail stores: with <path> arguments, verify checks
every message they hold and writes no content, only one result per message,
in the order of the arguments, whatever --jobs is. A file is one message, or an
mbox (one whose first line starts "From ") whose messages are split at "From "
lines after an empty line, with mboxrd quoting (">From ") undone; a directory is
searched, subdirectories too, for files matching --glob (*.eml); a Maildir
(a directory with cur and new) gives every file of cur and new. "-" is standard
input; a lone "-", or no argument, is one message as above. FIFOs, devices and
symbolic links to directories are skipped with a warning, and so is a path named
twice. --in takes one message: given twice, or with <path> arguments, it is a
usage error. The trust files and CRLs are read once for the whole run; --jobs
messages (default: the number of CPUs) are checked at once.

The text result is one line per message, four fields separated by tabs: the
input (with #N for message N of an mbox, from 0), the verdict (pass, fail, skip
or error), the signers, and the reason ("-" for none). --json prints one JSON
object per line instead, the object of one message with "mbox_index" and
"mbox_offset" (the byte offset of its "From " line) for an mbox message,
"verdict", "expected" and "detail" after "input"; its "reason" (the reason code
of docs/json.md) is kept when an expectation turns a failure into a pass. --junit writes a JUnit XML report too, one testcase per message with a
failure, error or skipped element when it did not pass. Standard error ends with
a summary: "N passed, N failed", with "N skipped" under --skip-unsigned (which
counts messages that are not S/MIME signed as skipped) and "N not checked
(error)" for files that could not be read. While a batch runs, a progress bar
(messages done, their rate, and once the size of the inputs is summed the
share done and the time left) is drawn on standard error if it is a terminal,
and wiped before every result, warning and the summary; never when standard
error is a pipe or a file, nor with --quiet, which drops the summary line too.
An mbox's messages are held in memory, each up to 64 MiB (a larger one fails
as too-complex: verify it as a file of its own), 128 MiB of them at once.

--expect names a manifest of expected outcomes: one message a line, "PATH pass"
or "PATH fail:REASON" (a reason code), "#" starting a comment; PATH is as given
on the command line or relative to the manifest's directory, with #N for one
message of an mbox. A message that fails for its REASON counts as passed; one
that passes, or fails for another reason, as failed; a PATH that was not among
the messages checked as failed too. The exit status is 2 if any file could not
be read, else 75 if any message lacked a revocation answer --revocation hard
requires, else 1 if any message failed, else 0. --out, --annotate and -v can't
be used with a batch.

When the message is valid, the S/MIME capabilities every signer advertised
(the smimeCapabilities signed attribute, RFC 8551 2.5.2: the ciphers its client
reads) are remembered with the signing time and the signer's certificate in
--capabilities-db (default $XDG_DATA_HOME/smimectl/capabilities, else
~/.local/share/smimectl/capabilities; "none" turns it off), one file per
certificate, so that encrypt can use AES-GCM for correspondents whose clients
read it; also for the encryption certificate the signer names as preferred
(RFC 8551 2.5.3, as Outlook does), when the message carries it and it is the
same person's (same issuer, one of the signer's addresses). Newer mail replaces what older mail said, never the reverse; a signing
time more than 5 minutes in the future counts as the time of verification. A
message that fails any check, forged or signed by a certificate not chained to
--trust, teaches nothing. At most 64 capabilities and 64 KiB are kept per
certificate. Concurrent runs (filters, batches) are safe.

Bare CMS files: a saved smime.p7m, what openssl cms -outform DER or
PEM writes (BEGIN CMS, BEGIN PKCS7) and bare base64 are told from mail by their
first bytes and verified as CMS; --inform smime, der or pem forces one form. The
content is written byte for byte. Such a file has no From field: the sender
check is skipped with a warning unless --signer ADDRESS names the address a
valid signer must carry (on mail, --signer is checked besides From). Input that
is neither is refused in words ("it starts with binary data").

--content FILE checks a detached signature over a file: the signature (DER, PEM
or an smime.p7s part) is the one argument or --in. The file is hashed byte for
byte, as openssl cms -verify -binary and gpgsm --verify do (--text hashes it
with CRLF line ends), with every check above; nothing is written but --json's
object ("form": "detached"). sign --detached writes such signatures.

Content signed without a MIME header is a body with RFC 2045's defaults
(text/plain; charset=us-ascii): the blank line is written between the header
and it.`,
		Example: `  # Verify a message and keep its content.
  smimectl verify --trust root.crt < signed.eml > msg.eml

  # A detached signature over a file, from alice.
  smimectl verify --trust root.crt --signer alice@example.com --content report.pdf report.pdf.p7s

  # Check mail fixtures at a pinned time, with a CRL, in CI, with a JUnit report.
  smimectl verify --trust ca/root.crt --crl ca/intermediate.crl --at 2026-01-01 \
    --expect fixtures/expect.txt --junit report.xml fixtures/

  # Which messages of a mailbox did a revoked certificate sign?
  smimectl verify --trust roots.pem --crl issuing.crl --json ~/Maildir | jq -r 'select(.reason == "revoked") | .input'

  # Machine-readable result.
  smimectl verify --trust root.crt --json < signed.eml | jq '.signers[0].checks'

  # In a procmail recipe: annotate every message with the verdict.
  :0 fw
  | smimectl verify --annotate --trust /etc/smimectl/roots.pem`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeFiles(messageExts...),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			opts.batchFlags.setGiven(cmd.Flags())
			if runF != nil {
				return runF(opts)
			}
			return runVerify(opts)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	opts.ioFlags.addFlags(fs)
	opts.trustFlags.addFlags(fs)
	opts.revocationFlags.addFlags(fs)
	textFlag(fs, &opts.SenderCheck, "sender-check", senderChecks,
		"a From or Sender mailbox missing from every signer's certificate: strict fails, warn warns, off does not compare")
	fs.BoolVar(&opts.AllowMD5, "allow-md5", false, "accept signatures over MD5 digests, which are refused otherwise")
	addMinDigestFlag(fs, &opts.MinDigest)
	opts.dateFlags.addFlags(fs)
	fs.BoolVar(&opts.AllowUnsignedParts, "allow-unsigned-parts", false,
		"accept a message signed below its top level beside parts no signature covers (a mailing list's footer, a forwarder's text)")
	opts.keyFlags.addFlags(fs)
	addRequireFlag(fs, &opts.Require)
	fs.BoolVar(&opts.JSON, "json", false, "print the result as one JSON object on standard output instead of the content")
	fs.BoolVarP(&opts.Verbose, "verbose", "v", false, "print who signed, which checks passed and each network request on standard error")
	opts.informFlags.addFlags(fs, true)
	opts.detachedFlags.addFlags(fs)
	opts.annotateFlags.addFlags(fs, "the message as received")
	opts.batchFlags.addFlags(fs, true)
	opts.capsFlags.addFlags(fs)
	opts.eolFlag.addFlags(fs)
	return cmd
}

// runVerify loads the trust material, verifies the message once, and writes the
// content (or the JSON result) and any warnings.
func runVerify(opts *verifyOptions) error {
	if err := checkInArgs("verify", opts.In, opts.Paths); err != nil {
		return err
	}
	if opts.Content != "" {
		return runVerifyDetached(opts)
	}
	if opts.Text {
		return usagef(nil, "--text applies to --content only")
	}
	if opts.batchFlags.isBatch(opts.Paths) {
		return runVerifyBatch(opts)
	}
	if opts.annotating() {
		return runVerifyAnnotate(opts)
	}
	e := opts.env
	vopts, err := opts.verifyOptions()
	if err != nil {
		return err
	}
	in, err := openInput(e, opts.In)
	if err != nil {
		return err
	}
	defer in.Close()
	var w io.Writer = io.Discard
	commit, abort := func() error { return nil }, func() {}
	if !opts.JSON || !isStdio(opts.Out) {
		w, commit, abort = openOutput(e, opts.Out)
		if _, err := w.Write(nil); err != nil {
			return err
		}
	}
	rd, w, end := opts.eolFlag.apply(in, w)
	res, verr := verify.Open(context.Background(), w, rd, vopts)
	if verr == nil {
		verr = end()
	}
	if res != nil {
		for _, warning := range res.Warnings {
			warn(e.Stderr, "%s", warning)
		}
		if opts.Verbose && len(res.Layers) > 1 {
			reportLayers(e.Stderr, res)
		}
	}
	// A fault of this machine is no result on the message: no JSON object
	// with "valid": false for it, only the error (exit 2 or 75).
	if opts.JSON && localFault(verr) == nil {
		if err := printJSON(e.Stdout, opts.In, res, verr, vopts); err != nil {
			abort()
			return err
		}
	}
	if verr != nil {
		abort()
		return verr
	}
	learnCapabilities(e, &opts.capsFlags, res)
	if err := commit(); err != nil {
		return err
	}
	if opts.Verbose {
		fmt.Fprintf(e.Stderr, "smimectl: verified: %s\n", summary(res))
	}
	return nil
}

// decryptIdentity loads the key for encrypted layers, if the key flags name one.
func decryptIdentity(e *env, f *keyFlags) (*verify.Identity, error) {
	if !f.given() {
		if f.Cert != "" {
			return nil, usagef([]string{"give the certificate's key with --key"}, "--cert needs --key")
		}
		return nil, nil
	}
	id, err := f.loadIdentity(e, "")
	if err != nil {
		return nil, err
	}
	return &verify.Identity{Certificate: id.Certificate, Key: id.Signer}, nil
}

// verifyOptions turns the flags into verify.Options, reading the trust files.
func (opts *verifyOptions) verifyOptions() (verify.Options, error) {
	// Issue #16 item 6: -v tells of every network request; a batch draws
	// its progress bar rather than a status line.
	opts.revocationFlags.verbose = opts.Verbose
	opts.revocationFlags.noStatus = opts.revocationFlags.noStatus || opts.batchFlags.isBatch(opts.Paths)
	vopts, err := certificateCheckOptions(opts.env, &opts.trustFlags, &opts.revocationFlags)
	if err != nil {
		return verify.Options{}, err
	}
	req, err := parseRequire(opts.Require)
	if err != nil {
		return verify.Options{}, err
	}
	id, err := decryptIdentity(opts.env, &opts.keyFlags)
	if err != nil {
		return verify.Options{}, err
	}
	vopts.Require = req
	vopts.Decrypt = id
	vopts.SenderCheck = opts.SenderCheck
	vopts.AllowMD5 = opts.AllowMD5
	vopts.MinDigest = minDigests[opts.MinDigest]
	vopts.AllowUnsignedParts = opts.AllowUnsignedParts
	vopts.MaxClockSkew, vopts.StrictDate = opts.MaxClockSkew, opts.StrictDate
	if opts.MaxClockSkew == 0 {
		vopts.MaxClockSkew = -1 // --max-clock-skew 0: no comparison
	}
	if err := opts.informFlags.apply(&vopts); err != nil {
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
	mode, err := revocation.ParseMode(tf.Revocation)
	if err != nil {
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
	}, nil
}

// printJSON writes the result of verifying the input named in (a path, or ""
// or "-" for standard input) as one line of JSON (see newVerifyJSON). A
// message too broken to give a result still gets an object, with valid false
// and the error.
func printJSON(w io.Writer, in string, res *verify.Result, verr error, vopts verify.Options) error {
	return encodeJSON(w, newVerifyJSON(in, res, verr, vopts))
}

// signerLabel names a signer as "Name <address>": the common name of its
// certificate (or its subject) and its mail addresses.
func signerLabel(s *verify.Signer) string {
	who := s.Subject
	if s.Certificate != nil && s.Certificate.Subject.CommonName != "" {
		who = s.Certificate.Subject.CommonName
	}
	if len(s.Emails) > 0 && !(len(s.Emails) == 1 && s.Emails[0] == who) {
		who += " <" + strings.Join(s.Emails, ", ") + ">"
	}
	return who
}

// summary is one line saying who signed and what was checked, for -v and lab demo:
// "signed by Alice <alice@example.com> (multipart/signed, sha-256); chain: Alice <-
// Issuing CA <- Root CA; checks: signature, chain, revocation (warning), ...". A
// co-signer that is not the sender is "co-signed (not the sender) by Carol ...", its
// check "sender (note)". Names come from certificates, of failed signers too
// (reportLayers): the line goes through oneLine, so that none can add a line.
func summary(res *verify.Result) string {
	if len(res.Parts) > 0 {
		return partsSummary(res)
	}
	return signersSummary(res.Signers, res.Form)
}

// partsSummary is summary for a message signed below its top level (issue #15
// item 5): which part each signature covers, and which parts none does.
func partsSummary(res *verify.Result) string {
	var out, unsigned []string
	for _, p := range res.Parts {
		if !p.Signed {
			unsigned = append(unsigned, fmt.Sprintf("%s (%s)", p.Section, p.MediaType))
			continue
		}
		what := "part " + p.Section
		if p.Attached {
			what += fmt.Sprintf(" (an attached message from %s)", p.From)
		}
		out = append(out, fmt.Sprintf("%s covers part %s: %s", what, p.Covers, signersSummary(p.Signers, p.MediaType)))
	}
	if len(unsigned) > 0 {
		out = append(out, "not signed: "+strings.Join(unsigned, ", "))
	}
	return strings.Join(out, "; ")
}

func signersSummary(signers []*verify.Signer, form string) string {
	var parts []string
	for _, s := range signers {
		who := signerLabel(s)
		role := "signed by"
		for _, c := range s.Checks {
			if c.Name == "sender" && c.Status == verify.StatusNote {
				// Issue #11 item 2: valid, but another signer vouches for the sender.
				role = "co-signed (not the sender) by"
			}
		}
		line := fmt.Sprintf("%s %s (%s, %s)", role, who, form, s.DigestAlgorithm)
		if n := len(s.Chain); n > 0 {
			names := make([]string, n)
			for i, c := range s.Chain {
				names[i] = c.Subject.CommonName
			}
			line += "; chain: " + strings.Join(names, " <- ")
		}
		var checks []string
		for _, c := range s.Checks {
			name := c.Name.String()
			if c.Status != verify.StatusPass {
				name = fmt.Sprintf("%s (%s)", c.Name, c.Status)
			}
			if len(checks) == 0 || checks[len(checks)-1] != name {
				checks = append(checks, name)
			}
		}
		parts = append(parts, line+"; checks: "+strings.Join(checks, ", "))
	}
	return oneLine(strings.Join(parts, "; "))
}
