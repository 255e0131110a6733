package cms

import (
	"bytes"
	"crypto/rand"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Issue #11 item 12: counts and sizes are bounded while parsing. The
// inputs are the issue's: 100,000 SignerInfos, 1,000,000 bogus
// certificates, 40,000 RSA-OAEP RecipientInfos. They are generated as
// streams, so the test's own memory stays small and what is measured is
// the reader's.

var limitsOut = flag.String("limits.out", "", "write the issue #11 item 12 inputs as messages into this directory (TestWriteLimitInputs)")

// repeatReader yields elem n times.
type repeatReader struct {
	elem []byte
	n    int
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	k := 0
	for k < len(p) && r.n > 0 {
		c := copy(p[k:], r.elem[r.off:])
		k += c
		r.off += c
		if r.off == len(r.elem) {
			r.off = 0
			r.n--
		}
	}
	if k == 0 {
		return 0, io.EOF
	}
	return k, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func der(f func(b *cryptobyte.Builder)) []byte {
	var b cryptobyte.Builder
	f(&b)
	return b.BytesOrPanic()
}

// fakeSignerInfo is a SignerInfo of about 720 bytes: issuer and serial,
// SHA-256, a few signed attributes, an RSA-2048-sized signature.
func fakeSignerInfo() []byte {
	return der(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(1)
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1ObjectIdentifier([]int{2, 5, 4, 3})
							b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte("Some Issuing CA")) })
						})
					})
				})
				b.AddASN1Int64(12345)
			})
			addAlgorithm(b, oidSHA256, nil)
			b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(OIDAttrContentType)
					b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(OIDData) })
				})
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(OIDAttrMessageDigest)
					b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddASN1OctetString(make([]byte, 32)) })
				})
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier([]int{1, 2, 840, 113549, 1, 9, 15}) // smimeCapabilities
					b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddASN1OctetString(make([]byte, 300)) })
				})
			})
			addAlgorithm(b, oidRSAEncryption, derNull)
			b.AddASN1OctetString(make([]byte, 256))
		})
	})
}

// signedDataStream is a BER SignedData with n copies of cert in its
// certificates field, m copies of crl in crls and k copies of si in
// signerInfos, each field of indefinite length, with detached content.
func signedDataStream(cert []byte, n int, crl []byte, m int, si []byte, k int) io.Reader {
	head := der(func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(OIDSignedData) })
	head = append([]byte{0x30, 0x80}, head...)
	head = append(head, 0xa0, 0x80, 0x30, 0x80)
	head = append(head, der(func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { addAlgorithm(b, oidSHA256, nil) })
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(OIDData) })
	})...)
	var rs []io.Reader
	rs = append(rs, bytes.NewReader(head))
	if n > 0 {
		rs = append(rs, bytes.NewReader([]byte{0xa0, 0x80}), &repeatReader{elem: cert, n: n}, bytes.NewReader([]byte{0, 0}))
	}
	if m > 0 {
		rs = append(rs, bytes.NewReader([]byte{0xa1, 0x80}), &repeatReader{elem: crl, n: m}, bytes.NewReader([]byte{0, 0}))
	}
	rs = append(rs, bytes.NewReader([]byte{0x31, 0x80}), &repeatReader{elem: si, n: k}, bytes.NewReader([]byte{0, 0, 0, 0, 0, 0, 0, 0}))
	return io.MultiReader(rs...)
}

// fakeOAEPRecipient is a KeyTransRecipientInfo with id-RSAES-OAEP and a
// 256-byte encrypted key: one RSA-2048 decryption each, to a key that
// tries them all.
func fakeOAEPRecipient(serial int64) []byte {
	ek := make([]byte, 256)
	rand.Read(ek)
	return der(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(0)
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {})
				b.AddASN1Int64(serial)
			})
			b.AddBytes(oaepAlgorithmSHA256())
			b.AddASN1OctetString(ek)
		})
	})
}

// envelopedStream is a BER EnvelopedData (AES-256-CBC) with n recipients
// made by ri and 32 bytes of encrypted content.
func envelopedStream(n int, ri func(i int) []byte) io.Reader {
	head := der(func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(OIDEnvelopedData) })
	head = append([]byte{0x30, 0x80}, head...)
	head = append(head, 0xa0, 0x80, 0x30, 0x80)
	head = append(head, der(func(b *cryptobyte.Builder) { b.AddASN1Int64(0) })...)
	head = append(head, 0x31, 0x80)
	var ris bytes.Buffer
	for i := 0; i < n; i++ {
		ris.Write(ri(i))
	}
	tail := []byte{0, 0}
	tail = append(tail, der(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(OIDData)
			b.AddBytes(contentAlgorithmDER(AES256CBC, contentParams{iv: make([]byte, 16)}))
			b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, 32)) })
		})
	})...)
	tail = append(tail, 0, 0, 0, 0, 0, 0)
	return io.MultiReader(bytes.NewReader(head), &ris, bytes.NewReader(tail))
}

