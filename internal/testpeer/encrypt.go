package testpeer

import (
	"fmt"
	"os"

	"github.com/rogpeppe/go-internal/testscript"
)

// Encryption with the peers (PEERS.md): gpgsm and cmsutil write and read
// EnvelopedData with RSA PKCS#1 v1.5 key transport and CBC ciphers only.

// ImportCert imports a certificate without its key, so that gpgsm can
// encrypt to it.
func (g *GPGSM) ImportCert(cert string) error {
	_, err := run(g.command("--import", cert))
	return err
}

// Encrypt writes to out raw CMS EnvelopedData (BER) of the bytes of in for
// the recipient certificates (imported with [GPGSM.ImportCert] or
// [GPGSM.ImportKey]), with AES-256-CBC.
func (g *GPGSM) Encrypt(in, out string, certs ...string) error {
	if err := exists(in); err != nil {
		return err
	}
	args := []string{"--cipher-algo", "AES256", "--output", out}
	for _, c := range certs {
		fpr, err := Fingerprint(c)
		if err != nil {
			return err
		}
		args = append(args, "-r", "0x"+fpr)
	}
	_, err := run(g.command(append(append(args, "--encrypt"), in)...))
	return err
}

// Decrypt writes to out the content of the raw CMS EnvelopedData in, which
// gpgsm decrypts with an imported key protected by pass. A message gpgsm
// refuses gives a [*RejectedError].
func (g *GPGSM) Decrypt(in, out, pass string) error {
	if err := exists(in); err != nil {
		return err
	}
	_, err := run(withPassphrase(g.command("--output", out, "--decrypt", in), pass))
	return err
}

// AddCert adds a certificate without a key to the database, with no trust
// of its own, so that cmsutil can encrypt to it.
func (n *NSS) AddCert(nick, cert string) error { return n.addCert(nick, ",,", cert) }

// Encrypt writes to out CMS EnvelopedData (BER) of the bytes of in for the
// recipients, named by e-mail address or nickname.
func (n *NSS) Encrypt(in, out string, recipients ...string) error {
	if err := exists(in); err != nil {
		return err
	}
	rs := ""
	for i, r := range recipients {
		if i > 0 {
			rs += ","
		}
		rs += r
	}
	_, err := run(n.command("cmsutil", "-E", "-r", rs, "-i", in, "-o", out))
	return err
}

// Decrypt writes to out the content of the CMS EnvelopedData in, decrypted
// with a key in the database.
func (n *NSS) Decrypt(in, out string) error {
	if err := exists(in); err != nil {
		return err
	}
	_, err := run(n.command("cmsutil", "-D", "-i", in, "-o", out))
	if err == nil {
		if fi, serr := os.Stat(out); serr != nil || fi.Size() == 0 {
			return fmt.Errorf("testpeer: cmsutil wrote no content")
		}
	}
	return err
}

// Encryption commands of [Cmds]:
//
//	gpgsm-import-cert CERT.crt
//	gpgsm-encrypt IN OUT CERT.crt...
//	gpgsm-decrypt PASS IN OUT
//	nss-add-cert DBDIR NICK CERT.crt
//	nss-encrypt DBDIR IN OUT RECIPIENT...
//	nss-decrypt DBDIR IN OUT
func encryptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"gpgsm-import-cert": func(ts *testscript.TestScript, neg bool, args []string) {
			usage(ts, neg, false, args, 1, 1, "gpgsm-import-cert CERT.crt")
			ts.Check(scriptGPGSM(ts).ImportCert(ts.MkAbs(args[0])))
		},
		"gpgsm-encrypt": func(ts *testscript.TestScript, neg bool, args []string) {
			usage(ts, neg, false, args, 3, -1, "gpgsm-encrypt IN OUT CERT.crt...")
			ts.Check(scriptGPGSM(ts).Encrypt(ts.MkAbs(args[0]), ts.MkAbs(args[1]), abs(ts, args[2:])...))
		},
		"gpgsm-decrypt": func(ts *testscript.TestScript, neg bool, args []string) {
			usage(ts, neg, false, args, 3, 3, "gpgsm-decrypt PASS IN OUT")
			ts.Check(scriptGPGSM(ts).Decrypt(ts.MkAbs(args[1]), ts.MkAbs(args[2]), args[0]))
		},
		"nss-add-cert": func(ts *testscript.TestScript, neg bool, args []string) {
			usage(ts, neg, false, args, 3, 3, "nss-add-cert DBDIR NICK CERT.crt")
			ts.Check((&NSS{Dir: ts.MkAbs(args[0])}).AddCert(args[1], ts.MkAbs(args[2])))
		},
		"nss-encrypt": func(ts *testscript.TestScript, neg bool, args []string) {
			usage(ts, neg, false, args, 4, -1, "nss-encrypt DBDIR IN OUT RECIPIENT...")
			ts.Check((&NSS{Dir: ts.MkAbs(args[0])}).Encrypt(ts.MkAbs(args[1]), ts.MkAbs(args[2]), args[3:]...))
		},
		"nss-decrypt": func(ts *testscript.TestScript, neg bool, args []string) {
			usage(ts, neg, false, args, 3, 3, "nss-decrypt DBDIR IN OUT")
			ts.Check((&NSS{Dir: ts.MkAbs(args[0])}).Decrypt(ts.MkAbs(args[1]), ts.MkAbs(args[2])))
		},
	}
}
