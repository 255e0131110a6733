package main

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/smimectl/smimectl/internal/certinfo"
	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/pkg/certsel"
	"github.com/smimectl/smimectl/pkg/encrypt"
)

// encryptOptions are the options of encrypt.
type encryptOptions struct {
	ioFlags
	keyFlags                 // the sender's certificate, for encrypt-to-self
	certSourceFlags          // --certs and the directory flags: where recipients' certificates are looked up
	trustFlags               // --trust, --crl, --revocation, --at: how recipients' certificates are checked
	revocationFlags          // --crl-cache, --crl-timeout, --offline, ...: where revocation answers come from (issue #16 item 13)
	RecipientCerts  []string // --recipient-cert: recipient certificate files
	To              []string // --to: recipient addresses, looked up in --certs
	From            string   // --from: the sender's address, for encrypt-to-self
	MaxRecipients   int      // --max-recipients: most addresses to look up (Appendix B Recipient Limits)
	Verbose         bool     // -v, --verbose: say which certificate each recipient gets
	JSON            bool     // --json: print the cipher and recipients as JSON (needs --out or --out-dir)
	Cipher          string   // --cipher: ordered cipher list
	OAEP            bool     // --oaep: RSA-OAEP key transport
	KeyID           bool     // --keyid: name recipients by subject key identifier
	NoSelf          bool     // --no-self: do not encrypt to the sender
	AllowMissing    bool     // --allow-missing: encrypt for the recipients that have certificates
	Bcc             string   // --bcc: separate or together
	OutDir          string   // --out-dir: where --bcc separate writes its messages
	ProtectHeaders  bool     // --protect-headers: header fields inside the encryption (RFC 9788)
	KeepSubject     bool     // --keep-subject: leave the outer Subject readable
	capsFlags                // --capabilities-db: what recipients are known to read

	env *env
}

