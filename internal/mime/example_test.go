package mime_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"log"
	"strings"

	"github.com/smimectl/smimectl/internal/mime"
)

func ExampleNewSignedWriter() {
	var outer mime.Header
	outer.Add("From", "alice@example.com")
	outer.Add("Subject", "hello")

	var msg bytes.Buffer
	digest := sha256.New()
	// A real caller passes crypto/rand.Reader; zeros make the output stable.
	rand := bytes.NewReader(make([]byte, 24))
	sw, err := mime.NewSignedWriter(&msg, outer, "sha-256", digest, rand)
	if err != nil {
		log.Fatal(err)
	}
	// LF line ends are canonicalised to CRLF before they are digested.
	io.WriteString(sw, "Content-Type: text/plain\n\nHello, Bob.\n")
	// A real caller signs digest.Sum(nil) with internal/cms here.
	if err := sw.Finish([]byte("not a real CMS signature")); err != nil {
		log.Fatal(err)
	}
	fmt.Print(strings.ReplaceAll(msg.String(), "\r\n", "\n"))
	// Output:
	// From: alice@example.com
	// Subject: hello
	// MIME-Version: 1.0
	// Content-Type: multipart/signed; protocol="application/pkcs7-signature";
	// 	micalg=sha-256;
	// 	boundary="----=_smimectl_000000000000000000000000000000000000000000000000"
	//
	// This is an S/MIME signed message
	// ------=_smimectl_000000000000000000000000000000000000000000000000
	// Content-Type: text/plain
	//
	// Hello, Bob.
	//
	// ------=_smimectl_000000000000000000000000000000000000000000000000
	// Content-Type: application/pkcs7-signature; name="smime.p7s"
	// Content-Transfer-Encoding: base64
	// Content-Disposition: attachment; filename="smime.p7s"
	//
	// bm90IGEgcmVhbCBDTVMgc2lnbmF0dXJl
	//
	// ------=_smimectl_000000000000000000000000000000000000000000000000--
}

func ExampleReadSigned() {
	msg := "From: alice@example.com\n" +
		"MIME-Version: 1.0\n" +
		"Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=b\n" +
		"\n" +
		"--b\n" +
		"Content-Type: text/plain\n" +
		"\n" +
		"Hello, Bob.\n" +
		"--b\n" +
		"Content-Type: application/pkcs7-signature; name=smime.p7s\n" +
		"Content-Transfer-Encoding: base64\n" +
		"\n" +
		"MAMCAQE=\n" +
		"--b--\n"
	e, err := mime.ReadEntity(strings.NewReader(msg))
	if err != nil {
		log.Fatal(err)
	}
	parts, err := mime.ReadSigned(e, mime.Spool{})
	if err != nil {
		log.Fatal(err)
	}
	defer parts.Close()
	r, err := parts.Content.Open()
	if err != nil {
		log.Fatal(err)
	}
	content, _ := io.ReadAll(r)
	from, _ := mime.FromAddress(parts.Outer)
	fmt.Printf("from %s, micalg %s\n", from, parts.Micalg)
	fmt.Printf("signed bytes %q\n", content)
	fmt.Printf("signature %x\n", parts.Signature)
	// Output:
	// from alice@example.com, micalg sha-256
	// signed bytes "Content-Type: text/plain\r\n\r\nHello, Bob."
	// signature 3003020101
}
