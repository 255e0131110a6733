package cms

import (
	"bytes"
	"errors"
	"testing"

	"github.com/smimectl/smimectl/internal/kem"
)

// FuzzKEMRecipientInfo fuzzes the KEMRecipientInfo parser and the key
// unwrap behind it (issue #18 item 3). The claim: a hostile entry never
// panics, fails with one of the package's error types and no key, and
// never yields a content key other than the one the valid seed entry
// carries. Seeds: a valid entry for a fixed ML-KEM-768 key, with and
// without ukm.
func FuzzKEMRecipientInfo(f *testing.F) {
	id := kemIdentities(f)[kem.MLKEM768]
	cek := bytes.Repeat([]byte{0xa5}, 32)
	for _, ukm := range [][]byte{nil, []byte("user keying material")} {
		f.Add(validKEMRI(f, id, cek, ukm).der(id.cert))
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		ris, err := parseRecipientInfo(der, MaxRecipients)
		if err != nil {
			if ris != nil && !IsLimitError(err) {
				t.Fatalf("recipients %v with error %v", ris, err)
			}
			if !IsFormatError(err) && !IsLimitError(err) {
				t.Fatalf("parse error of an unexpected type: %T %v", err, err)
			}
			return
		}
		for _, ri := range ris {
			_ = ri.KeyManagement()
			if ri.Type != KEMRecipient {
				continue
			}
			k, err := ri.UnwrapKey(id.key, 32, nil)
			if err != nil {
				var ua *UnsupportedAlgorithmError
				if k != nil || !(IsFormatError(err) || errors.As(err, &ua) || errors.Is(err, ErrDecrypt)) {
					t.Fatalf("unwrap: key %x, error %T %v", k, err, err)
				}
				continue
			}
			if !bytes.Equal(k, cek) {
				t.Fatalf("a modified entry unwrapped to another content key %x", k)
			}
		}
	})
}
