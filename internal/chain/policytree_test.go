package chain

// The policy graph against the policy tree: RFC 9618 says its graph is
// equivalent to RFC 5280's tree, so the verdicts of policy.go must equal
// those of the tree algorithm as RFC 5280 section 6.1 writes it, run here
// on small random paths (where the tree stays small) with every initial
// input, which crypto/x509's Verify does not expose. Issue #11 item 5.

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// treeNode is a node of RFC 5280's valid_policy_tree.
type treeNode struct {
	policy   string
	expected []string
	parent   *treeNode
	children []*treeNode
	depth    int
}

// policyTree runs RFC 5280 6.1 as written (6.1.2 (a), 6.1.3 (d)-(f),
// 6.1.4 (a), (b), (h)-(j), 6.1.5 (a), (b), (g)) over path, leaf first and
// anchor last, and says whether path processing succeeds.
func policyTree(path []*x509.Certificate, opts PolicyOptions) bool {
	n := len(path) - 1
	if n < 1 {
		return true
	}
	root := &treeNode{policy: anyPolicy, expected: []string{anyPolicy}}
	nodes := func() []*treeNode { // every node, breadth first
		var out []*treeNode
		if root == nil {
			return nil
		}
		queue := []*treeNode{root}
		for len(queue) > 0 {
			x := queue[0]
			queue = queue[1:]
			out = append(out, x)
			queue = append(queue, x.children...)
		}
		return out
	}
	at := func(depth int) []*treeNode {
		var out []*treeNode
		for _, x := range nodes() {
			if x.depth == depth {
				out = append(out, x)
			}
		}
		return out
	}
	addChild := func(p *treeNode, policy string, expected []string) *treeNode {
		c := &treeNode{policy: policy, expected: expected, parent: p, depth: p.depth + 1}
		p.children = append(p.children, c)
		return c
	}
	remove := func(x *treeNode) {
		if x == root {
			root = nil
			return
		}
		x.parent.children = slices.DeleteFunc(x.parent.children, func(c *treeNode) bool { return c == x })
	}
	// prune deletes nodes of depth < limit without children, repeatedly.
	prune := func(limit int) {
		for changed := true; changed && root != nil; {
			changed = false
			for _, x := range nodes() {
				if x.depth < limit && len(x.children) == 0 {
					remove(x)
					changed = true
					break
				}
			}
		}
	}
	explicit, mapping, inhibitAny := n+1, n+1, n+1
	if opts.RequireExplicit {
		explicit = 0
	}
	if opts.InhibitMapping {
		mapping = 0
	}
	if opts.InhibitAny {
		inhibitAny = 0
	}
	for i := 1; i <= n; i++ {
		c := path[n-i]
		selfIssued := bytes.Equal(c.RawIssuer, c.RawSubject)
		policies := oidStrings(c.Policies)
		// 6.1.3 (d)
		if root != nil && len(policies) > 0 {
			parents := at(i - 1)
			for _, p := range policies {
				if p == anyPolicy {
					continue
				}
				matched := false
				for _, x := range parents {
					if slices.Contains(x.expected, p) {
						addChild(x, p, []string{p})
						matched = true
					}
				}
				if !matched {
					for _, x := range parents {
						if x.policy == anyPolicy {
							addChild(x, p, []string{p})
						}
					}
				}
			}
			if slices.Contains(policies, anyPolicy) && (inhibitAny > 0 || (i < n && selfIssued)) {
				for _, x := range parents {
					for _, e := range x.expected {
						if !slices.ContainsFunc(x.children, func(c *treeNode) bool { return c.policy == e }) {
							addChild(x, e, []string{e})
						}
					}
				}
			}
			prune(i)
		}
		// (e), (f)
		if len(policies) == 0 {
			root = nil
		}
		if explicit == 0 && root == nil {
			return false
		}
		if i == n {
			break
		}
		// 6.1.4 (a), (b)
		maps := map[string][]string{}
		var issuers []string
		for _, m := range c.PolicyMappings {
			from, to := m.IssuerDomainPolicy.String(), m.SubjectDomainPolicy.String()
			if from == anyPolicy || to == anyPolicy {
				return false
			}
			if !slices.Contains(issuers, from) {
				issuers = append(issuers, from)
			}
			if !slices.Contains(maps[from], to) {
				maps[from] = append(maps[from], to)
			}
		}
		for _, p := range issuers {
			if root == nil {
				break
			}
			if mapping > 0 {
				found := false
				for _, x := range at(i) {
					if x.policy == p {
						x.expected, found = maps[p], true
					}
				}
				if !found {
					for _, x := range at(i) {
						if x.policy == anyPolicy {
							addChild(x.parent, p, maps[p])
							break
						}
					}
				}
			} else {
				for _, x := range at(i) {
					if x.policy == p {
						remove(x)
					}
				}
				prune(i)
			}
		}
		// (h), (i), (j)
		if !selfIssued {
			explicit, mapping, inhibitAny = max(explicit-1, 0), max(mapping-1, 0), max(inhibitAny-1, 0)
		}
		if (c.RequireExplicitPolicy > 0 || c.RequireExplicitPolicyZero) && c.RequireExplicitPolicy < explicit {
			explicit = c.RequireExplicitPolicy
		}
		if (c.InhibitPolicyMapping > 0 || c.InhibitPolicyMappingZero) && c.InhibitPolicyMapping < mapping {
			mapping = c.InhibitPolicyMapping
		}
		if (c.InhibitAnyPolicy > 0 || c.InhibitAnyPolicyZero) && c.InhibitAnyPolicy < inhibitAny {
			inhibitAny = c.InhibitAnyPolicy
		}
	}
	// 6.1.5 (a), (b)
	explicit = max(explicit-1, 0)
	if path[0].RequireExplicitPolicyZero {
		explicit = 0
	}
	// (g)
	initial := oidStrings(opts.Acceptable) // a set
	slices.Sort(initial)
	initial = slices.Compact(initial)
	if root != nil && len(initial) > 0 && !(len(initial) == 1 && initial[0] == anyPolicy) {
		var set []*treeNode
		for _, x := range nodes() {
			if x.parent != nil && x.parent.policy == anyPolicy {
				set = append(set, x)
			}
		}
		for _, x := range set {
			if x.policy != anyPolicy && !slices.Contains(initial, x.policy) {
				remove(x)
			}
		}
		for _, x := range at(n) {
			if x.policy == anyPolicy {
				for _, p := range initial {
					if !slices.ContainsFunc(set, func(y *treeNode) bool { return y.policy == p }) {
						addChild(x.parent, p, []string{p})
					}
				}
				break
			}
		}
		prune(n)
	}
	return explicit > 0 || root != nil
}

