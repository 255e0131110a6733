// Package lab builds the test lab of the Exchange Server 2003 Message Security
// Guide, Chapter 7, as code: a root certification authority, an intermediate
// (issuing) authority, and users holding signing-only, encryption-only and
// dual-use certificates, one ECDSA user, one expired and one revoked
// certificate, and a CRL from each authority.
//
// With [Options.PQ] it also builds the post-quantum lab of issue #18: an
// ML-DSA root (ML-DSA-87) and intermediate (ML-DSA-65) with their CRLs, an
// ML-DSA-65 signing user under them and an Ed25519 signing user under the
// classic intermediate (pq.go), and the ML-KEM users (pqkem.go). ML-DSA
// certificates and CRLs are signed with ML-DSA's deterministic variant, so
// they are as reproducible as the rest.
//
// Call [New] with an [Options] value (the zero value is fine) to get a [Lab]
// in memory, for tests and examples; call [Lab.WriteDir] to write it out as
// PEM, PKCS#8 and PKCS#12 files with a README, as `smimectl lab` does.
//
// # Determinism
//
// Everything follows from [Options]: the same seed, epoch, domain and CRL URL
// give the same keys, serial numbers, certificates and CRLs, byte for byte,
// on every run. The standard library's key generators do not promise that
// for a deterministic reader, so the package derives keys itself from an
// HKDF-SHA256 stream keyed by the seed and a label per key (DESIGN.md,
// "Deterministic lab keys"); keys and serial numbers therefore do not change
// with the Go version. Both authorities sign with RSA PKCS#1 v1.5 and
// SHA-256, whose signatures are deterministic, so certificate and CRL bytes
// could only change if crypto/x509 changed its encoding. Only the .p12 files
// that WriteDir writes differ from run to run (fresh salts and IVs).
//
// # Limits
//
// The keys are derived from a seed that is usually public: they protect
// nothing and must never be used outside tests and demonstrations. The CRLs
// are issued at Epoch+91 days with a nextUpdate ten years later, much longer
// than a real CA would allow, so that fixtures made from them stay usable.
package lab

import (
	"crypto"
	"crypto/elliptic"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/smimectl/smimectl/internal/mldsa"
)

// Default values of the [Options] fields.
const (
	DefaultSeed       = "1"
	DefaultDomain     = "example.com"
	DefaultCRLBaseURL = "http://crl.lab.example/"
)

// defaultEpoch is the [Options.Epoch] used when none is given.
var defaultEpoch = time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC)

// Options configure [New]. The zero value is a valid configuration.
type Options struct {
	// Seed keys every derived value (keys, serial numbers). If empty, it is
	// DefaultSeed ("1").
	Seed string

	// Epoch is the time all validity dates derive from. If zero, it is
	// 2025-01-01T00:00:00Z. It is used in UTC and truncated to whole
	// seconds, the precision of certificate dates.
	Epoch time.Time

	// Domain is the mail domain of the users' addresses. If empty, it is
	// DefaultDomain ("example.com").
	Domain string

	// CRLBaseURL prefixes the CRL distribution points: the root's CRL is at
	// CRLBaseURL+"root.crl", the intermediate's at CRLBaseURL+"intermediate.crl".
	// If empty, it is DefaultCRLBaseURL ("http://crl.lab.example/").
	CRLBaseURL string

	// RootCRLURL and IntermediateCRLURL, if not empty, give that
	// authority's CRL distribution point in full, in place of the one under
	// CRLBaseURL: for URLs that do not end in a file name, such as LDAP URLs
	// ("ldap://host/cn=CA,dc=example,dc=com?certificateRevocationList;binary").
	// Empty means the default, so the zero value changes nothing.
	RootCRLURL, IntermediateCRLURL string

	// OCSPURL, if not empty, is put in the Authority Information Access of
	// every user certificate as its OCSP responder. Empty means none (and
	// no change to the certificates).
	OCSPURL string

	// PQ adds the post-quantum and modern identities of issue #18: an
	// ML-DSA root (ML-DSA-87) and intermediate (ML-DSA-65) with an ML-DSA-65
	// signing user under them, an Ed25519 signing user under the classic
	// intermediate, and the ML-KEM users. False, the default, changes
	// nothing in the classic lab.
	PQ bool

	// CAIssuersBaseURL, if not empty, prefixes the caIssuers URLs of the
	// Authority Information Access: user certificates point at
	// CAIssuersBaseURL+"intermediate.crt", the intermediate at
	// CAIssuersBaseURL+"root.crt" (DER). Empty means none.
	CAIssuersBaseURL string

	// LegacyPKCS12 writes the .p12 files with the legacy encryption that
	// gpgsm 2.2 and older Windows import (issue #15 item 3): keys under
	// pbeWithSHAAnd3-KeyTripleDES-CBC, certificates under
	// pbeWithSHAAnd40BitRC2-CBC, an HMAC-SHA-1 MAC, 2048 iterations — what
	// `openssl pkcs12 -export -legacy` writes. False, the default, writes
	// PBES2 with AES-256-CBC and PBKDF2-HMAC-SHA-256.
	LegacyPKCS12 bool
}

