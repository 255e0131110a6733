package encrypt

import (
	"bytes"
	"crypto/x509"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/smimectl/smimectl/internal/lab/labtest"
)

// TestDecryptErrorsSayDecrypt (issue #11 item 15): every error of Decrypt
// names the operation the user asked for, "decrypt:", never "encrypt:".
func TestDecryptErrorsSayDecrypt(t *testing.T) {
	l := labtest.Seeded(t, "encrypt")
	bob, carol := l.User("bob"), l.User("carol")
	gcm := encryptMsg(t, testMsg, Options{Recipients: []*x509.Certificate{bob.Cert}, Ciphers: []Cipher{AES256GCM}})
	flipped := append([]byte(nil), gcm...)
	i := bytes.LastIndex(flipped, []byte("\r\n")) - 40
	flipped[i] ^= 'A' ^ 'B'
	bobOpts := DecryptOptions{Certificate: bob.Cert, Key: bob.Key}
	tests := []struct {
		name string
		msg  []byte
		opts DecryptOptions
	}{
		{"no key", gcm, DecryptOptions{}},
		{"not for us", gcm, DecryptOptions{Certificate: carol.Cert, Key: carol.Key}},
		{"flipped", flipped, bobOpts},
		{"truncated", gcm[:len(gcm)-100], bobOpts},
		{"not encrypted", []byte(testMsg), bobOpts},
		{"no header", []byte("\x00\x01"), bobOpts},
		{"spool directory missing", gcm, DecryptOptions{Certificate: bob.Cert, Key: bob.Key,
			SpoolDir: filepath.Join(t.TempDir(), "missing"), SpoolThreshold: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decrypt(new(bytes.Buffer), bytes.NewReader(tc.msg), tc.opts)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), "decrypt: ") {
				t.Errorf("got %q, want it to start with \"decrypt: \"", err)
			}
			if strings.Contains(strings.ReplaceAll(err.Error(), "decrypt: ", ""), "encrypt: ") {
				t.Errorf("got %q, which says \"encrypt: \"", err)
			}
		})
	}
}

// TestDecryptSpoolFault (issue #11 item 15): a spool directory that is
// missing is a fault of this machine: the error carries the file system's
// reason and is not a *MalformedError or *DecryptError (a verdict on the
// message).
func TestDecryptSpoolFault(t *testing.T) {
	l := labtest.Seeded(t, "encrypt")
	bob := l.User("bob")
	msg := encryptMsg(t, testMsg, Options{Recipients: []*x509.Certificate{bob.Cert}})
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, dir := range map[string]string{"missing": filepath.Join(t.TempDir(), "missing"), "not a directory": notDir} {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := Decrypt(&out, bytes.NewReader(msg), DecryptOptions{Certificate: bob.Cert, Key: bob.Key, SpoolDir: dir, SpoolThreshold: 1})
			var pe *fs.PathError
			var me *MalformedError
			var de *DecryptError
			if !errors.As(err, &pe) || !(errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ENOTDIR)) {
				t.Errorf("got %v, want the *fs.PathError of the spool directory", err)
			}
			if errors.As(err, &me) || errors.As(err, &de) {
				t.Errorf("got %T %v: a local fault reported as a verdict on the message", err, err)
			}
			if out.Len() != 0 {
				t.Error("output written")
			}
		})
	}
}
