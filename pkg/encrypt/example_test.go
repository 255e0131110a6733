package encrypt_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/smimectl/smimectl/pkg/encrypt"
)

// The Examples read the lab's identities from ../testdata/example: a PEM
// certificate and its PKCS#8 key each (tls.LoadX509KeyPair parses both), and
// encrypt at a fixed time at which the certificates are valid.

func ExampleEncrypt() {
	bob, err := tls.LoadX509KeyPair("../testdata/example/bob.crt", "../testdata/example/bob.key")
	if err != nil {
		log.Fatal(err)
	}
	carol, err := tls.LoadX509KeyPair("../testdata/example/carol.crt", "../testdata/example/carol.key")
	if err != nil {
		log.Fatal(err)
	}
	msg := "From: alice@example.com\r\nTo: bob@example.com, carol@example.com\r\nSubject: lunch?\r\n" +
		"Content-Type: text/plain\r\n\r\nNoon at the usual place.\r\n"
	at := func() time.Time { return time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC) }

	var sealed bytes.Buffer
	err = encrypt.Encrypt(&sealed, strings.NewReader(msg), encrypt.Options{
		Recipients: []*x509.Certificate{bob.Leaf, carol.Leaf},
		Ciphers:    []encrypt.Cipher{encrypt.AES256GCM},
		Now:        at,
	})
	if err != nil {
		log.Fatal(err)
	}
	var plain bytes.Buffer
	res, err := encrypt.Decrypt(&plain, &sealed, encrypt.DecryptOptions{Certificate: carol.Leaf, Key: carol.PrivateKey})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(strings.ReplaceAll(plain.String(), "\r\n", "\n"))
	fmt.Println(res.SMIMEType, res.Cipher, res.KeyManagement, len(res.Recipients))
	// Output:
	// From: alice@example.com
	// To: bob@example.com, carol@example.com
	// Subject: lunch?
	// MIME-Version: 1.0
	// Content-Type: text/plain
	//
	// Noon at the usual place.
	// authEnveloped-data aes-256-gcm ecdh-sha256kdf-aes256wrap 2
}

// ExampleDecrypt opens a message alice encrypted for bob, with bob's
// certificate and key from files. The plaintext is written only after the
// GCM tag has been checked; on failure nothing is written.
func ExampleDecrypt() {
	bob, err := tls.LoadX509KeyPair("../testdata/example/bob.crt", "../testdata/example/bob.key")
	if err != nil {
		log.Fatal(err)
	}
	sealed, err := os.Open("../testdata/example/to-bob.eml")
	if err != nil {
		log.Fatal(err)
	}
	defer sealed.Close()

	var plain bytes.Buffer
	res, err := encrypt.Decrypt(&plain, sealed, encrypt.DecryptOptions{Certificate: bob.Leaf, Key: bob.PrivateKey})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(strings.ReplaceAll(plain.String(), "\r\n", "\n"))
	fmt.Println(res.SMIMEType, res.Cipher, res.KeyManagement)
	for _, r := range res.Recipients {
		fmt.Println(r.Serial, r.KeyManagement, r.Us)
	}
	// Output:
	// From: alice@example.com
	// To: bob@example.com
	// Subject: lunch?
	// MIME-Version: 1.0
	// Content-Type: text/plain
	//
	// Noon at the usual place.
	// authEnveloped-data aes-256-gcm rsa-pkcs1v15
	// 3059482A2BDB4B0D11EEB8D6678B6BA0 rsa-pkcs1v15 true
}
