package revocation

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net/http"
	"testing"
)

// TestFetchIssuersURLCount: the caIssuers URLs are the sender's (the
// certificate is not trusted yet: that is why its issuer is fetched).
// Each was tried in turn until one answered, so a certificate naming 1,000
// URLs that fail fast made one verification send 1,000 requests wherever
// the sender pointed them, and return an error listing all of them
// (115 KB). A certificate names one or two; the first 4 are tried.
func TestFetchIssuersURLCount(t *testing.T) {
	f := setup(t, http.NotFoundHandler())
	var urls []string
	for i := range 1000 {
		urls = append(urls, fmt.Sprintf("%s/ca/%d.crt", f.srv.URL, i))
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(9), Subject: pkix.Name{CommonName: "many URLs"},
		NotBefore: at.AddDate(-1, 0, 0), NotAfter: at.AddDate(1, 0, 0), IssuingCertificateURL: urls}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, f.lab.Intermediate.Cert, f.lab.Users[0].Key.Public(), f.lab.Intermediate.Key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	_, err = FetchIssuers(context.Background(), cert, Options{})
	if err == nil {
		t.Fatal("no error")
	}
	if n := f.hits.Load(); n > maxIssuerURLs {
		t.Errorf("%d requests for one certificate, want at most %d", n, maxIssuerURLs)
	}
	if len(err.Error()) > 2000 {
		t.Errorf("error of %d bytes, want under 2000", len(err.Error()))
	}
}
