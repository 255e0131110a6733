package chain

// Tests for certificate policy processing, issue #11 item 5. Every table
// case is also verified by crypto/x509.Certificate.Verify (which has
// processed policies since Go 1.22): the verdicts must agree, except where
// a case says why they do not.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// policyKeys are generated once: key generation is the slow part of
// making certificates, and each position in a chain needs its own key.
var policyKeys = sync.OnceValue(func() []*ecdsa.PrivateKey {
	keys := make([]*ecdsa.PrivateKey, 10)
	for i := range keys {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
})

var policySerial struct {
	sync.Mutex
	n int64
}

func oid(t testing.TB, s string) x509.OID {
	t.Helper()
	o, err := x509.ParseOID(s)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// pol describes the policy extensions of one certificate.
type pol struct {
	policies []string
	mappings [][2]string
	// requireExplicit, inhibitMapping (policyConstraints) and inhibitAny
	// (inhibitAnyPolicy); nil leaves the field out.
	requireExplicit, inhibitMapping, inhibitAny *int64
	critical                                    bool
}

func skip(n int64) *int64 { return &n }

// extensions encodes p as certificate extensions (RFC 5280 4.2.1.4,
// 4.2.1.5, 4.2.1.11, 4.2.1.14): x509.CreateCertificate writes Policies but
// ignores PolicyMappings and the skip counts of a template.
func (p pol) extensions(t testing.TB) []pkix.Extension {
	t.Helper()
	var exts []pkix.Extension
	add := func(id asn1.ObjectIdentifier, f func(b *cryptobyte.Builder)) {
		var b cryptobyte.Builder
		f(&b)
		v, err := b.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		exts = append(exts, pkix.Extension{Id: id, Critical: p.critical, Value: v})
	}
	addOID := func(b *cryptobyte.Builder, s string) {
		der, err := oid(t, s).MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		b.AddASN1(cbasn1.OBJECT_IDENTIFIER, func(b *cryptobyte.Builder) { b.AddBytes(der) })
	}
	if len(p.policies) > 0 {
		add(asn1.ObjectIdentifier{2, 5, 29, 32}, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, s := range p.policies {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { addOID(b, s) })
				}
			})
		})
	}
	if len(p.mappings) > 0 {
		add(asn1.ObjectIdentifier{2, 5, 29, 33}, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, m := range p.mappings {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { addOID(b, m[0]); addOID(b, m[1]) })
				}
			})
		})
	}
	if p.requireExplicit != nil || p.inhibitMapping != nil {
		add(asn1.ObjectIdentifier{2, 5, 29, 36}, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				if p.requireExplicit != nil {
					b.AddASN1Int64WithTag(*p.requireExplicit, cbasn1.Tag(0).ContextSpecific())
				}
				if p.inhibitMapping != nil {
					b.AddASN1Int64WithTag(*p.inhibitMapping, cbasn1.Tag(1).ContextSpecific())
				}
			})
		})
	}
	if p.inhibitAny != nil {
		add(asn1.ObjectIdentifier{2, 5, 29, 54}, func(b *cryptobyte.Builder) { b.AddASN1Int64(*p.inhibitAny) })
	}
	return exts
}

// mint makes a certificate named name with key policyKeys()[key], signed
// by parent (self-signed if nil), a CA unless leaf.
func mint(t testing.TB, name string, key int, isLeaf bool, p pol, parent *node) *node {
	t.Helper()
	var tmpl *x509.Certificate
	if isLeaf {
		tmpl = leaf(name)
	} else {
		tmpl = ca(name)
	}
	policySerial.Lock()
	policySerial.n++
	tmpl.SerialNumber = big.NewInt(policySerial.n)
	policySerial.Unlock()
	tmpl.NotBefore, tmpl.NotAfter = t0, t0.AddDate(10, 0, 0)
	tmpl.ExtraExtensions = p.extensions(t)
	k := policyKeys()[key]
	signer, signerCert := k, tmpl
	if parent != nil {
		signer, signerCert = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, k.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.UnhandledCriticalExtensions) > 0 {
		// crypto/x509 handles the four policy extensions; checkCert
		// refuses what it does not.
		t.Fatalf("%s: crypto/x509 left %v unhandled", name, c.UnhandledCriticalExtensions)
	}
	return &node{c, k}
}