func TestReadSignedDataLimits(t *testing.T) {
	si := fakeSignerInfo()
	bogus := []byte{0x30, 0x00}
	big := der(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1OctetString(make([]byte, MaxCertificateBytes)) })
	})
	tests := []struct {
		name      string
		in        io.Reader
		limit     *LimitError // nil: reads fine
		readUnder int64       // the reader stops before this many bytes
	}{
		{"64 signers", signedDataStream(nil, 0, nil, 0, si, MaxSigners), nil, 0},
		{"65 signers", signedDataStream(nil, 0, nil, 0, si, MaxSigners+1), &LimitError{What: "signers", Limit: MaxSigners}, 1 << 20},
		{"100000 signers", signedDataStream(nil, 0, nil, 0, si, 100000), &LimitError{What: "signers", Limit: MaxSigners}, 1 << 20},
		{"1000 certificates", signedDataStream(bogus, MaxCertificates, nil, 0, si, 1), nil, 0},
		{"1000000 certificates", signedDataStream(bogus, 1000000, nil, 0, si, 1), &LimitError{What: "certificates", Limit: MaxCertificates}, 1 << 20},
		{"1000000 CRLs", signedDataStream(nil, 0, bogus, 1000000, si, 1), &LimitError{What: "CRLs", Limit: MaxCRLs}, 1 << 20},
		{"one certificate of 8 MiB", signedDataStream(big, 1, nil, 0, si, 1), &LimitError{What: "certificates", Limit: MaxCertificateBytes, Bytes: true}, MaxCertificateBytes + 1<<20},
		{"signers of 4 MiB", signedDataStream(nil, 0, nil, 0, append([]byte{0x30, 0x83, 0x40, 0x00, 0x00, 0x04, 0x83, 0x3f, 0xff, 0xfc}, make([]byte, 4<<20-4)...), 1),
			&LimitError{What: "signers", Limit: MaxSignerInfoBytes, Bytes: true}, 5 << 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cr := &countingReader{r: tc.in}
			sd, err := ReadSignedData(cr, nil)
			if tc.limit == nil {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				if len(sd.SignerInfos) == 0 {
					t.Fatal("no signer infos")
				}
				return
			}
			var le *LimitError
			if !errors.As(err, &le) || *le != *tc.limit {
				t.Fatalf("got %v, want %v", err, tc.limit)
			}
			if cr.n >= tc.readUnder {
				t.Errorf("read %d bytes before failing, want fewer than %d (stop at the first element past the limit)", cr.n, tc.readUnder)
			}
		})
	}
}

func TestReadEnvelopedLimits(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		ri    func(int) []byte
		limit bool
	}{
		{"1000 OAEP recipients", MaxRecipients, func(i int) []byte { return fakeOAEPRecipient(int64(i)) }, false},
		{"1001 OAEP recipients", MaxRecipients + 1, func(i int) []byte { return fakeOAEPRecipient(int64(i)) }, true},
		{"40000 OAEP recipients", 40000, func(i int) []byte { return fakeOAEPRecipient(int64(i)) }, true},
		{"one kari of 1001 keys", 1, func(int) []byte { return fakeKeyAgree(MaxRecipients + 1) }, true},
		{"1000 other recipients", MaxRecipients + 1, func(int) []byte { return []byte{0xa4, 0x00} }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			cr := &countingReader{r: envelopedStream(tc.n, tc.ri)}
			env, err := ReadEnveloped(cr, io.Discard, func(env *Enveloped) ([]byte, error) {
				calls++
				return nil, errors.New("stop")
			})
			if !tc.limit {
				if err == nil || err.Error() != "stop" || calls != 1 {
					t.Fatalf("got %v after %d calls, want the key callback's error", err, calls)
				}
				return
			}
			var le *LimitError
			if !errors.As(err, &le) || le.What != "recipients" || le.Limit != MaxRecipients || env != nil || calls != 0 {
				t.Fatalf("got %v (%d key calls), want a recipients LimitError before any key is asked for", err, calls)
			}
			if cr.n > int64(MaxRecipients+2)*400 {
				t.Errorf("read %d bytes before failing: it should stop at recipient %d", cr.n, MaxRecipients+1)
			}
		})
	}
}

