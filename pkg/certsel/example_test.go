package certsel_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/smimectl/smimectl/pkg/certsel"
	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/verify"
)

// The Examples read the lab's files in ../testdata/example (PEM
// certificates, PKCS#8 keys, the intermediate's CRL) and select at a fixed
// time, at which dave's certificate has expired and eve's is revoked.

// exampleRead reads files of ../testdata/example.
func exampleRead(names ...string) [][]byte {
	out := make([][]byte, len(names))
	for i, name := range names {
		var err error
		if out[i], err = os.ReadFile("../testdata/example/" + name); err != nil {
			log.Fatal(err)
		}
	}
	return out
}

// exampleOptions trusts the lab's root, knows its intermediate and checks
// revocation against the intermediate's CRL, offline.
func exampleOptions(sources ...certsel.Source) certsel.Options {
	files := exampleRead("root.crt", "intermediate.crt", "intermediate.crl")
	roots, err1 := verify.ReadCertificates(bytes.NewReader(files[0]))
	intermediates, err2 := verify.ReadCertificates(bytes.NewReader(files[1]))
	crls, err3 := revocation.ParseCRLs(files[2])
	if err := errors.Join(err1, err2, err3); err != nil {
		log.Fatal(err)
	}
	at := func() time.Time { return time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC) }
	return certsel.Options{
		Sources:       sources,
		Now:           at,
		Roots:         roots,
		Intermediates: intermediates,
		Revocation:    revocation.New(revocation.Options{CRLs: crls, Offline: true, Clock: at}),
	}
}

// Pick Alice's encryption certificate among every certificate of the lab,
// held in memory, and show why each other certificate was passed over.
func ExampleRecipients() {
	names := []string{"alice-sign", "alice-encrypt", "bob", "carol", "dave-expired", "eve-revoked"}
	var found []certsel.Found
	for i, pem := range exampleRead("alice-sign.crt", "alice-encrypt.crt", "bob.crt", "carol.crt", "dave-expired.crt", "eve-revoked.crt") {
		certs, err := verify.ReadCertificates(bytes.NewReader(pem))
		if err != nil {
			log.Fatal(err)
		}
		found = append(found, certsel.Found{Cert: certs[0], Origin: names[i]})
	}
	sels, err := certsel.Recipients(context.Background(), []string{"alice@example.com"}, certsel.RecipientOptions{
		Options: exampleOptions(certsel.Memory{Name: "lab", Found: found}),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("selected:", sels[0].Origin)
	for _, c := range sels[0].Candidates {
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

// Select by address from a directory of certificate files, as
// `smimectl cert-match --certs DIR` does: the CA certificates in it serve as
// intermediates, and a STEM.key beside STEM.crt is the certificate's key.
// Dave's only certificate has expired, eve's is revoked: a
// *certsel.MissingError names them, with each candidate's rejecting rule.
func ExampleFiles() {
	sels, err := certsel.Recipients(context.Background(),
		[]string{"bob@example.com", "dave@example.com", "eve@example.com"},
		certsel.RecipientOptions{Options: exampleOptions(certsel.Files{Path: "../testdata/example"})})
	for _, s := range sels {
		if s != nil {
			fmt.Printf("%s: %s (key: %v)\n", s.Certificate.EmailAddresses[0], s.Origin, s.Key != nil)
		}
	}
	var missing *certsel.MissingError
	if !errors.As(err, &missing) {
		log.Fatal(err)
	}
	for _, m := range missing.Missing {
		for _, c := range m.Candidates {
			if c.Rule != certsel.Address {
				fmt.Printf("%s: %s %s: %s\n", m.Address, c.Origin, c.Rule, c.Detail)
			}
		}
	}
	// Output:
	// bob@example.com: ../testdata/example/bob.crt (key: true)
	// dave@example.com: ../testdata/example/dave-expired.crt expired: expired 2026-06-30T00:00:00Z
	// eve@example.com: ../testdata/example/eve-revoked.crt revoked: revoked 2026-04-01T00:00:00Z, reason keyCompromise
}

// Pick alice's own signing identity from a directory of certificate and
// key files: RequireKey admits only certificates whose key is there.
func ExampleSelect() {
	opts := exampleOptions(certsel.Files{Path: "../testdata/example"})
	opts.RequireKey = true
	sel, err := certsel.Select(context.Background(), "alice@example.com", certsel.PurposeSign, opts)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("selected:", sel.Origin, "with its key:", sel.Key != nil)
	for _, c := range sel.Candidates {
		fmt.Printf("%-40s %-9s %-9s %s\n", c.Origin, c.Verdict, c.Rule, c.Detail)
	}
	// Output:
	// selected: ../testdata/example/alice-sign.crt with its key: true
	// ../testdata/example/alice-encrypt.crt    rejected  key-usage key usage keyEncipherment does not allow signing
	// ../testdata/example/alice-sign.crt       selected  passed    revocation good
	// ../testdata/example/bob.crt              rejected  address   carries bob@example.com
	// ../testdata/example/carol.crt            rejected  address   carries carol@example.com
	// ../testdata/example/dave-expired.crt     rejected  address   carries dave@example.com
	// ../testdata/example/eve-revoked.crt      rejected  address   carries eve@example.com
}
