package revocation

import (
	"bytes"
	"testing"

	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/internal/lab/labtest"
)

// TestIssuedBy (issue #17 item 1): crl fetch finds a certificate's issuer
// through the public IssuedBy. A certificate with the issuer's name but
// another key (another lab's authority of the same name) is not the issuer,
// and only a certificate that signed itself is self-signed. The post-quantum
// lab's ML-DSA authorities are found as the others are.
func TestIssuedBy(t *testing.T) {
	l := labtest.Default(t)
	other := labtest.Seeded(t, "2")
	pq, err := lab.New(lab.Options{PQ: true})
	if err != nil {
		t.Fatal(err)
	}
	alice := l.User("alice-sign").Cert
	if !bytes.Equal(other.Root.Cert.RawSubject, l.Intermediate.Cert.RawIssuer) || !bytes.Equal(other.Intermediate.Cert.RawSubject, alice.RawIssuer) {
		t.Fatal("the other lab's authorities must have the same names for the test to mean anything")
	}
	var pqUser *lab.User
	for _, u := range pq.Users {
		if u.Issuer == pq.PQIntermediate.Name {
			pqUser = u
			break
		}
	}
	if pqUser == nil {
		t.Fatal("the post-quantum lab has no user of its ML-DSA intermediate")
	}
	for _, tc := range []struct {
		name         string
		cert, issuer *lab.Authority
		want         bool
	}{
		{"the intermediate by the root", l.Intermediate, l.Root, true},
		{"the root by itself", l.Root, l.Root, true},
		{"the intermediate by itself", l.Intermediate, l.Intermediate, false},
		{"the root by the intermediate", l.Root, l.Intermediate, false},
		{"same name, another key", l.Intermediate, other.Root, false},
		{"ML-DSA intermediate by the ML-DSA root", pq.PQIntermediate, pq.PQRoot, true},
		{"ML-DSA root by itself", pq.PQRoot, pq.PQRoot, true},
	} {
		if got := IssuedBy(tc.cert.Cert, tc.issuer.Cert); got != tc.want {
			t.Errorf("%s: IssuedBy = %v, want %v", tc.name, got, tc.want)
		}
	}
	for _, tc := range []struct {
		name   string
		issuer *lab.Authority
		want   bool
	}{
		{"alice by her issuer", l.Intermediate, true},
		{"alice by the root", l.Root, false},
		{"alice by another lab's intermediate of the same name", other.Intermediate, false},
	} {
		if got := IssuedBy(alice, tc.issuer.Cert); got != tc.want {
			t.Errorf("%s: IssuedBy = %v, want %v", tc.name, got, tc.want)
		}
	}
	if !IssuedBy(pqUser.Cert, pq.PQIntermediate.Cert) || IssuedBy(pqUser.Cert, pq.Intermediate.Cert) {
		t.Errorf("%s: not told apart by its ML-DSA issuer", pqUser.Name)
	}
	if IssuedBy(alice, alice) {
		t.Error("alice's certificate is not self-signed")
	}
}
