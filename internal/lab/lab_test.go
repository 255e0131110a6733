package lab

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// The default lab is built once per test binary: New derives nine RSA keys.
var (
	defaultOnce     sync.Once
	defaultLab      *Lab
	defaultErr      error
	defaultDuration time.Duration
)

// testLab returns the lab for the zero Options, built once.
func testLab(t testing.TB) *Lab {
	t.Helper()
	defaultOnce.Do(func() {
		start := time.Now()
		defaultLab, defaultErr = New(Options{})
		defaultDuration = time.Since(start)
	})
	if defaultErr != nil {
		t.Fatalf("New(Options{}): %v", defaultErr)
	}
	return defaultLab
}

// customOptions differ from the defaults in every field.
var customOptions = Options{
	Seed:       "custom",
	Epoch:      time.Date(2030, 6, 1, 12, 0, 0, 5e8, time.FixedZone("X", 3600)),
	Domain:     "corp.example",
	CRLBaseURL: "ldap://dir.corp.example/crl/",
}

var (
	customOnce sync.Once
	customLab  *Lab
	customErr  error
)

// testCustomLab returns the lab for customOptions, built once.
func testCustomLab(t testing.TB) *Lab {
	t.Helper()
	customOnce.Do(func() { customLab, customErr = New(customOptions) })
	if customErr != nil {
		t.Fatalf("New(%+v): %v", customOptions, customErr)
	}
	return customLab
}

func TestNewDuration(t *testing.T) {
	testLab(t)
	t.Logf("New took %v", defaultDuration)
	// About half a second on an idle two-core machine (see BenchmarkNew).
	// The bound catches a runaway search, not a busy machine: CI shares its
	// cores and runs with -race, so a tight wall-clock bound would flake.
	if defaultDuration > 60*time.Second {
		t.Errorf("New took %v, want well under a few seconds", defaultDuration)
	}
}

func TestDefaults(t *testing.T) {
	l := testLab(t)
	want := Options{
		Seed:       "1",
		Epoch:      time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Domain:     "example.com",
		CRLBaseURL: "http://crl.lab.example/",
	}
	if l.Options != want {
		t.Errorf("Options = %+v, want %+v", l.Options, want)
	}
}

// keyParams lists the private parameters of a key for comparison.
func keyParams(t *testing.T, k crypto.Signer) []*big.Int {
	t.Helper()
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return append([]*big.Int{k.N, big.NewInt(int64(k.E)), k.D}, k.Primes...)
	case *ecdsa.PrivateKey:
		b, err := k.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		return []*big.Int{new(big.Int).SetBytes(b)}
	}
	t.Fatalf("unexpected key type %T", k)
	return nil
}

func equalParams(a, b []*big.Int) bool {
	return slices.EqualFunc(a, b, func(x, y *big.Int) bool { return x.Cmp(y) == 0 })
}