const (
	p1   = "1.3.6.1.4.1.55555.1.1"
	p2   = "1.3.6.1.4.1.55555.1.2"
	p3   = "1.3.6.1.4.1.55555.1.3"
	anyP = anyPolicy
)

// chainSpec is root, intermediates top down, and leaf.
type chainSpec struct {
	root  pol
	inter []pol
	leaf  pol
}

type policyChain struct {
	root, leaf *node
	inter      []*node
}

func (s chainSpec) build(t testing.TB) policyChain {
	t.Helper()
	var pc policyChain
	pc.root = mint(t, "Policy Root", 0, false, s.root, nil)
	parent := pc.root
	for i, p := range s.inter {
		n := mint(t, fmt.Sprintf("Policy CA %d", i+1), i+1, false, p, parent)
		pc.inter = append(pc.inter, n)
		parent = n
	}
	pc.leaf = mint(t, "policy user", 9, true, s.leaf, parent)
	return pc
}

// x509Verdict is crypto/x509's answer for the same certificates.
func x509Verdict(leaf *x509.Certificate, roots, inter []*x509.Certificate, at time.Time, acceptable []x509.OID) error {
	rp, ip := x509.NewCertPool(), x509.NewCertPool()
	for _, c := range roots {
		rp.AddCert(c)
	}
	for _, c := range inter {
		ip.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: rp, Intermediates: ip, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}, CertificatePolicies: acceptable})
	return err
}

