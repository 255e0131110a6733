package testpeer

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// RejectedError reports that a peer ran and did not accept a signature:
// the signature was bad, the signer untrusted or expired, or the input
// unreadable. Errors of other types mean the peer could not be asked.
type RejectedError struct {
	// Peer is the program that gave the verdict: "gpgsm" or "cmsutil".
	Peer string
	// Reason holds the status lines (or the failure) that decided.
	Reason string
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("testpeer: %s rejected the signature: %s", e.Peer, e.Reason)
}

// run runs cmd and returns its standard output. A failure names the
// command and carries its standard error. Arguments never hold secrets:
// passwords travel through files, environment variables or stdin.
func run(cmd *exec.Cmd) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("testpeer: %s: %w: %s", strings.Join(cmd.Args, " "), err,
			strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// exited reports whether err says the program ran and exited unsuccessfully
// (as opposed to not starting at all).
func exited(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee)
}

// readCert returns the DER bytes of the first certificate in file, which
// may hold PEM or DER.
func readCert(file string) ([]byte, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("testpeer: reading certificate: %w", err)
	}
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type == "CERTIFICATE" {
			return block.Bytes, nil
		}
	}
	if len(data) > 0 && data[0] == 0x30 {
		return data, nil
	}
	return nil, fmt.Errorf("testpeer: no certificate in %q", file)
}

// Fingerprint returns the upper-case hex SHA-1 fingerprint of the first
// certificate in file (PEM or DER), the form gpgsm uses to name
// certificates and in trustlist.txt.
func Fingerprint(file string) (string, error) {
	der, err := readCert(file)
	if err != nil {
		return "", err
	}
	sum := sha1.Sum(der)
	return strings.ToUpper(hex.EncodeToString(sum[:])), nil
}

// PKCS12 writes to out a PKCS#12 file holding the PEM key and cert, under
// friendly name name (NSS uses it as the nickname), encrypted with pass
// using the legacy PBE-SHA1-3DES that gpgsm 2.2 requires. It runs openssl.
func PKCS12(key, cert, pass, name, out string) error {
	args := []string{"pkcs12", "-export", "-legacy", "-inkey", key, "-in", cert,
		"-passout", "env:TESTPEER_P12_PASS", "-out", out}
	if name != "" {
		args = append(args, "-name", name)
	}
	cmd := exec.Command("openssl", args...)
	cmd.Env = append(os.Environ(), "TESTPEER_P12_PASS="+pass)
	_, err := run(cmd)
	return err
}

// exists returns an error unless file can be opened; it keeps a missing
// input from looking like a peer's rejection.
func exists(file string) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("testpeer: %w", err)
	}
	return f.Close()
}
