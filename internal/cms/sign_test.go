package cms

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"testing"
	"time"
)

func TestSignVerifyRoundTrip(t *testing.T) {
	ids := identities(t)
	content := bytes.Repeat([]byte("Content-Type: text/plain\r\n\r\nhello\r\n"), 5000)
	tests := []struct {
		name     string
		key      string
		hash     crypto.Hash
		pss, ski bool
		detached bool
	}{
		{"rsa sha256 attached", "rsa", crypto.SHA256, false, false, false},
		{"rsa sha384 detached", "rsa", crypto.SHA384, false, false, true},
		{"rsa sha512 ski", "rsa", crypto.SHA512, false, true, false},
		{"rsa pss sha256", "rsa", crypto.SHA256, true, false, true},
		{"rsa pss sha512 attached", "rsa", crypto.SHA512, true, false, false},
		{"ecdsa sha256 detached", "ecdsa", crypto.SHA256, false, false, true},
		{"ecdsa sha384 attached ski", "ecdsa", crypto.SHA384, false, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := ids[tc.key]
			opts := SignOptions{
				Signer: Signer{Key: id.key, Certificate: id.cert, Hash: tc.hash, PSS: tc.pss,
					SubjectKeyID: tc.ski, SigningTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
					Capabilities: DefaultCapabilities()},
				Certificates: []*x509.Certificate{id.cert},
			}
			var out bytes.Buffer
			if tc.detached {
				h := tc.hash.New()
				h.Write(content)
				der, err := SignDetachedDigest(h.Sum(nil), opts)
				if err != nil {
					t.Fatal(err)
				}
				out.Write(der)
			} else {
				w, err := NewSignedDataWriter(&out, opts)
				if err != nil {
					t.Fatal(err)
				}
				w.Write(content[:100])
				w.Write(content[100:])
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
			}
			var got bytes.Buffer
			sd, err := ReadSignedData(bytes.NewReader(out.Bytes()), &got)
			if err != nil {
				t.Fatal(err)
			}
			if sd.Detached != tc.detached {
				t.Fatalf("detached = %v, want %v", sd.Detached, tc.detached)
			}
			if !tc.detached && !bytes.Equal(got.Bytes(), content) {
				t.Fatalf("content differs: got %d bytes, want %d", got.Len(), len(content))
			}
			if len(sd.SignerInfos) != 1 {
				t.Fatalf("got %d signers", len(sd.SignerInfos))
			}
			si := sd.SignerInfos[0]
			cert := si.FindCertificate(sd.Certificates)
			if cert == nil {
				t.Fatal("signer certificate not found")
			}
			h := si.Hash().New()
			h.Write(content)
			digest := h.Sum(nil)
			if !tc.detached && !bytes.Equal(sd.ContentDigests[si.Hash()], digest) {
				t.Fatal("streamed digest differs")
			}
			if err := si.CheckSignature(cert, sd.ContentType, digest); err != nil {
				t.Fatalf("CheckSignature: %v", err)
			}
			st, ok, err := si.SigningTime()
			if err != nil || !ok || !st.Equal(opts.Signer.SigningTime) {
				t.Fatalf("signing time %v %v %v", st, ok, err)
			}
			digest[0] ^= 1
			if err := si.CheckSignature(cert, sd.ContentType, digest); !errors.Is(err, ErrContentModified) {
				t.Fatalf("modified content: got %v, want ErrContentModified", err)
			}
			digest[0] ^= 1
			si.Signature[len(si.Signature)/2] ^= 1
			if err := si.CheckSignature(cert, sd.ContentType, digest); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("modified signature: got %v, want ErrBadSignature", err)
			}
		})
	}
}
