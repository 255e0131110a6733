package verify_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/verify"
)

// ExampleCertificate checks certificates on their own, as smimectl
// cert-verify does: alice's encryption-only certificate for encryption and
// then for signing, and eve's revoked one against the lab's CRL.
func ExampleCertificate() {
	l, err := lab.New(lab.Options{Seed: "example"})
	if err != nil {
		log.Fatal(err)
	}
	var crls []*x509.RevocationList
	for _, der := range [][]byte{l.Intermediate.CRL, l.Root.CRL} {
		c, err := revocation.ParseCRLs(der)
		if err != nil {
			log.Fatal(err)
		}
		crls = append(crls, c...)
	}
	opts := verify.Options{
		Roots:         []*x509.Certificate{l.Root.Cert},
		Intermediates: []*x509.Certificate{l.Intermediate.Cert},
		Now:           func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) },
		Revocation:    revocation.New(revocation.Options{CRLs: crls, Offline: true}),
	}
	for _, c := range []struct {
		user    string
		purpose verify.Purpose
	}{{"alice-encrypt", verify.PurposeEncrypt}, {"alice-encrypt", verify.PurposeSign}, {"eve-revoked", verify.PurposeAny}} {
		res, err := verify.Certificate(context.Background(), l.User(c.user).Cert, c.purpose, opts)
		var names []string
		for _, ch := range res.Checks {
			names = append(names, ch.Name.String()+"="+string(ch.Status))
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
	//   revoked on 2025-04-01
}
