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

// NSS drives the NSS tools cmsutil, certutil and pk12util on one
// certificate database. Make one with [NewNSS].
type NSS struct {
	// Dir is the database directory (used as sql:Dir).
	Dir string
}

// NewNSS creates a database in dir (created if needed) with an empty
// password, adds root trusted for every use (C,C,C) and the intermediates
// with no trust of their own (",,").
func NewNSS(dir, root string, intermediates ...string) (*NSS, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("testpeer: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("testpeer: creating NSS database directory: %w", err)
	}
	n := &NSS{Dir: abs}
	if _, err := run(n.command("certutil", "-N", "--empty-password")); err != nil {
		return nil, err
	}
	if err := n.addCert("testpeer-root", "C,C,C", root); err != nil {
		return nil, err
	}
	for i, c := range intermediates {
		if err := n.addCert(fmt.Sprintf("testpeer-ca-%d", i+1), ",,", c); err != nil {
			return nil, err
		}
	}
	return n, nil
}

func (n *NSS) addCert(nick, trust, file string) error {
	der, err := readCert(file)
	if err != nil {
		return err
	}
	cmd := n.command("certutil", "-A", "-n", nick, "-t", trust)
	cmd.Stdin = bytes.NewReader(der)
	_, err = run(cmd)
	return err
}

// command returns an NSS tool command on n's database.
func (n *NSS) command(tool string, args ...string) *exec.Cmd {
	cmd := exec.Command(tool, append([]string{"-d", "sql:" + n.Dir}, args...)...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	return cmd
}

// ImportPKCS12 imports the key and certificates of a PKCS#12 file
// protected by pass. The key's nickname is the file's friendly name (see
// [PKCS12]); certificates with one subject share a nickname.
func (n *NSS) ImportPKCS12(p12, pass string) error {
	pw, err := os.CreateTemp("", "testpeer-pw-")
	if err != nil {
		return fmt.Errorf("testpeer: %w", err)
	}
	defer os.Remove(pw.Name())
	if _, err := pw.WriteString(pass); err != nil {
		pw.Close()
		return fmt.Errorf("testpeer: writing password file: %w", err)
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("testpeer: writing password file: %w", err)
	}
	_, err = run(n.command("pk12util", "-i", p12, "-w", pw.Name()))
	return err
}

// SignDetached writes to out a detached CMS signature (BER) over the bytes
// of in, made with SHA-256 by the key named nick, with signing time and
// S/MIME capabilities attributes.
func (n *NSS) SignDetached(nick, in, out string) error {
	return n.sign(nick, in, out, "-T")
}

// SignOpaque writes to out CMS SignedData (BER) encapsulating the bytes of
// in, made like [NSS.SignDetached].
func (n *NSS) SignOpaque(nick, in, out string) error {
	return n.sign(nick, in, out)
}

func (n *NSS) sign(nick, in, out string, extra ...string) error {
	if err := exists(in); err != nil {
		return err
	}
	args := append([]string{"-S", "-N", nick, "-H", "SHA256", "-G", "-P", "-i", in, "-o", out}, extra...)
	_, err := run(n.command("cmsutil", args...))
	return err
}

// Verify has cmsutil check the CMS message in the file cms (BER or DER),
// over the detached content in the file content, or encapsulated when
// content is "". cmsutil exits 0 even for a bad signature, so Verify reads
// its report and demands signerN.status=GoodSignature for every signer
// (that status includes a chain to a trusted root valid for e-mail
// signing). Any other outcome is a [*RejectedError].
func (n *NSS) Verify(cms, content string) error {
	args := []string{"-D", "-i", cms, "-h", "1"}
	for _, f := range []string{cms, content} {
		if f == "" {
			continue
		}
		if err := exists(f); err != nil {
			return err
		}
	}
	if content != "" {
		args = append(args, "-c", content)
	}
	// The report comes first on standard output, then the content.
	out, err := run(n.command("cmsutil", args...))
	if err != nil {
		if exited(err) {
			return &RejectedError{Peer: "cmsutil", Reason: err.Error()}
		}
		return err
	}
	if reason := cmsutilVerdict(out); reason != "" {
		return &RejectedError{Peer: "cmsutil", Reason: reason}
	}
	return nil
}

// cmsutilVerdict returns "" when cmsutil's -h report lists at least one
// signer and every signer has status GoodSignature, and otherwise why not.
// The report is the first line ("SMIME: ...") and the tab-indented lines
// after it; what follows is content and is not read. (Content whose first
// line starts with a tab would be read as report: tests control their content.)
func cmsutilVerdict(out []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	var signers, bad []string
	for first := true; sc.Scan(); first = false {
		line := sc.Text()
		if first && !strings.HasPrefix(line, "SMIME:") {
			return "no report from cmsutil"
		}
		if !first && !strings.HasPrefix(line, "\t") {
			break
		}
		for _, field := range strings.Split(line, ";") {
			key, value, ok := strings.Cut(strings.TrimSpace(field), "=")
			if !ok || !strings.HasPrefix(key, "signer") || !strings.HasSuffix(key, ".status") {
				continue
			}
			signers = append(signers, key)
			if value != "GoodSignature" {
				bad = append(bad, key+"="+value)
			}
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, bufio.ErrTooLong) {
		return err.Error()
	}
	switch {
	case len(bad) > 0:
		return strings.Join(bad, "; ")
	case len(signers) == 0:
		return "no signer in the report"
	}
	return ""
}
