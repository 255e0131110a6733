package keys

import (
	"errors"
	"fmt"
	"github.com/smimectl/smimectl/internal/cms"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// checkPKCS12Iterations rejects a PKCS#12 file asking for more than
// maxPBKDF2Iterations key derivation rounds before the decoder, which sets
// no bound, spends minutes on it. The counts sit in structures of one shape,
// a SEQUENCE with an OCTET STRING salt followed by the INTEGER count:
//
//	MacData ::= SEQUENCE { mac DigestInfo, macSalt OCTET STRING, iterations INTEGER DEFAULT 1 }   -- RFC 7292 §4
//	pkcs-12PbeParams ::= SEQUENCE { salt OCTET STRING, iterations INTEGER }                       -- RFC 7292 Appendix C
//	PBKDF2-params ::= SEQUENCE { salt OCTET STRING, iterationCount INTEGER, ... }                 -- RFC 8018 Appendix A.2
//
// so every such pair in the file, including inside OCTET STRINGs that hold
// DER (the authSafe and its SafeContents), is checked. Encrypted
// SafeContents cannot be looked into; a file crafted that way needs the
// password the user gives.
// maxP12Depth bounds how deep the iteration check looks into nested DER.
const maxP12Depth = 64

func checkPKCS12Iterations(data []byte) error {
	der, err := cms.ToDER(data)
	if err != nil {
		return errors.New("keys: malformed PKCS#12 file")
	}
	return checkIterations(cryptobyte.String(der), 0, false)
}

// checkIterations checks the elements of s, the content of a constructed
// element if inSeq, else of an OCTET STRING or the file. The pairs above all
// sit inside a SEQUENCE, so only there is an INTEGER after an OCTET STRING a
// count: the content of an OCTET STRING may be ciphertext (an encrypted
// SafeContents) that starts like DER by chance, and reading a salt and a
// count there refused good files now and then. Such content is still walked,
// as a decoder that ignores trailing bytes would read its DER prefix.
func checkIterations(s cryptobyte.String, depth int, inSeq bool) error {
	if depth > maxP12Depth {
		return nil
	}
	var prevOctets bool
	for !s.Empty() {
		var elem cryptobyte.String
		var tag asn1.Tag
		if !s.ReadAnyASN1(&elem, &tag) {
			return nil // not DER: an OCTET STRING of opaque bytes
		}
		switch {
		case tag == asn1.INTEGER && prevOctets && inSeq:
			if len(elem) > 4 || (len(elem) > 0 && elem[0]&0x80 != 0) {
				return errors.New("keys: PKCS#12 iteration count out of range")
			}
			n := 0
			for _, b := range elem {
				n = n<<8 | int(b)
			}
			if n > maxPBKDF2Iterations {
				return fmt.Errorf("keys: PKCS#12 iteration count %d out of range", n)
			}
		case tag == asn1.OCTET_STRING:
			if err := checkIterations(elem, depth+1, false); err != nil {
				return err
			}
		case tag&0x20 != 0: // constructed: SEQUENCE, SET, [n]
			if err := checkIterations(elem, depth+1, true); err != nil {
				return err
			}
		}
		prevOctets = tag == asn1.OCTET_STRING
	}
	return nil
}
