package verify

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/smimectl/smimectl/internal/certinfo"
	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/mime"
)

// MaxDepth is the number of S/MIME layers (signed or enveloped) that
// [Inspect] and [Open] descend through; a message nested deeper is refused
// with a [*DepthError]. The guide's triple wrap has three.
const MaxDepth = 8

// DepthError reports a message nested more than [MaxDepth] S/MIME layers
// deep: found while looking at the layer after the Max-th, before reading
// its content.
type DepthError struct{ Max int }

func (e *DepthError) Error() string {
	return fmt.Sprintf("verify: the message is nested more than %d S/MIME layers deep", e.Max)
}

// InspectOptions controls [Inspect]. The zero value is ready to use.
type InspectOptions struct {
	// SpoolDir is where a layer's content larger than SpoolThreshold is
	// kept while the next layer is read; "" is the system temporary
	// directory.
	SpoolDir string
	// SpoolThreshold is 8 MiB if zero.
	SpoolThreshold int64
	// Form is how the input presents the message; FormAuto, the zero
	// value, detects a bare CMS file (see [Form]).
	Form Form
}

// Inspection is the layer tree of a message, outermost layer first. Field
// names are stable: they are inspect's --json output.
type Inspection struct {
	Layers []*Layer `json:"layers"`
	// Content is the media type of the innermost entity, when it was
	// reached ("" when an enveloped layer hides it).
	Content string `json:"content_type,omitempty"`
	// ProtectedHeaders are the header fields protected in the innermost
	// entity (RFC 9788), compared with the outer header, when it was
	// reached and carries them. Nothing was checked: they are what the
	// message claims.
	ProtectedHeaders *ProtectedHeaders `json:"protected_headers,omitempty"`
}

// Layer is one S/MIME layer of a message.
type Layer struct {
	// Depth is 1 for the outermost layer.
	Depth int `json:"depth"`
	// Kind is "signed", "enveloped" or "authEnveloped".
	Kind LayerKind `json:"kind"`
	// MediaType is the MIME type of the layer's entity and SMIMEType its
	// smime-type parameter, if any.
	MediaType string `json:"media_type"`
	SMIMEType string `json:"smime_type,omitempty"`
	// Encoding is "der" or "ber" (indefinite lengths) for the outer
	// ContentInfo.
	Encoding string `json:"encoding"`
	// ContentType names the CMS content type inside the layer ("data",
	// "signedData", ... or a dotted OID).
	ContentType string `json:"content_type"`
	// Signed layers.
	Detached         bool                `json:"detached,omitempty"`
	DigestAlgorithms []DigestAlgorithm   `json:"digest_algorithms,omitempty"`
	Signers          []*Signer           `json:"signers,omitempty"`
	Certificates     []CertificateInfo   `json:"certificates,omitempty"`
	Certs            []*x509.Certificate `json:"-"`
	// Enveloped layers.
	Recipients    []RecipientInfo `json:"recipients,omitempty"`
	ContentCipher string          `json:"content_cipher,omitempty"`
	// KeyManagement is how our recipient entry carried the key, when
	// Open decrypted the layer.
	KeyManagement string `json:"key_management,omitempty"`
	// Note says why the tree stops here, or other remarks.
	Note string `json:"note,omitempty"`
	// Valid is set by Open: every signer passed (signed layers) or the
	// layer decrypted (enveloped layers).
	Valid bool `json:"valid"`
	// Error is the layer's first failure (Open only).
	Error string `json:"error,omitempty"`
	// Reason is the reason code of Error (see [ReasonCode]).
	Reason string `json:"reason,omitempty"`
	// Err is the failure Error describes, nil if none.
	Err error `json:"-"`
}

// fail records err as the layer's failure.
func (l *Layer) fail(err error) {
	l.Err, l.Error, l.Reason = err, err.Error(), ReasonCode(err)
}