func TestDeterminism(t *testing.T) {
	a := testLab(t)
	b, err := New(Options{Seed: "1", Epoch: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	c := testCustomLab(t)

	type item struct {
		name string
		cert *x509.Certificate
		key  crypto.Signer
	}
	items := func(l *Lab) []item {
		it := []item{{"root", l.Root.Cert, l.Root.Key}, {"intermediate", l.Intermediate.Cert, l.Intermediate.Key}}
		for _, u := range l.Users {
			it = append(it, item{u.Name, u.Cert, u.Key})
		}
		return it
	}
	ia, ib, ic := items(a), items(b), items(c)
	if len(ia) != len(ib) || len(ia) != len(ic) {
		t.Fatalf("identity counts differ: %d, %d, %d", len(ia), len(ib), len(ic))
	}
	for i := range ia {
		t.Run(ia[i].name, func(t *testing.T) {
			if !bytes.Equal(ia[i].cert.Raw, ib[i].cert.Raw) {
				t.Error("same seed: certificates differ")
			}
			if !equalParams(keyParams(t, ia[i].key), keyParams(t, ib[i].key)) {
				t.Error("same seed: private keys differ")
			}
			if equalParams(keyParams(t, ia[i].key), keyParams(t, ic[i].key)) {
				t.Error("different seeds: private keys equal")
			}
			if ia[i].cert.SerialNumber.Cmp(ic[i].cert.SerialNumber) == 0 {
				t.Error("different seeds: serial numbers equal")
			}
			if bytes.Equal(ia[i].cert.Raw, ic[i].cert.Raw) {
				t.Error("different seeds: certificates equal")
			}
		})
	}
	for _, p := range []struct {
		name    string
		a, b, c []byte
	}{
		{"root CRL", a.Root.CRL, b.Root.CRL, c.Root.CRL},
		{"intermediate CRL", a.Intermediate.CRL, b.Intermediate.CRL, c.Intermediate.CRL},
	} {
		if !bytes.Equal(p.a, p.b) {
			t.Errorf("same seed: %s differs", p.name)
		}
		if bytes.Equal(p.a, p.c) {
			t.Errorf("different seeds: %s equal", p.name)
		}
	}
}

// TestStreamConstruction recomputes the documented stream with HMAC alone
// (RFC 5869), across a chunk boundary, so the construction cannot drift
// without this test failing.
func TestStreamConstruction(t *testing.T) {
	hm := func(key, msg []byte) []byte {
		h := hmac.New(sha256.New, key)
		h.Write(msg)
		return h.Sum(nil)
	}
	seed, label := "seed", "key/test"
	prk := hm([]byte(streamSalt), []byte(seed))
	var want []byte
	for chunk := 0; chunk < 2; chunk++ {
		info := []byte(streamSalt + " " + label + " " + strconv.Itoa(chunk))
		var tPrev []byte
		for i := 1; i <= 255; i++ {
			tPrev = hm(prk, append(append(slices.Clone(tPrev), info...), byte(i)))
			want = append(want, tPrev...)
		}
	}
	gotPRK, err := extractSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	s := newStream(gotPRK, label)
	got := make([]byte, len(want))
	// Read in odd sizes to exercise buffering.
	for off := 0; off < len(got); {
		n := min(1000, len(got)-off)
		if _, err := s.Read(got[off : off+n]); err != nil {
			t.Fatal(err)
		}
		off += n
	}
	if !bytes.Equal(got, want) {
		t.Error("stream differs from HKDF-SHA256 recomputation")
	}
}

// fixedReader returns the same byte forever.
type fixedReader byte

func (f fixedReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(f)
	}
	return len(p), nil
}

// failingReader always fails.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("broken") }

func TestDeriveECKeyRejection(t *testing.T) {
	curveN := elliptic.P256().Params().N
	// All ones is above N: every candidate is rejected.
	if _, err := deriveECKey(fixedReader(0xff), elliptic.P256()); err == nil {
		t.Error("deriveECKey with only out-of-range scalars: no error")
	}
	// All zeros is zero: rejected too.
	if _, err := deriveECKey(fixedReader(0), elliptic.P256()); err == nil {
		t.Error("deriveECKey with only zero scalars: no error")
	}
	// A rejected candidate followed by an accepted one gives the second.
	second := bytes.Repeat([]byte{0x42}, 32)
	r := bytes.NewReader(append(bytes.Repeat([]byte{0xff}, 32), second...))
	k, err := deriveECKey(r, elliptic.P256())
	if err != nil {
		t.Fatal(err)
	}
	got, err := k.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, second) || new(big.Int).SetBytes(got).Cmp(curveN) >= 0 {
		t.Errorf("got scalar %x, want %x", got, second)
	}
	if _, err := deriveECKey(failingReader{}, elliptic.P256()); err == nil {
		t.Error("deriveECKey with failing reader: no error")
	}
}

