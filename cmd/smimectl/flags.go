package main

import (
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/verify"
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

// enumValue is a string flag that accepts only one of a fixed set of values.
type enumValue struct {
	p       *string
	allowed []string
}

func (v *enumValue) String() string { return *v.p }
func (v *enumValue) Type() string   { return "{" + strings.Join(v.allowed, "|") + "}" }
func (v *enumValue) Set(s string) error {
	if !slices.Contains(v.allowed, s) {
		return fmt.Errorf("want one of %s", strings.Join(v.allowed, ", "))
	}
	*v.p = s
	return nil
}

// enumAnnotation marks enum flags so completeEnums can offer their values.
const enumAnnotation = "smimectl_enum"

// enumFlag defines a flag that accepts one of allowed, validated when parsed and
// completed by the shell (see completeEnums).
func enumFlag(fs *pflag.FlagSet, p *string, name, value string, allowed []string, usage string) {
	*p = value
	fs.Var(&enumValue{p: p, allowed: allowed}, name, usage)
	fs.SetAnnotation(name, enumAnnotation, allowed)
}

// completeEnums registers shell completion for every enum flag under cmd. The root
// command calls it once, after all commands are added.
func completeEnums(cmd *cobra.Command) error {
	var errs []error
	cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
		allowed, ok := f.Annotations[enumAnnotation]
		if !ok {
			return
		}
		errs = append(errs, cmd.RegisterFlagCompletionFunc(f.Name, cobra.FixedCompletions(allowed, cobra.ShellCompDirectiveNoFileComp)))
	})
	cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
		if values, ok := f.Annotations[listAnnotation]; ok {
			errs = append(errs, cmd.RegisterFlagCompletionFunc(f.Name, completeList(values)))
		}
	})
	for _, c := range cmd.Commands() {
		errs = append(errs, completeEnums(c))
	}
	return errors.Join(errs...)
}

// File extensions the shell offers for file flags.
var (
	messageExts = []string{"eml", "msg", "p7m", "p7s", "txt"}
	certExts    = []string{"pem", "crt", "cer", "der", "p7b", "p7c"}
	keyExts     = []string{"pem", "key"}
	p12Exts     = []string{"p12", "pfx"}
	crlExts     = []string{"crl", "pem"}
)

// listAnnotation marks flags taking a comma-separated list of fixed values
// (--cipher, --require), completed one value after another by completeEnums.
const listAnnotation = "smimectl_list"

// markListFlag makes shell completion offer values for the comma-separated list
// flag name (issue #16 item 12).
func markListFlag(fs *pflag.FlagSet, name string, values []string) {
	fs.SetAnnotation(name, listAnnotation, values)
}

// completeList completes the last element of a comma-separated list: the values
// not yet in the list, each after what was typed before the last comma.
func completeList(values []string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		done, prefix := "", toComplete
		if i := strings.LastIndexByte(toComplete, ','); i >= 0 {
			done, prefix = toComplete[:i+1], toComplete[i+1:]
		}
		given := strings.Split(done, ",")
		var out []cobra.Completion
		for _, v := range values {
			if strings.HasPrefix(v, prefix) && !slices.Contains(given, v) {
				out = append(out, done+v)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
}

// completeFiles completes positional arguments with file names ending in one of
// exts, and directories (issue #16 item 12).
func completeFiles(exts ...string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return exts, cobra.ShellCompDirectiveFilterFileExt
	}
}

// markFileFlag tells shell completion that flag name takes a file with one of exts.
func markFileFlag(fs *pflag.FlagSet, name string, exts ...string) {
	fs.SetAnnotation(name, cobra.BashCompFilenameExt, exts)
}

// Argument validators that fail with a *usageError, so a wrong number of arguments
// exits with exitUsage and the usage line.

// noArgs accepts no positional arguments.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return &usageError{err: fmt.Errorf("unexpected argument %q", args[0]), usage: cmd.UseLine()}
	}
	return nil
}

// exactArgs accepts exactly n positional arguments.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return &usageError{err: fmt.Errorf("want %d argument(s), got %d", n, len(args)), usage: cmd.UseLine()}
		}
		return nil
	}
}

// maxArgs accepts at most n positional arguments.
func maxArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return &usageError{err: fmt.Errorf("unexpected argument %q", args[n]), usage: cmd.UseLine()}
		}
		return nil
	}
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