// TestPolicies is issue #11 item 5: certificate policies, policy mappings,
// policy constraints and inhibitAnyPolicy decide a path's validity as
// RFC 5280 6.1 says. The invalid cases verified before this change.
func TestPolicies(t *testing.T) {
	at := t0.AddDate(1, 0, 0)
	requireZero := pol{policies: []string{p1}, requireExplicit: skip(0)}
	tests := []struct {
		name       string
		spec       chainSpec
		acceptable []string // PolicyOptions.Acceptable and VerifyOptions.CertificatePolicies
		// failAt names the certificate the error names ("leaf", "inter1", ...), "" for a valid path.
		failAt string
		// x509Differs says why crypto/x509 gives the other verdict, "" if it agrees.
		x509Differs string
	}{
		{name: "no policies at all",
			spec: chainSpec{inter: []pol{{}}}},
		{name: "a common policy on every certificate",
			spec: chainSpec{root: pol{policies: []string{p1}}, inter: []pol{{policies: []string{p1}}, {policies: []string{p1}}}, leaf: pol{policies: []string{p1}}}},
		{name: "leaf without policies, none required",
			spec: chainSpec{inter: []pol{{policies: []string{p1}}}}},
		{name: "requireExplicitPolicy 0, leaf without policies",
			spec:   chainSpec{inter: []pol{requireZero}},
			failAt: "leaf"},
		{name: "requireExplicitPolicy 0, intermediate below without policies",
			spec:   chainSpec{inter: []pol{requireZero, {}}, leaf: pol{policies: []string{p1}}},
			failAt: "inter2"},
		{name: "requireExplicitPolicy 0, matching policies",
			spec: chainSpec{inter: []pol{requireZero, {policies: []string{p1, p2}}}, leaf: pol{policies: []string{p3, p1}}}},
		{name: "requireExplicitPolicy 0, leaf asserts another policy",
			spec:   chainSpec{inter: []pol{requireZero}, leaf: pol{policies: []string{p2}}},
			failAt: "leaf"},
		{name: "requireExplicitPolicy 0, leaf asserts anyPolicy",
			spec: chainSpec{inter: []pol{requireZero}, leaf: pol{policies: []string{anyP}}}},
		{name: "requireExplicitPolicy 2 counts from the next certificate",
			// explicit_policy is 2 below CA 1, 1 below CA 2, 0 after the leaf.
			spec:   chainSpec{inter: []pol{{policies: []string{p1}, requireExplicit: skip(2)}, {policies: []string{p1}}}},
			failAt: "leaf"},
		{name: "requireExplicitPolicy 3 is not reached",
			spec: chainSpec{inter: []pol{{policies: []string{p1}, requireExplicit: skip(3)}, {policies: []string{p1}}}}},
		{name: "requireExplicitPolicy 0 on the leaf itself",
			spec:   chainSpec{inter: []pol{{policies: []string{p1}}}, leaf: pol{policies: []string{p2}, requireExplicit: skip(0)}},
			failAt: "leaf"},
		{name: "the trust anchor's constraints are inputs, not processed",
			spec: chainSpec{root: pol{policies: []string{p1}, requireExplicit: skip(0), inhibitAny: skip(0)}, inter: []pol{{}}}},
		{name: "mapping issuer policy to subject policy",
			spec: chainSpec{inter: []pol{requireZero, {policies: []string{p1}, mappings: [][2]string{{p1, p2}}}}, leaf: pol{policies: []string{p2}}}},
		{name: "mapping replaces the issuer policy",
			spec:   chainSpec{inter: []pol{requireZero, {policies: []string{p1}, mappings: [][2]string{{p1, p2}}}}, leaf: pol{policies: []string{p1}}},
			failAt: "leaf"},
		{name: "mapping under anyPolicy",
			spec: chainSpec{inter: []pol{{policies: []string{anyP}, requireExplicit: skip(0)}, {policies: []string{anyP}, mappings: [][2]string{{p1, p2}}}}, leaf: pol{policies: []string{p2}}}},
		{name: "mapping under anyPolicy, acceptable issuer-domain policy",
			// The path is valid for p1 in the anchor's domain: p2 is p1 mapped.
			spec:       chainSpec{inter: []pol{{policies: []string{anyP}, requireExplicit: skip(0)}, {policies: []string{anyP}, mappings: [][2]string{{p1, p2}}}}, leaf: pol{policies: []string{p2}}},
			acceptable: []string{p1}},
		{name: "mapping under anyPolicy, acceptable subject-domain policy",
			spec:       chainSpec{inter: []pol{{policies: []string{anyP}, requireExplicit: skip(0)}, {policies: []string{anyP}, mappings: [][2]string{{p1, p2}}}}, leaf: pol{policies: []string{p2}}},
			acceptable: []string{p2},
			failAt:     "leaf"},
		{name: "mapping with inhibitPolicyMapping 0",
			spec: chainSpec{inter: []pol{{policies: []string{p1}, requireExplicit: skip(0), inhibitMapping: skip(0)},
				{policies: []string{p1}, mappings: [][2]string{{p1, p2}}}}, leaf: pol{policies: []string{p2}}},
			failAt: "leaf"},
		{name: "mapping with inhibitPolicyMapping 0, no explicit policy required",
			spec: chainSpec{inter: []pol{{policies: []string{p1}, inhibitMapping: skip(0)},
				{policies: []string{p1}, mappings: [][2]string{{p1, p2}}}}, leaf: pol{policies: []string{p2}}}},
		{name: "mapping with inhibitPolicyMapping 1 allowed in the next certificate",
			spec: chainSpec{inter: []pol{{policies: []string{p1}, requireExplicit: skip(0), inhibitMapping: skip(1)},
				{policies: []string{p1}, mappings: [][2]string{{p1, p2}}}}, leaf: pol{policies: []string{p2}}}},
		{name: "inhibitAnyPolicy 0, intermediate asserts only anyPolicy",
			spec: chainSpec{inter: []pol{{policies: []string{p1}, requireExplicit: skip(0), inhibitAny: skip(0)},
				{policies: []string{anyP}}}, leaf: pol{policies: []string{p1}}},
			failAt: "inter2"},
		{name: "inhibitAnyPolicy 1, intermediate asserts only anyPolicy",
			spec: chainSpec{inter: []pol{{policies: []string{p1}, requireExplicit: skip(0), inhibitAny: skip(1)},
				{policies: []string{anyP}}}, leaf: pol{policies: []string{p1}}}},
		{name: "inhibitAnyPolicy 1, leaf asserts only anyPolicy",
			spec: chainSpec{inter: []pol{{policies: []string{p1}, requireExplicit: skip(0), inhibitAny: skip(1)},
				{policies: []string{anyP}}}, leaf: pol{policies: []string{anyP}}},
			failAt: "leaf"},
		{name: "mapping to anyPolicy",
			spec:   chainSpec{inter: []pol{{policies: []string{p1}, mappings: [][2]string{{p1, anyP}}}}, leaf: pol{policies: []string{p1}}},
			failAt: "inter1"},
		{name: "mapping from anyPolicy",
			spec:   chainSpec{inter: []pol{{policies: []string{anyP}, mappings: [][2]string{{anyP, p1}}}}, leaf: pol{policies: []string{p1}}},
			failAt: "inter1"},
		{name: "mapping to anyPolicy in a certificate without policies",
			spec:        chainSpec{inter: []pol{{mappings: [][2]string{{p1, anyP}}}}},
			failAt:      "inter1",
			x509Differs: "crypto/x509 looks at mappings only while the policy graph is not NULL and mapping is allowed; RFC 5280 6.1.4 (a) forbids anyPolicy mappings unconditionally, as OpenSSL does"},
		{name: "negative requireExplicitPolicy",
			spec:        chainSpec{inter: []pol{{policies: []string{p1}, requireExplicit: skip(-1)}}},
			failAt:      "inter1",
			x509Differs: "crypto/x509 ignores a negative SkipCerts, turning a malformed constraint into none; OpenSSL refuses the certificate, as we do"},
		{name: "every policy extension critical, valid path",
			spec: chainSpec{inter: []pol{
				{policies: []string{p1, p2}, requireExplicit: skip(0), inhibitMapping: skip(1), inhibitAny: skip(2), critical: true},
				{policies: []string{p1}, mappings: [][2]string{{p1, p3}}, critical: true}},
				leaf: pol{policies: []string{p3}, critical: true}}},
		{name: "every policy extension critical, invalid path",
			spec: chainSpec{inter: []pol{
				{policies: []string{p1, p2}, requireExplicit: skip(0), inhibitMapping: skip(0), critical: true},
				{policies: []string{p1}, mappings: [][2]string{{p1, p3}}, critical: true}},
				leaf: pol{policies: []string{p3}, critical: true}},
			failAt: "leaf"},
		{name: "acceptable policy asserted",
			spec:       chainSpec{inter: []pol{requireZero}, leaf: pol{policies: []string{p1}}},
			acceptable: []string{p2, p1}},
		{name: "acceptable policy not asserted",
			spec:       chainSpec{inter: []pol{requireZero}, leaf: pol{policies: []string{p1}}},
			acceptable: []string{p2},
			failAt:     "leaf"},
		{name: "acceptable policy under anyPolicy",
			spec:       chainSpec{inter: []pol{{policies: []string{anyP}, requireExplicit: skip(0)}}, leaf: pol{policies: []string{anyP}}},
			acceptable: []string{p2}},
		{name: "acceptable policies ignored when no explicit policy is required",
			spec:       chainSpec{inter: []pol{{policies: []string{p1}}}, leaf: pol{policies: []string{p1}}},
			acceptable: []string{p2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pc := tc.spec.build(t)
			roots := []*x509.Certificate{pc.root.cert}
			var inter []*x509.Certificate
			for _, n := range pc.inter {
				inter = append(inter, n.cert)
			}
			var acceptable []x509.OID
			for _, s := range tc.acceptable {
				acceptable = append(acceptable, oid(t, s))
			}
			r, err := Build(pc.leaf.cert, Options{Roots: roots, Intermediates: inter, Time: at, Policy: PolicyOptions{Acceptable: acceptable}})
			if tc.failAt == "" {
				if err != nil {
					t.Fatalf("got %v, want a valid chain", err)
				}
				if len(r.Chain) != len(inter)+2 {
					t.Fatalf("got a chain of %d, want %d", len(r.Chain), len(inter)+2)
				}
			} else {
				var ce *Error
				if !errors.As(err, &ce) || ce.Reason != Policy {
					t.Fatalf("got %v, want reason policy", err)
				}
				want := pc.leaf.cert
				if n, ok := strings.CutPrefix(tc.failAt, "inter"); ok {
					want = pc.inter[int(n[0]-'1')].cert
				}
				if ce.Cert != want {
					t.Fatalf("got error naming %s, want %s", ce.Cert.Subject, want.Subject)
				}
				t.Log(err)
			}
			goErr := x509Verdict(pc.leaf.cert, roots, inter, at, acceptable)
			if agree := (goErr == nil) == (err == nil); agree != (tc.x509Differs == "") {
				t.Fatalf("chain says %v, crypto/x509 says %v (documented difference: %q)", err, goErr, tc.x509Differs)
			}
		})
	}
}