// CertificateInfo describes a certificate carried in a signed layer.
type CertificateInfo struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	Serial    string    `json:"serial"`
	Emails    []string  `json:"emails,omitempty"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	KeyUsage  string    `json:"key_usage,omitempty"`
	// FingerprintSHA256 is the SHA-256 digest of the certificate's DER,
	// in upper-case hexadecimal: what names it unambiguously.
	FingerprintSHA256 string `json:"fingerprint_sha256"`
}

// RecipientInfo is one recipient entry of an enveloped layer.
type RecipientInfo struct {
	// Kind is "key-transport", "key-agreement", "kem" (a KEMRecipientInfo,
	// RFC 9629: ML-KEM) or "other".
	Kind string `json:"kind"`
	// Issuer (RFC 4514) and Serial (hexadecimal), or SubjectKeyID
	// (hexadecimal), name the recipient's certificate.
	Issuer        string `json:"issuer,omitempty"`
	Serial        string `json:"serial,omitempty"`
	SubjectKeyID  string `json:"subject_key_id,omitempty"`
	KeyManagement string `json:"key_management"`
	// Us is true for the entry Open decrypted with.
	Us bool `json:"us,omitempty"`
}

// errNoKey stops ReadEnveloped once the recipients are known.
var errNoKey = errors.New("verify: no key to decrypt with")

// Inspect reads a message from r and describes its S/MIME layers without
// checking anything and without keys: signed layers (multipart/signed,
// application/pkcs7-mime and the application/x-pkcs7-* legacy types, BER
// or DER) are described and descended into; an enveloped layer is
// described and ends the tree, since its content needs a key. It reads
// layer by layer without recursion, spooling each layer's content, and
// refuses a message more than [MaxDepth] layers deep with a [*DepthError]
// (returned with the layers read so far).
//
// Inspect describes and never judges (issue #15 item 7): a layer that
// verify refuses but whose structure can be read (a signature part that
// is not CMS or carries content of its own, a detached signature) is
// described with a Note saying so, and an entity inside a layer that can't
// be read ends the tree with a Note on that layer; neither is an error.
// The error is for input whose outermost entity can't be read at all, for
// the depth limit, and for faults of this machine. Signatures are not
// checked: a signature that does not match its content is described like
// any other.
func Inspect(r io.Reader, opts InspectOptions) (*Inspection, error) {
	ins := &Inspection{}
	var prev *mime.Spool
	defer func() {
		if prev != nil {
			prev.Close()
		}
	}()
	r, form, err := mime.OpenInput(r, opts.Form)
	if err != nil {
		return ins, malformed(err)
	}
	var outer mime.Header
	for depth := 1; ; depth++ {
		if depth > 1 {
			br := bufio.NewReaderSize(r, mime.MaxFirstLine)
			if head, _ := br.Peek(mime.MaxFirstLine); !mime.StartsEntity(head) {
				// Content without a MIME header (issue #15 item 4): RFC
				// 2045's default type, unless the input was a bare CMS
				// file, whose content need not be MIME at all.
				if !form.Bare() {
					ins.Content = "text/plain"
				}
				return ins, nil
			}
			r = br
		}
		e, err := mime.ReadEntity(r)
		if err != nil {
			return ins.unreadable(depth, malformed(err))
		}
		kind, mt, st, err := layerKind(e)
		if err != nil {
			return ins.unreadable(depth, err)
		}
		if depth == 1 {
			outer, _ = e.Header.Split()
		}
		if kind == "" {
			ins.Content = mt
			if depth > 1 {
				ins.ProtectedHeaders = mime.ReadProtection(outer, e.Header)
			}
			return ins, nil
		}
		if depth > MaxDepth {
			return ins, &DepthError{Max: MaxDepth}
		}
		spool := &mime.Spool{Dir: opts.SpoolDir, Threshold: opts.SpoolThreshold}
		l, end, err := readLayer(e, mt, st, spool)
		if l != nil {
			l.Depth = depth
			ins.Layers = append(ins.Layers, l)
		}
		if prev != nil {
			prev.Close()
		}
		prev = spool
		if err != nil {
			return ins.unreadable(depth, err)
		}
		if l.Kind != KindSigned {
			l.Note = "the encrypted content needs a key to be inspected"
			return ins, nil
		}
		if end {
			return ins, nil
		}
		if r, err = spool.Open(); err != nil {
			return ins, fmt.Errorf("verify: reading the spooled content: %w", err)
		}
	}
}

// unreadable ends the tree at the entity of the given depth, which could
// not be read, with err. Inside a layer (depth > 1) a malformed or
// ambiguous entity is not an error of the input, whose outer layers were
// read: it becomes a note on the layer around it, and Inspect succeeds
// (issue #15 item 7). A local fault is always an error.
func (ins *Inspection) unreadable(depth int, err error) (*Inspection, error) {
	var me *MalformedError
	var ae *AmbiguousError
	if depth == 1 || len(ins.Layers) == 0 || !errors.As(err, &me) && !errors.As(err, &ae) {
		return ins, err
	}
	l := ins.Layers[len(ins.Layers)-1]
	note := "the content inside this layer can't be read: " + strings.TrimPrefix(libraryText(err), "malformed message: ")
	if l.Note != "" {
		note = l.Note + "; " + note
	}
	l.Note = note
	return ins, nil
}

// layerKind tells what kind of S/MIME layer e is: "signed", "enveloped"
// (either encrypted kind; readLayer tells which) or "" for content.
func layerKind(e *mime.Entity) (kind LayerKind, mt, st string, err error) {
	if err := mime.CheckEntityHeader(e.Header); err != nil {
		return "", "", "", &AmbiguousError{Err: err}
	}
	mt, params, err := e.Header.MediaType()
	if err != nil {
		return "", "", "", malformed(err)
	}
	st = params["smime-type"]
	switch mt {
	case "multipart/signed":
		return KindSigned, mt, st, nil
	case "application/pkcs7-mime", "application/x-pkcs7-mime":
		switch strings.ToLower(st) {
		case "enveloped-data", "authenveloped-data":
			return KindEnveloped, mt, st, nil
		case "certs-only":
			return "", mt, st, nil
		}
		// signed-data, or no smime-type: readLayer looks at the OID.
		return KindSigned, mt, st, nil
	}
	return "", mt, st, nil
}

// readLayer reads one layer without a key: a signed layer's content goes to
// spool; an enveloped layer is described and not decrypted. A signed layer
// verify would refuse is described with a note saying why (issue #15 item
// 7); end is set when the tree stops there (a detached signature, whose
// content is elsewhere).
func readLayer(e *mime.Entity, mt, st string, spool *mime.Spool) (l *Layer, end bool, err error) {
	l, sd, _, judged, err := describeSignedLayer(e, mt, st, spool, nil)
	if err != nil {
		return nil, false, err
	}
	if l.Kind == KindSigned {
		switch {
		case sd != nil && sd.Detached && mt != "multipart/signed":
			l.Note = "a detached signature: the content it signs is not here (verify --content FILE checks it)"
			return l, true, nil
		case judged != nil:
			l.Note = "verify refuses this layer: " + strings.TrimPrefix(libraryText(judged), "malformed message: ")
		}
		return l, false, nil
	}
	body, err := mime.DecodeBody(e)
	if err != nil {
		return nil, false, malformed(err)
	}
	_, err = cms.ReadEnveloped(body, io.Discard, func(env *cms.Enveloped) ([]byte, error) {
		describeEnveloped(l, env)
		return nil, errNoKey
	})
	if !errors.Is(err, errNoKey) {
		return nil, false, malformed(err)
	}
	return l, true, nil
}

// libraryText is err's text without this package's prefix.
func libraryText(err error) string {
	return strings.TrimPrefix(err.Error(), "verify: ")
}

// readSignedLayer reads a signed layer, its content going to spool, and
// returns it with its SignedData and the digests of a clear-signed
// layer's content, taken while it was spooled (see micalgHashes). For an
// enveloped layer it reads nothing and returns a Layer with Kind
// "enveloped" (or "authEnveloped"), its media type and encoding. A layer
// whose structure can be read but is not what its type promises (see
// describeSignedLayer) is an error. Certificates are parsed through batch,
// which may be nil.
func readSignedLayer(e *mime.Entity, mt, st string, spool *mime.Spool, batch *BatchCache) (*Layer, *cms.SignedData, map[crypto.Hash][]byte, error) {
	l, sd, digests, judged, err := describeSignedLayer(e, mt, st, spool, batch)
	if err == nil && judged != nil {
		return nil, nil, nil, judged
	}
	return l, sd, digests, err
}

// describeSignedLayer is readSignedLayer for Inspect, which describes and
// does not judge (issue #15 item 7): judged is not nil for a layer it
// could read that verify must refuse — a multipart/signed whose signature
// part can't be read as CMS (l then has no signers, and the signed part is
// in spool all the same) or carries content of its own, or an
// application/pkcs7-mime signature without content (a detached signature,
// l.Detached; spool stays empty). err is for a layer it could not read.
func describeSignedLayer(e *mime.Entity, mt, st string, spool *mime.Spool, batch *BatchCache) (l *Layer, sd *cms.SignedData, digests map[crypto.Hash][]byte, judged, err error) {
	l = &Layer{MediaType: mt, SMIMEType: st}
	if mt == "multipart/signed" {
		parts, err := mime.ReadSignedInto(e, spool, micalgHashes(e.Header))
		if err != nil {
			return nil, nil, nil, nil, malformed(err)
		}
		l.Kind, l.Encoding = KindSigned, encodingOf(parts.Signature)
		sd, err := cms.ReadSignedDataWith(bytes.NewReader(parts.Signature), nil, batch.parser())
		if err != nil {
			return l, nil, nil, malformed(fmt.Errorf("reading the signature part: %w", err)), nil
		}
		describeSigned(l, sd)
		if !sd.Detached {
			return l, sd, nil, &MalformedError{Err: errors.New("the signature part of a multipart/signed message carries content of its own")}, nil
		}
		return l, sd, parts.Digests, nil, nil
	}
	head, err := sniff(e)
	if err != nil {
		return nil, nil, nil, nil, malformed(err)
	}
	l.Encoding = encodingOf(head)
	oid, err := contentInfoType(head)
	if err != nil {
		return nil, nil, nil, nil, malformed(err)
	}
	switch {
	case oid.Equal(cms.OIDEnvelopedData):
		l.Kind = KindEnveloped
		return l, nil, nil, nil, nil
	case oid.Equal(cms.OIDAuthEnvelopedData):
		l.Kind = KindAuthEnveloped
		return l, nil, nil, nil, nil
	case !oid.Equal(cms.OIDSignedData):
		return nil, nil, nil, nil, &MalformedError{Err: fmt.Errorf("unsupported CMS content type %s", contentTypeName(oid))}
	}
	l.Kind = KindSigned
	body, err := mime.DecodeBody(e)
	if err != nil {
		return nil, nil, nil, nil, malformed(err)
	}
	sd, err = cms.ReadSignedDataWith(body, spool, batch.parser())
	if err != nil {
		return nil, nil, nil, nil, malformed(err)
	}
	describeSigned(l, sd)
	if sd.Detached {
		return l, sd, nil, &MalformedError{Err: errors.New("an application/pkcs7-mime signed layer without content")}, nil
	}
	return l, sd, nil, nil, nil
}

// sniff returns the first bytes of the decoded body of e without
// consuming it: enough to read the ContentInfo's type.
func sniff(e *mime.Entity) ([]byte, error) {
	raw, _ := e.Body.Peek(4096)
	switch strings.ToLower(e.Header.Get("Content-Transfer-Encoding")) {
	case "base64":
		clean := make([]byte, 0, len(raw))
		for _, c := range raw {
			if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
				clean = append(clean, c)
			}
		}
		clean = clean[:len(clean)/4*4]
		out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
		n, err := base64.StdEncoding.Decode(out, clean)
		if err != nil {
			return nil, fmt.Errorf("the body is not valid base64: %w", err)
		}
		return out[:n], nil
	case "", "7bit", "8bit", "binary":
		return raw, nil
	}
	return nil, fmt.Errorf("unsupported Content-Transfer-Encoding %q for a CMS body", e.Header.Get("Content-Transfer-Encoding"))
}

// encodingOf says whether a ContentInfo starts with an indefinite length.
func encodingOf(b []byte) string {
	if len(b) > 1 && b[1] == 0x80 {
		return "ber"
	}
	return "der"
}

// contentInfoType reads the contentType OID at the start of a BER
// ContentInfo (RFC 5652 section 3: SEQUENCE { contentType OID, ... }).
func contentInfoType(b []byte) (asn1.ObjectIdentifier, error) {
	if len(b) < 2 || b[0] != 0x30 {
		return nil, errors.New("the body is not a CMS ContentInfo")
	}
	i := 2
	switch n := b[1]; {
	case n == 0x80, n < 0x80:
	case n <= 0x84:
		i += int(n & 0x7f)
	default:
		return nil, errors.New("the body is not a CMS ContentInfo")
	}
	if i+2 > len(b) || b[i] != 0x06 || int(b[i+1]) > len(b)-i-2 {
		return nil, errors.New("the body is not a CMS ContentInfo")
	}
	var oid asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(b[i:i+2+int(b[i+1])], &oid); err != nil {
		return nil, fmt.Errorf("the ContentInfo type: %w", err)
	}
	return oid, nil
}

func describeSigned(l *Layer, sd *cms.SignedData) {
	l.ContentType = contentTypeName(sd.ContentType)
	l.Detached = sd.Detached
	for _, a := range sd.DigestAlgorithms {
		if h := cms.HashForOID(a.Algorithm); h != 0 {
			l.DigestAlgorithms = append(l.DigestAlgorithms, digestAlgorithm(h))
		} else {
			l.DigestAlgorithms = append(l.DigestAlgorithms, DigestAlgorithm(a.Algorithm.String()))
		}
	}
	l.Certs = sd.Certificates
	for _, c := range sd.Certificates {
		l.Certificates = append(l.Certificates, certificateInfo(c))
	}
	for i, si := range sd.SignerInfos {
		l.Signers = append(l.Signers, describeSigner(i, si, sd.Certificates))
	}
}

// describeSigner names a signer without checking it.
func describeSigner(i int, si *cms.SignerInfo, certs []*x509.Certificate) *Signer {
	s := &Signer{Index: i, DigestAlgorithm: digestAlgorithm(si.Hash()), SignatureAlgorithm: si.SignatureAlgorithmName()}
	if si.IssuerAndSerial != nil {
		s.Issuer = rawName(si.IssuerAndSerial.RawIssuer)
		s.Serial = strings.ToUpper(si.IssuerAndSerial.Serial.Text(16))
	} else {
		s.SubjectKeyID = hex.EncodeToString(si.SubjectKeyID)
	}
	if t, ok, err := si.SigningTime(); err == nil && ok {
		t = t.UTC()
		s.SigningTime = &t
	}
	for _, a := range si.SignedAttrs {
		s.SignedAttributes = append(s.SignedAttributes, attributeName(a.Type))
	}
	if c := si.FindCertificate(certs); c != nil {
		s.Subject, s.Emails = certinfo.Name(c.Subject), certinfo.Addresses(c)
	}
	return s
}

func describeEnveloped(l *Layer, env *cms.Enveloped) {
	l.Kind = KindEnveloped
	if env.Auth {
		l.Kind = KindAuthEnveloped
	}
	l.ContentType = contentTypeName(env.ContentType)
	l.ContentCipher = env.Cipher.String()
	if env.Cipher == 0 {
		l.ContentCipher = env.ContentEncryptionAlgorithm.Algorithm.String()
	}
	for _, ri := range env.Recipients {
		r := RecipientInfo{KeyManagement: ri.KeyManagement(), Kind: "other"}
		switch ri.Type {
		case cms.KeyTransport:
			r.Kind = "key-transport"
		case cms.KeyAgreement:
			r.Kind = "key-agreement"
		case cms.KEMRecipient:
			r.Kind = "kem"
		}
		if ri.IssuerAndSerial != nil {
			r.Issuer = rawName(ri.IssuerAndSerial.RawIssuer)
			r.Serial = strings.ToUpper(ri.IssuerAndSerial.Serial.Text(16))
		} else if ri.SubjectKeyID != nil {
			r.SubjectKeyID = strings.ToUpper(hex.EncodeToString(ri.SubjectKeyID))
		}
		l.Recipients = append(l.Recipients, r)
	}
}

func rawName(der []byte) string {
	var seq pkix.RDNSequence
	if _, err := asn1.Unmarshal(der, &seq); err != nil {
		return ""
	}
	var n pkix.Name
	n.FillFromRDNSequence(&seq)
	return certinfo.Name(n)
}

var contentTypeNames = []struct {
	oid  asn1.ObjectIdentifier
	name string
}{
	{cms.OIDData, "data"}, {cms.OIDSignedData, "signedData"},
	{cms.OIDEnvelopedData, "envelopedData"}, {cms.OIDAuthEnvelopedData, "authEnvelopedData"},
}

func contentTypeName(oid asn1.ObjectIdentifier) string {
	for _, n := range contentTypeNames {
		if n.oid.Equal(oid) {
			return n.name
		}
	}
	return oid.String()
}

// Signed attribute names (RFC 5652 section 11, RFC 8551 section 2.5,
// RFC 5035, and Microsoft's encryption key preference).
var attributeNames = []struct {
	oid  asn1.ObjectIdentifier
	name string
}{
	{cms.OIDAttrContentType, "contentType"},
	{cms.OIDAttrMessageDigest, "messageDigest"},
	{cms.OIDAttrSigningTime, "signingTime"},
	{cms.OIDAttrSMIMECapabilities, "smimeCapabilities"},
	{cms.OIDAttrEncryptionKeyPreference, "encrypKeyPref"},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 12}, "signingCertificate"},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}, "signingCertificateV2"},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 52}, "cmsAlgorithmProtection"},
	{asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 16, 4}, "msOEEncryptionKeyPreference"},
}

func attributeName(oid asn1.ObjectIdentifier) string {
	for _, n := range attributeNames {
		if n.oid.Equal(oid) {
			return n.name
		}
	}
	return oid.String()
}
