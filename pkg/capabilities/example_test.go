package capabilities_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/smimectl/smimectl/pkg/capabilities"
	"github.com/smimectl/smimectl/pkg/encrypt"
	"github.com/smimectl/smimectl/pkg/verify"
)

// Bob's signed mail (from the lab's files in ../testdata/example) is
// verified and what his client reads remembered; mail to him then uses
// AES-256-GCM, mail to him and carol (of whom nothing is known) AES-256-CBC.
func ExampleStore_LearnFrom() {
	at := func() time.Time { return time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC) }
	cert := func(name string) *x509.Certificate {
		data, err := os.ReadFile("../testdata/example/" + name)
		certs, err2 := verify.ReadCertificates(bytes.NewReader(data))
		if err := errors.Join(err, err2); err != nil {
			log.Fatal(err)
		}
		return certs[0]
	}
	signed, err := os.Open("../testdata/example/bob-signed.eml")
	if err != nil {
		log.Fatal(err)
	}
	defer signed.Close()
	res, err := verify.Verify(context.Background(), io.Discard, signed, verify.Options{Roots: []*x509.Certificate{cert("root.crt")}, Now: at})
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

	// Bob's certificate came with his mail; carol's is from a file.
	bob, carol := res.Signers[0].Certificate, cert("carol.crt")
	for _, to := range [][]*x509.Certificate{{bob}, {bob, carol}} {
		var caps []encrypt.Capabilities
		for _, c := range to {
			k, err := capabilities.Known(store, c)
			if err != nil {
				log.Fatal(err)
			}
			caps = append(caps, k)
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
	//   Bob: signed mail of 2026-07-01 advertised aes-256-gcm, aes-128-gcm, aes-256-cbc, aes-128-cbc, rsaes-oaep; rsa-oaep
	// 2 recipient(s): aes-256-cbc
	//   Bob: signed mail of 2026-07-01 advertised aes-256-gcm, aes-128-gcm, aes-256-cbc, aes-128-cbc, rsaes-oaep; rsa-oaep
	//   Carol: no capabilities known (no signed mail seen, no certificate extension): assumed to read AES-CBC only; ecdh
}