// Authority is one certification authority of the lab.
type Authority struct {
	// Name is the file stem: "root" or "intermediate".
	Name string
	// Cert is the authority's certificate.
	Cert *x509.Certificate
	// Key is the authority's private key: RSA for the classic authorities,
	// ML-DSA (*mldsa.PrivateKey) for the post-quantum ones.
	Key crypto.Signer
	// CRL is the DER certificate revocation list issued by this authority.
	CRL []byte
}

// User is one end-entity identity of the lab.
type User struct {
	// Name is the file stem, e.g. "alice-sign".
	Name string
	// Email is the user's address, e.g. "alice@example.com".
	Email string
	// Cert is the user's certificate, issued by the intermediate authority.
	Cert *x509.Certificate
	// Key is the user's private key (*rsa.PrivateKey, *ecdsa.PrivateKey,
	// ed25519.PrivateKey or *mldsa.PrivateKey), nil for a key that cannot
	// sign (ML-KEM).
	Key crypto.Signer
	// PrivateKey is the user's private key whatever it can do: Key for a
	// signing key, the decapsulation key of an ML-KEM user.
	PrivateKey crypto.PrivateKey
	// KeyPKCS8, if not nil, is the DER PKCS#8 of the private key, written
	// as NAME.key; nil means crypto/x509's (or RFC 9881's) encoding of Key.
	KeyPKCS8 []byte
	// Issuer is the Name of the authority that issued Cert:
	// "intermediate" or "pq-intermediate".
	Issuer string
	// Note is one line for the README: what this identity is for.
	Note string
}

// Lab is the complete test PKI built by [New].
type Lab struct {
	// Root is the self-signed root authority.
	Root *Authority
	// Intermediate is the issuing authority, certified by Root.
	Intermediate *Authority
	// Users are the end entities, in the order of the guide's scenarios,
	// then those of Options.PQ.
	Users []*User
	// PQRoot and PQIntermediate are the ML-DSA authorities of Options.PQ,
	// nil without it.
	PQRoot, PQIntermediate *Authority
	// Options are the options New used, with defaults filled in.
	Options Options
}

// User returns the user whose Name is name, or nil if there is none.
func (l *Lab) User(name string) *User {
	for _, u := range l.Users {
		if u.Name == name {
			return u
		}
	}
	return nil
}

// Chain returns the certificates that lead from a user to the root: the
// intermediate, then the root.
func (l *Lab) Chain() []*x509.Certificate {
	return []*x509.Certificate{l.Intermediate.Cert, l.Root.Cert}
}

// PQChain returns the post-quantum intermediate, then the post-quantum
// root, or nil without Options.PQ.
func (l *Lab) PQChain() []*x509.Certificate {
	if l.PQRoot == nil {
		return nil
	}
	return []*x509.Certificate{l.PQIntermediate.Cert, l.PQRoot.Cert}
}

// ChainFor returns the chain of u's issuer: [Lab.PQChain] for a user of the
// post-quantum authorities, else [Lab.Chain].
func (l *Lab) ChainFor(u *User) []*x509.Certificate {
	if u.Issuer == pqIntermediateName && l.PQRoot != nil {
		return l.PQChain()
	}
	return l.Chain()
}