// TestPolicyOtherPath: when one path to the root breaks the policy rules,
// the builder tries the others (issue #11 item 5).
func TestPolicyOtherPath(t *testing.T) {
	at := t0.AddDate(1, 0, 0)
	root := mint(t, "Policy Root", 0, false, pol{}, nil)
	// Two certificates for the same CA name and key: one requires an
	// explicit policy the leaf does not carry, the other does not.
	strict := mint(t, "Policy CA", 1, false, pol{policies: []string{p1}, requireExplicit: skip(0)}, root)
	lax := mint(t, "Policy CA", 1, false, pol{policies: []string{p1}}, root)
	user := mint(t, "policy user", 9, true, pol{policies: []string{p2}}, strict)
	roots := []*x509.Certificate{root.cert}
	for _, tc := range []struct {
		name  string
		inter []*x509.Certificate
		valid bool
	}{
		{"strict first, lax second", []*x509.Certificate{strict.cert, lax.cert}, true},
		{"lax first, strict second", []*x509.Certificate{lax.cert, strict.cert}, true},
		{"strict only", []*x509.Certificate{strict.cert}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Build(user.cert, Options{Roots: roots, Intermediates: tc.inter, Time: at})
			if tc.valid {
				if err != nil || r.Chain[1] != lax.cert {
					t.Fatalf("got %v, want the chain through the CA certificate without requireExplicitPolicy", err)
				}
			} else {
				var ce *Error
				if !errors.As(err, &ce) || ce.Reason != Policy || ce.Cert != user.cert {
					t.Fatalf("got %v, want reason policy naming the leaf", err)
				}
			}
			if goErr := x509Verdict(user.cert, roots, tc.inter, at, nil); (goErr == nil) != tc.valid {
				t.Fatalf("crypto/x509 says %v", goErr)
			}
		})
	}
}

