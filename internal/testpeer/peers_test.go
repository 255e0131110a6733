package testpeer

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// newGPGSM returns a gpgsm home trusting p's root, with alice's key, that
// is closed when t ends; it then checks that no gpg-agent was left behind.
func newGPGSM(t *testing.T, p *testPKI, root string) *GPGSM {
	t.Helper()
	Require(t, "gpgsm")
	g, err := NewGPGSM(root, p.inter)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := g.Close(); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(g.Home); !os.IsNotExist(err) {
			t.Errorf("gpgsm home %s still exists after Close (stat: %v)", g.Home, err)
		}
		checkNoProcess(t, g.Home)
	})
	return g
}

// checkNoProcess fails t if a process whose command line mentions home
// (gpg-agent, dirmngr) is still running a few seconds after Close.
func checkNoProcess(t *testing.T, home string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		stray := processesMentioning(home)
		if len(stray) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("processes left running for %s: %s", home, strings.Join(stray, "; "))
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func processesMentioning(s string) []string {
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var found []string
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		cmdline := string(bytes.ReplaceAll(b, []byte{0}, []byte{' '}))
		if strings.Contains(cmdline, s) {
			found = append(found, filepath.Base(filepath.Dir(d))+": "+cmdline)
		}
	}
	return found
}

func newNSS(t *testing.T, p *testPKI, root string) *NSS {
	t.Helper()
	Require(t, "cmsutil")
	n, err := NewNSS(filepath.Join(t.TempDir(), "nssdb"), root, p.inter)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// opensslSign signs p.msg with key and cert as S/MIME, clear or opaque,
// and returns the message file.
func opensslSign(t *testing.T, p *testPKI, key, cert string, opaque bool) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "signed.eml")
	args := []string{"cms", "-sign", "-signer", cert, "-inkey", key, "-certfile", p.inter,
		"-md", "sha256", "-in", p.msg, "-out", out}
	if opaque {
		args = append(args, "-nodetach")
	}
	if err := openssl(p.dir, args...); err != nil {
		t.Fatal(err)
	}
	return out
}

// split turns an S/MIME message from openssl into the raw CMS and detached
// content files gpgsm and cmsutil read (content is "" for opaque).
func split(t *testing.T, msgFile string, opaque bool) (cms, content string) {
	t.Helper()
	msg, err := os.ReadFile(msgFile)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cms = filepath.Join(dir, "sig.p7")
	if opaque {
		der, err := SMIMEBody(msg)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, cms, der)
		return cms, ""
	}
	sig, err := MIMEPart(msg, 2)
	if err != nil {
		t.Fatal(err)
	}
	body, err := MIMEPartRaw(msg, 1)
	if err != nil {
		t.Fatal(err)
	}
	content = filepath.Join(dir, "content.txt")
	writeFile(t, cms, sig)
	writeFile(t, content, body)
	return cms, content
}

func writeFile(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// tamper writes a copy of file with one byte of text changed.
func tamper(t *testing.T, file string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(data, []byte("Hello"))
	if i < 0 {
		t.Fatalf("%s has no text to tamper with", file)
	}
	data = bytes.Clone(data)
	data[i] = 'J'
	out := filepath.Join(t.TempDir(), "tampered")
	writeFile(t, out, data)
	return out
}

// verifier is the common shape of GPGSM.Verify and NSS.Verify.
type verifier func(cms, content string) error

func wantAccept(t *testing.T, name string, v verifier, cms, content string) {
	t.Helper()
	if err := v(cms, content); err != nil {
		t.Errorf("%s: got %v, want accepted", name, err)
	}
}

func wantReject(t *testing.T, name string, v verifier, cms, content string) {
	t.Helper()
	err := v(cms, content)
	var rej *RejectedError
	if !errors.As(err, &rej) {
		t.Errorf("%s: got %v, want a *RejectedError", name, err)
		return
	}
	t.Logf("%s: rejected: %v", name, err)
}

// TestOpenSSLSignedToPeers checks that gpgsm and cmsutil, driven by this
// package, accept what openssl signs and reject what they should.
func TestOpenSSLSignedToPeers(t *testing.T) {
	t.Parallel()
	p := sharedPKI(t)
	g := newGPGSM(t, p, p.root)
	gOther := newGPGSM(t, p, p.otherRoot)
	n := newNSS(t, p, p.root)
	nOther := newNSS(t, p, p.otherRoot)
	peers := []struct {
		name           string
		trusted, other verifier
	}{
		{"gpgsm", g.Verify, gOther.Verify},
		{"cmsutil", n.Verify, nOther.Verify},
	}
	for _, opaque := range []bool{false, true} {
		mode := map[bool]string{false: "clear", true: "opaque"}[opaque]
		cms, content := split(t, opensslSign(t, p, p.aliceKey, p.alice, opaque), opaque)
		expCMS, expContent := split(t, opensslSign(t, p, p.expiredKey, p.expired, opaque), opaque)
		var badCMS, badContent string
		if opaque {
			badCMS = tamper(t, cms) // the text is inside the CMS
		} else {
			badCMS, badContent = cms, tamper(t, content)
		}
		for _, peer := range peers {
			t.Run(mode+"/"+peer.name, func(t *testing.T) {
				wantAccept(t, "good", peer.trusted, cms, content)
				wantReject(t, "tampered", peer.trusted, badCMS, badContent)
				wantReject(t, "untrusted root", peer.other, cms, content)
				wantReject(t, "expired signer", peer.trusted, expCMS, expContent)
				if err := peer.trusted(filepath.Join(t.TempDir(), "missing"), content); err == nil || errors.As(err, new(*RejectedError)) {
					t.Errorf("missing file: got %v, want an error that is not a rejection", err)
				}
			})
		}
	}
}

// opensslVerify has openssl cms -verify check an S/MIME message and
// returns the content it releases.
func opensslVerify(t *testing.T, p *testPKI, msg string) ([]byte, error) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	cmd := exec.Command("openssl", "cms", "-verify", "-CAfile", p.chain, "-purpose", "any", "-in", msg, "-out", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, &RejectedError{Peer: "openssl", Reason: string(b)}
	}
	return os.ReadFile(out)
}

