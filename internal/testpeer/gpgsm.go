package testpeer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// GPGSM drives GnuPG's gpgsm in a throwaway home directory. Make one with
// [NewGPGSM] and call [GPGSM.Close] when done, which also stops the
// gpg-agent that gpgsm starts.
type GPGSM struct {
	// Home is the GnuPG home (GNUPGHOME). It holds gpg-agent's socket, so
	// its path must stay short: a Unix socket path is limited to ~108 bytes.
	Home string
}

// NewGPGSM creates a home under /tmp (mode 0700), configures gpg-agent for
// loopback pinentry and cheap key protection and gpgsm for offline use (no
// CRL or policy checks, no system certificates), imports root and the
// intermediates and marks root as trusted for S/MIME.
func NewGPGSM(root string, intermediates ...string) (*GPGSM, error) {
	home, err := os.MkdirTemp("/tmp", "g.")
	if err != nil {
		return nil, fmt.Errorf("testpeer: creating gpgsm home: %w", err)
	}
	g := &GPGSM{Home: home}
	if err := g.init(root, intermediates); err != nil {
		return nil, errors.Join(err, g.Close())
	}
	return g, nil
}

func (g *GPGSM) init(root string, intermediates []string) error {
	if err := os.Chmod(g.Home, 0o700); err != nil {
		return fmt.Errorf("testpeer: %w", err)
	}
	// s2k-count: the agent re-protects every imported key with a hash
	// count calibrated to ~100 ms of CPU, which takes seconds on a loaded
	// CI machine; the minimum is enough for a throwaway test key.
	files := map[string]string{
		"gpg-agent.conf": "allow-loopback-pinentry\ns2k-count 65536\n",
		"gpgsm.conf":     "disable-crl-checks\ndisable-policy-checks\nno-common-certs-import\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(g.Home, name), []byte(text), 0o600); err != nil {
			return fmt.Errorf("testpeer: writing gpgsm configuration: %w", err)
		}
	}
	if _, err := run(g.command(append([]string{"--import", root}, intermediates...)...)); err != nil {
		return err
	}
	fpr, err := Fingerprint(root)
	if err != nil {
		return err
	}
	// trustlist.txt: the root's SHA-1 fingerprint and the flag S (S/MIME).
	if err := os.WriteFile(filepath.Join(g.Home, "trustlist.txt"), []byte(fpr+" S\n"), 0o600); err != nil {
		return fmt.Errorf("testpeer: writing gpgsm trust list: %w", err)
	}
	return nil
}

// Close stops the agent and removes the home directory.
func (g *GPGSM) Close() error {
	cmd := exec.Command("gpgconf", "--homedir", g.Home, "--kill", "all")
	cmd.Env = append(os.Environ(), "GNUPGHOME="+g.Home)
	_, kerr := run(cmd)
	rerr := os.RemoveAll(g.Home)
	if rerr != nil {
		rerr = fmt.Errorf("testpeer: removing gpgsm home: %w", rerr)
	}
	return errors.Join(kerr, rerr)
}

// command returns a non-interactive gpgsm command in g's home.
func (g *GPGSM) command(args ...string) *exec.Cmd {
	cmd := exec.Command("gpgsm", append([]string{"--homedir", g.Home,
		"--batch", "--yes", "--no-tty", "--pinentry-mode", "loopback"}, args...)...)
	cmd.Env = append(os.Environ(), "GNUPGHOME="+g.Home, "LC_ALL=C")
	return cmd
}

// withPassphrase makes cmd read the passphrase from its standard input.
func withPassphrase(cmd *exec.Cmd, pass string) *exec.Cmd {
	// --passphrase-fd must precede the command (--import, --sign).
	args := append([]string{cmd.Args[0], "--passphrase-fd", "0"}, cmd.Args[1:]...)
	cmd.Args = args
	cmd.Stdin = strings.NewReader(pass + "\n")
	return cmd
}

// ImportKey imports the PEM private key and its certificate, passing them
// through a legacy PKCS#12 protected by pass (see [PKCS12]). gpgsm 2.2
// cannot import EC keys this way: use RSA.
//
// gpgsm 2.2 now and then fails to decrypt a PKCS#12 file that openssl and
// smimectl read ("decryption failed", then "data error at
// shrouded_key_bag.decrypted-text"), seen once in this project's runs; it
// depends on the file's random salt, not on the key or password. Each attempt
// writes a new file with a new salt; three attempts make a spurious failure
// vanishingly rare, and a real one still fails every time.
func (g *GPGSM) ImportKey(key, cert, pass string) error {
	p12 := filepath.Join(g.Home, "import.p12")
	defer os.Remove(p12)
	var err error
	for range 3 {
		if err = PKCS12(key, cert, pass, "", p12); err != nil {
			return err
		}
		if _, err = run(withPassphrase(g.command("--import", p12), pass)); err == nil || !strings.Contains(err.Error(), "decryption failed") {
			return err
		}
	}
	return err
}

