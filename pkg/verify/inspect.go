package verify

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/smimectl/smimectl/internal/certinfo"
	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/pkg/encrypt"
)

// MaxDepth is the number of S/MIME layers (signed or enveloped) that
// [Inspect] and [Open] descend through; a message nested deeper is refused
// with a [*DepthError]. The guide's triple wrap has three.
const MaxDepth = 8

// DepthError reports a message nested more than [MaxDepth] S/MIME layers
// deep: found while looking at the layer after the Max-th, before reading
// its content.
type DepthError struct{ Max int }

func (e *DepthError) Error() string { return "verify: " + e.detail() }

func (e *DepthError) detail() string {
	return fmt.Sprintf("the message is nested more than %d S/MIME layers deep", e.Max)
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
	// OptionName, if not nil, names an [Option] in the caller's words in
	// the layers' notes, as Options.OptionName does for Verify.
	OptionName func(Option) string
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
	Reason Reason `json:"reason,omitempty"`
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
	Kind encrypt.RecipientKind `json:"kind"`
	// Issuer (RFC 4514) and Serial (hexadecimal), or SubjectKeyID
	// (hexadecimal), name the recipient's certificate.
	Issuer        string `json:"issuer,omitempty"`
	Serial        string `json:"serial,omitempty"`
	SubjectKeyID  string `json:"subject_key_id,omitempty"`
	KeyManagement string `json:"key_management"`
	// Us is true for the entry Open decrypted with.
	Us bool `json:"us,omitempty"`
}

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
	ins := &inspector{w: walker{spoolDir: opts.SpoolDir, threshold: opts.SpoolThreshold}, ins: &Inspection{}, name: opts.OptionName}
	defer ins.w.close()
	r, form, err := mime.OpenInput(r, mime.Form(opts.Form))
	if err != nil {
		return ins.ins, malformed(err)
	}
	ins.bare = form.Bare()
	return ins.ins, ins.w.walk(r, ins)
}

// inspector is Inspect's layerVisitor: it describes every layer and
// judges none.
type inspector struct {
	w     walker
	ins   *Inspection
	outer mime.Header
	bare  bool                // a bare CMS file, whose content need not be MIME
	name  func(Option) string // InspectOptions.OptionName
}

func (in *inspector) top(ent entity) (bool, error) {
	in.outer, _ = ent.e.Header.Split()
	return false, nil
}

func (in *inspector) content(depth int, ent entity) error {
	switch {
	case ent.e == nil:
		// Content without a MIME header: RFC 2045's default type, unless
		// the input was a bare CMS file, whose content need not be MIME.
		if !in.bare {
			in.ins.Content = "text/plain"
		}
	case depth > 1:
		in.ins.Content = ent.mt
		in.ins.ProtectedHeaders = protectionOf(in.outer, ent.e.Header)
	default:
		in.ins.Content = ent.mt
	}
	return nil
}

// layer describes one layer: a signed layer verify would refuse with a
// note saying why (issue #15 item 7), and stops at a detached signature,
// whose content is elsewhere, and at an enveloped layer, whose content
// needs a key.
func (in *inspector) layer(depth int, ent entity, read *layerRead, err error, _ *mime.Spool) (bool, error) {
	if err != nil {
		return true, in.unreadable(depth, err)
	}
	l := read.l
	l.Depth = depth
	in.ins.Layers = append(in.ins.Layers, l)
	if l.Kind != KindSigned {
		if err := describeEnvelopedBody(l, ent.e); err != nil {
			in.ins.Layers = in.ins.Layers[:len(in.ins.Layers)-1]
			return true, in.unreadable(depth, err)
		}
		l.Note = "the encrypted content needs a key to be inspected"
		return true, nil
	}
	switch {
	case read.sd != nil && read.sd.Detached && l.MediaType != "multipart/signed":
		l.Note = "a detached signature: the content it signs is not here (" + optionName(in.name, OptionContent) + " checks it)"
		return true, nil
	case read.refused != nil:
		l.Note = "verify refuses this layer: " + messageDetail(read.refused)
	}
	return false, nil
}

// unreadable ends the tree at the entity of the given depth, which could
// not be read, with err. Inside a layer (depth > 1) a malformed or
// ambiguous entity is not an error of the input, whose outer layers were
// read: it becomes a note on the layer around it, and Inspect succeeds
// (issue #15 item 7). A local fault is always an error.
func (in *inspector) unreadable(depth int, err error) error {
	var me *MalformedError
	var ae *AmbiguousError
	if depth == 1 || len(in.ins.Layers) == 0 || !errors.As(err, &me) && !errors.As(err, &ae) {
		return err
	}
	l := in.ins.Layers[len(in.ins.Layers)-1]
	note := "the content inside this layer can't be read: " + messageDetail(err)
	if l.Note != "" {
		note = l.Note + "; " + note
	}
	l.Note = note
	return nil
}

// errNoKey stops ReadEnveloped once the recipients are known.
var errNoKey = errors.New("verify: no key to decrypt with")

// describeEnvelopedBody describes the enveloped layer l from its entity e
// without a key: its recipients and content cipher.
func describeEnvelopedBody(l *Layer, e *mime.Entity) error {
	body, err := mime.DecodeBody(e)
	if err != nil {
		return malformed(err)
	}
	_, err = cms.ReadEnveloped(body, io.Discard, func(env *cms.Enveloped) ([]byte, error) {
		describeEnveloped(l, env)
		return nil, errNoKey
	})
	if !errors.Is(err, errNoKey) {
		return malformed(err)
	}
	return nil
}

func describeSigned(l *Layer, sd *cms.SignedData) {
	l.ContentType = cms.ContentTypeName(sd.ContentType)
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

// recipientKinds names the kinds of recipient entries (issue #17 item 4).
var recipientKinds = map[cms.RecipientType]encrypt.RecipientKind{
	cms.KeyTransport: encrypt.RecipientKeyTransport, cms.KeyAgreement: encrypt.RecipientKeyAgreement, cms.KEMRecipient: encrypt.RecipientKEM,
}

func describeEnveloped(l *Layer, env *cms.Enveloped) {
	l.Kind = KindEnveloped
	if env.Auth {
		l.Kind = KindAuthEnveloped
	}
	l.ContentType = cms.ContentTypeName(env.ContentType)
	l.ContentCipher = env.Cipher.String()
	if env.Cipher == 0 {
		l.ContentCipher = env.ContentEncryptionAlgorithm.Algorithm.String()
	}
	for _, ri := range env.Recipients {
		r := RecipientInfo{KeyManagement: ri.KeyManagement(), Kind: recipientKinds[ri.Type]} // absent: RecipientOther
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
