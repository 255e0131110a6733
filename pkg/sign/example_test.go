package sign_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// ExampleSign signs with alice's identity from the lab's files in
// ../testdata/example (a PEM certificate, its PKCS#8 key, the authorities'
// certificates) and verifies the result, both at a fixed time.
func ExampleSign() {
	alice, err := tls.LoadX509KeyPair("../testdata/example/alice-sign.crt", "../testdata/example/alice-sign.key")
	if err != nil {
		log.Fatal(err)
	}
	var chain bytes.Buffer // the intermediate, then the root
	for _, name := range []string{"intermediate.crt", "root.crt"} {
		data, err := os.ReadFile("../testdata/example/" + name)
		if err != nil {
			log.Fatal(err)
		}
		chain.Write(data)
	}
	certs, err := verify.ReadCertificates(&chain)
	if err != nil {
		log.Fatal(err)
	}
	msg := "From: alice@example.com\r\nTo: bob@example.com\r\nSubject: lunch?\r\n" +
		"Content-Type: text/plain\r\n\r\nNoon at the usual place.\r\n"
	at := func() time.Time { return time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC) }

	var signed bytes.Buffer
	err = sign.Sign(context.Background(), &signed, strings.NewReader(msg), sign.Options{
		Key: alice.PrivateKey.(crypto.Signer), Certificate: alice.Leaf, Chain: certs, Now: at,
	})
	if err != nil {
		log.Fatal(err)
	}
	res, err := verify.Verify(context.Background(), new(bytes.Buffer), &signed, verify.Options{
		Roots: certs[1:], Now: at,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Form, res.Valid, res.Signers[0].Emails)
	// Output: multipart/signed true [alice@example.com]
}