func TestDeriveRSAKeyErrors(t *testing.T) {
	if _, err := deriveRSAKey(failingReader{}, 2048); err == nil {
		t.Error("failing reader: no error")
	}
	// Every candidate is 2^512-1, which is composite: no prime is found.
	if _, err := deriveRSAKey(fixedReader(0xff), 1024); err == nil {
		t.Error("constant reader: no error")
	}
	if _, err := deriveRSAKey(fixedReader(1), 1000); err == nil {
		t.Error("odd size: no error")
	}
}

func TestRSAKeys(t *testing.T) {
	l := testLab(t)
	keys := map[string]crypto.Signer{"root": l.Root.Key, "intermediate": l.Intermediate.Key}
	for _, u := range l.Users {
		keys[u.Name] = u.Key
	}
	for name, k := range keys {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			continue
		}
		if rk.N.BitLen() != 2048 || rk.E != 65537 || len(rk.Primes) != 2 {
			t.Errorf("%s: N %d bits, E %d, %d primes; want 2048, 65537, 2", name, rk.N.BitLen(), rk.E, len(rk.Primes))
			continue
		}
		for _, p := range rk.Primes {
			if p.BitLen() != 1024 || !p.ProbablyPrime(20) {
				t.Errorf("%s: prime factor of %d bits or composite", name, p.BitLen())
			}
		}
		if rk.Primes[0].Cmp(rk.Primes[1]) == 0 {
			t.Errorf("%s: p == q", name)
		}
		if err := rk.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestUserLookup(t *testing.T) {
	l := testLab(t)
	for _, name := range []string{"alice-sign", "alice-encrypt", "bob", "carol", "dave-expired", "eve-revoked"} {
		if u := l.User(name); u == nil || u.Name != name {
			t.Errorf("User(%q) = %v", name, u)
		}
	}
	if u := l.User("mallory"); u != nil {
		t.Errorf("User(%q) = %v, want nil", "mallory", u)
	}
	chain := l.Chain()
	if len(chain) != 2 || chain[0] != l.Intermediate.Cert || chain[1] != l.Root.Cert {
		t.Error("Chain() is not intermediate, root")
	}
}

func TestUserCertificates(t *testing.T) {
	l := testLab(t)
	epoch := l.Options.Epoch
	tenY := epoch.AddDate(10, 0, 0)
	tests := []struct {
		name, email, cn string
		ec              bool
		usage           x509.KeyUsage
		notAfter        time.Time
	}{
		{"alice-sign", "alice@example.com", "Alice", false, x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment, tenY},
		{"alice-encrypt", "alice@example.com", "Alice", false, x509.KeyUsageKeyEncipherment, tenY},
		{"bob", "bob@example.com", "Bob", false, x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, tenY},
		{"carol", "carol@example.com", "Carol", true, x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement, tenY},
		{"dave-expired", "dave@example.com", "Dave", false, x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, epoch.AddDate(0, 0, 180)},
		{"eve-revoked", "eve@example.com", "Eve", false, x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, tenY},
	}
	if len(l.Users) != len(tests) {
		t.Fatalf("got %d users, want %d", len(l.Users), len(tests))
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := l.Users[i]
			c := u.Cert
			if u.Name != tc.name || u.Email != tc.email {
				t.Fatalf("user %d is %s <%s>, want %s <%s>", i, u.Name, u.Email, tc.name, tc.email)
			}
			if u.Note == "" {
				t.Error("empty note")
			}
			if !slices.Equal(c.EmailAddresses, []string{tc.email}) {
				t.Errorf("rfc822Name = %v, want [%s]", c.EmailAddresses, tc.email)
			}
			if got := subjectEmail(t, c); got != tc.email {
				t.Errorf("subject emailAddress = %q, want %q", got, tc.email)
			}
			if c.Subject.CommonName != tc.cn || !slices.Equal(c.Subject.Organization, []string{"smimectl lab"}) {
				t.Errorf("subject = %v", c.Subject)
			}
			if c.KeyUsage != tc.usage {
				t.Errorf("key usage = %v, want %v", keyUsage(c.KeyUsage), keyUsage(tc.usage))
			}
			if !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageEmailProtection) {
				t.Errorf("extended key usage %v lacks emailProtection", c.ExtKeyUsage)
			}
			if c.IsCA {
				t.Error("user certificate is a CA")
			}
			if _, isEC := c.PublicKey.(*ecdsa.PublicKey); isEC != tc.ec {
				t.Errorf("public key type %T", c.PublicKey)
			}
			if !c.NotBefore.Equal(epoch) || !c.NotAfter.Equal(tc.notAfter) {
				t.Errorf("validity %v .. %v, want %v .. %v", c.NotBefore, c.NotAfter, epoch, tc.notAfter)
			}
			if !slices.Equal(c.CRLDistributionPoints, []string{"http://crl.lab.example/intermediate.crl"}) {
				t.Errorf("CRL distribution points = %v", c.CRLDistributionPoints)
			}
			if !bytes.Equal(c.AuthorityKeyId, l.Intermediate.Cert.SubjectKeyId) {
				t.Error("authority key identifier is not the intermediate's subject key identifier")
			}
			checkSKI(t, c)
			if c.SerialNumber.Sign() <= 0 || c.SerialNumber.BitLen() > 127 {
				t.Errorf("serial number %x not positive or over 16 bytes", c.SerialNumber)
			}
			if c.SignatureAlgorithm != x509.SHA256WithRSA {
				t.Errorf("signature algorithm %v", c.SignatureAlgorithm)
			}
		})
	}
}

