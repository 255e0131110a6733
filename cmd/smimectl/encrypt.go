package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/smimectl/smimectl/pkg/encrypt"
)

// encryptOptions are the options of encrypt.
type encryptOptions struct {
	ioFlags
	keyFlags                // the sender's certificate, for encrypt-to-self
	RecipientCerts []string // --recipient-cert: recipient certificate files
	To             []string // --to: recipient addresses, matched against --certs
	Certs          []string // --certs: certificate files or directories to look addresses up in
	From           string   // --from: the sender's address, for encrypt-to-self
	Cipher         string   // --cipher: ordered cipher list
	OAEP           bool     // --oaep: RSA-OAEP key transport
	KeyID          bool     // --keyid: name recipients by subject key identifier
	NoSelf         bool     // --no-self: do not encrypt to the sender
	AllowMissing   bool     // --allow-missing: encrypt for the recipients that have certificates
	Bcc            string   // --bcc: separate or together
	OutDir         string   // --out-dir: where --bcc separate writes its messages

	env *env
}

func newEncryptCmd(e *env, runF func(*encryptOptions) error) *cobra.Command {
	opts := &encryptOptions{env: e}
	cmd := &cobra.Command{
		Use:   "encrypt {--recipient-cert <file> | --to <address> --certs <path>}... [flags]",
		Short: "Encrypt a message for its recipients (application/pkcs7-mime enveloped-data)",
		Long: `Encrypt a message as the guide's Figure 1.18 and Chapter 6 "Sending an Encrypted
E-Mail Message" describe: generate a one-time session key, encrypt the message
with it, and encrypt the session key with each recipient's public key. The
outer header fields (From, To, Subject, ...) stay readable; Bcc is removed.

Recipients come from --recipient-cert files and from --to addresses, each
matched against the certificates in --certs (subject e-mail or subjectAltName,
encryption key usage, valid now). With neither, the message's To, Cc and Bcc
addresses are looked up in --certs. A recipient without a usable certificate
stops the command with exit status 3 and nothing written, naming every such
recipient (the guide's AlwaysEncrypt); --allow-missing encrypts for the others
and warns. The sender is a recipient too, so that the sent copy stays readable
(guide Chapter 8), when --cert or --p12 gives the sender's certificate or
--from finds one in --certs; --no-self turns this off.

--cipher is the ordered policy (the guide's EncryptionAlgorithms): the first
cipher every recipient can read is used. Without knowledge of the recipients'
clients, AES-CBC is assumed readable by all and AES-GCM is used only when it
comes first. The default, aes-256-cbc, reaches the most clients (gpgsm and NSS
read no AES-GCM); aes-256-gcm, which also detects tampering, is recommended
where every recipient reads it, and gives smime-type=authEnveloped-data.

--bcc separate writes one message for To and Cc and one per Bcc recipient into
--out-dir (message.eml, bcc-<address>.eml), so Bcc recipients stay hidden from
each other (the guide's SecurityFlags 0x040/0x080).`,
		Example: `  # Encrypt for Bob with his certificate file.
  smimectl encrypt --recipient-cert bob.crt < msg.eml | sendmail -t

  # Encrypt for the message's To, Cc and Bcc, looked up in a directory, and to self.
  smimectl encrypt --certs certs/ --from alice@example.com --cipher aes-256-gcm --in msg.eml --out sealed.eml

  # One message per Bcc recipient.
  smimectl encrypt --certs certs/ --bcc separate --out-dir outbox < msg.eml`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(*cobra.Command, []string) error {
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
	fs.SetAnnotation("out-dir", cobra.BashCompSubdirsInDir, []string{})
	return cmd
}

// addRecipientFlags defines the recipient, cipher and policy flags that encrypt
// and triple-wrap share.
func (opts *encryptOptions) addRecipientFlags(fs *pflag.FlagSet) {
	fs.StringArrayVar(&opts.RecipientCerts, "recipient-cert", nil, "encrypt for the certificate in `file` (repeatable)")
	fs.StringArrayVar(&opts.To, "to", nil, "encrypt for `address`, whose certificate is looked up in --certs (repeatable)")
	fs.StringArrayVar(&opts.Certs, "certs", nil, "look addresses up in the certificates in `file` or directory (repeatable)")
	fs.StringVar(&opts.From, "from", "", "the sender's `address`, whose certificate in --certs is a recipient too")
	fs.StringVar(&opts.Cipher, "cipher", "aes-256-cbc", "ordered, comma-separated cipher `list`: aes-256-gcm, aes-128-gcm, aes-256-cbc, aes-128-cbc (aes-256-gcm recommended)")
	fs.BoolVar(&opts.OAEP, "oaep", false, "use RSA-OAEP (SHA-256) instead of RSA PKCS#1 v1.5 for RSA recipients")
	fs.BoolVar(&opts.KeyID, "keyid", false, "identify recipients by subject key identifier instead of issuer and serial number")
	fs.BoolVar(&opts.NoSelf, "no-self", false, "do not encrypt to the sender")
	fs.BoolVar(&opts.AllowMissing, "allow-missing", false, "encrypt for the recipients that have a certificate and warn about the others")
	markFileFlag(fs, "recipient-cert", certExts...)
	markFileFlag(fs, "certs", certExts...)
}

// encryptPlan is what runEncrypt works out before it writes anything.
type encryptPlan struct {
	opts  encrypt.Options
	self  *x509.Certificate
	pool  []*x509.Certificate // --certs
	now   time.Time
	addrs encrypt.Addresses // the message's, from the planning pass
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
		return commit()
	}
	return encryptSeparate(opts, p, in)
}

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
	if _, err := encrypt.ChooseCipher(ciphers); err != nil {
		return nil, usagef(nil, "--cipher: %s", libraryDetail(err))
	}
	recips, err := loadCertificates("--recipient-cert", opts.RecipientCerts)
	if err != nil {
		return nil, err
	}
	pool, err := loadCertificates("--certs", opts.Certs)
	if err != nil {
		return nil, err
	}
	if len(opts.To) > 0 && len(opts.Certs) == 0 {
		return nil, usagef([]string{"give the certificates to look addresses up in with --certs"}, "--to needs --certs")
	}
	p := &encryptPlan{pool: pool, now: e.Now()}
	if !opts.NoSelf {
		if p.self, err = opts.selfCert(p); err != nil {
			return nil, err
		}
	}
	p.opts = encrypt.Options{
		Recipients:   recips,
		Ciphers:      ciphers,
		OAEP:         opts.OAEP,
		SubjectKeyID: opts.KeyID,
		Now:          func() time.Time { return p.now },
	}
	return p, nil
}