// keyKind is the key algorithm of an identity.
type keyKind int

const (
	kindRSA2048 keyKind = iota
	kindP256
)

// userSpec describes one end entity.
type userSpec struct {
	name     string
	local    string // local part of the address
	person   string // common name
	kind     keyKind
	usage    x509.KeyUsage
	lifetime func(epoch time.Time) time.Time // NotAfter
	revoked  bool
	note     string
}

func tenYears(epoch time.Time) time.Time { return epoch.AddDate(10, 0, 0) }

// users lists the lab identities. The guide's Chapter 7 lab gives each tester
// separate signing and encryption certificates and a dual-use one; the
// ECDSA, expired and revoked identities cover the failure paths of
// "Certificate Validation" in Chapter 6.
var users = []userSpec{
	{
		name: "alice-sign", local: "alice", person: "Alice", kind: kindRSA2048,
		usage:    x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		lifetime: tenYears,
		note:     "signing-only certificate (digitalSignature, nonRepudiation)",
	},
	{
		name: "alice-encrypt", local: "alice", person: "Alice", kind: kindRSA2048,
		usage:    x509.KeyUsageKeyEncipherment,
		lifetime: tenYears,
		note:     "encryption-only certificate (keyEncipherment) for the same address",
	},
	{
		name: "bob", local: "bob", person: "Bob", kind: kindRSA2048,
		usage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		lifetime: tenYears,
		note:     "dual-use certificate: one key signs and decrypts",
	},
	{
		name: "carol", local: "carol", person: "Carol", kind: kindP256,
		usage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement,
		lifetime: tenYears,
		note:     "ECDSA P-256: signs with ECDSA, receives through ECDH key agreement",
	},
	{
		name: "dave-expired", local: "dave", person: "Dave", kind: kindRSA2048,
		usage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		lifetime: func(epoch time.Time) time.Time { return epoch.AddDate(0, 0, 180) },
		note:     "expired: valid for 180 days from the epoch only",
	},
	{
		name: "eve-revoked", local: "eve", person: "Eve", kind: kindRSA2048,
		usage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		lifetime: tenYears,
		revoked:  true,
		note:     "revoked (keyCompromise) at epoch+90 days in the intermediate CRL",
	},
}

// Fixed names and times of the lab.
const (
	organization     = "smimectl lab"
	rootCN           = "smimectl lab root CA"
	intermediateCN   = "smimectl lab intermediate CA"
	day              = 24 * time.Hour
	revocationOffset = 90 * day
	crlOffset        = 91 * day
)

// oidEmailAddress is PKCS #9 emailAddress (RFC 2985 section 5.2.1), the
// subject attribute older S/MIME clients (the guide's Outlook among them)
// match addresses against.
var oidEmailAddress = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}

