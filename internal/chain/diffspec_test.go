package chain

// Certificate-set descriptions for the differential check of Build against
// crypto/x509 (issue #11 item 6): the spec types, their byte encoding (the
// fuzz input of FuzzDifferential) and the certificates they make.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	encasn1 "encoding/asn1"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// diffAt is the verification time of every differential case. Validity
// periods are placed around it.
var diffAt = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

const diffMaxCerts = 8 // at most maxChainLength certificates, see the known differences

// Pools the specs index into. Indices are part of the fuzz encoding: append,
// never reorder.
var (
	diffNames = []string{"Root A", "Root B", "Inter 1", "Inter 2", "Inter 3", "Cross", "Alice", "Bob"}

	// SAN rfc822Names: exact, subdomain, other domain, case variants.
	diffEmails = []string{"alice@example.com", "bob@sub.example.com", "carol@example.org", "Alice@Example.COM", "dave@EXAMPLE.ORG"}
	diffDNS    = []string{"example.com", "mail.example.com", "example.org"}
	diffURIs   = []string{"https://mail.example.com/x", "https://example.org/", "https://www.example.org/"}

	// rfc822Name constraints: a host, a domain (leading period), a mailbox.
	diffEmailNC = []string{"example.com", ".example.com", "alice@example.com", "example.org", "sub.example.com"}
	diffDNSNC   = []string{"example.com", ".example.com", "example.org"}
	diffURINC   = []string{".example.com", "example.org"}
	diffIPs     = []string{"192.0.2.1", "198.51.100.7"}
	diffIPNC    = []string{"192.0.2.0/24", "10.0.0.0/8"}

	diffPolicyOIDs = []encasn1.ObjectIdentifier{ // polP1, polP2, polP3, polAny
		{1, 3, 6, 1, 4, 1, 55555, 1, 1},
		{1, 3, 6, 1, 4, 1, 55555, 1, 2},
		{1, 3, 6, 1, 4, 1, 55555, 1, 3},
		{2, 5, 29, 32, 0},
	}
	diffMappings = [][2]int{{polP1, polP2}, {polP2, polP1}, {polP1, polP3}, {polP3, polP1}, {polAny, polP1}, {polP1, polAny}}
)

const (
	polP1 = iota
	polP2
	polP3
	polAny
)

func mustOID(o encasn1.ObjectIdentifier) x509.OID {
	oid, err := x509.OIDFromASN1OID(o)
	if err != nil {
		panic(err)
	}
	return oid
}

// Where a certificate is given to the verifiers.
type diffRole uint8

const (
	inNone diffRole = iota // only its name and key are used, as an issuer
	inRoots
	inIntermediates
	inBoth
)

// basicConstraints.
type diffBC uint8

const (
	bcCA     diffBC = iota // cA TRUE
	bcNotCA                // the extension with cA FALSE
	bcAbsent               // no extension
)

// keyUsage.
type diffKU uint8

const (
	kuAbsent   diffKU = iota
	kuCA              // keyCertSign | cRLSign
	kuEE              // digitalSignature | keyEncipherment
	kuSignBoth        // digitalSignature | keyCertSign
)

// extKeyUsage bits; 0 is no extension.
const (
	ekuEmail = 1 << iota
	ekuServer
	ekuClient
	ekuAny
	ekuDocSigning // 1.3.6.1.5.5.7.3.36, a purpose crypto/x509 does not name
)

// Validity relative to diffAt.
type diffValidity uint8

const (
	vOK diffValidity = iota
	vExpired
	vNotYet
	vStartsNow // notBefore == diffAt
	vEndsNow   // notAfter == diffAt
	numValidity
)

// diffNC is a nameConstraints extension; each field a bit mask over its pool.
type diffNC struct {
	PermEmail, ExclEmail uint8 // diffEmailNC
	PermDNS, ExclDNS     uint8 // diffDNSNC
	PermURI, ExclURI     uint8 // diffURINC
	PermIP, ExclIP       uint8 // diffIPNC
	Critical             bool
}

// diffCert describes one certificate. Absent optional integers are -1.
type diffCert struct {
	Name     int // diffNames
	Issuer   int // index of the certificate whose name and key sign this one
	Key      int // pre-generated key
	In       diffRole
	BC       diffBC
	PathLen  int // -1: none; encoded even without cA
	KU       diffKU
	EKU      uint8
	Validity diffValidity
	Emails   uint8 // SAN masks over diffEmails, diffDNS, diffURIs (none on a self-issued CA, see build)
	DNS      uint8
	URIs     uint8
	IPs      uint8 // diffIPs
	NC       *diffNC
	Policies uint8 // mask over diffPolicyOIDs; 0: no extension
	// policyConstraints and inhibitAnyPolicy skip certificates, -1 absent.
	RequireExplicit, InhibitMapping, InhibitAny int
	Mappings                                    uint8 // mask over diffMappings
	UnknownCritical                             bool
	SKID                                        bool // subjectKeyIdentifier (derived from the key)
	AKID                                        bool // authorityKeyIdentifier = the issuer's SKID, if it has one
}