// attributeSET is a RelativeDistinguishedName (RFC 5280 section 4.1.2.4);
// encoding/asn1 treats a slice type named …SET as SET OF.
type attributeSET []struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

// subjectEmail returns the PKCS #9 emailAddress attribute of the subject,
// checking that it is encoded as an IA5String.
func subjectEmail(t *testing.T, c *x509.Certificate) string {
	t.Helper()
	var rdns []attributeSET
	if _, err := asn1.Unmarshal(c.RawSubject, &rdns); err != nil {
		t.Fatalf("parsing subject: %v", err)
	}
	for _, rdn := range rdns {
		for _, atv := range rdn {
			if atv.Type.Equal(oidEmailAddress) {
				if atv.Value.Tag != asn1.TagIA5String {
					t.Errorf("emailAddress has tag %d, want IA5String", atv.Value.Tag)
				}
				return string(atv.Value.Bytes)
			}
		}
	}
	return ""
}

// checkSKI checks the subject key identifier against RFC 5280 method (1).
func checkSKI(t *testing.T, c *x509.Certificate) {
	t.Helper()
	var spki struct {
		Algorithm asn1.RawValue
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(c.RawSubjectPublicKeyInfo, &spki); err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(spki.PublicKey.Bytes)
	if !bytes.Equal(c.SubjectKeyId, sum[:]) {
		t.Errorf("subject key identifier %x, want %x", c.SubjectKeyId, sum)
	}
}

func TestAuthorities(t *testing.T) {
	l := testLab(t)
	epoch := l.Options.Epoch
	tests := []struct {
		ca        *Authority
		name, cn  string
		notAfter  time.Time
		issuer    *x509.Certificate
		pathZero  bool
		crlPoints []string
	}{
		{l.Root, "root", "smimectl lab root CA", epoch.AddDate(20, 0, 0), l.Root.Cert, false, nil},
		{l.Intermediate, "intermediate", "smimectl lab intermediate CA", epoch.AddDate(15, 0, 0), l.Root.Cert, true,
			[]string{"http://crl.lab.example/root.crl"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.ca.Cert
			if tc.ca.Name != tc.name || c.Subject.CommonName != tc.cn {
				t.Errorf("name %q, CN %q", tc.ca.Name, c.Subject.CommonName)
			}
			if !c.IsCA || !c.BasicConstraintsValid {
				t.Error("not a CA")
			}
			if c.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
				t.Errorf("key usage %s", keyUsage(c.KeyUsage))
			}
			if tc.pathZero != (c.MaxPathLen == 0 && c.MaxPathLenZero) {
				t.Errorf("MaxPathLen %d, MaxPathLenZero %v", c.MaxPathLen, c.MaxPathLenZero)
			}
			if !c.NotBefore.Equal(epoch.Add(-24*time.Hour)) || !c.NotAfter.Equal(tc.notAfter) {
				t.Errorf("validity %v .. %v", c.NotBefore, c.NotAfter)
			}
			if !slices.Equal(c.CRLDistributionPoints, tc.crlPoints) {
				t.Errorf("CRL distribution points %v, want %v", c.CRLDistributionPoints, tc.crlPoints)
			}
			if err := c.CheckSignatureFrom(tc.issuer); err != nil {
				t.Errorf("signature: %v", err)
			}
			checkSKI(t, c)
		})
	}
}

