package verify_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/verify"
)

// ExampleCertificate checks certificates on their own, as smimectl
// cert-verify does: alice's encryption-only certificate for encryption and
// then for signing, and eve's revoked one against the authorities' CRLs.
func ExampleCertificate() {
	var crls []*x509.RevocationList
	for _, name := range []string{"intermediate.crl", "root.crl"} {
		data, err := os.ReadFile("../testdata/example/" + name)
		if err != nil {
			log.Fatal(err)
		}
		c, err := revocation.ParseCRLs(data)
		if err != nil {
			log.Fatal(err)
		}
		crls = append(crls, c...)
	}
	opts := verify.Options{
		Roots:         exampleCerts("root.crt"),
		Intermediates: exampleCerts("intermediate.crt"),
		Now:           exampleNow,
		Revocation:    revocation.New(revocation.Options{CRLs: crls, Offline: true, Clock: exampleNow}),
	}
	for _, c := range []struct {
		user    string
		purpose verify.Purpose
	}{{"alice-encrypt", verify.PurposeEncrypt}, {"alice-encrypt", verify.PurposeSign}, {"eve-revoked", verify.PurposeAny}} {
		res, err := verify.Certificate(context.Background(), exampleCerts(c.user + ".crt")[0], c.purpose, opts)
		var names []string
		for _, ch := range res.Checks {
			names = append(names, fmt.Sprintf("%s=%s", ch.Name, ch.Status))
		}
		fmt.Printf("%s for %s: valid %v; %s\n", c.user, c.purpose, res.Valid, strings.Join(names, " "))
		var re *revocation.RevokedError
		if errors.As(err, &re) {
			fmt.Println("  revoked on", re.At.Format(time.DateOnly))
		}
	}
	// Output:
	// alice-encrypt for encrypt: valid true; chain=pass key-usage=pass revocation=pass revocation=pass
	// alice-encrypt for sign: valid false; chain=pass key-usage=fail
	// eve-revoked for any: valid false; chain=pass key-usage=skipped revocation=fail
	//   revoked on 2026-04-01
}