// selfCert returns the sender's encryption certificate: --cert or --p12 if
// given, else the one --from finds in --certs; nil, with a warning, if there is
// none that can encrypt.
func (opts *encryptOptions) selfCert(p *encryptPlan) (*x509.Certificate, error) {
	e := opts.env
	var c *x509.Certificate
	switch {
	case opts.P12 != "" || opts.Key != "":
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
		if c = encrypt.FindCertificate(opts.From, p.pool, p.now); c == nil {
			warn(e.Stderr, "no encryption certificate for the sender %s: the sent copy will not be readable by the sender", opts.From)
		}
		return c, nil
	default:
		return nil, nil
	}
	if err := encrypt.CheckRecipient(c, p.now); err != nil {
		if opts.From != "" {
			if alt := encrypt.FindCertificate(opts.From, p.pool, p.now); alt != nil {
				return alt, nil
			}
		}
		warn(e.Stderr, "not encrypting to the sender: %s", libraryDetail(err))
		return nil, nil
	}
	return c, nil
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

// lookup finds a certificate for each address; see encrypt.FindCertificate.
func (p *encryptPlan) lookup(opts *encryptOptions, addrs []string) ([]*x509.Certificate, error) {
	var found []*x509.Certificate
	var missing []string
	for _, a := range addrs {
		if c := encrypt.FindCertificate(a, p.pool, p.now); c != nil {
			found = append(found, c)
		} else if !slices.Contains(missing, a) {
			missing = append(missing, a)
		}
	}
	if len(missing) == 0 {
		return found, nil
	}
	if !opts.AllowMissing || len(found)+len(p.opts.Recipients) == 0 {
		return nil, &encrypt.MissingCertificateError{Addresses: missing}
	}
	for _, a := range missing {
		warn(opts.env.Stderr, "no encryption certificate for %s: the message is not encrypted for it", a)
	}
	return found, nil
}

// errPlanned stops the planning pass of --bcc separate once the header is read.
var errPlanned = errors.New("planned")

// encryptSeparate writes one message for To and Cc and one per Bcc recipient
// into --out-dir. The message is spooled to a temporary file, read once for its
// addresses, and every recipient is looked up before any file is written.
func encryptSeparate(opts *encryptOptions, p *encryptPlan, in io.Reader) error {
	tmp, err := os.CreateTemp("", "smimectl-bcc-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if _, err := io.Copy(tmp, in); err != nil {
		return err
	}
	reread := func() io.Reader { return io.NewSectionReader(tmp, 0, 1<<62) }
	plan := p.opts
	plan.Resolve = func(a encrypt.Addresses) ([]*x509.Certificate, error) { p.addrs = a; return nil, errPlanned }
	if err := encrypt.Encrypt(io.Discard, reread(), plan); !errors.Is(err, errPlanned) {
		return err
	}
	addrs := p.addrs
	// Every lookup before any output: a missing certificate writes nothing.
	if _, err := p.lookup(opts, slices.Concat(opts.To, addrs.To, addrs.Cc, addrs.Bcc)); err != nil {
		return err
	}
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return err
	}
	type job struct {
		name string
		pick func(encrypt.Addresses) []string
	}
	jobs := []job{{"message.eml", func(a encrypt.Addresses) []string { return slices.Concat(opts.To, a.To, a.Cc) }}}
	for _, b := range addrs.Bcc {
		jobs = append(jobs, job{"bcc-" + b + ".eml", func(encrypt.Addresses) []string { return []string{b} }})
	}
	for i, j := range jobs {
		o := p.encryptOptions(opts, j.pick)
		if i > 0 {
			o.Recipients = nil // --recipient-cert and --to go with To and Cc
			if p.self != nil {
				o.Recipients = []*x509.Certificate{p.self}
			}
		}
		w, commit, abort := openOutput(opts.env, filepath.Join(opts.OutDir, j.name))
		if err := encrypt.Encrypt(w, reread(), o); err != nil {
			abort()
			return fmt.Errorf("writing %q: %w", j.name, err)
		}
		if err := commit(); err != nil {
			return err
		}
	}
	return nil
}