// withDefaults returns opts with empty fields replaced by the defaults, and
// checks the result.
func withDefaults(opts Options) (Options, error) {
	if opts.Seed == "" {
		opts.Seed = DefaultSeed
	}
	if opts.Epoch.IsZero() {
		opts.Epoch = defaultEpoch
	}
	opts.Epoch = opts.Epoch.UTC().Truncate(time.Second)
	if opts.Domain == "" {
		opts.Domain = DefaultDomain
	}
	if opts.CRLBaseURL == "" {
		opts.CRLBaseURL = DefaultCRLBaseURL
	}
	if y := opts.Epoch.Year(); y < 1000 || y > 9970 {
		// Certificate dates are four-digit years; the root lives 20 years.
		return opts, fmt.Errorf("lab: epoch year %d out of range", y)
	}
	if strings.ContainsAny(opts.Domain, "@ \t\r\n") || strings.HasPrefix(opts.Domain, ".") ||
		strings.HasSuffix(opts.Domain, ".") || !isASCII(opts.Domain) {
		return opts, fmt.Errorf("lab: invalid mail domain %q", opts.Domain)
	}
	u, err := url.Parse(opts.CRLBaseURL)
	if err != nil {
		return opts, fmt.Errorf("lab: invalid CRL base URL: %w", err)
	}
	if !u.IsAbs() || !isASCII(opts.CRLBaseURL) {
		return opts, fmt.Errorf("lab: CRL base URL %q is not an absolute URL", opts.CRLBaseURL)
	}
	for what, v := range map[string]string{"OCSP URL": opts.OCSPURL, "caIssuers base URL": opts.CAIssuersBaseURL} {
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err != nil || !u.IsAbs() || !isASCII(v) {
			return opts, fmt.Errorf("lab: %s %q is not an absolute URL", what, v)
		}
	}
	for name, v := range map[string]string{"root": opts.RootCRLURL, "intermediate": opts.IntermediateCRLURL} {
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err != nil || !u.IsAbs() || !isASCII(v) {
			return opts, fmt.Errorf("lab: CRL URL %q of the %s is not an absolute URL", v, name)
		}
	}
	return opts, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// builder holds the state of one New call.
type builder struct {
	opts Options
	prk  []byte
	keys map[string]crypto.Signer // by label, filled by deriveKeys
}

// New builds the lab described by opts. The same opts always give the same
// keys, certificates and CRLs.
func New(opts Options) (*Lab, error) {
	opts, err := withDefaults(opts)
	if err != nil {
		return nil, err
	}
	prk, err := extractSeed(opts.Seed)
	if err != nil {
		return nil, err
	}
	b := &builder{opts: opts, prk: prk}
	if err := b.deriveKeys(); err != nil {
		return nil, err
	}
	epoch := opts.Epoch

	root, err := b.authority("root", rootCN, nil, epoch.Add(-day), epoch.AddDate(20, 0, 0))
	if err != nil {
		return nil, err
	}
	inter, err := b.authority("intermediate", intermediateCN, root, epoch.Add(-day), epoch.AddDate(15, 0, 0))
	if err != nil {
		return nil, err
	}

	l := &Lab{Root: root, Intermediate: inter, Options: opts}
	var revoked []x509.RevocationListEntry
	for _, spec := range users {
		u, err := b.user(spec, inter)
		if err != nil {
			return nil, err
		}
		l.Users = append(l.Users, u)
		if spec.revoked {
			revoked = append(revoked, x509.RevocationListEntry{
				SerialNumber:   u.Cert.SerialNumber,
				RevocationTime: epoch.Add(revocationOffset),
				ReasonCode:     1, // keyCompromise, RFC 5280 section 5.3.1
			})
		}
	}

	if root.CRL, err = b.crl(root, nil); err != nil {
		return nil, err
	}
	if inter.CRL, err = b.crl(inter, revoked); err != nil {
		return nil, err
	}
	if opts.PQ {
		if err := b.buildPQ(l); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// stream returns the deterministic stream for label.
func (b *builder) stream(label string) io.Reader {
	return newStream(b.prk, label)
}

// deriveKeys derives every key of the lab concurrently: each key has its own
// stream, so the order in which they finish does not matter.
func (b *builder) deriveKeys() error {
	type job struct {
		label string
		kind  keyKind
	}
	jobs := []job{{"root", kindRSA2048}, {"intermediate", kindRSA2048}}
	for _, spec := range users {
		jobs = append(jobs, job{spec.name, spec.kind})
	}
	if b.opts.PQ {
		for label, kind := range pqKeyJobs() {
			jobs = append(jobs, job{label, kind})
		}
	}
	keys := make([]crypto.Signer, len(jobs))
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() {
			keys[i], errs[i] = b.deriveKey(j.label, j.kind)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	b.keys = make(map[string]crypto.Signer, len(jobs))
	for i, j := range jobs {
		b.keys[j.label] = keys[i]
	}
	return nil
}

// key returns the key derived for label by deriveKeys.
func (b *builder) key(label string) (crypto.Signer, error) {
	k, ok := b.keys[label]
	if !ok {
		return nil, fmt.Errorf("lab: no key derived for %q", label)
	}
	return k, nil
}

// deriveKey derives the private key named label.
func (b *builder) deriveKey(label string, kind keyKind) (crypto.Signer, error) {
	r := b.stream("key/" + label)
	switch kind {
	case kindRSA2048:
		k, err := deriveRSAKey(r, 2048)
		if err != nil {
			return nil, fmt.Errorf("lab: deriving key %q: %w", label, err)
		}
		return k, nil
	case kindP256:
		k, err := deriveECKey(r, elliptic.P256())
		if err != nil {
			return nil, fmt.Errorf("lab: deriving key %q: %w", label, err)
		}
		return k, nil
	case kindMLDSA65, kindMLDSA87, kindEd25519:
		k, err := derivePQKey(r, kind)
		if err != nil {
			return nil, fmt.Errorf("lab: deriving key %q: %w", label, err)
		}
		return k, nil
	}
	return nil, fmt.Errorf("lab: unknown key kind %d", kind)
}

// serial derives the serial number of the certificate named label: 16 bytes
// from the stream with the top bit cleared, so it is positive and its DER
// encoding is at most 16 bytes (RFC 5280 section 4.1.2.2 allows 20).
func (b *builder) serial(label string) (*big.Int, error) {
	r := b.stream("serial/" + label)
	buf := make([]byte, 16)
	n := new(big.Int)
	for range maxCandidates {
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("lab: reading serial number: %w", err)
		}
		buf[0] &= 0x7f
		if n.SetBytes(buf).Sign() > 0 {
			return n, nil
		}
	}
	return nil, errors.New("lab: no serial number found")
}

// subjectKeyID computes the key identifier of RFC 5280 section 4.2.1.2,
// method (1): the SHA-1 hash of the subjectPublicKey BIT STRING.
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("lab: encoding public key: %w", err)
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, fmt.Errorf("lab: parsing public key: %w", err)
	}
	sum := sha1.Sum(spki.PublicKey.Bytes)
	return sum[:], nil
}

// crlURL returns the CRL distribution point of the authority named name:
// the full URL given for it, else the file under opts.CRLBaseURL.
func crlURL(opts Options, name string) string {
	if u := map[string]string{"root": opts.RootCRLURL, "intermediate": opts.IntermediateCRLURL}[name]; u != "" {
		return u
	}
	return opts.CRLBaseURL + name + ".crl"
}

// caTemplate is the template of a CA, classic or PQ; parent nil means
// self-signed.
func (b *builder) caTemplate(serial *big.Int, cn string, parent *Authority, notBefore, notAfter time.Time) *x509.Certificate {
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{organization}, CommonName: cn},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	if parent != nil {
		// An issuing CA that issues only end-entity certificates.
		tmpl.MaxPathLen = 0
		tmpl.MaxPathLenZero = true
		tmpl.CRLDistributionPoints = []string{crlURL(b.opts, parent.Name)}
		if b.opts.CAIssuersBaseURL != "" {
			tmpl.IssuingCertificateURL = []string{b.opts.CAIssuersBaseURL + parent.Name + ".crt"}
		}
	}
	return tmpl
}