func TestVerify(t *testing.T) {
	l := testLab(t)
	roots := x509.NewCertPool()
	roots.AddCert(l.Root.Cert)
	inters := x509.NewCertPool()
	inters.AddCert(l.Intermediate.Cert)
	at := l.Options.Epoch.AddDate(0, 0, 30)
	for _, u := range l.Users {
		t.Run(u.Name, func(t *testing.T) {
			chains, err := u.Cert.Verify(x509.VerifyOptions{
				Roots:         roots,
				Intermediates: inters,
				CurrentTime:   at,
				KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
			})
			if err != nil {
				t.Fatalf("Verify at epoch+30d: %v", err)
			}
			want := []*x509.Certificate{u.Cert, l.Intermediate.Cert, l.Root.Cert}
			if len(chains) != 1 || !slices.EqualFunc(chains[0], want, (*x509.Certificate).Equal) {
				t.Errorf("chain is not user, intermediate, root")
			}
		})
	}
	_, err := l.User("dave-expired").Cert.Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inters,
		CurrentTime: l.Options.Epoch.AddDate(1, 0, 0),
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	})
	var inv x509.CertificateInvalidError
	if !errors.As(err, &inv) || inv.Reason != x509.Expired {
		t.Errorf("dave-expired at epoch+1y: got %v, want expired", err)
	}
}

func TestCRLs(t *testing.T) {
	l := testLab(t)
	thisUpdate := l.Options.Epoch.AddDate(0, 0, 91)
	eve := l.User("eve-revoked").Cert
	tests := []struct {
		ca      *Authority
		revoked []*big.Int
	}{
		{l.Root, nil},
		{l.Intermediate, []*big.Int{eve.SerialNumber}},
	}
	for _, tc := range tests {
		t.Run(tc.ca.Name, func(t *testing.T) {
			crl, err := x509.ParseRevocationList(tc.ca.CRL)
			if err != nil {
				t.Fatal(err)
			}
			if err := crl.CheckSignatureFrom(tc.ca.Cert); err != nil {
				t.Errorf("signature: %v", err)
			}
			if crl.Number.Cmp(big.NewInt(1)) != 0 {
				t.Errorf("CRL number %v, want 1", crl.Number)
			}
			if !crl.ThisUpdate.Equal(thisUpdate) || !crl.NextUpdate.Equal(thisUpdate.AddDate(10, 0, 0)) {
				t.Errorf("thisUpdate %v, nextUpdate %v", crl.ThisUpdate, crl.NextUpdate)
			}
			if !bytes.Equal(crl.AuthorityKeyId, tc.ca.Cert.SubjectKeyId) {
				t.Error("authority key identifier mismatch")
			}
			if len(crl.RevokedCertificateEntries) != len(tc.revoked) {
				t.Fatalf("%d entries, want %d", len(crl.RevokedCertificateEntries), len(tc.revoked))
			}
			for i, e := range crl.RevokedCertificateEntries {
				if e.SerialNumber.Cmp(tc.revoked[i]) != 0 {
					t.Errorf("entry %d serial %x, want %x", i, e.SerialNumber, tc.revoked[i])
				}
				if e.ReasonCode != 1 {
					t.Errorf("entry %d reason %d, want 1 (keyCompromise)", i, e.ReasonCode)
				}
				if want := l.Options.Epoch.AddDate(0, 0, 90); !e.RevocationTime.Equal(want) {
					t.Errorf("entry %d revoked at %v, want %v", i, e.RevocationTime, want)
				}
			}
		})
	}
}

