//go:build cgo

package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/miekg/pkcs11"

	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/internal/testpeer"
)

// Issue #12: keys on a PKCS#11 token (a fresh SoftHSM2 token per test).

const testPIN = "314159"

// testToken is a SoftHSM2 token holding the lab's bob (RSA, CKA_ID 01) and
// carol (P-256, CKA_ID 02) with their certificates, and the intermediate.
type testToken struct {
	hsm   *testpeer.SoftHSM
	lab   *lab.Lab
	uri   string // the token, with module-path
	bob   *lab.User
	carol *lab.User
}

func newTestToken(t *testing.T) *testToken {
	t.Helper()
	testpeer.Require(t, "softhsm")
	dir := t.TempDir()
	hsm, err := testpeer.NewSoftHSM(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", hsm.Conf)
	if err := hsm.InitToken("smimectl test", "so"+testPIN, testPIN); err != nil {
		t.Fatal(err)
	}
	l, err := lab.New(lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tt := &testToken{hsm: hsm, lab: l, bob: l.User("bob"), carol: l.User("carol"),
		uri: "pkcs11:token=smimectl%20test?module-path=" + hsm.Module}
	for i, u := range []*lab.User{tt.bob, tt.carol} {
		der, err := x509.MarshalPKCS8PrivateKey(u.Key)
		if err != nil {
			t.Fatal(err)
		}
		keyFile := filepath.Join(dir, u.Name+".key")
		certFile := filepath.Join(dir, u.Name+".crt")
		writePEM(t, keyFile, "PRIVATE KEY", der)
		writePEM(t, certFile, "CERTIFICATE", u.Cert.Raw)
		id := []byte{byte(i + 1)}
		if err := hsm.ImportKey("smimectl test", testPIN, keyFile, u.Name, id); err != nil {
			t.Fatal(err)
		}
		if err := hsm.ImportCert("smimectl test", testPIN, certFile, u.Name, id); err != nil {
			t.Fatal(err)
		}
	}
	inter := filepath.Join(dir, "intermediate.crt")
	writePEM(t, inter, "CERTIFICATE", l.Intermediate.Cert.Raw)
	if err := hsm.ImportCert("smimectl test", testPIN, inter, "intermediate", []byte{0x10}); err != nil {
		t.Fatal(err)
	}
	return tt
}

func writePEM(t *testing.T, file, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func staticPIN(pin string) func() ([]byte, error) {
	return func() ([]byte, error) { return []byte(pin), nil }
}

// open opens the identity uri+object names and registers its Close.
func (tt *testToken) open(t *testing.T, object string, opts TokenOptions) *Identity {
	t.Helper()
	u, err := ParsePKCS11URI(tt.uriFor(object))
	if err != nil {
		t.Fatal(err)
	}
	if opts.PIN == nil {
		opts.PIN = staticPIN(testPIN)
	}
	id, err := OpenTokenIdentity(u, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := id.Close(); err != nil {
			t.Error(err)
		}
	})
	return id
}

func (tt *testToken) uriFor(object string) string {
	return "pkcs11:token=smimectl%20test;object=" + object + "?module-path=" + tt.hsm.Module
}

func TestTokenSign(t *testing.T) {
	tt := newTestToken(t)
	bob := tt.open(t, "bob", TokenOptions{})
	carol := tt.open(t, "carol", TokenOptions{})
	if !bob.Certificate.Equal(tt.bob.Cert) || !carol.Certificate.Equal(tt.carol.Cert) {
		t.Fatal("the token identities do not carry the imported certificates")
	}
	if len(bob.Chain) != 1 || !bob.Chain[0].Equal(tt.lab.Intermediate.Cert) {
		t.Errorf("chain: got %d certificates, want the intermediate", len(bob.Chain))
	}
	digest := sha256.Sum256([]byte("a message"))
	sig, err := bob.Signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(tt.bob.Cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], sig); err != nil {
		t.Errorf("PKCS#1 v1.5: %v", err)
	}
	pss := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
	sig, err = bob.Signer.Sign(rand.Reader, digest[:], pss)
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPSS(tt.bob.Cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], sig, pss); err != nil {
		t.Errorf("PSS: %v", err)
	}
	sig, err = carol.Signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if !ecdsa.VerifyASN1(tt.carol.Cert.PublicKey.(*ecdsa.PublicKey), digest[:], sig) {
		t.Error("ECDSA signature does not verify")
	}
}