// fakeKeyAgree is a KeyAgreeRecipientInfo with n RecipientEncryptedKeys.
func fakeKeyAgree(n int) []byte {
	return der(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(1).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1Int64(3)
			b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.Tag(1).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
					addAlgorithm(b, oidECPublicKey, nil)
					b.AddASN1BitString(make([]byte, 65))
				})
			})
			addAlgorithm(b, oidECDHSHA256KDF, algorithmDER(oidAES256Wrap, nil))
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for i := 0; i < n; i++ {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
							b.AddASN1OctetString([]byte{byte(i >> 8), byte(i)})
						})
						b.AddASN1OctetString(make([]byte, 40))
					})
				}
			})
		})
	})
}

// TestPaddingCheck runs the constant-time check over every value of the
// last byte and every wrong byte inside the padding (issue #11 item 10).
func TestPaddingCheck(t *testing.T) {
	for _, bs := range []int{8, 16} {
		for v := 0; v < 256; v++ {
			block := make([]byte, bs)
			for i := range block {
				block[i] = byte(v) // inner bytes as the padding wants them
			}
			pad, good := checkPadding(block)
			wantGood := v >= 1 && v <= bs
			if (good == 1) != wantGood || (wantGood && pad != v) || (!wantGood && pad != 0) {
				t.Errorf("bs %d, last byte %#x: got pad %d good %d, want good=%v", bs, v, pad, good, wantGood)
			}
		}
		for p := 1; p <= bs; p++ {
			for wrong := bs - p; wrong < bs-1; wrong++ {
				block := bytes.Repeat([]byte{byte(p)}, bs)
				block[wrong] ^= 0x40
				if pad, good := checkPadding(block); good != 0 || pad != 0 {
					t.Errorf("bs %d, pad %d, byte %d wrong: got pad %d good %d, want bad", bs, p, wrong, pad, good)
				}
			}
			if p < bs {
				// The byte before the padding is content: anything goes.
				block := bytes.Repeat([]byte{byte(p)}, bs)
				block[bs-p-1] = 0xee
				if pad, good := checkPadding(block); good != 1 || pad != p {
					t.Errorf("bs %d, pad %d, content byte changed: got pad %d good %d, want good", bs, p, pad, good)
				}
			}
		}
	}
}

func BenchmarkReadSignedData100kSigners(b *testing.B) {
	si := fakeSignerInfo()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadSignedData(signedDataStream(nil, 0, nil, 0, si, 100000), nil); !IsLimitError(err) {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadSignedData1MCertificates(b *testing.B) {
	si := fakeSignerInfo()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadSignedData(signedDataStream([]byte{0x30, 0x00}, 1000000, nil, 0, si, 1), nil); !IsLimitError(err) {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadEnveloped40kOAEP(b *testing.B) {
	var buf bytes.Buffer
	io.Copy(&buf, envelopedStream(40000, func(i int) []byte { return fakeOAEPRecipient(int64(i)) }))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_, err := ReadEnveloped(bytes.NewReader(buf.Bytes()), io.Discard, func(*Enveloped) ([]byte, error) {
			b.Fatal("asked for a key")
			return nil, nil
		})
		if !IsLimitError(err) {
			b.Fatal(err)
		}
	}
}

// TestWriteLimitInputs writes the three inputs as S/MIME messages
// for measuring the CLI (time, peak RSS), with -limits.out=DIR:
// signers.eml (100,000 SignerInfos), certs.eml (1,000,000 bogus
// certificates), oaep.eml (40,000 RSA-OAEP recipients) and oaep1000.eml
// (1,000, inside the limit, for --try-all).
func TestWriteLimitInputs(t *testing.T) {
	if *limitsOut == "" {
		t.Skip("give -limits.out=DIR to write the inputs")
	}
	si := fakeSignerInfo()
	signed := "Content-Type: application/pkcs7-mime; smime-type=signed-data\r\nContent-Transfer-Encoding: binary\r\n\r\n"
	env := "Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\nContent-Transfer-Encoding: binary\r\n\r\n"
	files := map[string]func() io.Reader{
		"signers.eml": func() io.Reader { return signedDataStream(nil, 0, nil, 0, si, 100000) },
		"certs.eml":   func() io.Reader { return signedDataStream([]byte{0x30, 0x00}, 1000000, nil, 0, si, 1) },
	}
	for name, f := range files {
		writeMessage(t, name, signed, f())
	}
	oaep := func(i int) []byte { return fakeOAEPRecipient(int64(i)) }
	writeMessage(t, "oaep.eml", env, envelopedStream(40000, oaep))
	writeMessage(t, "oaep1000.eml", env, envelopedStream(MaxRecipients, oaep))
}

func writeMessage(t *testing.T, name, header string, body io.Reader) {
	f, err := os.Create(filepath.Join(*limitsOut, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, io.MultiReader(bytes.NewReader([]byte("From: mallory@example.com\r\nTo: bob@example.com\r\nSubject: limits\r\nMIME-Version: 1.0\r\n"+header)), body)); err != nil {
		t.Fatal(err)
	}
}