// SignDetached writes to out a detached CMS signature (raw BER) over the
// bytes of in, made with the key of cert (imported with [GPGSM.ImportKey])
// and SHA-256.
func (g *GPGSM) SignDetached(cert, pass, in, out string) error {
	return g.sign(cert, pass, in, out, "--detach-sign")
}

// SignOpaque writes to out CMS SignedData (raw BER) that encapsulates the
// bytes of in, made with the key of cert and SHA-256.
func (g *GPGSM) SignOpaque(cert, pass, in, out string) error {
	return g.sign(cert, pass, in, out, "--sign")
}

func (g *GPGSM) sign(cert, pass, in, out, mode string) error {
	fpr, err := Fingerprint(cert)
	if err != nil {
		return err
	}
	if err := exists(in); err != nil {
		return err
	}
	_, err = run(withPassphrase(g.command("-u", "0x"+fpr, "--digest-algo", "sha256",
		"--output", out, mode, in), pass))
	return err
}

// Verify has gpgsm check the CMS signature in sig (raw BER or DER, or PEM
// armour), over the detached content in the file content, or encapsulated
// in sig when content is "".
//
// gpgsm exits 0 even for an expired signer, so Verify reads its status
// lines instead: it demands GOODSIG and VALIDSIG for every signature, a
// TRUST_FULLY or TRUST_ULTIMATE chain (gpgsm reports GOODSIG for a signer
// whose root it does not trust), and no BADSIG, EXPSIG, EXPKEYSIG,
// REVKEYSIG, ERRSIG, TRUST_NEVER or TRUST_UNDEFINED. Any other outcome is a
// [*RejectedError].
func (g *GPGSM) Verify(sig, content string) error {
	return g.verify(sig, content, "")
}

// Open checks the opaque CMS signature in sig as [GPGSM.Verify] does and
// writes the content it encapsulates, as gpgsm extracts it, to out: the
// next layer of a nested message. On any failure Open removes out, so no
// unverified content is left behind.
func (g *GPGSM) Open(sig, out string) error {
	err := g.verify(sig, "", out)
	if err != nil {
		os.Remove(out)
	}
	return err
}

func (g *GPGSM) verify(sig, content, out string) error {
	args := []string{"--status-fd", "1"}
	if out != "" {
		args = append(args, "--output", out)
	}
	args = append(args, "--verify", sig)
	for _, f := range []string{sig, content} {
		if f == "" {
			continue
		}
		if err := exists(f); err != nil {
			return err
		}
	}
	if content != "" {
		args = append(args, content)
	}
	cmd := g.command(args...)
	status, err := run(cmd)
	if err != nil && !exited(err) {
		return err
	}
	if reason := gpgsmVerdict(status); reason != "" {
		return &RejectedError{Peer: "gpgsm", Reason: reason}
	}
	if err != nil {
		return &RejectedError{Peer: "gpgsm", Reason: err.Error()}
	}
	return nil
}

// gpgsmVerdict returns "" when the status lines say every signature is
// good and trusted, and otherwise the reason it is not.
func gpgsmVerdict(status []byte) string {
	counts := map[string]int{}
	var bad []string
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "[GNUPG:] ")
		if !ok {
			continue
		}
		keyword, _, _ := strings.Cut(line, " ")
		counts[keyword]++
		switch keyword {
		case "BADSIG", "EXPSIG", "EXPKEYSIG", "REVKEYSIG", "ERRSIG", "TRUST_NEVER", "TRUST_UNDEFINED", "ERROR":
			bad = append(bad, line)
		}
	}
	switch {
	case len(bad) > 0:
		return strings.Join(bad, "; ")
	case counts["NEWSIG"] == 0:
		return "no signature found"
	case counts["GOODSIG"] != counts["NEWSIG"] || counts["VALIDSIG"] != counts["NEWSIG"]:
		return fmt.Sprintf("%d signatures, %d GOODSIG, %d VALIDSIG", counts["NEWSIG"], counts["GOODSIG"], counts["VALIDSIG"])
	case counts["TRUST_FULLY"]+counts["TRUST_ULTIMATE"] != counts["NEWSIG"]:
		return "signer's chain is not fully trusted"
	}
	return ""
}