// TestPeerSignedToOpenSSL checks that what gpgsm and cmsutil sign, wrapped
// in MIME by this package, is accepted by openssl (and by each other).
func TestPeerSignedToOpenSSL(t *testing.T) {
	t.Parallel()
	p := sharedPKI(t)
	g := newGPGSM(t, p, p.root)
	if err := g.ImportKey(p.aliceKey, p.alice, p.pass); err != nil {
		t.Fatal(err)
	}
	n := newNSS(t, p, p.root)
	if err := n.ImportPKCS12(p.aliceP12, p.pass); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(p.msg)
	if err != nil {
		t.Fatal(err)
	}
	signers := []struct {
		name           string
		detach, opaque func(in, out string) error
		check          verifier // the other peer
	}{
		{"gpgsm",
			func(in, out string) error { return g.SignDetached(p.alice, p.pass, in, out) },
			func(in, out string) error { return g.SignOpaque(p.alice, p.pass, in, out) },
			n.Verify},
		{"cmsutil",
			func(in, out string) error { return n.SignDetached("alice", in, out) },
			func(in, out string) error { return n.SignOpaque("alice", in, out) },
			g.Verify},
	}
	for _, s := range signers {
		t.Run(s.name+"/clear", func(t *testing.T) {
			sig := filepath.Join(t.TempDir(), "sig.p7s")
			if err := s.detach(p.msg, sig); err != nil {
				t.Fatal(err)
			}
			wantAccept(t, "other peer", s.check, sig, p.msg)
			der, err := os.ReadFile(sig)
			if err != nil {
				t.Fatal(err)
			}
			msg, err := WrapSigned(want, der, "")
			if err != nil {
				t.Fatal(err)
			}
			eml := filepath.Join(t.TempDir(), "signed.eml")
			writeFile(t, eml, msg)
			got, err := opensslVerify(t, p, eml)
			if err != nil {
				t.Fatalf("openssl: %v", err)
			}
			if !bytes.Equal(bytes.ReplaceAll(got, []byte("\r\n"), []byte("\n")), bytes.ReplaceAll(want, []byte("\r\n"), []byte("\n"))) {
				t.Errorf("openssl released %q, want %q", got, want)
			}
			// The wrapped message must not verify once its content changes.
			writeFile(t, eml, bytes.Replace(msg, []byte("Hello"), []byte("Jello"), 1))
			if _, err := opensslVerify(t, p, eml); err == nil {
				t.Errorf("openssl accepted a tampered message")
			}
		})
		t.Run(s.name+"/opaque", func(t *testing.T) {
			sig := filepath.Join(t.TempDir(), "sig.p7m")
			if err := s.opaque(p.msg, sig); err != nil {
				t.Fatal(err)
			}
			wantAccept(t, "other peer", s.check, sig, "")
			der, err := os.ReadFile(sig)
			if err != nil {
				t.Fatal(err)
			}
			msg, err := WrapPKCS7MIME(der)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(msg, []byte("smime-type=signed-data")) {
				t.Errorf("wrapped message lacks smime-type=signed-data:\n%s", msg[:200])
			}
			eml := filepath.Join(t.TempDir(), "signed.eml")
			writeFile(t, eml, msg)
			got, err := opensslVerify(t, p, eml)
			if err != nil {
				t.Fatalf("openssl: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("openssl released %q, want %q", got, want)
			}
		})
	}
}
