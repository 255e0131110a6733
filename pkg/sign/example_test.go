package sign_test

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

func ExampleSign() {
	l, err := lab.New(lab.Options{Seed: "example"})
	if err != nil {
		log.Fatal(err)
	}
	alice := l.User("alice-sign")
	msg := "From: alice@example.com\r\nTo: bob@example.com\r\nSubject: lunch?\r\n" +
		"Content-Type: text/plain\r\n\r\nNoon at the usual place.\r\n"
	at := func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }

	var signed bytes.Buffer
	err = sign.Sign(context.Background(), &signed, strings.NewReader(msg), sign.Options{
		Key: alice.Key, Certificate: alice.Cert, Chain: l.Chain(), Now: at,
	})
	if err != nil {
		log.Fatal(err)
	}
	res, err := verify.Verify(context.Background(), new(bytes.Buffer), &signed, verify.Options{
		Roots: []*x509.Certificate{l.Root.Cert}, Now: at,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Form, res.Valid, res.Signers[0].Emails)
	// Output: multipart/signed true [alice@example.com]
}
