package certsel_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/pkg/certsel"
	"github.com/smimectl/smimectl/pkg/revocation"
)

// Pick Alice's encryption certificate among everything the lab holds, and
// show why each other certificate was passed over.
func ExampleSelect() {
	l, err := lab.New(lab.Options{})
	if err != nil {
		panic(err)
	}
	var found []certsel.Found
	for _, u := range l.Users {
		found = append(found, certsel.Found{Cert: u.Cert, Origin: u.Name})
	}
	crl, err := x509.ParseRevocationList(l.Intermediate.CRL)
	if err != nil {
		panic(err)
	}
	sel, err := certsel.Select(context.Background(), "alice@example.com", certsel.PurposeEncrypt, certsel.Options{
		Sources:       []certsel.Source{certsel.Memory{Name: "lab", Found: found}},
		Now:           func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) },
		Roots:         []*x509.Certificate{l.Root.Cert},
		Intermediates: []*x509.Certificate{l.Intermediate.Cert},
		Revocation:    revocation.New(revocation.Options{CRLs: []*x509.RevocationList{crl}, Offline: true}),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("selected:", sel.Origin)
	for _, c := range sel.Candidates {
		fmt.Printf("%-13s %-9s %-9s %s\n", c.Origin, c.Verdict, c.Rule, c.Detail)
	}
	// Output:
	// selected: alice-encrypt
	// alice-sign    rejected  key-usage key usage digitalSignature,nonRepudiation does not allow encryption
	// alice-encrypt selected  passed    revocation good
	// bob           rejected  address   carries bob@example.com
	// carol         rejected  address   carries carol@example.com
	// dave-expired  rejected  address   carries dave@example.com
	// eve-revoked   rejected  address   carries eve@example.com
}