func TestTokenDecrypt(t *testing.T) {
	tt := newTestToken(t)
	bob := tt.open(t, "bob", TokenOptions{})
	dec, ok := bob.Signer.(crypto.Decrypter)
	if !ok {
		t.Fatal("the RSA token key is not a crypto.Decrypter")
	}
	if _, ok := bob.Signer.(interface {
		ECDH(*ecdh.PublicKey) ([]byte, error)
	}); ok {
		t.Error("the RSA token key claims ECDH")
	}
	pub := tt.bob.Cert.PublicKey.(*rsa.PublicKey)
	secret := []byte("0123456789abcdef0123456789abcdef")
	//lint:ignore SA1019 the key transport S/MIME mail still uses
	v15, err := rsa.EncryptPKCS1v15(rand.Reader, pub, secret)
	if err != nil {
		t.Fatal(err)
	}
	oaep1, _ := rsa.EncryptOAEP(sha1.New(), rand.Reader, pub, secret, nil)
	for _, tc := range []struct {
		name string
		ct   []byte
		opts crypto.DecrypterOpts
	}{
		{"v1.5", v15, nil},
		//lint:ignore SA1019 the key transport S/MIME mail still uses
		{"v1.5 session key", v15, &rsa.PKCS1v15DecryptOptions{SessionKeyLen: 32}},
		{"oaep sha1", oaep1, &rsa.OAEPOptions{Hash: crypto.SHA1}},
		// SoftHSM2 2.6 does OAEP with SHA-1 only (what openssl cms
		// -keyopt rsa_padding_mode:oaep writes); cards vary.
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := dec.Decrypt(rand.Reader, tc.ct, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, secret) {
				t.Errorf("got %x, want %x", got, secret)
			}
		})
	}
	// A damaged v1.5 ciphertext with SessionKeyLen gives a random key of the
	// length, not an error: no padding oracle.
	bad := bytes.Clone(v15)
	bad[len(bad)/2] ^= 1
	//lint:ignore SA1019 the key transport S/MIME mail still uses
	got, err := dec.Decrypt(rand.Reader, bad, &rsa.PKCS1v15DecryptOptions{SessionKeyLen: 32})
	if err != nil || len(got) != 32 || bytes.Equal(got, secret) {
		t.Errorf("damaged v1.5: got %x, %v; want 32 random bytes and no error", got, err)
	}
}

