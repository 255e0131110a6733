package verify_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

func ExampleVerify() {
	l, err := lab.New(lab.Options{Seed: "example"})
	if err != nil {
		log.Fatal(err)
	}
	bob := l.User("bob")
	at := func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }
	var signed bytes.Buffer
	msg := "From: bob@example.com\r\nSubject: report\r\nContent-Type: text/plain\r\n\r\nAll green.\r\n"
	if err := sign.Sign(&signed, strings.NewReader(msg), sign.Options{
		Key: bob.Key, Certificate: bob.Cert, Chain: l.Chain(), Mode: sign.Opaque, Now: at}); err != nil {
		log.Fatal(err)
	}

	// The content is written only after every check passed.
	var content bytes.Buffer
	res, err := verify.Verify(context.Background(), &content, &signed, verify.Options{
		Roots: []*x509.Certificate{l.Root.Cert}, Now: at,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(strings.ReplaceAll(content.String(), "\r\n", "\n"))
	for _, c := range res.Signers[0].Checks {
		fmt.Printf("%s: %s\n", c.Name, c.Status)
	}
	// Output:
	// From: bob@example.com
	// Subject: report
	// MIME-Version: 1.0
	// Content-Type: text/plain
	//
	// All green.
	// digest-algorithm: pass
	// signature: pass
	// signing-time: pass
	// chain: pass
	// key-usage: pass
	// revocation: skipped
	// sender: pass
}
