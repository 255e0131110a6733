package verify_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"time"

	"github.com/smimectl/smimectl/pkg/encrypt"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// The Examples read the lab's files in ../testdata/example: PEM
// certificates, PKCS#8 keys, CRLs and messages, made by
// `go test ./internal/apicheck -run TestExampleFixtures -update`. They check
// at a fixed time, at which every certificate of the lab has its intended
// state (dave's expired, eve's revoked, the others valid).
var exampleNow = func() time.Time { return time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC) }

// exampleCerts reads a certificate file (PEM, DER or a PKCS#7 bundle) of the
// fixtures, as cert-verify reads its argument.
func exampleCerts(name string) []*x509.Certificate {
	f, err := os.Open("../testdata/example/" + name)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	certs, err := verify.ReadCertificates(f)
	if err != nil {
		log.Fatal(err)
	}
	return certs
}

func ExampleVerify() {
	signed, err := os.Open("../testdata/example/bob-signed.eml")
	if err != nil {
		log.Fatal(err)
	}
	defer signed.Close()

	// The content is written only after every check passed.
	var content bytes.Buffer
	res, err := verify.Verify(context.Background(), &content, signed, verify.Options{
		Roots: exampleCerts("root.crt"), Now: exampleNow,
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
	signed, err := os.Open("../testdata/example/bob-signed.eml")
	if err != nil {
		log.Fatal(err)
	}
	defer signed.Close()

	// No keys and no trust: Inspect only describes.
	ins, err := verify.Inspect(signed, verify.InspectOptions{})
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
	// E=bob@example.com,CN=Bob,O=smimectl lab 2026-07-01T12:00:00Z [contentType signingTime messageDigest smimeCapabilities]
	// E=bob@example.com,CN=Bob,O=smimectl lab digitalSignature,keyEncipherment
	// CN=smimectl lab intermediate CA,O=smimectl lab keyCertSign,cRLSign
	// text/plain
}

func ExampleOpen() {
	// Alice's signing identity and Bob's: a certificate and its PKCS#8 key.
	alice, err := tls.LoadX509KeyPair("../testdata/example/alice-sign.crt", "../testdata/example/alice-sign.key")
	if err != nil {
		log.Fatal(err)
	}
	bob, err := tls.LoadX509KeyPair("../testdata/example/bob.crt", "../testdata/example/bob.key")
	if err != nil {
		log.Fatal(err)
	}
	roots := exampleCerts("root.crt")
	msg := "From: alice@example.com\r\nSubject: plans\r\nContent-Type: text/plain\r\n\r\nMeet at noon.\r\n"

	// The triple wrap: sign, encrypt for Bob, sign again.
	sopts := sign.Options{Key: alice.PrivateKey.(crypto.Signer), Certificate: alice.Leaf,
		Chain: append(exampleCerts("intermediate.crt"), roots...), Now: exampleNow}
	var inner, sealed, triple bytes.Buffer
	if err := sign.Sign(context.Background(), &inner, strings.NewReader(msg), sopts); err != nil {
		log.Fatal(err)
	}
	if err := encrypt.Encrypt(&sealed, &inner, encrypt.Options{Recipients: []*x509.Certificate{bob.Leaf}, Now: exampleNow}); err != nil {
		log.Fatal(err)
	}
	sopts.Mode = sign.Opaque
	if err := sign.Sign(context.Background(), &triple, &sealed, sopts); err != nil {
		log.Fatal(err)
	}

	// Bob opens every layer; the content comes out only if all are valid.
	var content bytes.Buffer
	res, err := verify.Open(context.Background(), &content, &triple, verify.Options{
		Roots: roots, Now: exampleNow,
		Decrypt: &verify.Identity{Certificate: bob.Leaf, Key: bob.PrivateKey},
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
	signed, err := os.Open("../testdata/example/bob-signed.eml")
	if err != nil {
		log.Fatal(err)
	}
	defer signed.Close()

	// A mail filter reports the verdict, whatever it is, in the message.
	res, verr := verify.Open(context.Background(), io.Discard, signed, verify.Options{
		Roots: exampleCerts("root.crt"), Now: exampleNow,
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
