package revocation_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/verify"
)

// The Examples read the lab's files in ../testdata/example and ask at a
// fixed time: after the intermediate issued its CRL, in which eve's
// certificate is revoked.

func exampleFile(name string) []byte {
	data, err := os.ReadFile("../testdata/example/" + name)
	if err != nil {
		log.Fatal(err)
	}
	return data
}

func exampleCert(name string) *x509.Certificate {
	certs, err := verify.ReadCertificates(bytes.NewReader(exampleFile(name)))
	if err != nil {
		log.Fatal(err)
	}
	return certs[0]
}

// A checker over a CRL file, offline: the guide's "manually import a CRL".
// The CRL is used only because its signature checks with the issuer given.
func ExampleNew() {
	crls, err := revocation.ParseCRLs(exampleFile("intermediate.crl"))
	if err != nil {
		log.Fatal(err)
	}
	at := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	checker := revocation.New(revocation.Options{
		CRLs:    crls,
		Offline: true,
		Mode:    revocation.Hard, // no answer is an *UnavailableError
		Clock:   func() time.Time { return at },
	})
	issuer := exampleCert("intermediate.crt")
	for _, name := range []string{"bob.crt", "eve-revoked.crt"} {
		out, err := checker.Check(context.Background(), exampleCert(name), issuer, at)
		fmt.Printf("%s: %s (source %s)\n", name, out.Status, out.Source)
		var revoked *revocation.RevokedError
		if errors.As(err, &revoked) {
			fmt.Printf("  revoked %s, reason %s\n", revoked.At.Format(time.DateOnly), revocation.ReasonString(revoked.Reason))
		}
	}
	// Output:
	// bob.crt: good (source file)
	// eve-revoked.crt: revoked (source file)
	//   revoked 2026-04-01, reason keyCompromise
}

// A checker that asks the certificate's OCSP responder first and falls back
// to its CRL distribution point, both over HTTP. An httptest server stands
// in for the lab's responder (http://ocsp.lab.example/), which answers with
// its stored response for bob, and for the CRL server
// (http://crl.lab.example/): the client's transport sends every request to
// it, so the example stays offline. The response for bob does not answer
// for eve, so her certificate is checked against the CRL.
func ExampleNew_ocsp() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Host == "ocsp.lab.example" && r.Method == http.MethodPost:
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/ocsp-response")
			w.Write(exampleFile("bob.ocsp"))
		case r.Host == "crl.lab.example" && r.URL.Path == "/intermediate.crl":
			w.Write(exampleFile("intermediate.crl"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return new(net.Dialer).DialContext(ctx, network, srv.Listener.Addr().String())
		},
	}}

	at := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	checker := revocation.New(revocation.Options{
		OCSP:       true,
		HTTPClient: client,
		Mode:       revocation.Hard,
		Clock:      func() time.Time { return at },
	})
	issuer := exampleCert("intermediate.crt")
	for _, name := range []string{"bob.crt", "eve-revoked.crt"} {
		out, err := checker.Check(context.Background(), exampleCert(name), issuer, at)
		fmt.Printf("%s: %s from %s %s\n", name, out.Status, out.Source, out.URL)
		for _, f := range out.Fetches {
			fmt.Printf("  asked %s %s: answered %v\n", f.Source, f.URL, f.Err == nil)
		}
		var revoked *revocation.RevokedError
		if errors.As(err, &revoked) {
			fmt.Printf("  revoked %s, reason %s\n", revoked.At.Format(time.DateOnly), revocation.ReasonString(revoked.Reason))
		}
	}
	// Output:
	// bob.crt: good from ocsp http://ocsp.lab.example/
	//   asked ocsp http://ocsp.lab.example/: answered true
	// eve-revoked.crt: revoked from url http://crl.lab.example/intermediate.crl
	//   asked ocsp http://ocsp.lab.example/: answered false
	//   asked url http://crl.lab.example/intermediate.crl: answered true
	//   revoked 2026-04-01, reason keyCompromise
}