func oidStrings(oids []x509.OID) []string {
	out := make([]string, len(oids))
	for i, o := range oids {
		out[i] = o.String()
	}
	return out
}

// randomPolicyPath makes a path of 2 to 5 certificates (leaf first, anchor
// last) with policies, mappings and constraints drawn from next, which
// returns numbers below its argument. Certificates are not signed: policy
// processing reads only the parsed fields.
func randomPolicyPath(t testing.TB, next func(int) int) ([]*x509.Certificate, PolicyOptions) {
	var names []x509.OID
	for _, s := range []string{"1.3.6.1.4.1.55555.1.1", "1.3.6.1.4.1.55555.1.2", "1.3.6.1.4.1.55555.1.3", anyPolicy} {
		names = append(names, oid(t, s))
	}
	pick := func() x509.OID { return names[next(len(names))] }
	skipCount := func() (int, bool) {
		switch v := next(6); {
		case v < 3:
			return 0, false // absent
		default:
			return v - 3, v == 3
		}
	}
	n := 2 + next(4)
	path := make([]*x509.Certificate, n)
	for i := range path {
		c := &x509.Certificate{Subject: pkix.Name{CommonName: fmt.Sprint("cert ", i)}}
		c.RawSubject = []byte(c.Subject.CommonName)
		c.RawIssuer = []byte(fmt.Sprint("cert ", i+1))
		if i > 0 && i < n-1 && next(5) == 0 { // a self-issued intermediate
			c.RawIssuer = c.RawSubject
		}
		if next(5) > 0 {
			for _, j := range rand.New(rand.NewPCG(uint64(next(1<<16)), 0)).Perm(len(names))[:1+next(len(names))] {
				c.Policies = append(c.Policies, names[j])
			}
		}
		for range next(4) {
			m := x509.PolicyMapping{IssuerDomainPolicy: names[next(3)], SubjectDomainPolicy: names[next(3)]}
			if next(12) == 0 { // perhaps anyPolicy, which makes the path invalid
				if next(2) == 0 {
					m.IssuerDomainPolicy = pick()
				} else {
					m.SubjectDomainPolicy = pick()
				}
			}
			c.PolicyMappings = append(c.PolicyMappings, m)
		}
		c.RequireExplicitPolicy, c.RequireExplicitPolicyZero = skipCount()
		c.InhibitPolicyMapping, c.InhibitPolicyMappingZero = skipCount()
		c.InhibitAnyPolicy, c.InhibitAnyPolicyZero = skipCount()
		path[i] = c
	}
	opts := PolicyOptions{RequireExplicit: next(3) == 0, InhibitMapping: next(4) == 0, InhibitAny: next(4) == 0}
	for range next(3) {
		opts.Acceptable = append(opts.Acceptable, pick())
	}
	return path, opts
}

