package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/smimectl/smimectl/pkg/revocation"
)

// Flag groups shared by several commands (STYLE rule 2). Each is a handful of fields
// with addFlags; a command embeds the groups it needs in its options struct and turns
// them into library options in its run function.

// ioFlags names where the message comes from and where the result goes.
type ioFlags struct {
	In  string // --in: message file; "" or "-" is standard input
	Out string // --out: result file, written atomically; "" or "-" is standard output
}

func (f *ioFlags) addFlags(fs *pflag.FlagSet) {
	fs.Var(&onceString{p: &f.In}, "in", "read the message from `file` instead of standard input")
	fs.StringVar(&f.Out, "out", "", "write the result to `file` instead of standard output; it appears only on success")
	markFileFlag(fs, "in", messageExts...)
	markFileFlag(fs, "out", messageExts...)
}

// takeArg makes a command's one FILE argument its --in (issue #16 item 8):
// "smimectl sign --p12 a.p12 msg.eml" as "--in msg.eml". Giving both is a
// usage error, as two --in are.
func (f *ioFlags) takeArg(args []string) error {
	if len(args) == 0 {
		return nil
	}
	if f.In != "" {
		return usagef([]string{"name the message once: as the FILE argument or with --in"}, "--in can't be used with a FILE argument")
	}
	f.In = args[0]
	return nil
}

// completeMessageFiles completes a command's FILE argument with message files.
func completeMessageFiles(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return messageExts, cobra.ShellCompDirectiveFilterFileExt
}

// onceString is a string flag that may be given once: pflag's own lets the
// last of several win, which for --in would check one message and say
// nothing of the others (issue #13 item 1).
type onceString struct {
	p   *string
	set bool
}

func (v *onceString) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

func (v *onceString) Set(s string) error {
	if v.set {
		return errors.New("given more than once; to check several messages, name them as arguments instead")
	}
	v.set = true
	*v.p = s
	return nil
}

func (v *onceString) Type() string { return "string" }

// keyFlags names the private key and certificate to act with. A passphrase never comes
// from a command-line value (SPEC "Keys and certificates"): only from a file or an
// environment variable.
type keyFlags struct {
	Key        string // --key: PEM private key (PKCS#1, PKCS#8, SEC1, encrypted PEM)
	Cert       string // --cert: certificate of the key, with any chain
	P12        string // --p12: PKCS#12 file holding key and certificates
	PassFile   string // --pass-file: file whose first line is the passphrase
	PassEnv    string // --pass-env: environment variable holding the passphrase
	tokenFlags        // --pkcs11 and its PIN: a key on a smart card
}

// given reports whether the flags name a private key.
func (f *keyFlags) given() bool { return f.Key != "" || f.P12 != "" || f.URI != "" }

func (f *keyFlags) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&f.Key, "key", "", "private key in PEM `file`")
	fs.StringVar(&f.Cert, "cert", "", "certificate `file` for --key, with any intermediates")
	fs.StringVar(&f.P12, "p12", "", "PKCS#12 `file` holding the key and its certificates")
	fs.StringVar(&f.PassFile, "pass-file", "", "read the key's passphrase from the first line of `file`")
	fs.StringVar(&f.PassEnv, "pass-env", "", "read the key's passphrase from environment variable `name`")
	f.tokenFlags.addFlags(fs)
	markFileFlag(fs, "key", keyExts...)
	markFileFlag(fs, "cert", certExts...)
	markFileFlag(fs, "p12", p12Exts...)
}

// check rejects combinations of key flags that can't work together.
func (f *keyFlags) check() error {
	if f.URI != "" && (f.Key != "" || f.P12 != "") {
		return usagef([]string{"give one key: --pkcs11, --key or --p12"}, "--pkcs11 can't be used with --key or --p12")
	}
	if err := f.tokenFlags.check(); err != nil {
		return err
	}
	if f.P12 != "" && (f.Key != "" || f.Cert != "") {
		return usagef([]string{"give either --p12, or --key with --cert"}, "--p12 can't be used with --key or --cert")
	}
	if f.Key != "" && f.Cert == "" {
		return usagef([]string{"give the key's certificate with --cert"}, "--key needs --cert")
	}
	if f.PassFile != "" && f.PassEnv != "" {
		return usagef(nil, "--pass-file and --pass-env can't be used together")
	}
	return nil
}

// passphraseFunc returns a key's passphrase when the key turns out to be encrypted.
// It has the shape of the key loader's callback, so the loader asks only when needed.
type passphraseFunc func() ([]byte, error)

// passphrase returns the passphrase source the flags name. The file or variable is
// read only when the returned function is called. The passphrase never appears in an
// error.
func (f *keyFlags) passphrase(e *env) passphraseFunc {
	return func() ([]byte, error) {
		switch {
		case f.PassFile != "":
			return readFirstLine(f.PassFile)
		case f.PassEnv != "":
			v := e.Getenv(f.PassEnv)
			if v == "" {
				return nil, usagef(nil, "environment variable %s named by --pass-env is empty or unset", f.PassEnv)
			}
			return []byte(v), nil
		}
		return nil, usagef(nil, "the key is encrypted; give its passphrase with --pass-file or --pass-env")
	}
}

