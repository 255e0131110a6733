package testpeer

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// IndexEntry is one certificate in an OpenSSL CA database (the index.txt of
// "openssl ca"), which "openssl ocsp -index" answers from.
type IndexEntry struct {
	Cert *x509.Certificate
	// RevokedAt, if not zero, marks the certificate revoked then, for
	// Reason (an OpenSSL reason name such as "keyCompromise"; "" for none).
	RevokedAt time.Time
	Reason    string
}

// Index renders entries in the index.txt format: tab-separated status (V or
// R), expiry, revocation time[,reason], serial in upper-case hex, file name
// ("unknown") and subject.
func Index(entries []IndexEntry) string {
	const asn1Time = "060102150405Z"
	var b strings.Builder
	for _, e := range entries {
		serial := fmt.Sprintf("%X", e.Cert.SerialNumber)
		if len(serial)%2 == 1 {
			serial = "0" + serial
		}
		status, revoked := "V", ""
		if !e.RevokedAt.IsZero() {
			status, revoked = "R", e.RevokedAt.UTC().Format(asn1Time)
			if e.Reason != "" {
				revoked += "," + e.Reason
			}
		}
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\tunknown\t/CN=%s\n", status, e.Cert.NotAfter.UTC().Format(asn1Time), revoked, serial, e.Cert.Subject.CommonName)
	}
	return b.String()
}

// FreePort returns a TCP port that was free on 127.0.0.1 a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// StartOCSP runs "openssl ocsp" as a responder on port for the certificates
// in entries, issued by ca and signed with caKey (the issuer answers for
// itself), until the test ends. OpenSSL 3.0 listens on every interface:
// send it traffic on 127.0.0.1 only (PEERS.md). It returns the responder's
// URL, http://127.0.0.1:PORT/.
func StartOCSP(t testing.TB, port int, ca *x509.Certificate, caKey crypto.Signer, entries []IndexEntry) string {
	t.Helper()
	Require(t, "openssl")
	dir := t.TempDir()
	keyDER, err := x509.MarshalPKCS8PrivateKey(caKey)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"index.txt": []byte(Index(entries)),
		"ca.crt":    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}),
		"ca.key":    pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("openssl", "ocsp", "-index", "index.txt", "-port", strconv.Itoa(port),
		"-rsigner", "ca.crt", "-rkey", "ca.key", "-CA", "ca.crt", "-nmin", "60", "-ignore_err")
	cmd.Dir = dir
	// Wait for its banner, not for a connection: OpenSSL 3.0's responder
	// stops answering after a client connects and closes without a request.
	out := &bannerWriter{banner: "waiting for OCSP client connections", seen: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("testpeer: starting openssl ocsp: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	select {
	case <-out.seen:
	case <-exited:
		t.Fatalf("testpeer: openssl ocsp exited: %s", out.String())
	case <-time.After(10 * time.Second):
		t.Fatalf("testpeer: openssl ocsp is not listening on port %d after 10s: %s", port, out.String())
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return "http://" + addr + "/"
}

// bannerWriter collects a program's output and closes seen once banner
// has appeared in it.
type bannerWriter struct {
	mu     sync.Mutex
	buf    strings.Builder
	banner string
	seen   chan struct{}
	done   bool
}

func (w *bannerWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.done && strings.Contains(w.buf.String(), w.banner) {
		w.done = true
		close(w.seen)
	}
	return len(p), nil
}

func (w *bannerWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