func TestKeysMatchCertificates(t *testing.T) {
	l := testLab(t)
	type pair struct {
		name string
		cert *x509.Certificate
		key  crypto.Signer
	}
	pairs := []pair{{"root", l.Root.Cert, l.Root.Key}, {"intermediate", l.Intermediate.Cert, l.Intermediate.Key}}
	for _, u := range l.Users {
		pairs = append(pairs, pair{u.Name, u.Cert, u.Key})
	}
	digest := sha256.Sum256([]byte("lab"))
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			pub, ok := p.key.Public().(interface{ Equal(crypto.PublicKey) bool })
			if !ok || !pub.Equal(p.cert.PublicKey) {
				t.Fatal("certificate public key does not match private key")
			}
			sig, err := p.key.Sign(rand.Reader, digest[:], crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			switch pk := p.cert.PublicKey.(type) {
			case *rsa.PublicKey:
				err = rsa.VerifyPKCS1v15(pk, crypto.SHA256, digest[:], sig)
			case *ecdsa.PublicKey:
				if !ecdsa.VerifyASN1(pk, digest[:], sig) {
					err = errors.New("bad ECDSA signature")
				}
			}
			if err != nil {
				t.Errorf("signature with key does not verify with certificate: %v", err)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	l := testCustomLab(t)
	wantEpoch := time.Date(2030, 6, 1, 11, 0, 0, 0, time.UTC)
	if !l.Options.Epoch.Equal(wantEpoch) || l.Options.Epoch.Location() != time.UTC {
		t.Errorf("epoch %v, want %v", l.Options.Epoch, wantEpoch)
	}
	bob := l.User("bob").Cert
	if bob.EmailAddresses[0] != "bob@corp.example" || !bob.NotBefore.Equal(wantEpoch) {
		t.Errorf("bob: %v from %v", bob.EmailAddresses, bob.NotBefore)
	}
	if got := bob.CRLDistributionPoints; !slices.Equal(got, []string{"ldap://dir.corp.example/crl/intermediate.crl"}) {
		t.Errorf("CRL distribution points %v", got)
	}

	bad := []struct {
		name string
		opts Options
	}{
		{"domain with at", Options{Domain: "a@b"}},
		{"domain with space", Options{Domain: "a b"}},
		{"domain with leading dot", Options{Domain: ".example"}},
		{"non-ASCII domain", Options{Domain: "exämple.com"}},
		{"relative CRL URL", Options{CRLBaseURL: "crl/"}},
		{"unparsable CRL URL", Options{CRLBaseURL: "http://[::1"}},
		{"relative intermediate CRL URL", Options{IntermediateCRLURL: "cn=ca"}},
		{"unparsable root CRL URL", Options{RootCRLURL: "http://[::1"}},
		{"epoch too early", Options{Epoch: time.Date(5, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"epoch too late", Options{Epoch: time.Date(9990, 1, 1, 0, 0, 0, 0, time.UTC)}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if l, err := New(tc.opts); err == nil || l != nil {
				t.Errorf("New(%+v) = %v, %v; want an error", tc.opts, l, err)
			}
		})
	}
}

func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := New(Options{Seed: "bench" + strconv.Itoa(i)}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSerialNumbersDistinct(t *testing.T) {
	l := testLab(t)
	seen := map[string]string{
		l.Root.Cert.SerialNumber.String(): "root",
	}
	if s := l.Intermediate.Cert.SerialNumber.String(); seen[s] != "" {
		t.Errorf("intermediate and root share serial %s", s)
	}
	seen[l.Intermediate.Cert.SerialNumber.String()] = "intermediate"
	for _, u := range l.Users {
		s := u.Cert.SerialNumber.String()
		if other, ok := seen[s]; ok {
			t.Errorf("%s and %s share serial %s", u.Name, other, s)
		}
		seen[s] = u.Name
	}
}

func TestHasSmallFactor(t *testing.T) {
	big1 := new(big.Int).Lsh(big.NewInt(1), 600)
	tests := []struct {
		name string
		n    *big.Int
		want bool
	}{
		{"2^600+1, a multiple of 2^24+1 = 97*257*673", new(big.Int).Add(big1, big.NewInt(1)), true},
		{"3 * large prime", new(big.Int).Mul(big.NewInt(3), mustPrime(t, "170141183460469231731687303715884105727")), true},
		{"4093 * large prime", new(big.Int).Mul(big.NewInt(4093), mustPrime(t, "170141183460469231731687303715884105727")), true},
		{"4099 * large prime", new(big.Int).Mul(big.NewInt(4099), mustPrime(t, "170141183460469231731687303715884105727")), false},
		{"large prime", mustPrime(t, "170141183460469231731687303715884105727"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := hasSmallFactor(tc.n); got != tc.want {
				t.Errorf("hasSmallFactor = %v, want %v", got, tc.want)
			}
		})
	}
}

// mustPrime parses a decimal prime.
func mustPrime(t *testing.T, s string) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(s, 10)
	if !ok || !n.ProbablyPrime(20) {
		t.Fatalf("%s is not a prime", s)
	}
	return n
}

// TestPinnedDerivation pins values derived from seed "1" by content. They
// depend only on this package's stream and search (not on the Go version's
// key generators or certificate encoder), so a change here means every
// fixture made with an earlier version has changed too.
func TestPinnedDerivation(t *testing.T) {
	l := testLab(t)
	hexOf := func(b []byte) string { return fmt.Sprintf("%x", b) }
	tests := []struct {
		name, got, want string
	}{
		{"root serial", hexOf(l.Root.Cert.SerialNumber.Bytes()), "3e848d273253bbc9841d779ecc0279d0"},
		{"alice-sign modulus prefix", hexOf(l.User("alice-sign").Key.(*rsa.PrivateKey).N.Bytes()[:16]), "d0e1f5ed52f826b5fe46fc0fbe83346b"},
		{"eve-revoked modulus prefix", hexOf(l.User("eve-revoked").Key.(*rsa.PrivateKey).N.Bytes()[:16]), "b8208f2399c6356f05300f11c8c1fe66"},
		{"carol public key suffix", hexOf(l.User("carol").Cert.RawSubjectPublicKeyInfo[len(l.User("carol").Cert.RawSubjectPublicKeyInfo)-16:]), "5eb3a02d5aac4a777b7991007924bef4"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s = %s, want %s", tc.name, tc.got, tc.want)
		}
	}
}

// TestCRLURLs checks that a full CRL URL replaces the one under CRLBaseURL
// for its authority only, in the certificates and the README.
func TestFullCRLURL(t *testing.T) {
	const ldapURL = "ldap://127.0.0.1:3890/cn=intermediate,dc=example,dc=com?certificateRevocationList;binary"
	l, err := New(Options{IntermediateCRLURL: ldapURL})
	if err != nil {
		t.Fatal(err)
	}
	if got := l.User("bob").Cert.CRLDistributionPoints; !slices.Equal(got, []string{ldapURL}) {
		t.Errorf("user distribution points %v, want %s", got, ldapURL)
	}
	if got := l.Intermediate.Cert.CRLDistributionPoints; !slices.Equal(got, []string{DefaultCRLBaseURL + "root.crl"}) {
		t.Errorf("intermediate distribution points %v", got)
	}
	if !bytes.Contains(l.readme(), []byte(ldapURL)) {
		t.Errorf("README does not name %s", ldapURL)
	}
}
