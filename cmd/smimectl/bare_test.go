package main

import (
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"os"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/keys"
)

// Issue #15 items 1 and 2: bare CMS files in the forms clients and tools save.
func init() {
	scriptCmds["armor"] = cmdArmor
	scriptCmds["berbomb"] = cmdBERBomb
	scriptCmds["seal-raw"] = cmdSealRaw
}

// cmdArmor writes the DER (or BER) file IN as PEM with LABEL, or with
// -bare as bare base64 in lines of 64 characters, as `openssl cms
// -outform PEM` and a client's "save attachment as text" write:
// "armor CMS s.p7m s.pem", "armor -bare s.p7m s.b64".
func cmdArmor(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: armor {LABEL | -bare} <in> <out>")
	}
	der, err := os.ReadFile(ts.MkAbs(args[1]))
	ts.Check(err)
	var out []byte
	if args[0] == "-bare" {
		s := base64.StdEncoding.EncodeToString(der)
		var b strings.Builder
		for len(s) > 64 {
			b.WriteString(s[:64] + "\n")
			s = s[64:]
		}
		b.WriteString(s + "\n")
		out = []byte(b.String())
	} else {
		out = pem.EncodeToMemory(&pem.Block{Type: args[0], Bytes: der})
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[2]), out, 0o644))
}

// cmdBERBomb writes a hostile CMS file: "berbomb N bomb.p7m" nests N
// indefinite-length SEQUENCEs inside a SignedData ContentInfo, never closed;
// "berbomb huge huge.der" is a ContentInfo whose lengths claim 4 GiB and whose
// content is 4 bytes.
func cmdBERBomb(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: berbomb {<depth> | huge} <out>")
	}
	oid := []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02}
	var b []byte
	if args[0] == "huge" {
		b = append([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff}, oid...)
		b = append(b, 0xa0, 0x84, 0xff, 0xff, 0xff, 0x00, 0x30, 0x80, 0x02, 0x01)
	} else {
		n, err := strconv.Atoi(args[0])
		ts.Check(err)
		b = append([]byte{0x30, 0x80}, oid...)
		b = append(b, 0xa0, 0x80)
		for range n {
			b = append(b, 0x30, 0x80)
		}
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), b, 0o644))
}

// cmdSealRaw encrypts the bytes of IN as they are, with no MIME header, for the
// certificate CERT, and writes an application/pkcs7-mime message with a From,
// To and Subject to OUT: what some clients send (issue #15 item 4). "seal-raw
// [-gcm] bob.crt body.txt sealed.eml".
func cmdSealRaw(ts *testscript.TestScript, neg bool, args []string) {
	c := cms.AES256CBC
	if len(args) > 0 && args[0] == "-gcm" {
		c, args = cms.AES128GCM, args[1:]
	}
	if neg || len(args) != 3 {
		ts.Fatalf("usage: seal-raw [-gcm] <cert> <in> <out>")
	}
	certs, err := keys.LoadCertificates(ts.MkAbs(args[0]))
	ts.Check(err)
	body, err := os.ReadFile(ts.MkAbs(args[1]))
	ts.Check(err)
	var ci bytes.Buffer
	w, err := cms.NewEnvelopedDataWriter(&ci, cms.EnvelopeOptions{Recipients: []cms.Recipient{{Certificate: certs[0]}}, Cipher: c})
	ts.Check(err)
	_, err = w.Write(body)
	ts.Check(err)
	ts.Check(w.Close())
	st := "enveloped-data"
	if c.AEAD() {
		st = "authEnveloped-data"
	}
	var msg strings.Builder
	msg.WriteString("From: Alice <alice@example.com>\r\nTo: Bob <bob@example.com>\r\nSubject: bare\r\nMIME-Version: 1.0\r\n")
	msg.WriteString("Content-Type: application/pkcs7-mime; smime-type=" + st + "; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	s := base64.StdEncoding.EncodeToString(ci.Bytes())
	for len(s) > 76 {
		msg.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	msg.WriteString(s + "\r\n")
	ts.Check(os.WriteFile(ts.MkAbs(args[2]), []byte(msg.String()), 0o644))
}