// Revocation modes for --revocation (SPEC "Verification"): soft checks and warns when
// a CRL is unreachable, hard fails (exit 75), off skips the check.
var revocationModes = []string{"soft", "hard", "off"}

// trustFlags says what to trust and when, for commands that check certificates.
type trustFlags struct {
	Trust         []string // --trust: root certificate files
	Intermediates []string // --intermediates: intermediate certificate files
	CRLs          []string // --crl: CRL files to use besides the distribution points
	Revocation    string   // --revocation: soft, hard or off
	At            string   // --at: evaluation time; "" is now
	// --revocation-max-age: how long an answer without nextUpdate counts; 0 (the
	// library's default) for a command without the flag
	MaxAge time.Duration
}

func (f *trustFlags) addFlags(fs *pflag.FlagSet) {
	fs.StringArrayVar(&f.Trust, "trust", nil, trustUsage)
	fs.StringArrayVar(&f.Intermediates, "intermediates", nil, "use the intermediate certificates in `file` or directory to build chains (repeatable)")
	fs.StringArrayVar(&f.CRLs, "crl", nil, "check revocation against the CRL in `file` too (repeatable)")
	enumFlag(fs, &f.Revocation, "revocation", "soft", revocationModes,
		"when a CRL can't be fetched: soft warns and passes, hard fails, off skips revocation checks")
	maxAgeFlag(fs, &f.MaxAge)
	fs.StringVar(&f.At, "at", "", "check validity at `time` (RFC 3339, 2006-01-02 or @unix-seconds) instead of now")
	markFileFlag(fs, "trust", certExts...)
	markFileFlag(fs, "intermediates", certExts...)
	markFileFlag(fs, "crl", crlExts...)
}

// Limits of --revocation-max-age.
const (
	minMaxAge = time.Minute
	maxMaxAge = 366 * 24 * time.Hour
)

// maxAgeFlag defines --revocation-max-age (revocation.Options.MaxAge): how long
// an OCSP response or CRL that names no nextUpdate counts after it was issued. A
// value outside 1m to 366 days is a usage error when the flag is parsed.
func maxAgeFlag(fs *pflag.FlagSet, p *time.Duration) {
	*p = revocation.DefaultMaxAge
	fs.Var((*maxAgeValue)(p), "revocation-max-age",
		"count an OCSP response or CRL that names no next update for at most `duration` after it was issued (1m to 8784h)")
}

// maxAgeValue is a duration flag limited to minMaxAge..maxMaxAge.
type maxAgeValue time.Duration

func (v *maxAgeValue) String() string { return time.Duration(*v).String() }
func (v *maxAgeValue) Type() string   { return "duration" }
func (v *maxAgeValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("want a duration such as 168h or 30m")
	}
	if d < minMaxAge || d > maxMaxAge {
		return errors.New("want a duration between 1m and 8784h (366 days), for example 168h")
	}
	*v = maxAgeValue(d)
	return nil
}

// evalTime returns the evaluation time: --at if given, else e.Now().
func (f *trustFlags) evalTime(e *env) (time.Time, error) { return atTime(e, f.At) }

// atTime returns the time an --at value names, or e.Now() for "".
func atTime(e *env, at string) (time.Time, error) {
	if at == "" {
		return e.Now(), nil
	}
	t, err := parseAt(at)
	if err != nil {
		return time.Time{}, &usageError{err: fmt.Errorf("--at: %w", err), hints: []string{
			`give --at as 2024-05-01T12:00:00Z, 2024-05-01 or @1714564800`}}
	}
	return t, nil
}

// parseAt parses an --at value: an RFC 3339 time, a date (midnight UTC) or @ and
// seconds since the Unix epoch.
func parseAt(s string) (time.Time, error) {
	if rest, ok := strings.CutPrefix(s, "@"); ok {
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("invalid Unix time %q", s)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("invalid time %q", s)
}

func init() { cobra.AddTemplateFunc("flagUsages", flagUsages) }

// flagUsages is fs.FlagUsages with boolean flags shown as "--json", the way they
// are given, not "--json[=true|false]" as pflag 1.1 shows them (issue #16 item 10).
// It copies the flags, hiding IsBoolFlag from pflag's usage printer; what a
// flag accepts on the command line does not change.
func flagUsages(fs *pflag.FlagSet) string {
	shown := pflag.NewFlagSet(fs.Name(), pflag.ContinueOnError)
	shown.SortFlags = fs.SortFlags
	fs.VisitAll(func(f *pflag.Flag) {
		c := *f
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			c.Value = plainValue{f.Value}
		}
		shown.AddFlag(&c)
	})
	return shown.FlagUsages()
}

// plainValue is a pflag.Value without its IsBoolFlag method.
type plainValue struct{ pflag.Value }
