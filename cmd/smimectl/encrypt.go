package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/smimectl/smimectl/pkg/certsel"
	"github.com/smimectl/smimectl/pkg/encrypt"
)

// encryptOptions are the options of encrypt.
type encryptOptions struct {
	ioFlags
	keyFlags                   // the sender's certificate, for encrypt-to-self
	certSourceFlags            // --certs and the directory flags: where recipients' certificates are looked up
	trustFlags                 // --trust, --crl, --revocation, --at: how recipients' certificates are checked
	revocationFlags            // --crl-cache, --crl-timeout, --offline, ...: where revocation answers come from (issue #16 item 13)
	RecipientCerts  []string   // --recipient-cert: recipient certificate files
	To              []string   // --to: recipient addresses, looked up in --certs
	From            string     // --from: the sender's address, for encrypt-to-self
	MaxRecipients   int        // --max-recipients: most addresses to look up (Appendix B Recipient Limits)
	Verbose         bool       // -v, --verbose: say which certificate each recipient gets
	JSON            bool       // --json: print the cipher and recipients as JSON (needs --out or --out-dir, or --plan)
	Plan            bool       // --plan: say who would get which certificate, and why; encrypt nothing
	Cipher          cipherList // --cipher: ordered cipher list
	OAEP            bool       // --oaep: RSA-OAEP key transport
	KeyID           bool       // --keyid: name recipients by subject key identifier
	NoSelf          bool       // --no-self: do not encrypt to the sender
	AllowMissing    bool       // --allow-missing: encrypt for the recipients that have certificates
	Bcc             string     // --bcc: separate or together
	OutDir          string     // --out-dir: where --bcc separate writes its messages
	ProtectHeaders  bool       // --protect-headers: header fields inside the encryption (RFC 9788)
	KeepSubject     bool       // --keep-subject: leave the outer Subject readable
	capsFlags                  // --capabilities-db: what recipients are known to read

	env *env
}

func newEncryptCmd(e *env, runF func(*encryptOptions) error) *cobra.Command {
	opts := &encryptOptions{env: e}
	cmd := &cobra.Command{
		Use:   "encrypt {--recipient-cert <file> | --to <address> --certs <path>}... [flags] [<file>]",
		Short: "Encrypt a message for its recipients (application/pkcs7-mime enveloped-data)",
		Long:  encryptLong,
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
	fs.BoolVar(&opts.JSON, "json", false, "print the cipher and every recipient's certificate as one JSON object on standard output (needs --out or --out-dir, or --plan)")
	fs.BoolVar(&opts.Plan, "plan", false, "say which certificate each recipient would get, and why, and encrypt nothing (reads at most the message's header)")
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
	fs.TextVar(&opts.Cipher, "cipher", cipherList{encrypt.AES256GCM, encrypt.AES256CBC}, "ordered, comma-separated cipher `list`: aes-256-gcm, aes-128-gcm, aes-256-cbc, aes-128-cbc; the first every recipient is known to read is used")
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

// runEncrypt loads the certificates, works out the recipients, and writes the
// encrypted message (or one per Bcc recipient).
func runEncrypt(opts *encryptOptions) error {
	e := opts.env
	if opts.Plan {
		return runEncryptPlan(opts)
	}
	if (opts.Bcc == "separate") != (opts.OutDir != "") {
		return usagef([]string{"use --bcc separate with --out-dir <directory>"}, "--bcc separate and --out-dir go together")
	}
	if opts.OutDir != "" && !isStdio(opts.Out) {
		return usagef(nil, "--out can't be used with --out-dir")
	}
	if opts.JSON && isStdio(opts.Out) && opts.OutDir == "" {
		return usagef([]string{"write the message with --out <file>; the JSON goes to standard output", "or see the recipients without encrypting with --plan"}, "--json needs --out or --out-dir")
	}
	s, err := opts.setup()
	if err != nil {
		return err
	}
	in, err := openInput(e, opts.In)
	if err != nil {
		return err
	}
	defer in.Close()
	if opts.Bcc == "separate" {
		return encryptSeparate(opts, s, in)
	}
	w, commit, abort := openOutput(e, opts.Out)
	if _, err := w.Write(nil); err != nil {
		return err
	}
	if err := encrypt.Encrypt(w, in, s.encryptOptions(opts)); err != nil {
		abort()
		return err
	}
	if opts.JSON {
		// Before the file is in place: a failed run leaves nothing.
		if err := s.printReport(opts); err != nil {
			abort()
			return err
		}
	}
	return commit()
}

// cipherNames are the values --cipher takes, as shell completion offers them;
// TestCipherNames checks them against encrypt.Cipher.UnmarshalText.
var cipherNames = []string{"aes-256-gcm", "aes-128-gcm", "aes-256-cbc", "aes-128-cbc"}

// cipherList is the value of --cipher: an ordered, comma-separated list of
// cipher names (issue #17 item 4: bound with TextVar, each name read by
// encrypt.Cipher.UnmarshalText).
type cipherList []encrypt.Cipher

func (l cipherList) String() string {
	names := make([]string, len(l))
	for i, c := range l {
		names[i] = c.String()
	}
	return strings.Join(names, ",")
}

// MarshalText gives the list as --cipher takes it.
func (l cipherList) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText reads "aes-256-gcm,aes-256-cbc".
func (l *cipherList) UnmarshalText(text []byte) error {
	var out cipherList
	for name := range strings.SplitSeq(string(text), ",") {
		var c encrypt.Cipher
		if err := c.UnmarshalText([]byte(strings.TrimSpace(name))); err != nil {
			return fmt.Errorf("unknown cipher %q (want %s)", strings.TrimSpace(name), strings.Join(cipherNames, ", "))
		}
		out = append(out, c)
	}
	*l = out
	return nil
}