// diffSet is a certificate set; Certs[0] is the certificate verified.
type diffSet struct {
	Certs []diffCert
}

const diffNumKeys = 8

// diffKeys are generated once per test binary: making a certificate is then
// one ECDSA signature.
var diffKeys = sync.OnceValue(func() []*ecdsa.PrivateKey {
	keys := make([]*ecdsa.PrivateKey, diffNumKeys)
	for i := range keys {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
})

// ---- encoding: 11 bytes a certificate after one count byte; total ----

const diffCertBytes = 11

type byteReader struct{ b []byte }

func (r *byteReader) next() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func optInt(v byte) int { return int(v&3) - 1 } // 0: absent, 1..3: 0..2
func encOpt(v int) byte { return byte(v + 1) }

// decodeDiffSet maps any byte string to a set: every input is a valid spec.
func decodeDiffSet(data []byte) diffSet {
	r := &byteReader{data}
	n := 1 + int(r.next())%diffMaxCerts
	s := diffSet{Certs: make([]diffCert, n)}
	for i := range s.Certs {
		c := &s.Certs[i]
		b := [diffCertBytes]byte{}
		for j := range b {
			b[j] = r.next()
		}
		c.Name = int(b[0] & 7)
		c.In = diffRole(b[0] >> 3 & 3)
		c.BC = diffBC(b[0] >> 5 & 3 % 3)
		c.SKID = b[0]&0x80 != 0
		c.Issuer = int(b[1]&7) % n
		c.Key = int(b[1] >> 3 & 7)
		c.AKID = b[1]&0x40 != 0
		c.UnknownCritical = b[1]&0x80 != 0
		c.PathLen = optInt(b[2])
		c.KU = diffKU(b[2] >> 2 & 3)
		c.Validity = diffValidity(b[2]>>4&7) % numValidity
		c.EKU = b[3] & 0x1f
		c.URIs = b[3] >> 5 & 7
		c.Emails = b[4] & 0x1f
		c.DNS = b[4] >> 5 & 7
		if b[5]&1 != 0 {
			c.NC = &diffNC{
				Critical:  b[5]&2 != 0,
				PermURI:   b[5] >> 2 & 3,
				ExclURI:   b[5] >> 4 & 3,
				PermEmail: b[6] & 0x1f, PermDNS: b[6] >> 5 & 7,
				ExclEmail: b[7] & 0x1f, ExclDNS: b[7] >> 5 & 7,
			}
		}
		c.Policies = b[8] & 0xf
		c.RequireExplicit = optInt(b[8] >> 4)
		c.InhibitMapping = optInt(b[8] >> 6)
		c.InhibitAny = optInt(b[9])
		c.Mappings = b[9] >> 2 & 0x3f
		c.IPs = b[10] & 3
		if c.NC != nil {
			c.NC.PermIP, c.NC.ExclIP = b[10]>>2&3, b[10]>>4&3
		}
	}
	return s
}

// encode is the inverse of decodeDiffSet for specs whose fields are in range.
func (s diffSet) encode() []byte {
	out := []byte{byte(len(s.Certs) - 1)}
	for _, c := range s.Certs {
		var b [diffCertBytes]byte
		b[0] = byte(c.Name) | byte(c.In)<<3 | byte(c.BC)<<5
		if c.SKID {
			b[0] |= 0x80
		}
		b[1] = byte(c.Issuer) | byte(c.Key)<<3
		if c.AKID {
			b[1] |= 0x40
		}
		if c.UnknownCritical {
			b[1] |= 0x80
		}
		b[2] = encOpt(c.PathLen) | byte(c.KU)<<2 | byte(c.Validity)<<4
		b[3] = c.EKU | c.URIs<<5
		b[4] = c.Emails | c.DNS<<5
		if nc := c.NC; nc != nil {
			b[5] = 1 | nc.PermURI<<2 | nc.ExclURI<<4
			if nc.Critical {
				b[5] |= 2
			}
			b[6] = nc.PermEmail | nc.PermDNS<<5
			b[7] = nc.ExclEmail | nc.ExclDNS<<5
		}
		b[8] = c.Policies | encOpt(c.RequireExplicit)<<4 | encOpt(c.InhibitMapping)<<6
		b[9] = encOpt(c.InhibitAny) | c.Mappings<<2
		b[10] = c.IPs
		if nc := c.NC; nc != nil {
			b[10] |= nc.PermIP<<2 | nc.ExclIP<<4
		}
		out = append(out, b[:]...)
	}
	return out
}

// ---- description ----

func maskNames(mask uint8, pool []string) []string {
	var out []string
	for i, s := range pool {
		if mask&(1<<i) != 0 {
			out = append(out, s)
		}
	}
	return out
}

var ekuNames = []string{"emailProtection", "serverAuth", "clientAuth", "any", "documentSigning(1.3.6.1.5.5.7.3.36)"}
var policyNames = []string{"P1", "P2", "P3", "anyPolicy"}

func (s diffSet) String() string {
	var sb strings.Builder
	for i, c := range s.Certs {
		if i > 0 {
			sb.WriteString("\n")
		}
		fmt.Fprintf(&sb, "    #%d %q", i, diffNames[c.Name])
		if i == 0 {
			sb.WriteString(" (verified)")
		}
		fmt.Fprintf(&sb, " in %s, ", [...]string{"no pool", "roots", "intermediates", "roots+intermediates"}[c.In])
		if c.Issuer == i {
			sb.WriteString("self-signed")
		} else {
			fmt.Fprintf(&sb, "issued by #%d", c.Issuer)
		}
		fmt.Fprintf(&sb, ", key k%d;", c.Key)
		fmt.Fprintf(&sb, " bc=%s", [...]string{"CA", "not-CA", "absent"}[c.BC])
		if c.PathLen >= 0 {
			fmt.Fprintf(&sb, " pathlen=%d", c.PathLen)
		}
		fmt.Fprintf(&sb, " ku=%s", [...]string{"absent", "certSign|crlSign", "digitalSignature|keyEncipherment", "digitalSignature|certSign"}[c.KU])
		if c.EKU == 0 {
			sb.WriteString(" eku=absent")
		} else {
			fmt.Fprintf(&sb, " eku=%v", maskNames(c.EKU, ekuNames))
		}
		fmt.Fprintf(&sb, " validity=%s", [...]string{"ok", "expired", "not-yet-valid", "starts-at-now", "ends-at-now"}[c.Validity])
		if c.Emails|c.DNS|c.URIs|c.IPs != 0 {
			sb.WriteString(" san=")
			fmt.Fprint(&sb, slices.Concat(maskNames(c.Emails, diffEmails), maskNames(c.DNS, diffDNS), maskNames(c.URIs, diffURIs), maskNames(c.IPs, diffIPs)))
		}
		if nc := c.NC; nc != nil {
			sb.WriteString(" nc={")
			for _, f := range []struct {
				what string
				mask uint8
				pool []string
			}{
				{"permitted email", nc.PermEmail, diffEmailNC}, {"excluded email", nc.ExclEmail, diffEmailNC},
				{"permitted dns", nc.PermDNS, diffDNSNC}, {"excluded dns", nc.ExclDNS, diffDNSNC},
				{"permitted uri", nc.PermURI, diffURINC}, {"excluded uri", nc.ExclURI, diffURINC},
				{"permitted ip", nc.PermIP, diffIPNC}, {"excluded ip", nc.ExclIP, diffIPNC},
			} {
				if f.mask != 0 {
					fmt.Fprintf(&sb, "%s %v; ", f.what, maskNames(f.mask, f.pool))
				}
			}
			if nc.Critical {
				sb.WriteString("critical}")
			} else {
				sb.WriteString("non-critical}")
			}
		}
		if c.Policies != 0 {
			fmt.Fprintf(&sb, " policies=%v", maskNames(c.Policies, policyNames))
		}
		if c.RequireExplicit >= 0 {
			fmt.Fprintf(&sb, " requireExplicitPolicy=%d", c.RequireExplicit)
		}
		if c.InhibitMapping >= 0 {
			fmt.Fprintf(&sb, " inhibitPolicyMapping=%d", c.InhibitMapping)
		}
		if c.InhibitAny >= 0 {
			fmt.Fprintf(&sb, " inhibitAnyPolicy=%d", c.InhibitAny)
		}
		if c.Mappings != 0 {
			var m []string
			for j, p := range diffMappings {
				if c.Mappings&(1<<j) != 0 {
					m = append(m, policyNames[p[0]]+"->"+policyNames[p[1]])
				}
			}
			fmt.Fprintf(&sb, " mappings=%v", m)
		}
		if c.UnknownCritical {
			sb.WriteString(" +unknown-critical-ext")
		}
		if c.SKID {
			sb.WriteString(" skid")
		}
		if c.AKID {
			sb.WriteString(" akid")
		}
	}
	return sb.String()
}

// ---- certificates ----

var (
	oidBasicConstraints = encasn1.ObjectIdentifier{2, 5, 29, 19}
	oidPolicyMappings   = encasn1.ObjectIdentifier{2, 5, 29, 33}
	oidPolicyConstr     = encasn1.ObjectIdentifier{2, 5, 29, 36}
	oidInhibitAny       = encasn1.ObjectIdentifier{2, 5, 29, 54}
	oidUnknownCritical  = encasn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 55555, 9}
	oidDocSigning       = encasn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 36}
)

