package main

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/smimectl/smimectl/internal/keys"
	"github.com/smimectl/smimectl/pkg/certsel"
)

// tokenFlags name a private key on a PKCS#11 token (smart card) and where its
// PIN comes from (issue #12). The token work lives in internal/keys; this
// maps flags. A PIN never comes from a command-line value: --pin-file,
// --pin-env, the URI's pin-source, or a prompt on the terminal without echo.
type tokenFlags struct {
	URI     string // --pkcs11: RFC 7512 URI of the key
	Module  string // --pkcs11-module: module path, instead of the URI's module-path
	PINFile string // --pin-file: file whose first line is the PIN
	PINEnv  string // --pin-env: environment variable holding the PIN
}

// addFlags defines --pkcs11 and the PIN flags, for commands that take --key.
func (f *tokenFlags) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&f.URI, "pkcs11", "", "use the private key on a smart card or token named by the pkcs11: `URI` (RFC 7512), with its certificate from the token or --cert")
	f.addPINFlags(fs)
}

// addPINFlags defines the module and PIN flags, for --certs pkcs11:… sources.
func (f *tokenFlags) addPINFlags(fs *pflag.FlagSet) {
	fs.StringVar(&f.Module, "pkcs11-module", "", "load the PKCS#11 module (shared library) `file` for pkcs11: URIs that name none")
	fs.StringVar(&f.PINFile, "pin-file", "", "read the token's PIN from the first line of `file`")
	fs.StringVar(&f.PINEnv, "pin-env", "", "read the token's PIN from environment variable `name`")
}

func (f *tokenFlags) check() error {
	if f.PINFile != "" && f.PINEnv != "" {
		return usagef(nil, "--pin-file and --pin-env can't be used together")
	}
	return nil
}

// parseURI parses a pkcs11: URI given with flag.
func parseTokenURI(flag, s string) (*keys.PKCS11URI, error) {
	u, err := keys.ParsePKCS11URI(s)
	if err != nil {
		hints := []string{"give a URI such as pkcs11:token=My%20Card;object=Signing%20key (RFC 7512)"}
		if errors.Is(err, keys.ErrPINValue) {
			hints = []string{"put the PIN in a file named by --pin-file or pin-source, or in a variable named by --pin-env"}
		}
		return nil, &usageError{err: fmt.Errorf("%s: %w", flag, err), hints: hints}
	}
	return u, nil
}

// options returns the library options for u; with login, the PIN source.
func (f *tokenFlags) options(e *env, u *keys.PKCS11URI, login bool) keys.TokenOptions {
	opts := keys.TokenOptions{ModulePath: f.Module}
	if login {
		opts.PIN = f.pin(e, u)
	}
	return opts
}

// pinGiven reports whether a PIN source other than the terminal is named.
func (f *tokenFlags) pinGiven(u *keys.PKCS11URI) bool {
	return f.PINFile != "" || f.PINEnv != "" || u.PINSource != ""
}

// pin returns the PIN source: --pin-file, --pin-env, the URI's pin-source,
// else a prompt on the terminal. It is read only when the token asks.
func (f *tokenFlags) pin(e *env, u *keys.PKCS11URI) func() ([]byte, error) {
	return func() ([]byte, error) {
		switch {
		case f.PINFile != "":
			return readFirstLine(f.PINFile)
		case f.PINEnv != "":
			v := e.Getenv(f.PINEnv)
			if v == "" {
				return nil, usagef(nil, "environment variable %s named by --pin-env is empty or unset", f.PINEnv)
			}
			return []byte(v), nil
		case u.PINSource != "":
			path, err := pinSourcePath(u.PINSource)
			if err != nil {
				return nil, err
			}
			return readFirstLine(path)
		}
		var pin []byte
		err := errNoTerminal
		if e.ReadPIN != nil {
			pin, err = e.ReadPIN(fmt.Sprintf("PIN for %s: ", u.TokenString()))
		}
		if errors.Is(err, errNoTerminal) {
			return nil, usagef([]string{"give the PIN with --pin-file or --pin-env, or pin-source in the URI"}, "the token needs a PIN and there is no terminal to ask for it")
		}
		if err != nil {
			return nil, usagef([]string{"give the PIN with --pin-file or --pin-env, or pin-source in the URI"}, "can't ask for the token's PIN: %w", err)
		}
		return pin, nil
	}
}

