package main

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/smimectl/smimectl/internal/kem"
	"github.com/smimectl/smimectl/internal/lab"
)

// cmdMLKEMUser writes an ML-KEM encryption identity of the default lab
// (issue #18 item 3) beside the files `smimectl lab init` wrote:
//
//	mlkemuser <labdir> <name> <local> <person> <768|1024>
//
// makes <labdir>/<name>.crt (issued by the lab's intermediate) and
// <name>.key (PKCS#8, seed form). The lab in <labdir> must be the default
// one (seed 1): its intermediate certificate is compared.
// TODO(sig18): `lab init --pq` will write such a user; scripts can switch.
func cmdMLKEMUser(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 5 {
		ts.Fatalf("usage: mlkemuser <labdir> <name> <local> <person> <768|1024>")
	}
	set := map[string]kem.ParameterSet{"512": kem.MLKEM512, "768": kem.MLKEM768, "1024": kem.MLKEM1024}[args[4]]
	if set == 0 {
		ts.Fatalf("mlkemuser: parameter set %q: want 512, 768 or 1024", args[4])
	}
	l, err := lab.New(lab.Options{})
	ts.Check(err)
	dir := ts.MkAbs(args[0])
	inter, err := os.ReadFile(filepath.Join(dir, "intermediate.crt"))
	ts.Check(err)
	if !bytes.Equal(inter, certPEMOf(l.Intermediate.Cert.Raw)) {
		ts.Fatalf("mlkemuser: %s is not the default lab (seed 1)", args[0])
	}
	u, err := l.MLKEMUser(args[1], args[2], args[3], set)
	ts.Check(err)
	ts.Check(os.WriteFile(filepath.Join(dir, args[1]+".crt"), u.CertPEM(), 0o644))
	ts.Check(os.WriteFile(filepath.Join(dir, args[1]+".key"), u.KeyPEM(), 0o600))
}

func certPEMOf(der []byte) []byte {
	var b strings.Builder
	b.WriteString("-----BEGIN CERTIFICATE-----\n")
	enc := base64.StdEncoding.EncodeToString(der)
	for len(enc) > 64 {
		b.WriteString(enc[:64] + "\n")
		enc = enc[64:]
	}
	b.WriteString(enc + "\n-----END CERTIFICATE-----\n")
	return []byte(b.String())
}

// cmdKEMTamper changes one bit of the ML-KEM ciphertext (kemct) of the
// first KEMRecipientInfo in an S/MIME message (base64 body), as a
// modification in transit would: "kemtamper <in> <out>".
func cmdKEMTamper(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: kemtamper <in> <out>")
	}
	msg, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	i := bytes.Index(msg, []byte("\r\n\r\n"))
	if i < 0 {
		ts.Fatalf("kemtamper: no header end")
	}
	der, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(msg[i+4:])))
	ts.Check(err)
	// The kem AlgorithmIdentifier's OID, then kemct's 4-byte header.
	for _, set := range []kem.ParameterSet{kem.MLKEM768, kem.MLKEM1024, kem.MLKEM512} {
		oid := append([]byte{0x06, 0x09}, []byte{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x04, byte(set)}...)
		if j := bytes.Index(der, oid); j >= 0 {
			der[j+len(oid)+4+100] ^= 1
			enc := base64.StdEncoding.EncodeToString(der)
			var body bytes.Buffer
			for len(enc) > 76 {
				body.WriteString(enc[:76] + "\r\n")
				enc = enc[76:]
			}
			body.WriteString(enc + "\r\n")
			ts.Check(os.WriteFile(ts.MkAbs(args[1]), append(msg[:i+4:i+4], body.Bytes()...), 0o644))
			return
		}
	}
	ts.Fatalf("kemtamper: no ML-KEM recipient in %s", args[0])
}