func TestTokenECDH(t *testing.T) {
	tt := newTestToken(t)
	carol := tt.open(t, "carol", TokenOptions{})
	ka, ok := carol.Signer.(interface {
		ECDH(*ecdh.PublicKey) ([]byte, error)
	})
	if !ok {
		t.Fatal("the EC token key has no ECDH")
	}
	eph, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	theirs, _ := tt.carol.Cert.PublicKey.(*ecdsa.PublicKey).ECDH()
	want, err := eph.ECDH(theirs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ka.ECDH(eph.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("got %x, want %x", got, want)
	}
	other, _ := ecdh.P384().GenerateKey(rand.Reader)
	if _, err := ka.ECDH(other.PublicKey()); err == nil {
		t.Error("ECDH with a P-384 key succeeded on a P-256 token key")
	}
}

func TestTokenCertificates(t *testing.T) {
	tt := newTestToken(t)
	u, _ := ParsePKCS11URI(tt.uri)
	for _, login := range []bool{false, true} {
		opts := TokenOptions{}
		if login {
			opts.PIN = staticPIN(testPIN)
		}
		tok, err := OpenToken(u, opts)
		if err != nil {
			t.Fatal(err)
		}
		certs, err := tok.Certificates()
		if cerr := tok.Close(); cerr != nil {
			t.Error(cerr)
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(certs) != 3 {
			t.Fatalf("login %v: got %d certificates, want 3", login, len(certs))
		}
		keys := 0
		for _, c := range certs {
			if c.Key != nil {
				keys++
				if err := MatchesKey(c.Certificate, c.Key); err != nil {
					t.Errorf("%s: %v", c.URI, err)
				}
			}
		}
		if want := map[bool]int{false: 0, true: 2}[login]; keys != want {
			t.Errorf("login %v: got %d keys, want %d", login, keys, want)
		}
	}
}

// countingModule counts sessions and initialisations (the session-leak
// check of issue #12).
type countingModule struct {
	module
	mu                            sync.Mutex
	open, closed, init, fin, dest int
	logins                        int
}

func (m *countingModule) Login(sh pkcs11.SessionHandle, userType uint, pin string) error {
	m.mu.Lock()
	m.logins++
	m.mu.Unlock()
	return m.module.Login(sh, userType, pin)
}

func (m *countingModule) Initialize(o ...pkcs11.InitializeOption) error {
	m.mu.Lock()
	m.init++
	m.mu.Unlock()
	return m.module.Initialize(o...)
}

func (m *countingModule) Finalize() error {
	m.mu.Lock()
	m.fin++
	m.mu.Unlock()
	return m.module.Finalize()
}

func (m *countingModule) Destroy() {
	m.mu.Lock()
	m.dest++
	m.mu.Unlock()
	m.module.Destroy()
}

func (m *countingModule) OpenSession(slot, flags uint) (pkcs11.SessionHandle, error) {
	sh, err := m.module.OpenSession(slot, flags)
	if err == nil {
		m.mu.Lock()
		m.open++
		m.mu.Unlock()
	}
	return sh, err
}

func (m *countingModule) CloseSession(sh pkcs11.SessionHandle) error {
	err := m.module.CloseSession(sh)
	if err == nil {
		m.mu.Lock()
		m.closed++
		m.mu.Unlock()
	}
	return err
}

// TestTokenSessions: after success and after every failure path, every
// session opened is closed and the module is finalised and unloaded.
func TestTokenSessions(t *testing.T) {
	tt := newTestToken(t)
	for _, tc := range []struct {
		name   string
		uri    string
		pin    func() ([]byte, error)
		useKey bool
		want   error // nil: success
		sess   int   // sessions that must have been opened
	}{
		{name: "success", uri: tt.uriFor("bob"), pin: staticPIN(testPIN), useKey: true, sess: 1},
		{name: "wrong PIN", uri: tt.uriFor("bob"), pin: staticPIN("000000"), want: ErrIncorrectPIN, sess: 1},
		{name: "PIN source fails", uri: tt.uriFor("bob"), pin: func() ([]byte, error) { return nil, os.ErrNotExist }, want: os.ErrNotExist, sess: 1},
		{name: "no such key", uri: tt.uriFor("mallory"), pin: staticPIN(testPIN), want: &ObjectNotFoundError{}, sess: 1},
		{name: "token absent", uri: "pkcs11:token=absent?module-path=" + tt.hsm.Module, pin: staticPIN(testPIN), want: &TokenNotFoundError{}, sess: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cm *countingModule
			opts := TokenOptions{PIN: tc.pin, hook: func(m module) module { cm = &countingModule{module: m}; return cm }}
			u, err := ParsePKCS11URI(tc.uri)
			if err != nil {
				t.Fatal(err)
			}
			id, err := OpenTokenIdentity(u, opts, nil)
			switch want := tc.want.(type) {
			case nil:
				if err != nil {
					t.Fatal(err)
				}
				if tc.useKey {
					// Several signatures, one login (issue #12: no
					// per-signature login).
					for range 3 {
						d := sha256.Sum256(nil)
						if _, err := id.Signer.Sign(rand.Reader, d[:], crypto.SHA256); err != nil {
							t.Fatal(err)
						}
					}
					if cm.logins != 1 {
						t.Errorf("%d logins for 3 signatures, want 1", cm.logins)
					}
				}
				if cm.closed != 0 || cm.fin != 0 {
					t.Fatal("the token was closed before Close")
				}
				if err := id.Close(); err != nil {
					t.Fatal(err)
				}
				d := sha256.Sum256(nil)
				if _, err := id.Signer.Sign(rand.Reader, d[:], crypto.SHA256); err == nil {
					t.Error("a key signed after Close")
				}
			case *ObjectNotFoundError:
				if !errors.As(err, &want) {
					t.Fatalf("got %v, want %T", err, want)
				}
			case *TokenNotFoundError:
				if !errors.As(err, &want) {
					t.Fatalf("got %v, want %T", err, want)
				}
			default:
				if !errors.Is(err, tc.want) {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
			}
			if cm == nil {
				t.Fatal("the module was never loaded")
			}
			if cm.open != tc.sess || cm.closed != cm.open || cm.init != 1 || cm.fin != 1 || cm.dest != 1 {
				t.Errorf("sessions opened %d closed %d (want %d each); initialised %d finalised %d destroyed %d (want 1 each)",
					cm.open, cm.closed, tc.sess, cm.init, cm.fin, cm.dest)
			}
		})
	}
}

func TestTokenPINNeverInError(t *testing.T) {
	tt := newTestToken(t)
	const wrong = "97531864"
	u, _ := ParsePKCS11URI(tt.uriFor("bob"))
	_, err := OpenTokenIdentity(u, TokenOptions{PIN: staticPIN(wrong)}, nil)
	if !errors.Is(err, ErrIncorrectPIN) {
		t.Fatalf("got %v, want ErrIncorrectPIN", err)
	}
	if bytes.Contains([]byte(err.Error()), []byte(wrong)) {
		t.Errorf("the error %q holds the PIN", err)
	}
}

func TestRawToASN1(t *testing.T) {
	raw := append(bytes.Repeat([]byte{0}, 31), 5)
	raw = append(raw, append([]byte{0x80}, bytes.Repeat([]byte{1}, 31)...)...)
	der, err := rawToASN1(raw, 32)
	if err != nil {
		t.Fatal(err)
	}
	// SEQUENCE { INTEGER 5, INTEGER 0x0080... (a leading zero: positive) }
	if der[0] != 0x30 || der[2] != 0x02 || der[3] != 1 || der[4] != 5 || der[5] != 0x02 || der[6] != 33 || der[7] != 0 {
		t.Errorf("got %x", der)
	}
	for _, bad := range [][]byte{raw[:63], make([]byte, 64)} {
		if _, err := rawToASN1(bad, 32); err == nil {
			t.Errorf("rawToASN1(%x) succeeded", bad)
		}
	}
}