// pinSourcePath turns an RFC 7512 pin-source (a file: URI or a path) into a
// file path.
func pinSourcePath(src string) (string, error) {
	if !strings.HasPrefix(strings.ToLower(src), "file:") {
		if strings.Contains(src, ":") || strings.HasPrefix(src, "|") {
			return "", usagef([]string{"give pin-source as a file: URI or a path"}, "pin-source %q is not a file", src)
		}
		return src, nil
	}
	p, err := url.Parse(src)
	if err != nil || (p.Host != "" && p.Host != "localhost") {
		return "", usagef([]string{"give pin-source as file:/path/to/pin"}, "pin-source %q is not a local file: URI", src)
	}
	if p.Path == "" {
		return p.Opaque, nil
	}
	return p.Path, nil
}

// maxSecretLine bounds the first line of a PIN or passphrase file: real ones
// are a few dozen bytes.
const maxSecretLine = 4096

// readFirstLine returns the first line of file, without its line ending: a
// PIN or a passphrase. It reads one byte at a time up to the first newline,
// never more than maxSecretLine bytes: --pin-file /dev/zero, a large file
// named by mistake or a pipe that keeps writing can't take the memory (red
// team, attack3: it read the whole file), and a pipe carrying the PIN is
// not read past its first line. Nothing read appears in an error.
func readFirstLine(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	line := make([]byte, 0, 64)
	var c [1]byte
	for {
		n, err := f.Read(c[:])
		if n == 1 {
			if c[0] == '\n' {
				break
			}
			if len(line) == maxSecretLine {
				clear(line)
				return nil, usagef([]string{"name the file that holds the PIN or passphrase on its first line"},
					"the first line of %q is longer than %d bytes: it is not a PIN or passphrase file", file, maxSecretLine)
			}
			line = append(line, c[0])
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			clear(line)
			return nil, err
		}
	}
	return bytes.TrimSuffix(line, []byte("\r")), nil
}

// loadIdentity opens the token --pkcs11 names and returns its key with
// certFile's certificate, or the token's. The token stays open until the
// command ends (env.release).
func (f *tokenFlags) loadIdentity(e *env, certFile string) (*keys.Identity, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	u, err := parseTokenURI("--pkcs11", f.URI)
	if err != nil {
		return nil, err
	}
	var cert *x509.Certificate
	if certFile != "" {
		certs, err := loadCertificates("--cert", []string{certFile})
		if err != nil {
			return nil, err
		}
		if len(certs) == 0 {
			return nil, setupErrorf("--cert %q holds no certificate", certFile)
		}
		cert = certs[0]
	}
	id, err := keys.OpenTokenIdentity(u, f.options(e, u, true), cert)
	if err != nil {
		return nil, tokenError(err)
	}
	e.atExit(id.Close)
	return id, nil
}

// openToken opens the token of a --certs pkcs11: source, logged in if keys
// are needed or a PIN source is named; it is closed when the command ends.
func (f *tokenFlags) openToken(e *env, src string, needKeys bool) (certsel.Source, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	u, err := parseTokenURI("--certs", src)
	if err != nil {
		return nil, err
	}
	tok, err := keys.OpenToken(u, f.options(e, u, needKeys || f.pinGiven(u)))
	if err != nil {
		return nil, tokenError(err)
	}
	e.atExit(tok.Close)
	return certsel.PKCS11{Token: tok, Name: u.TokenString()}, nil
}

// errNoTerminal: there is no terminal to ask for a PIN on.
var errNoTerminal = errors.New("no terminal")

// ttyPINReader returns env.ReadPIN: it asks for a PIN on the controlling
// terminal without echo, as ssh and gpg do (standard input may be the
// message). While echo is off, a signal that stops the run (Ctrl-C at the
// prompt) turns it back on before the exit: it used to leave the user's
// terminal without echo (red team, attack3).
func ttyPINReader(temps *tempFiles) func(prompt string) ([]byte, error) {
	return func(prompt string) ([]byte, error) {
		tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
		if err != nil {
			return nil, errNoTerminal
		}
		defer tty.Close()
		fd := int(tty.Fd())
		if st, err := term.GetState(fd); err == nil {
			defer temps.atSignal(func() {
				_ = term.Restore(fd, st)
				fmt.Fprintln(tty)
			})()
		}
		fmt.Fprint(tty, prompt)
		pin, err := term.ReadPassword(fd)
		fmt.Fprintln(tty)
		if err != nil {
			return nil, fmt.Errorf("reading the PIN from the terminal: %w", err)
		}
		return pin, nil
	}
}
