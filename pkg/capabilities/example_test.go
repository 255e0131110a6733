package capabilities_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"time"

	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/pkg/capabilities"
	"github.com/smimectl/smimectl/pkg/encrypt"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// Bob's signed mail is verified and what his client reads remembered; mail
// to him then uses AES-256-GCM, mail to him and carol (of whom nothing is
// known) AES-256-CBC.
func ExampleStore_LearnFrom() {
	l, err := lab.New(lab.Options{Seed: "example"})
	if err != nil {
		log.Fatal(err)
	}
	at := func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }
	bob, carol := l.User("bob"), l.User("carol")
	var signed bytes.Buffer
	msg := "From: bob@example.com\r\nSubject: hello\r\nContent-Type: text/plain\r\n\r\nHi.\r\n"
	if err := sign.Sign(context.Background(), &signed, strings.NewReader(msg), sign.Options{
		Key: bob.Key, Certificate: bob.Cert, Chain: l.Chain(), Now: at}); err != nil {
		log.Fatal(err)
	}
	res, err := verify.Verify(context.Background(), io.Discard, &signed, verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: at})
	if err != nil {
		log.Fatal(err)
	}

	dir, err := os.MkdirTemp("", "capabilities")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := capabilities.Open(dir, capabilities.Options{Now: at})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := store.LearnFrom(res); err != nil {
		log.Fatal(err)
	}

	known := func(c *x509.Certificate) encrypt.Capabilities {
		k, err := capabilities.Known(store, c)
		if err != nil {
			log.Fatal(err)
		}
		return k
	}
	for _, to := range [][]*x509.Certificate{{bob.Cert}, {bob.Cert, carol.Cert}} {
		var caps []encrypt.Capabilities
		for _, c := range to {
			caps = append(caps, known(c))
		}
		plan, err := encrypt.Choose(nil, false, to, caps)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d recipient(s): %s\n", len(to), plan.Cipher)
		for _, rp := range plan.Recipients {
			fmt.Printf("  %s: %s; %s\n", rp.Certificate.Subject.CommonName, rp.Why, rp.KeyTransport())
		}
	}
	// Output:
	// 1 recipient(s): aes-256-gcm
	//   Bob: signed mail of 2026-03-01 advertised aes-256-gcm, aes-128-gcm, aes-256-cbc, aes-128-cbc, rsaes-oaep; rsa-oaep
	// 2 recipient(s): aes-256-cbc
	//   Bob: signed mail of 2026-03-01 advertised aes-256-gcm, aes-128-gcm, aes-256-cbc, aes-128-cbc, rsaes-oaep; rsa-oaep
	//   Carol: no capabilities known (no signed mail seen, no certificate extension): assumed to read AES-CBC only; ecdh
}