func newEncryptCmd(e *env, runF func(*encryptOptions) error) *cobra.Command {
	opts := &encryptOptions{env: e}
	cmd := &cobra.Command{
		Use:   "encrypt {--recipient-cert <file> | --to <address> --certs <path>}... [flags] [<file>]",
		Short: "Encrypt a message for its recipients (application/pkcs7-mime enveloped-data)",
		Long: `Encrypt a message as the guide's Figure 1.18 and Chapter 6 "Sending an Encrypted
E-Mail Message" describe: generate a one-time session key, encrypt the message
with it, and encrypt the session key with each recipient's public key. The
outer header fields (From, To, Subject, ...) stay readable; Bcc is removed.

Recipients come from --recipient-cert files and from --to addresses, each
looked up in the --certs sources as cert-match --purpose encrypt does: files,
directories, PKCS#7 bundles, .p12 files and LDAP directories
(ldap://host:port/base-dn). A certificate must carry the address (subject
e-mail, subjectAltName, or a directory alias unless --no-proxies), allow
encryption, be valid now (or at --at) and, with --trust, chain to a trusted root
and not be revoked (--crl, --revocation); an encryption-only certificate wins
over a dual-use one. With neither --recipient-cert nor --to, the message's To,
Cc and Bcc addresses are looked up. -v says which certificate each recipient
gets. At most --max-recipients addresses are looked up (the guide's Appendix B
Recipient Limits, 5000), and the whole lookup must finish within
--lookup-timeout (its DLExpansionTimeout). A recipient without a usable certificate
stops the command with exit status 3 and nothing written, naming every such
recipient (the guide's AlwaysEncrypt); --allow-missing encrypts for the others
and warns. The sender is a recipient too, so that the sent copy stays readable
(guide Chapter 8), when --cert or --p12 gives the sender's certificate or
--from finds one in --certs; --no-self turns this off.

--cipher is the ordered policy (the guide's EncryptionAlgorithms): the first
cipher every recipient is known to read is used. What a recipient reads is
learnt from its signed mail: verify, and decrypt --trust, remember the S/MIME
capabilities (RFC 8551 2.5.2) every valid signer advertised, with the signing
time, in --capabilities-db (newer mail replaces older); failing that, the
certificate's smimeCapabilities extension (RFC 4262) says. A recipient of unknown
capabilities is assumed to read AES-CBC only. So the default list, aes-256-gcm
then aes-256-cbc, gives AES-256-GCM (smime-type=authEnveloped-data, which also
detects tampering) when every recipient advertised it, and AES-256-CBC, which
reaches the most clients (gpgsm and NSS read no AES-GCM), otherwise. --cipher
aes-256-gcm alone uses AES-GCM whatever is known; --cipher aes-256-cbc alone
never does. RSA recipients that advertised rsaes-oaep get RSA-OAEP key
transport; --oaep gives it to every RSA recipient. -v says, for each recipient,
what is known (signed mail of which date, the certificate extension, or
nothing) and which cipher and key transport were chosen; --json records the
same.

--protect-headers copies the header fields (From, To, Cc, Subject, Date,
Message-ID, ...; not Bcc) into the encrypted part, marked hp="cipher" (RFC 9788
header protection, the guide's SecurityFlags 0x200), and hides the Subject
outside as "[...]" (RFC 9788's hcp_baseline, which also drops Keywords and
Comments outside); --keep-subject leaves it readable. decrypt puts the protected
fields back. A message that is signed already can't get them: sign it with
--protect-headers, or use triple-wrap --protect-headers.

--bcc separate writes one message for To and Cc and one per Bcc recipient into
--out-dir (message.eml, bcc-<address>.eml), so Bcc recipients stay hidden from
each other (the guide's SecurityFlags 0x040/0x080). An address that is not
plain lowercase letters, digits and . _ @ + - (at most 64 of them) is written
as bcc-<address with "_" for the rest>~<16 hex digits of its SHA-256>.eml, so
no name leaves --out-dir and no two addresses share one. The files appear all
together or not at all: if anything fails, none is left. A Bcc recipient without
a certificate stops the command (exit status 3); with --allow-missing it gets
no message, with a warning, and the others are written.
` + directoryHelp,
		Example: `  # Encrypt for Bob with his certificate file.
  smimectl encrypt --recipient-cert bob.crt < msg.eml | sendmail -t

  # Encrypt for the message's To, Cc and Bcc, looked up in a directory, and to self.
  smimectl encrypt --certs certs/ --from alice@example.com --cipher aes-256-gcm --in msg.eml --out sealed.eml

  # One message per Bcc recipient.
  smimectl encrypt --certs certs/ --bcc separate --out-dir outbox < msg.eml`,
		Args:              maxArgs(1),
		ValidArgsFunction: completeMessageFiles,
		RunE: func(_ *cobra.Command, args []string) error {
			if err := opts.takeArg(args); err != nil { // issue #16 item 8
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runEncrypt(opts)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	opts.ioFlags.addFlags(fs)
	opts.addRecipientFlags(fs)
	enumFlag(fs, &opts.Bcc, "bcc", "together", []string{"together", "separate"},
		"together: one message for all; separate: one for To and Cc, one per Bcc recipient (needs --out-dir)")
	fs.StringVar(&opts.OutDir, "out-dir", "", "write the messages of --bcc separate into `directory`")
	opts.keyFlags.addFlags(fs)
	opts.trustFlags.addFlags(fs)
	opts.revocationFlags.addCheckFlags(fs)
	fs.BoolVarP(&opts.Verbose, "verbose", "v", false, "say which certificate each recipient gets, and where it came from, and each network request, on standard error")
	fs.BoolVar(&opts.JSON, "json", false, "print the cipher and every recipient's certificate as one JSON object on standard output (needs --out or --out-dir)")
	fs.SetAnnotation("out-dir", cobra.BashCompSubdirsInDir, []string{})
	return cmd
}

// addRecipientFlags defines the recipient, cipher and policy flags that encrypt
// and triple-wrap share.
func (opts *encryptOptions) addRecipientFlags(fs *pflag.FlagSet) {
	fs.StringArrayVar(&opts.RecipientCerts, "recipient-cert", nil, "encrypt for the certificate in `file` (repeatable)")
	fs.StringArrayVar(&opts.To, "to", nil, "encrypt for `address`, whose certificate is looked up in --certs (repeatable)")
	opts.certSourceFlags.addFlags(fs)
	fs.IntVar(&opts.MaxRecipients, "max-recipients", certsel.DefaultMaxRecipients, "refuse to look up more than `n` recipient addresses")
	fs.StringVar(&opts.From, "from", "", "the sender's `address`, whose certificate in --certs is a recipient too")
	fs.StringVar(&opts.Cipher, "cipher", "aes-256-gcm,aes-256-cbc", "ordered, comma-separated cipher `list`: aes-256-gcm, aes-128-gcm, aes-256-cbc, aes-128-cbc; the first every recipient is known to read is used")
	markListFlag(fs, "cipher", cipherNames)
	fs.BoolVar(&opts.OAEP, "oaep", false, "use RSA-OAEP (SHA-256) for every RSA recipient, not only those that advertised it, instead of RSA PKCS#1 v1.5")
	fs.BoolVar(&opts.KeyID, "keyid", false, "identify recipients by subject key identifier instead of issuer and serial number")
	fs.BoolVar(&opts.NoSelf, "no-self", false, "do not encrypt to the sender")
	fs.BoolVar(&opts.AllowMissing, "allow-missing", false, "encrypt for the recipients that have a certificate and warn about the others")
	fs.BoolVar(&opts.ProtectHeaders, "protect-headers", false, protectHeadersUsage+"; the outer Subject becomes \"[...]\"")
	fs.BoolVar(&opts.KeepSubject, "keep-subject", false, "with --protect-headers: leave the outer Subject readable instead of \"[...]\"")
	opts.capsFlags.addFlags(fs)
	markFileFlag(fs, "recipient-cert", certExts...)
}

// encryptPlan is what runEncrypt works out before it writes anything.
type encryptPlan struct {
	opts  encrypt.Options
	self  *x509.Certificate
	sel   certsel.Options // --certs and the trust flags
	now   time.Time
	addrs encrypt.Addresses // the message's, from the planning pass
	// found holds each address looked up (by certsel.Recipients): its
	// selection, or why there is none. warned holds the addresses
	// --allow-missing has warned about.
	found  map[string]*certsel.Selection
	why    map[string]*certsel.NoMatchError
	warned map[string]bool
	// plans holds the cipher plan of every message written, in order.
	plans []encrypt.Plan
}

// runEncrypt loads the certificates, works out the recipients, and writes the
// encrypted message (or one per Bcc recipient).
func runEncrypt(opts *encryptOptions) error {
	e := opts.env
	if (opts.Bcc == "separate") != (opts.OutDir != "") {
		return usagef([]string{"use --bcc separate with --out-dir <directory>"}, "--bcc separate and --out-dir go together")
	}
	if opts.OutDir != "" && !isStdio(opts.Out) {
		return usagef(nil, "--out can't be used with --out-dir")
	}
	if opts.JSON && isStdio(opts.Out) && opts.OutDir == "" {
		return usagef([]string{"write the message with --out <file>; the JSON goes to standard output"}, "--json needs --out or --out-dir")
	}
	p, err := opts.plan()
	if err != nil {
		return err
	}
	in, err := openInput(e, opts.In)
	if err != nil {
		return err
	}
	defer in.Close()
	if opts.Bcc != "separate" {
		w, commit, abort := openOutput(e, opts.Out)
		if _, err := w.Write(nil); err != nil {
			return err
		}
		if err := encrypt.Encrypt(w, in, p.encryptOptions(opts, nil)); err != nil {
			abort()
			return err
		}
		if opts.JSON {
			// Before the file is in place: a failed run leaves nothing.
			if err := p.printReport(opts); err != nil {
				abort()
				return err
			}
		}
		return commit()
	}
	return encryptSeparate(opts, p, in)
}

// cipherNames are the values --cipher takes, as shell completion offers them;
// TestCipherNames checks them against encrypt.ParseCipher.
var cipherNames = []string{"aes-256-gcm", "aes-128-gcm", "aes-256-cbc", "aes-128-cbc"}

// plan reads the certificate files and the sender's certificate.
func (opts *encryptOptions) plan() (*encryptPlan, error) {
	e := opts.env
	var ciphers []encrypt.Cipher
	for name := range strings.SplitSeq(opts.Cipher, ",") {
		c, err := encrypt.ParseCipher(strings.TrimSpace(name))
		if err != nil {
			return nil, usagef(nil, "--cipher: %s", libraryDetail(err))
		}
		ciphers = append(ciphers, c)
	}
	if err := encrypt.CheckCiphers(ciphers); err != nil {
		return nil, usagef(nil, "--cipher: %s", libraryDetail(err))
	}
	recips, err := loadCertificates("--recipient-cert", opts.RecipientCerts)
	if err != nil {
		return nil, err
	}
	if len(opts.To) > 0 && len(opts.Certs) == 0 {
		return nil, usagef([]string{"give the certificates to look addresses up in with --certs"}, "--to needs --certs")
	}
	if opts.MaxRecipients < 1 {
		return nil, usagef(nil, "--max-recipients must be at least 1")
	}
	if err := opts.keyFlags.check(); err != nil {
		return nil, err
	}
	if opts.KeepSubject && !opts.ProtectHeaders {
		return nil, usagef([]string{"add --protect-headers, or leave out --keep-subject: without it the Subject is never hidden"}, "--keep-subject needs --protect-headers")
	}
	sources, err := opts.certSourceFlags.sources(e, opts.keyFlags.passGiven(e), &opts.tokenFlags, false)
	if err != nil {
		return nil, err
	}
	if sources, err = preload(sources); err != nil {
		return nil, err
	}
	opts.revocationFlags.verbose = opts.Verbose
	sel, err := opts.trustFlags.selectOptions(e, sources, opts.NoProxies, &opts.revocationFlags)
	if err != nil {
		return nil, err
	}
	p := &encryptPlan{sel: sel, now: sel.Now(),
		found: map[string]*certsel.Selection{}, why: map[string]*certsel.NoMatchError{}, warned: map[string]bool{}}
	if !opts.NoSelf {
		if p.self, err = opts.selfCert(p); err != nil {
			return nil, err
		}
	}
	p.opts = encrypt.Options{
		Recipients: recips,
		Ciphers:    ciphers,
		OAEP:       opts.OAEP,
		// triple-wrap protects the header fields inside its inner
		// signature instead (tripleWrapOptions.signatures).
		ProtectHeaders: opts.ProtectHeaders,
		KeepSubject:    opts.KeepSubject,
		SubjectKeyID:   opts.KeyID,
		Now:            func() time.Time { return p.now },
		Capabilities:   knownCapabilities(e, opts.capsFlags.openExisting(e)),
		OnPlan:         func(pl encrypt.Plan) { p.plans = append(p.plans, pl); p.explain(opts, pl) },
	}
	return p, nil
}

// explain is -v's account of a plan (issue #18 item 2): the cipher and why, then
// per recipient what is known of its client and its key transport.
func (p *encryptPlan) explain(opts *encryptOptions, pl encrypt.Plan) {
	if !opts.Verbose {
		return
	}
	w := opts.env.Stderr
	fmt.Fprintf(w, "smimectl: cipher %s: %s\n", pl.Cipher, pl.Why)
	for _, rp := range pl.Recipients {
		fmt.Fprintf(w, "smimectl: %s: %s; key transport %s\n", p.label(opts, rp.Certificate), rp.Why, rp.KeyTransport())
	}
}

// label names a recipient certificate by the address it was looked up for, or
// its holder.
func (p *encryptPlan) label(opts *encryptOptions, c *x509.Certificate) string {
	addrs := make([]string, 0, len(p.found))
	for a, sel := range p.found {
		if sel != nil && sel.Certificate.Equal(c) {
			addrs = append(addrs, a)
		}
	}
	if len(addrs) > 0 {
		slices.Sort(addrs)
		return strings.Join(addrs, ", ")
	}
	if p.self != nil && p.self.Equal(c) && opts.From != "" {
		return opts.From
	}
	return holder(c)
}

// selfCert returns the sender's encryption certificate: --cert or --p12 if
// given, else the one --from finds in --certs; nil, with a warning, if there is
// none that can encrypt.
func (opts *encryptOptions) selfCert(p *encryptPlan) (*x509.Certificate, error) {
	e := opts.env
	var c *x509.Certificate
	switch {
	case opts.keyFlags.given():
		id, err := opts.keyFlags.loadIdentity(e, opts.From)
		if err != nil {
			return nil, err
		}
		c = id.Certificate
	case opts.keyFlags.Cert != "":
		certs, err := loadCertificates("--cert", []string{opts.keyFlags.Cert})
		if err != nil {
			return nil, err
		}
		if len(certs) == 0 {
			return nil, setupErrorf("no certificate in --cert %q", opts.keyFlags.Cert)
		}
		c = certs[0]
	case opts.From != "":
		c, err := p.senderCert(opts)
		if c == nil && err == nil {
			warn(e.Stderr, "no encryption certificate for the sender %s: the sent copy will not be readable by the sender", opts.From)
		}
		return c, err
	default:
		return nil, nil
	}
	if err := encrypt.CheckRecipient(c, p.now); err != nil {
		if opts.From != "" {
			if alt, err := p.senderCert(opts); alt != nil || err != nil {
				return alt, err
			}
		}
		warn(e.Stderr, "not encrypting to the sender: %s", libraryDetail(err))
		return nil, nil
	}
	return c, nil
}

// senderCert looks --from up in --certs: the sender's encryption certificate,
// nil if none qualifies, or the error of a source that could not be asked.
func (p *encryptPlan) senderCert(opts *encryptOptions) (*x509.Certificate, error) {
	if len(opts.Certs) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), opts.Timeout)
	defer cancel()
	sel, err := certsel.Select(ctx, opts.From, certsel.PurposeEncrypt, p.sel)
	var nm *certsel.NoMatchError
	switch {
	case errors.As(err, &nm):
		return nil, nil
	case err != nil:
		return nil, err
	}
	if opts.Verbose {
		fmt.Fprintf(opts.env.Stderr, "smimectl: encrypting for the sender %s with %s serial %X from %s\n",
			opts.From, holder(sel.Certificate), sel.Certificate.SerialNumber, sel.Origin)
	}
	return sel.Certificate, nil
}

// preload reads the local sources (files, directories, .p12 files) once, so a
// missing or malformed file is reported before anything else and is not read
// again for every recipient; directories (LDAP) are asked per address.
func preload(sources []certsel.Source) ([]certsel.Source, error) {
	out := make([]certsel.Source, len(sources))
	for i, src := range sources {
		if _, ok := src.(certsel.LDAP); ok {
			out[i] = src
			continue
		}
		found, err := src.Find(context.Background(), "")
		if err != nil {
			return nil, &certsel.SourceError{Source: src.String(), Err: err}
		}
		out[i] = certsel.Memory{Name: src.String(), Found: found}
	}
	return out, nil
}

// encryptOptions returns the library options for one output message: the
// recipients given on the command line, the sender, and the addresses the
// message names (pick chooses which; nil means all of To, Cc and Bcc) looked up
// in --certs.
func (p *encryptPlan) encryptOptions(opts *encryptOptions, pick func(encrypt.Addresses) []string) encrypt.Options {
	o := p.opts
	o.Recipients = slices.Clone(o.Recipients)
	if p.self != nil {
		o.Recipients = append(o.Recipients, p.self)
	}
	fromHeader := len(opts.RecipientCerts) == 0 && len(opts.To) == 0
	o.Resolve = func(a encrypt.Addresses) ([]*x509.Certificate, error) {
		p.addrs = a
		var addrs []string
		switch {
		case pick != nil:
			addrs = pick(a)
		case fromHeader:
			addrs = a.All()
		default:
			addrs = opts.To
		}
		if fromHeader && len(addrs) == 0 && pick == nil {
			return nil, &noCertError{err: errors.New("the message names no recipients (To, Cc, Bcc)")}
		}
		return p.lookup(opts, addrs)
	}
	return o
}

// lookup selects an encryption certificate for each address with certsel (see
// cert-match), each address once per run. Addresses without one stop the
// command with a *certsel.MissingError naming them all, or, with
// --allow-missing, are warned about and left out.
func (p *encryptPlan) lookup(opts *encryptOptions, addrs []string) ([]*x509.Certificate, error) {
	var uniq, todo []string
	for _, a := range addrs {
		if slices.ContainsFunc(uniq, func(u string) bool { return certinfo.SameAddress(u, a) }) {
			continue
		}
		uniq = append(uniq, a)
		if _, ok := p.found[a]; !ok {
			todo = append(todo, a)
		}
	}
	if len(todo) > 0 {
		// --lookup-timeout bounds the whole lookup (the guide's DLExpansionTimeout).
		ctx, cancel := context.WithTimeout(context.Background(), opts.Timeout)
		sels, err := certsel.Recipients(ctx, todo, certsel.RecipientOptions{Options: p.sel, MaxRecipients: opts.MaxRecipients})
		cancel()
		var me *certsel.MissingError
		if err != nil && !errors.As(err, &me) {
			return nil, err
		}
		if me != nil {
			for _, nm := range me.Missing {
				p.why[nm.Address] = nm
			}
		}
		for i, a := range todo {
			p.found[a] = sels[i]
			if sel := sels[i]; sel != nil && opts.Verbose {
				fmt.Fprintf(opts.env.Stderr, "smimectl: encrypting for %s with %s serial %X from %s\n",
					a, holder(sel.Certificate), sel.Certificate.SerialNumber, sel.Origin)
			}
		}
	}
	var found []*x509.Certificate
	var missing []*certsel.NoMatchError
	for _, a := range uniq {
		if sel := p.found[a]; sel != nil {
			found = append(found, sel.Certificate)
		} else {
			missing = append(missing, p.why[a])
		}
	}
	if len(missing) == 0 {
		return found, nil
	}
	if !opts.AllowMissing || len(found)+len(p.opts.Recipients) == 0 {
		return nil, &certsel.MissingError{Missing: missing}
	}
	for _, nm := range missing {
		if !p.warned[nm.Address] {
			p.warned[nm.Address] = true
			warn(opts.env.Stderr, "no encryption certificate for %s (%s): the message is not encrypted for it", nm.Address, whyMissing(nm))
		}
	}
	return found, nil
}

// errPlanned stops the planning pass of --bcc separate once the header is read.
var errPlanned = errors.New("planned")

// separateJob is one message of --bcc separate: its file name in --out-dir
// and the header addresses it is encrypted for.
type separateJob struct {
	name string
	bcc  string // the Bcc recipient, or "" for the To and Cc message
	pick func(encrypt.Addresses) []string
}

// encryptSeparate writes one message for To and Cc and one per Bcc recipient
// into --out-dir, all or nothing (issue #11 item 16). The message is spooled
// (memory, then a temporary file without a name), read once for its
// addresses, and every recipient is looked up before anything is written. A
// Bcc recipient without a certificate stops the command (exit 3) with nothing
// written; with --allow-missing it is warned about and gets no file, and the
// others are written (exit 0). Every message is written to a temporary file in
// --out-dir, and only when all of them are complete are they renamed into
// place; any failure removes them all.
func encryptSeparate(opts *encryptOptions, p *encryptPlan, in io.Reader) (err error) {
	msg := &mime.Spool{}
	defer msg.Close()
	if _, err := io.Copy(msg, in); err != nil {
		return fmt.Errorf("reading the message: %w", err)
	}
	plan := p.opts
	plan.Resolve = func(a encrypt.Addresses) ([]*x509.Certificate, error) { p.addrs = a; return nil, errPlanned }
	if err := encryptFrom(msg, io.Discard, plan); !errors.Is(err, errPlanned) {
		return err
	}
	addrs := p.addrs
	// Every lookup before any output: a missing certificate writes nothing.
	if _, err := p.lookup(opts, slices.Concat(opts.To, addrs.To, addrs.Cc, addrs.Bcc)); err != nil {
		return err
	}
	jobs, err := p.separateJobs(opts, addrs)
	if err != nil {
		return err
	}
	// A failed or killed run leaves no empty directory behind either.
	made, err := opts.env.temps.mkdirAll(opts.OutDir, 0o755)
	if err != nil {
		return err
	}
	defer func() { opts.env.temps.dropDirs(made, err != nil) }()
	var files []rename
	defer func() {
		if err != nil {
			for _, f := range files {
				opts.env.temps.discard(f.tmp)
			}
		}
	}()
	for i, j := range jobs {
		o := p.encryptOptions(opts, j.pick)
		if i > 0 {
			o.Recipients = nil // --recipient-cert and --to go with To and Cc
			if p.self != nil {
				o.Recipients = []*x509.Certificate{p.self}
			}
		}
		tf, err := opts.env.temps.create(opts.OutDir, "."+j.name+".tmp*")
		if err != nil {
			return err
		}
		files = append(files, rename{tmp: tf, dst: filepath.Join(opts.OutDir, j.name)})
		err = encryptFrom(msg, tf.f, o)
		if err == nil {
			err = tf.f.Chmod(modePublic &^ opts.env.Umask)
		}
		if err == nil {
			err = tf.f.Sync()
		}
		if err == nil {
			// Named and closed until all are done: one descriptor
			// at a time, however many Bcc recipients.
			err = opts.env.temps.park(tf)
		}
		if err != nil {
			return fmt.Errorf("writing %q: %w", j.name, err)
		}
	}
	if opts.JSON {
		// Before the files are in place: a report that can't be written
		// fails the run, and a failed run leaves nothing.
		if err := p.printReport(opts); err != nil {
			return err
		}
	}
	return opts.env.temps.promote(files)
}

// encryptFrom encrypts the spooled message to w.
func encryptFrom(msg *mime.Spool, w io.Writer, o encrypt.Options) error {
	r, err := msg.Open()
	if err != nil {
		return err
	}
	return encrypt.Encrypt(w, r, o)
}

// separateJobs lists the messages of --bcc separate: message.eml for To and
// Cc, and one for each distinct Bcc recipient that has a certificate (with
// --allow-missing, the others were warned about and get none), named by
// bccFileName. Two addresses whose names would collide stop the command.
func (p *encryptPlan) separateJobs(opts *encryptOptions, addrs encrypt.Addresses) ([]separateJob, error) {
	jobs := []separateJob{{name: "message.eml", pick: func(a encrypt.Addresses) []string { return slices.Concat(opts.To, a.To, a.Cc) }}}
	names := map[string]string{}
	for _, b := range addrs.Bcc {
		if slices.ContainsFunc(jobs[1:], func(j separateJob) bool { return certinfo.SameAddress(j.bcc, b) }) {
			continue
		}
		certs, err := p.lookup(opts, []string{b})
		var me *certsel.MissingError
		switch {
		case errors.As(err, &me) && opts.AllowMissing, err == nil && len(certs) == 0:
			continue // warned about by lookup: no message for it
		case err != nil:
			return nil, err
		}
		name := bccFileName(b)
		if other, ok := names[name]; ok {
			return nil, fmt.Errorf("the Bcc addresses %q and %q would both be written to %q: nothing written", other, b, name)
		}
		names[name] = b
		jobs = append(jobs, separateJob{name: name, bcc: b, pick: func(encrypt.Addresses) []string { return []string{b} }})
	}
	return jobs, nil
}

// maxNameAddress is the most bytes of an address a Bcc file name keeps.
const maxNameAddress = 64

// bccFileName is the --out-dir file name of the message for Bcc recipient
// addr. The address comes from the message's header, so it may be anything
// ("../../x"@example.com, /etc/passwd@x, a megabyte long): the name is
// "bcc-<addr>.eml" only when addr is plain — lowercase ASCII letters, digits
// and . _ @ + - only, at most maxNameAddress bytes, no leading dot and no
// ".." — and otherwise
// "bcc-<safe>~<hash>.eml", where safe is addr in lower case with every other
// character replaced by "_" and cut to maxNameAddress bytes, and hash is the
// first 16 hex digits of the SHA-256 of addr. So a name is never empty, never
// starts with a dot, holds no path separator and no byte outside that set but
// "~", and is at most 4+64+1+16+4 bytes; a plain address and a transformed
// one can't meet (only the latter has "~"), and two transformed addresses
// differ in their hash (a collision of 64 bits is still refused by
// separateJobs rather than written over).
func bccFileName(addr string) string {
	plain := addr != "" && len(addr) <= maxNameAddress
	var b strings.Builder
	for _, r := range strings.ToLower(addr) {
		if b.Len() >= maxNameAddress {
			plain = false
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', strings.ContainsRune("._@+-", r):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
			plain = false
		}
	}
	if plain && b.String() == addr && addr[0] != '.' && !strings.Contains(addr, "..") {
		return "bcc-" + addr + ".eml"
	}
	sum := sha256.Sum256([]byte(addr))
	return "bcc-" + b.String() + "~" + hex.EncodeToString(sum[:8]) + ".eml"
}
