package cms

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

// The example of "Use of ML-KEM in the CMS" (draft-ietf-lamps-cms-kyber,
// published as RFC 9936), Appendix "ML-KEM CMS Enveloped-Data Example", as
// the draft's repository (github.com/lamps-wg/cms-kyber, example/ at commit
// 42684d2) gives it: Alice's AuthEnvelopedData to Bob's ML-KEM-512 key
// with its intermediate values. Bob's private key is not in it, so the
// test starts from the shared secret the example prints.
const (
	specExampleCMS = `MIID4gYLKoZIhvcNAQkQARegggPRMIIDzQIBADGCA3ikggN0BgsqhkiG9w0BCRAN
AzCCA2MCAQCAFFmXiMN67UAO5AXRsqM2arF9gkpRMAsGCWCGSAFlAwQEAQSCAwA+
pA/GygkOLIr3bicnqzjgZS2VFZhv4YaCf+hOWW5CG4X9RZzHiZc3LJ3jHRkbOcHV
o+tt21aq3t52XMOQ/bvC+IyxdWgdQgG4HM38sk/vE68vWhq8+NivOE8CoBCm6Rnx
mHpemxwOLT8H9YqfpTnOhswUmRChaSwMpM4Ozk7u0uZpnLl2MyRS3koutcph97CB
Mww0eY73EqJOWcM86h8fnm1PvzdDo4RnQwARM29i2HB5K4Zr780dGzZb7RlSZz06
Wwwgs4a079HPY/03a9R8zEasTdjsZrBHxMlaz/HP0CikGbAC/aG2F8umHS6Rz+j/
+8uP/U1fatixWMIZ423FFAXcDAsjSXmsZY5yvd8bZ3O5ayrj5NB76GBIBAwBZ0Nv
qDnnUpsAzJq1Wi8l22PMn1V1lOaRwR5VPUo+vHYPXxnl/hRIOLTH0VkdqbXUZ0lP
2crFLMVQQGA5nb23IpjrmkwBewB4b9x9nXqletu4thw03h4oiyq3KBcdzhQ80WlT
+YTBrtVZ5WuqDOZY0yzOQvRAdQTNelea0O+bdxNeqjm2+To6LlmXgH8GNhyD9OZ/
jj+c9oMWARUU9dhaGBzq1xTNSUDk66wB1mUo2jL4nOoEKOjrytz4qhiMn2LoWxlX
ZVt/4rjXlzt6cia2bZO/eyMvPc9lPIS07PGpkg2xlJrXULVGpVUqIOVJCXGbjAwH
BW/LfldK0qMuyVAB3ehEgb530DntW/dCYuzzmB8bANM2apwuBhxH4kGgYcYklWDS
uERqSAw4woupidn2itxLuvKiC0fkkjEoxyNC1Zf9olneC4PCBW1rd+eZsxkySqUL
HWWcKlYCm3RTxfO6UkPZ+nSdkXxA2dEB5FO8ixDkKnwIkyPAJveD4QC5+m5wFEJN
pvo3kryVfughnQFrdz8o/tzJYqSFq6/+wCMoGXHimqaJg57P0mGekih80jDbJqJQ
fMUA6xx6UpO1/pF64pvxrTUBJPijEWNSFLQR259n07hb1xUBhTfqRbQfQbTGYFEw
DQYLKoZIhvcNAQkQAxwCARAwCwYJYIZIAWUDBAEFBBjAUOQ5L5wU3QrCIgID8xfX
AflPndknePUwOgYJKoZIhvcNAQcBMB4GCWCGSAFlAwQBBjARBAxcpXRouBvwO42n
GGwCARCADZTIaJqZ0sOOGS+muggEEFzxeGxXx0ArVPyTwwpKRTM=`
	specExampleSS      = "7DF12D412AE299A24FDE6D7C3BB8E3194C80AD3C733DCF2775E09FE8BEDB86D8"
	specExampleORIInfo = "3010300B0609608648016503040105020110"
	specExampleKEK     = "CF453A3E2BAE0A78701B8206C185A008"
	// specExampleCEK is as the example prints it: each octet in hexadecimal
	// without its leading zero (05 as 5, 01 as 1).
	specExampleCEK = "C515305588269A0A59F3C1943FDD56"
)

// TestKEMSpecExample checks the ML-KEM CMS specification's example
// (issue #18, "the specifications' example appendices"): the
// CMSORIforKEMOtherInfo built from the parsed KEMRecipientInfo is the
// example's, HKDF-SHA256 of its shared secret gives its KEK, the KEK
// unwraps the encryptedKey to its CEK, and the CEK opens the
// AuthEnvelopedData (the GCM tag verifies).
func TestKEMSpecExample(t *testing.T) {
	der, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(specExampleCMS, "\n", ""))
	if err != nil {
		t.Fatal(err)
	}
	ss, _ := hex.DecodeString(specExampleSS)
	var out bytes.Buffer
	env, err := ReadEnveloped(bytes.NewReader(der), &out, func(e *Enveloped) ([]byte, error) {
		ri := e.Recipients[0]
		if ri.Type != KEMRecipient {
			t.Fatalf("recipient type %v", ri.Type)
		}
		p, err := ri.kemAlgorithms()
		if err != nil {
			t.Fatal(err)
		}
		info := kemOtherInfo(p.wrap.raw, ri.KEKLength, ri.UKM)
		if got := strings.ToUpper(hex.EncodeToString(info)); got != specExampleORIInfo {
			t.Errorf("CMSORIforKEMOtherInfo %s, want %s", got, specExampleORIInfo)
		}
		kek, err := deriveKEK(p.hash, ss, info, ri.KEKLength)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.ToUpper(hex.EncodeToString(kek)); got != specExampleKEK {
			t.Errorf("KEK %s, want %s", got, specExampleKEK)
		}
		cek, err := aesKeyUnwrap(kek, ri.EncryptedKey)
		if err != nil {
			t.Fatal(err)
		}
		var printed strings.Builder
		for _, c := range cek {
			fmt.Fprintf(&printed, "%X", c)
		}
		if len(cek) != 16 || printed.String() != specExampleCEK {
			t.Errorf("CEK %X, want %s as the example prints it", cek, specExampleCEK)
		}
		if km := ri.KeyManagement(); km != "ml-kem-512-hkdf-sha256-aes128wrap" {
			t.Errorf("key management %q", km)
		}
		return cek, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !env.Auth || env.Cipher != AES128GCM {
		t.Errorf("auth %v, cipher %v", env.Auth, env.Cipher)
	}
	if out.String() != "Hello, world!" {
		t.Errorf("plaintext %q", out.String())
	}
}
