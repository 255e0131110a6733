package labtest

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/mime"
)

// CoSigner is one signer of [CoSign].
type CoSigner struct {
	Key         crypto.Signer
	Certificate *x509.Certificate
	// Capabilities, if not empty, is the signer's smimeCapabilities
	// attribute (issue #18 tests: mail advertising chosen ciphers).
	Capabilities []asn1.ObjectIdentifier
}

// CoSign clear-signs (multipart/signed, SHA-256) the message msg by every
// signer, one SignerInfo each over the same content, in one SignedData that
// carries chain and every signer's certificate: a message with co-signers,
// which pkg/sign does not write. Nothing is checked: a co-signer's address
// need not be in From. The signing time is at.
func CoSign(msg []byte, at time.Time, chain []*x509.Certificate, signers ...CoSigner) ([]byte, error) {
	if len(signers) == 0 {
		return nil, errors.New("labtest: CoSign needs a signer")
	}
	e, err := mime.ReadEntity(bytes.NewReader(msg))
	if err != nil {
		return nil, err
	}
	outer, entity := e.Header.Split()
	var out bytes.Buffer
	digest := sha256.New()
	sw, err := mime.NewSignedWriter(&out, outer, "sha-256", digest, rand.Reader)
	if err != nil {
		return nil, err
	}
	if _, err := entity.WriteTo(sw); err != nil {
		return nil, err
	}
	if _, err := io.WriteString(sw, "\r\n"); err != nil {
		return nil, err
	}
	if _, err := io.Copy(sw, e.Body); err != nil {
		return nil, err
	}
	if err := sw.EndContent(); err != nil {
		return nil, err
	}
	certs := append([]*x509.Certificate(nil), chain...)
	var infos [][]byte
	for _, s := range signers {
		certs = append(certs, s.Certificate)
		der, err := cms.SignDetachedDigest(digest.Sum(nil), cms.SignOptions{
			Signer: cms.Signer{Key: s.Key, Certificate: s.Certificate, SigningTime: at, Capabilities: s.Capabilities},
		})
		if err != nil {
			return nil, err
		}
		si, err := signerInfos(der)
		if err != nil {
			return nil, err
		}
		infos = append(infos, si...)
	}
	// The SignedData of the first signer, with every certificate and
	// every SignerInfo.
	first, err := cms.SignDetachedDigest(digest.Sum(nil), cms.SignOptions{
		Signer:       cms.Signer{Key: signers[0].Key, Certificate: signers[0].Certificate, SigningTime: at},
		Certificates: certs,
	})
	if err != nil {
		return nil, err
	}
	merged, err := replaceSignerInfos(first, infos)
	if err != nil {
		return nil, err
	}
	if err := sw.Finish(merged); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// signedDataFields splits a DER ContentInfo holding a SignedData into the
// SignedData's fields before signerInfos, and the SignerInfos.
func signedDataFields(der []byte) (head []byte, infos [][]byte, err error) {
	s := cryptobyte.String(der)
	var ci, content, sd cryptobyte.String
	if !s.ReadASN1(&ci, cbasn1.SEQUENCE) || !ci.SkipASN1(cbasn1.OBJECT_IDENTIFIER) ||
		!ci.ReadASN1(&content, cbasn1.Tag(0).ContextSpecific().Constructed()) ||
		!content.ReadASN1(&sd, cbasn1.SEQUENCE) {
		return nil, nil, fmt.Errorf("labtest: not a ContentInfo with SignedData")
	}
	for !sd.Empty() {
		var el cryptobyte.String
		var tag cbasn1.Tag
		if !sd.ReadAnyASN1Element(&el, &tag) {
			return nil, nil, fmt.Errorf("labtest: malformed SignedData")
		}
		if tag == cbasn1.SET && sd.Empty() {
			var set cryptobyte.String = el
			var body cryptobyte.String
			set.ReadASN1(&body, cbasn1.SET)
			for !body.Empty() {
				var si cryptobyte.String
				if !body.ReadASN1Element(&si, cbasn1.SEQUENCE) {
					return nil, nil, fmt.Errorf("labtest: malformed SignerInfo")
				}
				infos = append(infos, si)
			}
			return head, infos, nil
		}
		head = append(head, el...)
	}
	return nil, nil, fmt.Errorf("labtest: SignedData without signerInfos")
}

func signerInfos(der []byte) ([][]byte, error) {
	_, infos, err := signedDataFields(der)
	return infos, err
}

// replaceSignerInfos returns the ContentInfo der with infos as its
// SignerInfos.
func replaceSignerInfos(der []byte, infos [][]byte) ([]byte, error) {
	head, _, err := signedDataFields(der)
	if err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(cms.OIDSignedData)
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddBytes(head)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					for _, si := range infos {
						b.AddBytes(si)
					}
				})
			})
		})
	})
	return b.Bytes()
}
