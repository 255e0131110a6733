package lab

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/asn1"
	"os"
	"path/filepath"
	"testing"

	"github.com/smimectl/smimectl/internal/chain"
	"github.com/smimectl/smimectl/internal/keys"
	"github.com/smimectl/smimectl/internal/mldsa"
)

// TestPQLab: Options.PQ adds an ML-DSA chain with an ML-DSA-65 user and an
// Ed25519 user, reproducibly, without changing any classic identity, and
// every certificate chains to its root (issue #18 item 6).
func TestPQLab(t *testing.T) {
	classic := testLab(t)
	a, err := New(Options{PQ: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Options{PQ: true})
	if err != nil {
		t.Fatal(err)
	}
	if a.PQRoot == nil || a.PQIntermediate == nil {
		t.Fatal("no PQ authorities")
	}
	for i, u := range classic.Users {
		if !bytes.Equal(u.Cert.Raw, a.Users[i].Cert.Raw) {
			t.Errorf("%s: certificate changed with PQ", u.Name)
		}
	}
	certs := func(l *Lab) [][]byte {
		out := [][]byte{l.PQRoot.Cert.Raw, l.PQIntermediate.Cert.Raw}
		for _, u := range l.Users {
			out = append(out, u.Cert.Raw)
		}
		return out
	}
	ca, cb := certs(a), certs(b)
	if len(ca) != len(cb) {
		t.Fatalf("%d and %d certificates", len(ca), len(cb))
	}
	for i := range ca {
		if !bytes.Equal(ca[i], cb[i]) {
			t.Errorf("certificate %d differs between two runs", i)
		}
	}
	other, err := New(Options{PQ: true, Seed: "2"})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(other.PQRoot.Cert.Raw, a.PQRoot.Cert.Raw) {
		t.Error("seed 2 gives the same PQ root")
	}

	// The PQ authorities' CRLs are signed with ML-DSA.
	for _, ca := range []*Authority{a.PQRoot, a.PQIntermediate} {
		crl, err := x509.ParseRevocationList(ca.CRL)
		if err != nil {
			t.Fatalf("%s CRL: %v", ca.Name, err)
		}
		alg, err := asn1AlgorithmOf(ca.CRL)
		if err != nil {
			t.Fatal(err)
		}
		if err := chain.CheckSignature(ca.Cert, crl.SignatureAlgorithm, alg, crl.RawTBSRevocationList, crl.Signature); err != nil {
			t.Errorf("%s CRL signature: %v", ca.Name, err)
		}
		if err := chain.CheckSignature(a.Root.Cert, crl.SignatureAlgorithm, alg, crl.RawTBSRevocationList, crl.Signature); err == nil {
			t.Errorf("%s CRL verifies with the classic root's key", ca.Name)
		}
	}

	at := a.Options.Epoch.AddDate(1, 0, 0)
	for _, tc := range []struct {
		user, root string
		param      mldsa.Parameters // 0: Ed25519
	}{
		{"frank-mldsa", "pq-root", mldsa.MLDSA65},
		{"grace-ed25519", "root", 0},
	} {
		t.Run(tc.user, func(t *testing.T) {
			u := a.User(tc.user)
			if u == nil {
				t.Fatal("no such user")
			}
			root := a.Root.Cert
			if tc.root == "pq-root" {
				root = a.PQRoot.Cert
			}
			res, err := chain.Build(u.Cert, chain.Options{
				Roots: []*x509.Certificate{root}, Intermediates: a.ChainFor(u), Time: at,
			})
			if err != nil {
				t.Fatalf("chain: %v", err)
			}
			if len(res.Chain) != 3 {
				t.Fatalf("chain of %d certificates, want 3", len(res.Chain))
			}
			// The other root must not do.
			wrong := a.PQRoot.Cert
			if tc.root == "pq-root" {
				wrong = a.Root.Cert
			}
			if _, err := chain.Build(u.Cert, chain.Options{Roots: []*x509.Certificate{wrong}, Intermediates: append(a.Chain(), a.PQChain()...), Time: at}); err == nil {
				t.Fatal("chained to the wrong root")
			}
			if tc.param != 0 {
				k, ok, err := mldsa.CertificatePublicKey(u.Cert)
				if !ok || err != nil || k.Parameters() != tc.param {
					t.Fatalf("certificate key: %v %v %v", k, ok, err)
				}
			} else if _, ok := u.Cert.PublicKey.(ed25519.PublicKey); !ok {
				t.Fatalf("key %T, want Ed25519", u.Cert.PublicKey)
			}
			if err := keys.MatchesKey(u.Cert, u.Key); err != nil {
				t.Fatal(err)
			}
		})
	}

	// Written out, the keys read back as the same signers.
	dir := t.TempDir()
	if err := a.WriteDir(dir, "pw"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"frank-mldsa", "grace-ed25519", "pq-root", "pq-intermediate"} {
		data, err := os.ReadFile(filepath.Join(dir, name+".key"))
		if err != nil {
			t.Fatal(err)
		}
		k, err := keys.ParsePrivateKey(data, nil)
		if err != nil {
			t.Fatalf("%s.key: %v", name, err)
		}
		cert, err := keys.ParseCertificates(mustRead(t, filepath.Join(dir, name+".crt")))
		if err != nil {
			t.Fatal(err)
		}
		if err := keys.MatchesKey(cert[0], k); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "frank-mldsa.p12")); !os.IsNotExist(err) {
		t.Errorf("frank-mldsa.p12: %v, want no such file", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "grace-ed25519.p12")); err != nil {
		t.Error(err)
	}
	readme := mustRead(t, filepath.Join(dir, "README.md"))
	for _, want := range []string{"| ML-DSA-87 |", "| ML-DSA-65 |", "| Ed25519 |", "pq-chain.pem"} {
		if !bytes.Contains(readme, []byte(want)) {
			t.Errorf("README lacks %q", want)
		}
	}
}

// asn1AlgorithmOf returns the outer signatureAlgorithm (DER) of a signed
// object (certificate or CRL): SEQUENCE { tbs, algorithm, signature }.
func asn1AlgorithmOf(der []byte) ([]byte, error) {
	var v struct {
		TBS, Alg asn1.RawValue
		Sig      asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &v); err != nil {
		return nil, err
	}
	return v.Alg.FullBytes, nil
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