// authority builds a CA; parent nil means self-signed.
func (b *builder) authority(name, cn string, parent *Authority, notBefore, notAfter time.Time) (*Authority, error) {
	key, err := b.key(name)
	if err != nil {
		return nil, err
	}
	serial, err := b.serial(name)
	if err != nil {
		return nil, err
	}
	skid, err := subjectKeyID(key.Public())
	if err != nil {
		return nil, err
	}
	tmpl := b.caTemplate(serial, cn, parent, notBefore, notAfter)
	tmpl.SubjectKeyId = skid
	tmpl.SignatureAlgorithm = x509.SHA256WithRSA
	issuerCert, issuerKey := tmpl, key
	if parent != nil {
		issuerCert, issuerKey = parent.Cert, parent.Key
	}
	cert, err := b.issue(name, tmpl, issuerCert, key.Public(), issuerKey)
	if err != nil {
		return nil, err
	}
	return &Authority{Name: name, Cert: cert, Key: key}, nil
}

// user builds one end entity issued by ca.
func (b *builder) user(spec userSpec, ca *Authority) (*User, error) {
	key, err := b.key(spec.name)
	if err != nil {
		return nil, err
	}
	tmpl, err := b.userTemplate(spec.name, spec.local, spec.person, spec.usage, spec.lifetime(b.opts.Epoch), ca)
	if err != nil {
		return nil, err
	}
	u := &User{Name: spec.name, Email: tmpl.EmailAddresses[0], Key: key, PrivateKey: key, Note: spec.note, Issuer: ca.Name}
	if _, isMLDSA := key.(*mldsa.PrivateKey); isMLDSA || ca.Name == pqIntermediateName {
		spki, err := marshalSPKI(key.Public())
		if err != nil {
			return nil, err
		}
		if u.Cert, err = b.issueSPKI(spec.name, tmpl, spki, ca); err != nil {
			return nil, err
		}
		return u, nil
	}
	if tmpl.SubjectKeyId, err = subjectKeyID(key.Public()); err != nil {
		return nil, err
	}
	if u.Cert, err = b.issue(spec.name, tmpl, ca.Cert, key.Public(), ca.Key); err != nil {
		return nil, err
	}
	return u, nil
}