func describePolicyPath(path []*x509.Certificate, opts PolicyOptions) string {
	var b strings.Builder
	fmt.Fprintf(&b, "options: acceptable %v, requireExplicit %v, inhibitMapping %v, inhibitAny %v\n",
		opts.Acceptable, opts.RequireExplicit, opts.InhibitMapping, opts.InhibitAny)
	for i := len(path) - 1; i >= 0; i-- {
		c := path[i]
		fmt.Fprintf(&b, "%s (self-issued %v): policies %v mappings %v requireExplicit %d/%v inhibitMapping %d/%v inhibitAny %d/%v\n",
			c.Subject.CommonName, bytes.Equal(c.RawIssuer, c.RawSubject), c.Policies, c.PolicyMappings,
			c.RequireExplicitPolicy, c.RequireExplicitPolicyZero, c.InhibitPolicyMapping, c.InhibitPolicyMappingZero,
			c.InhibitAnyPolicy, c.InhibitAnyPolicyZero)
	}
	return b.String()
}

func checkGraphAgainstTree(t *testing.T, path []*x509.Certificate, opts PolicyOptions) (valid bool) {
	t.Helper()
	graph := checkPolicies(path, opts) == nil
	if tree := policyTree(path, opts); graph != tree {
		t.Fatalf("graph says valid %v, tree says %v for\n%s", graph, tree, describePolicyPath(path, opts))
	}
	return graph
}

// TestPolicyGraphMatchesTree compares 30,000 pseudo-random paths.
func TestPolicyGraphMatchesTree(t *testing.T) {
	r := rand.New(rand.NewPCG(5280, 9618))
	valid := 0
	const runs = 30000
	for range runs {
		path, opts := randomPolicyPath(t, r.IntN)
		if checkGraphAgainstTree(t, path, opts) {
			valid++
		}
	}
	// Both verdicts must be well represented for the comparison to mean anything.
	if valid < runs/10 || valid > runs*9/10 {
		t.Fatalf("%d of %d paths valid: the generator is lopsided", valid, runs)
	}
	t.Logf("%d of %d paths valid", valid, runs)
}

// FuzzPolicyGraph: for any path the fuzzer describes, graph and tree agree.
func FuzzPolicyGraph(f *testing.F) {
	f.Add([]byte{0})
	f.Add([]byte("\x03\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"))
	f.Add(bytes.Repeat([]byte{0xff, 0x00, 0x80, 0x13}, 40))
	f.Fuzz(func(t *testing.T, data []byte) {
		next := func(k int) int {
			if len(data) == 0 {
				return 0
			}
			v := int(data[0]) % k
			data = data[1:]
			return v
		}
		path, opts := randomPolicyPath(t, next)
		checkGraphAgainstTree(t, path, opts)
	})
}