// skidOf derives the key identifier from the key index, so that two
// certificates for one key carry the same identifier.
func skidOf(key int) []byte {
	h := sha256.Sum256([]byte{byte(key)})
	return h[:20]
}

func der(f func(b *cryptobyte.Builder)) []byte {
	var b cryptobyte.Builder
	f(&b)
	return b.BytesOrPanic()
}

func validity(v diffValidity) (time.Time, time.Time) {
	year := 365 * 24 * time.Hour
	switch v {
	case vExpired:
		return diffAt.Add(-2 * year), diffAt.Add(-time.Second)
	case vNotYet:
		return diffAt.Add(time.Second), diffAt.Add(2 * year)
	case vStartsNow:
		return diffAt, diffAt.Add(year)
	case vEndsNow:
		return diffAt.Add(-year), diffAt
	}
	return diffAt.Add(-year), diffAt.Add(year)
}

// template makes the x509 template of c; basicConstraints and the policy
// extensions are written by hand (crypto/x509 adds a subjectKeyIdentifier to
// every CA template and does not write policy constraints).
func (c diffCert) template(serial int64) *x509.Certificate {
	t := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: diffNames[c.Name]},
	}
	t.NotBefore, t.NotAfter = validity(c.Validity)
	switch c.BC {
	case bcCA, bcNotCA:
		t.ExtraExtensions = append(t.ExtraExtensions, pkix.Extension{Id: oidBasicConstraints, Critical: true,
			Value: der(func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					if c.BC == bcCA {
						b.AddASN1Boolean(true)
					}
					if c.PathLen >= 0 {
						b.AddASN1Int64(int64(c.PathLen))
					}
				})
			})})
	}
	t.KeyUsage = [...]x509.KeyUsage{0, x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign}[c.KU]
	for i, e := range []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection, x509.ExtKeyUsageServerAuth,
		x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageAny} {
		if c.EKU&(1<<i) != 0 {
			t.ExtKeyUsage = append(t.ExtKeyUsage, e)
		}
	}
	if c.EKU&ekuDocSigning != 0 {
		t.UnknownExtKeyUsage = append(t.UnknownExtKeyUsage, oidDocSigning)
	}
	t.EmailAddresses = maskNames(c.Emails, diffEmails)
	t.DNSNames = maskNames(c.DNS, diffDNS)
	for _, u := range maskNames(c.URIs, diffURIs) {
		pu, err := url.Parse(u)
		if err != nil {
			panic(err)
		}
		t.URIs = append(t.URIs, pu)
	}
	for _, ip := range maskNames(c.IPs, diffIPs) {
		t.IPAddresses = append(t.IPAddresses, net.ParseIP(ip).To4())
	}
	if nc := c.NC; nc != nil {
		t.PermittedEmailAddresses = maskNames(nc.PermEmail, diffEmailNC)
		t.ExcludedEmailAddresses = maskNames(nc.ExclEmail, diffEmailNC)
		t.PermittedDNSDomains = maskNames(nc.PermDNS, diffDNSNC)
		t.ExcludedDNSDomains = maskNames(nc.ExclDNS, diffDNSNC)
		t.PermittedURIDomains = maskNames(nc.PermURI, diffURINC)
		t.ExcludedURIDomains = maskNames(nc.ExclURI, diffURINC)
		for _, n := range maskNames(nc.PermIP, diffIPNC) {
			t.PermittedIPRanges = append(t.PermittedIPRanges, mustCIDR(n))
		}
		for _, n := range maskNames(nc.ExclIP, diffIPNC) {
			t.ExcludedIPRanges = append(t.ExcludedIPRanges, mustCIDR(n))
		}
		t.PermittedDNSDomainsCritical = nc.Critical
	}
	for i, p := range diffPolicyOIDs {
		if c.Policies&(1<<i) != 0 {
			t.Policies = append(t.Policies, mustOID(p))
		}
	}
	if c.RequireExplicit >= 0 || c.InhibitMapping >= 0 {
		t.ExtraExtensions = append(t.ExtraExtensions, pkix.Extension{Id: oidPolicyConstr, Critical: true,
			Value: der(func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					if c.RequireExplicit >= 0 {
						b.AddASN1Int64WithTag(int64(c.RequireExplicit), cbasn1.Tag(0).ContextSpecific())
					}
					if c.InhibitMapping >= 0 {
						b.AddASN1Int64WithTag(int64(c.InhibitMapping), cbasn1.Tag(1).ContextSpecific())
					}
				})
			})})
	}
	if c.Mappings != 0 {
		t.ExtraExtensions = append(t.ExtraExtensions, pkix.Extension{Id: oidPolicyMappings, Critical: true,
			Value: der(func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					for j, m := range diffMappings {
						if c.Mappings&(1<<j) == 0 {
							continue
						}
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							for _, p := range m {
								b.AddASN1ObjectIdentifier(diffPolicyOIDs[p])
							}
						})
					}
				})
			})})
	}
	if c.InhibitAny >= 0 {
		t.ExtraExtensions = append(t.ExtraExtensions, pkix.Extension{Id: oidInhibitAny, Critical: true,
			Value: der(func(b *cryptobyte.Builder) { b.AddASN1Int64(int64(c.InhibitAny)) })})
	}
	if c.UnknownCritical {
		t.ExtraExtensions = append(t.ExtraExtensions, pkix.Extension{Id: oidUnknownCritical, Critical: true,
			Value: []byte{0x05, 0x00}})
	}
	if c.SKID {
		t.SubjectKeyId = skidOf(c.Key)
	}
	return t
}