// userTemplate returns the certificate template of the end entity name
// (address local@domain, common name person) issued by ca: serial number,
// subject with emailAddress, the address as rfc822Name, usage, the
// emailProtection extended key usage, and ca's CRL distribution point, OCSP
// and caIssuers URLs as Options ask. SubjectKeyId is left for the caller.
func (b *builder) userTemplate(name, local, person string, usage x509.KeyUsage, notAfter time.Time, ca *Authority) (*x509.Certificate, error) {
	serial, err := b.serial(name)
	if err != nil {
		return nil, err
	}
	email := local + "@" + b.opts.Domain
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			Organization: []string{organization},
			CommonName:   person,
			// emailAddress is an IA5String (RFC 2985); a Go string would be
			// encoded as UTF8String, so pass the encoded value.
			ExtraNames: []pkix.AttributeTypeAndValue{{
				Type:  oidEmailAddress,
				Value: asn1.RawValue{Tag: asn1.TagIA5String, Bytes: []byte(email)},
			}},
		},
		NotBefore:             b.opts.Epoch,
		NotAfter:              notAfter,
		KeyUsage:              usage,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		BasicConstraintsValid: true,
		EmailAddresses:        []string{email},
		SignatureAlgorithm:    x509.SHA256WithRSA,
	}
	tmpl.CRLDistributionPoints = []string{crlURL(b.opts, ca.Name)}
	if b.opts.OCSPURL != "" {
		tmpl.OCSPServer = []string{b.opts.OCSPURL}
	}
	if b.opts.CAIssuersBaseURL != "" {
		tmpl.IssuingCertificateURL = []string{b.opts.CAIssuersBaseURL + ca.Name + ".crt"}
	}
	return tmpl, nil
}

// issue signs tmpl and parses the result.
func (b *builder) issue(name string, tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) (*x509.Certificate, error) {
	// The reader is ignored by RSA PKCS#1 v1.5 signing; a deterministic one
	// keeps the output reproducible should that ever change.
	der, err := x509.CreateCertificate(b.stream("sign/"+name), tmpl, parent, pub, signer)
	if err != nil {
		return nil, fmt.Errorf("lab: issuing certificate %q: %w", name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("lab: parsing certificate %q: %w", name, err)
	}
	return cert, nil
}

// crl issues ca's CRL number 1, listing revoked.
func (b *builder) crl(ca *Authority, revoked []x509.RevocationListEntry) ([]byte, error) {
	thisUpdate := b.opts.Epoch.Add(crlOffset)
	tmpl := &x509.RevocationList{
		SignatureAlgorithm:        x509.SHA256WithRSA,
		RevokedCertificateEntries: revoked,
		Number:                    big.NewInt(1),
		ThisUpdate:                thisUpdate,
		NextUpdate:                thisUpdate.AddDate(10, 0, 0),
	}
	der, err := x509.CreateRevocationList(b.stream("crl/"+ca.Name), tmpl, ca.Cert, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("lab: issuing %s CRL: %w", ca.Name, err)
	}
	return der, nil
}