// hostileSpec is a chain built to blow up an RFC 5280 policy tree: 8
// certificates (root, 6 CAs, leaf), each CA asserting width policies and
// anyPolicy and mapping every policy to every other one, so that the tree
// would have width^6 nodes. requireExplicitPolicy 0 on the first CA makes
// the outcome depend on the whole graph; inhibitAny adds inhibitAnyPolicy 0
// to it, so that anyPolicy matches nothing below.
func hostileSpec(width int, leafPolicy string, inhibitAny bool) chainSpec {
	ps := make([]string, width)
	for i := range ps {
		ps[i] = fmt.Sprintf("1.3.6.1.4.1.55555.2.%d", i)
	}
	var maps [][2]string
	for _, from := range ps {
		for _, to := range ps {
			maps = append(maps, [2]string{from, to})
		}
	}
	ca := pol{policies: append(slices.Clone(ps), anyP), mappings: maps}
	first := ca
	first.requireExplicit = skip(0)
	if inhibitAny {
		first.inhibitAny = skip(0)
	}
	spec := chainSpec{inter: []pol{first, ca, ca, ca, ca, ca}, leaf: pol{policies: []string{leafPolicy}}}
	return spec
}

// TestPolicyGraphBounded is issue #11 item 5's cost bound: a hostile chain
// of 8 certificates with 100 policies and 10,000 mappings each (a tree of
// 10^12 nodes) is decided quickly, and the graph work stays linear in the
// policies and mappings the path carries.
func TestPolicyGraphBounded(t *testing.T) {
	at := t0.AddDate(1, 0, 0)
	const width = 100
	for _, tc := range []struct {
		name       string
		leafPolicy string
		inhibitAny bool
		valid      bool
	}{
		{"mapped policy", "1.3.6.1.4.1.55555.2.7", false, true},
		{"other policy under anyPolicy", p1, false, true},
		{"other policy, anyPolicy inhibited", p1, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pc := hostileSpec(width, tc.leafPolicy, tc.inhibitAny).build(t)
			path := []*x509.Certificate{pc.leaf.cert}
			for i := len(pc.inter) - 1; i >= 0; i-- {
				path = append(path, pc.inter[i].cert)
			}
			path = append(path, pc.root.cert)
			input := 0
			for _, c := range path[:len(path)-1] {
				input += len(c.Policies) + len(c.PolicyMappings)
			}

			start := time.Now()
			run, perr := runPolicies(path, PolicyOptions{})
			elapsed := time.Since(start)
			if (perr == nil) != tc.valid {
				t.Fatalf("got %v, want valid %v", perr, tc.valid)
			}
			work := run.totalWork()
			t.Logf("policy processing: %v, graph work %d for %d policies and mappings", elapsed, work, input)
			if work > 8*input {
				t.Errorf("graph work %d is more than 8 times the %d policies and mappings", work, input)
			}
			if elapsed > time.Second {
				t.Errorf("policy processing took %v, want well under a second", elapsed)
			}

			var inter []*x509.Certificate
			for _, n := range pc.inter {
				inter = append(inter, n.cert)
			}
			roots := []*x509.Certificate{pc.root.cert}
			_, err := Build(pc.leaf.cert, Options{Roots: roots, Intermediates: inter, Time: at})
			var ce *Error
			if tc.valid && err != nil || !tc.valid && (!errors.As(err, &ce) || ce.Reason != Policy) {
				t.Fatalf("Build: got %v, want valid %v", err, tc.valid)
			}
			if goErr := x509Verdict(pc.leaf.cert, roots, inter, at, nil); (goErr == nil) != tc.valid {
				t.Fatalf("crypto/x509 says %v", goErr)
			}
		})
	}
}

