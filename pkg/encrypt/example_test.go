package encrypt_test

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/pkg/encrypt"
)

func ExampleEncrypt() {
	l, err := lab.New(lab.Options{Seed: "example"})
	if err != nil {
		log.Fatal(err)
	}
	bob, carol := l.User("bob"), l.User("carol")
	msg := "From: alice@example.com\r\nTo: bob@example.com, carol@example.com\r\nSubject: lunch?\r\n" +
		"Content-Type: text/plain\r\n\r\nNoon at the usual place.\r\n"
	at := func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }

	var sealed bytes.Buffer
	err = encrypt.Encrypt(&sealed, strings.NewReader(msg), encrypt.Options{
		Recipients: []*x509.Certificate{bob.Cert, carol.Cert},
		Ciphers:    []encrypt.Cipher{encrypt.AES256GCM},
		Now:        at,
	})
	if err != nil {
		log.Fatal(err)
	}
	var plain bytes.Buffer
	res, err := encrypt.Decrypt(&plain, &sealed, encrypt.DecryptOptions{Certificate: carol.Cert, Key: carol.Key})
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