func mustCIDR(s string) *net.IPNet {
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	return n
}

// diffBuilt is a set made into certificates and pools.
type diffBuilt struct {
	certs         []*x509.Certificate
	leaf          *x509.Certificate
	roots, inters []*x509.Certificate
}

// diffCache memoises certificates by their spec and issuer (the matrix
// reuses roots and intermediates across cases); nil makes every one anew.
type diffCache map[string]*x509.Certificate

// build makes the certificates of s. An error means the spec describes a
// certificate crypto/x509 cannot write or parse: the case is skipped.
func (s diffSet) build(cache diffCache) (*diffBuilt, error) {
	keys := diffKeys()
	b := &diffBuilt{}
	for i, c := range s.Certs {
		iss := s.Certs[c.Issuer]
		parent := &x509.Certificate{Subject: pkix.Name{CommonName: diffNames[iss.Name]}, PublicKey: keys[iss.Key].Public()}
		if iss.SKID && c.AKID {
			parent.SubjectKeyId = skidOf(iss.Key)
		}
		// The cache key is the certificate's own encoding with the issuer's
		// name, key and identifier in place of its index.
		one := c
		one.Issuer = 0
		key := fmt.Sprintf("%x|%d|%d|%x", diffSet{Certs: []diffCert{one}}.encode(), iss.Name, iss.Key, parent.SubjectKeyId)
		cert := cache[key]
		if cert == nil {
			tmpl := c.template(int64(i + 1))
			if i != 0 && c.Name == iss.Name && (c.In == inIntermediates || c.In == inBoth) { // known difference 8
				tmpl.EmailAddresses, tmpl.DNSNames, tmpl.URIs, tmpl.IPAddresses = nil, nil, nil, nil
			}
			derBytes, err := x509.CreateCertificate(rand.Reader, tmpl, parent, keys[c.Key].Public(), keys[iss.Key])
			if err != nil {
				return nil, fmt.Errorf("certificate #%d: %v", i, err)
			}
			if cert, err = x509.ParseCertificate(derBytes); err != nil {
				return nil, fmt.Errorf("certificate #%d: %v", i, err)
			}
			if cache != nil {
				cache[key] = cert
			}
		}
		b.certs = append(b.certs, cert)
	}
	b.leaf = b.certs[0]
	add := func(list []*x509.Certificate, c *x509.Certificate) []*x509.Certificate {
		for _, have := range list {
			if have.Equal(c) {
				return list
			}
		}
		return append(list, c)
	}
	for i, c := range s.Certs {
		if c.In == inRoots || c.In == inBoth {
			b.roots = add(b.roots, b.certs[i])
		}
		if c.In == inIntermediates || c.In == inBoth {
			b.inters = add(b.inters, b.certs[i])
		}
	}
	return b, nil
}