// BenchmarkPolicyGraph measures the hostile chain of TestPolicyGraphBounded.
func BenchmarkPolicyGraph(b *testing.B) {
	pc := hostileSpec(100, "1.3.6.1.4.1.55555.2.7", false).build(b)
	path := []*x509.Certificate{pc.leaf.cert}
	for i := len(pc.inter) - 1; i >= 0; i-- {
		path = append(path, pc.inter[i].cert)
	}
	path = append(path, pc.root.cert)
	b.ReportAllocs()
	for b.Loop() {
		if err := checkPolicies(path, PolicyOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPKITSPolicies runs the policy sections of the NIST PKITS path
// validation suite (4.8 certificate policies, 4.9 requireExplicitPolicy,
// 4.10 policy mappings, 4.11 inhibitPolicyMapping, 4.12 inhibitAnyPolicy)
// over the given paths with their initial inputs, from the copy that ships
// with Go (GOROOT/src/crypto/x509/testdata/nist-pkits). Issue #11 item 5.
func TestPKITSPolicies(t *testing.T) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "src", "crypto", "x509", "testdata", "nist-pkits")
	b, err := os.ReadFile(filepath.Join(dir, "vectors.json"))
	if err != nil {
		t.Fatalf("the PKITS vectors ship with Go's source: %v", err)
	}
	var vectors []struct {
		Name                        string
		CertPath                    []string
		InitialPolicySet            []string
		InitialPolicyMappingInhibit bool
		InitialExplicitPolicy       bool
		InitialAnyPolicyInhibit     bool
		ShouldValidate              bool
	}
	if err := json.Unmarshal(b, &vectors); err != nil {
		t.Fatal(err)
	}
	policies := map[string]string{"anyPolicy": anyPolicy}
	for i := 1; i <= 6; i++ {
		policies[fmt.Sprintf("NIST-test-policy-%d", i)] = fmt.Sprintf("2.16.840.1.101.3.2.1.48.%d", i)
	}
	ran := 0
	for _, v := range vectors {
		if !slices.ContainsFunc([]string{"4.8.", "4.9.", "4.10.", "4.11.", "4.12."}, func(p string) bool { return strings.HasPrefix(v.Name, p) }) {
			continue
		}
		ran++
		t.Run(v.Name, func(t *testing.T) {
			var path []*x509.Certificate
			for _, f := range v.CertPath {
				der, err := os.ReadFile(filepath.Join(dir, "certs", f))
				if err != nil {
					t.Fatal(err)
				}
				c, err := x509.ParseCertificate(der)
				if err != nil {
					t.Fatal(err)
				}
				path = append(path, c)
			}
			slices.Reverse(path) // leaf first
			opts := PolicyOptions{RequireExplicit: v.InitialExplicitPolicy, InhibitMapping: v.InitialPolicyMappingInhibit, InhibitAny: v.InitialAnyPolicyInhibit}
			for _, p := range v.InitialPolicySet {
				s, ok := policies[p]
				if !ok {
					t.Fatalf("unknown test policy %s", p)
				}
				opts.Acceptable = append(opts.Acceptable, oid(t, s))
			}
			err := checkPolicies(path, opts)
			if (err == nil) != v.ShouldValidate {
				t.Fatalf("got %v, want valid %v", err, v.ShouldValidate)
			}
			if err != nil {
				t.Log(err)
			}
		})
	}
	if ran < 80 {
		t.Fatalf("ran %d PKITS policy vectors, want the whole of sections 4.8 to 4.12", ran)
	}
}

// TestPolicyBudget: one Build processes at most maxPolicyInput policies and
// mappings over all the paths it tries, so that a sender who controls a CA
// cannot make it evaluate many heavy paths (issue #11 item 5).
func TestPolicyBudget(t *testing.T) {
	at := t0.AddDate(1, 0, 0)
	overBudget := func(t *testing.T, err error) {
		t.Helper()
		var ce *Error
		if !errors.As(err, &ce) || ce.Reason != Policy || !strings.Contains(ce.Detail, "than are checked") {
			t.Fatalf("got %v, want the policy budget error", err)
		}
	}
	t.Run("one path over the budget", func(t *testing.T) {
		pc := hostileSpec(110, "1.3.6.1.4.1.55555.2.7", false).build(t) // 6 × (110 + 110²) policies and mappings
		var inter []*x509.Certificate
		for _, n := range pc.inter {
			inter = append(inter, n.cert)
		}
		start := time.Now()
		_, err := Build(pc.leaf.cert, Options{Roots: []*x509.Certificate{pc.root.cert}, Intermediates: inter, Time: at})
		overBudget(t, err)
		if d := time.Since(start); d > time.Second {
			t.Errorf("took %v", d)
		}
	})
	t.Run("two paths over the budget together", func(t *testing.T) {
		// Two certificates for one CA with 200 policies and 40,000
		// mappings each: the first path fails its policies, the second
		// would pass but is not evaluated.
		heavy := hostileSpec(200, "", false).inter[1]
		heavy.policies = heavy.policies[:200] // without anyPolicy, which would admit p1
		strictPol := heavy
		strictPol.requireExplicit = skip(0)
		root := mint(t, "Policy Root", 0, false, pol{}, nil)
		strict := mint(t, "Policy CA", 1, false, strictPol, root)
		lax := mint(t, "Policy CA", 1, false, heavy, root)
		user := mint(t, "policy user", 9, true, pol{policies: []string{p1}}, strict)
		// The first failure is the one reported; without the budget the
		// second path would have made the chain valid.
		_, err := Build(user.cert, Options{Roots: []*x509.Certificate{root.cert}, Intermediates: []*x509.Certificate{strict.cert, lax.cert}, Time: at})
		var ce *Error
		if !errors.As(err, &ce) || ce.Reason != Policy {
			t.Fatalf("got %v, want reason policy", err)
		}
		if _, err := Build(user.cert, Options{Roots: []*x509.Certificate{root.cert}, Intermediates: []*x509.Certificate{lax.cert}, Time: at}); err != nil {
			t.Fatalf("the lax path alone: %v", err)
		}
	})
}
