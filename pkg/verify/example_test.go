package verify_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"strings"
	"time"

	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/pkg/encrypt"
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
	if err := sign.Sign(context.Background(), &signed, strings.NewReader(msg), sign.Options{
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

func ExampleInspect() {
	l, err := lab.New(lab.Options{Seed: "example"})
	if err != nil {
		log.Fatal(err)
	}
	bob := l.User("bob")
	at := func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }
	var signed bytes.Buffer
	msg := "From: bob@example.com\r\nSubject: report\r\nContent-Type: text/plain\r\n\r\nAll green.\r\n"
	if err := sign.Sign(context.Background(), &signed, strings.NewReader(msg), sign.Options{
		Key: bob.Key, Certificate: bob.Cert, Chain: l.Chain(), Now: at}); err != nil {
		log.Fatal(err)
	}

	// No keys and no trust: Inspect only describes.
	ins, err := verify.Inspect(&signed, verify.InspectOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for _, layer := range ins.Layers {
		fmt.Println(layer.Depth, layer.Kind, layer.MediaType, layer.Encoding, layer.DigestAlgorithms)
		for _, s := range layer.Signers {
			fmt.Println(s.Subject, s.SigningTime.Format(time.RFC3339), s.SignedAttributes)
		}
		for _, c := range layer.Certificates {
			fmt.Println(c.Subject, c.KeyUsage)
		}
	}
	fmt.Println(ins.Content)
	// Output:
	// 1 signed multipart/signed der [sha-256]
	// E=bob@example.com,CN=Bob,O=smimectl lab 2026-03-01T12:00:00Z [contentType signingTime messageDigest smimeCapabilities]
	// E=bob@example.com,CN=Bob,O=smimectl lab digitalSignature,keyEncipherment
	// CN=smimectl lab intermediate CA,O=smimectl lab keyCertSign,cRLSign
	// text/plain
}

func ExampleOpen() {
	l, err := lab.New(lab.Options{Seed: "example"})
	if err != nil {
		log.Fatal(err)
	}
	alice, bob := l.User("alice-sign"), l.User("bob")
	at := func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }
	msg := "From: alice@example.com\r\nSubject: plans\r\nContent-Type: text/plain\r\n\r\nMeet at noon.\r\n"

	// The triple wrap: sign, encrypt for Bob, sign again.
	sopts := sign.Options{Key: alice.Key, Certificate: alice.Cert, Chain: l.Chain(), Now: at}
	var inner, sealed, triple bytes.Buffer
	if err := sign.Sign(context.Background(), &inner, strings.NewReader(msg), sopts); err != nil {
		log.Fatal(err)
	}
	if err := encrypt.Encrypt(&sealed, &inner, encrypt.Options{Recipients: []*x509.Certificate{bob.Cert}, Now: at}); err != nil {
		log.Fatal(err)
	}
	sopts.Mode = sign.Opaque
	if err := sign.Sign(context.Background(), &triple, &sealed, sopts); err != nil {
		log.Fatal(err)
	}

	// Bob opens every layer; the content comes out only if all are valid.
	var content bytes.Buffer
	res, err := verify.Open(context.Background(), &content, &triple, verify.Options{
		Roots: []*x509.Certificate{l.Root.Cert}, Now: at,
		Decrypt: &verify.Identity{Certificate: bob.Cert, Key: bob.Key},
		Require: verify.RequireSignedInner,
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, layer := range res.Layers {
		fmt.Println(layer.Depth, layer.Kind, layer.Valid)
	}
	fmt.Print(strings.ReplaceAll(content.String(), "\r\n", "\n"))
	// Output:
	// 1 signed true
	// 2 enveloped true
	// 3 signed true
	// From: alice@example.com
	// Subject: plans
	// MIME-Version: 1.0
	// Content-Type: text/plain
	//
	// Meet at noon.
}

func ExampleAuthenticationResults() {
	l, err := lab.New(lab.Options{Seed: "example"})
	if err != nil {
		log.Fatal(err)
	}
	bob := l.User("bob")
	at := func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }
	var signed bytes.Buffer
	msg := "From: bob@example.com\r\nSubject: report\r\nContent-Type: text/plain\r\n\r\nAll green.\r\n"
	if err := sign.Sign(context.Background(), &signed, strings.NewReader(msg), sign.Options{
		Key: bob.Key, Certificate: bob.Cert, Chain: l.Chain(), Now: at}); err != nil {
		log.Fatal(err)
	}

	// A mail filter reports the verdict, whatever it is, in the message.
	res, verr := verify.Open(context.Background(), io.Discard, &signed, verify.Options{
		Roots: []*x509.Certificate{l.Root.Cert}, Now: at,
	})
	field := verify.AuthenticationResults("mx.example.com", res, verr)
	fmt.Print(strings.ReplaceAll(field, "\r\n", "\n"))
	// Output:
	// Authentication-Results: mx.example.com;
	// 	smime=pass body.smime-identifier=bob@example.com
	// 	body.smime-serial=3059482A2BDB4B0D11EEB8D6678B6BA0
	// 	body.smime-issuer="CN=smimectl lab intermediate CA,O=smimectl lab"
	// 	body.smime-part=TEXT
}
