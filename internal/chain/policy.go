package chain

// Certificate policies: RFC 5280 section 6.1 (the valid_policy_tree,
// explicit_policy, policy_mapping and inhibit_anyPolicy state variables of
// 6.1.2, steps (d) to (f) of 6.1.3, (a), (b) and (h) to (j) of 6.1.4, and
// the wrap-up of 6.1.5) with the tree replaced by the policy graph of
// RFC 9618. The tree of RFC 5280 grows exponentially with the number of
// certificates when each maps its policies onto several others (CVE-2023-0464
// in OpenSSL); the graph keeps one node per policy and depth, so its size is
// linear in the policies and mappings the path carries, whatever a sender
// puts in the certificates of a message.
//
// crypto/x509 parses the four extensions (certificatePolicies,
// policyMappings, policyConstraints, inhibitAnyPolicy) into Certificate
// fields and, having done so, does not list them in
// UnhandledCriticalExtensions even when critical: it is this file that
// honours them.

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// PolicyOptions are the policy inputs of RFC 5280 section 6.1.1 (c) to (f).
// The zero value is crypto/x509's: any policy is acceptable, and only the
// certificates decide whether the path must be valid for some policy.
type PolicyOptions struct {
	// Acceptable is the user-initial-policy-set; empty means anyPolicy.
	// It only counts when an explicit policy is required, by
	// RequireExplicit or by a certificate's requireExplicitPolicy.
	Acceptable []x509.OID
	// RequireExplicit is initial-explicit-policy: the path must be valid
	// for at least one policy in Acceptable.
	RequireExplicit bool
	// InhibitMapping is initial-policy-mapping-inhibit: policy mappings in
	// the path are not followed (a mapped policy is deleted instead).
	InhibitMapping bool
	// InhibitAny is initial-any-policy-inhibit: anyPolicy in a
	// certificate does not match other policies.
	InhibitAny bool
}

// anyPolicy is the special policy OID 2.5.29.32.0 (RFC 5280 4.2.1.4).
const anyPolicy = "2.5.29.32.0"

// anyID is anyPolicy's number in every policyIDs.
const anyID = 0

// policyIDs numbers the policy OIDs of one run, so that the graph compares
// small integers rather than formatting OIDs: a hostile certificate may
// carry tens of thousands of them.
type policyIDs struct {
	ids  map[string]int // by DER content
	oids []x509.OID     // by number, for messages
	buf  []byte
}

func newPolicyIDs() *policyIDs {
	return &policyIDs{ids: map[string]int{"\x55\x1d\x20\x00": anyID}, oids: []x509.OID{{}}}
}

func (p *policyIDs) id(o x509.OID) int {
	p.buf, _ = o.AppendBinary(p.buf[:0]) // never fails
	if id, ok := p.ids[string(p.buf)]; ok {
		return id
	}
	id := len(p.oids)
	p.ids[string(p.buf)] = id
	p.oids = append(p.oids, o)
	return id
}

func (p *policyIDs) name(id int) string {
	if id == anyID {
		return "anyPolicy"
	}
	return p.oids[id].String()
}

// policyNode is a node of the valid_policy_graph (6.1.2 (a) as RFC 9618
// replaces it). Qualifiers are not kept: nothing here returns them, as
// RFC 9618 recommends.
type policyNode struct {
	policy   int   // valid_policy
	expected []int // expected_policy_set
	parents  []*policyNode
	children int // nodes of the next depth that have this one as a parent
}

// policyGraph is a non-NULL valid_policy_graph: levels[d] holds the nodes
// of depth d, at most one per policy.
type policyGraph struct {
	levels []map[int]*policyNode
	ids    *policyIDs
	// work counts the nodes, edges and expected policies made: it is
	// linear in the certificate policies and mappings of the path, which
	// is what the tests hold the graph to.
	work int
}

// newPolicyGraph is the initial graph: a single anyPolicy node at depth
// zero expecting anyPolicy.
func newPolicyGraph(ids *policyIDs) *policyGraph {
	root := &policyNode{policy: anyID, expected: []int{anyID}}
	return &policyGraph{levels: []map[int]*policyNode{{anyID: root}}, ids: ids, work: 1}
}

func (g *policyGraph) leaves() map[int]*policyNode { return g.levels[len(g.levels)-1] }

// empty reports whether no policy is valid at the current depth; pruning
// has then removed every other node too, and the graph stands for NULL.
func (g *policyGraph) empty() bool { return len(g.leaves()) == 0 }

func (g *policyGraph) add(level map[int]*policyNode, policy int, expected []int, parents []*policyNode) *policyNode {
	n := &policyNode{policy: policy, expected: expected, parents: parents}
	for _, p := range parents {
		p.children++
	}
	level[policy] = n
	g.work += 1 + len(parents) + len(expected)
	return n
}

// addLevel processes the certificate policies of the next certificate,
// RFC 9618's replacement for RFC 5280 6.1.3 (d). anyMatches is the
// condition of step (d)(2): inhibit_anyPolicy > 0, or the certificate is
// self-issued and not the last one.
func (g *policyGraph) addLevel(policies []x509.OID, anyMatches bool) {
	prev := g.leaves()
	// The nodes of depth i-1 by the policies they expect.
	expecting := make(map[int][]*policyNode)
	for _, n := range prev {
		for _, e := range n.expected {
			expecting[e] = append(expecting[e], n)
		}
		g.work += len(n.expected)
	}
	cur := make(map[int]*policyNode)
	g.levels = append(g.levels, cur)
	hasAny := false
	for _, oid := range policies {
		p := g.ids.id(oid)
		if p == anyID {
			hasAny = true
			continue
		}
		if cur[p] != nil { // crypto/x509 refuses duplicates; stay linear anyway
			continue
		}
		// (d)(1)(i): the nodes expecting P; else (d)(1)(ii): anyPolicy.
		parents := expecting[p]
		if len(parents) == 0 {
			if a := prev[anyID]; a != nil {
				parents = []*policyNode{a}
			}
		}
		if len(parents) > 0 {
			g.add(cur, p, []int{p}, parents)
		}
	}
	// (d)(2): anyPolicy in the certificate matches every policy expected
	// at depth i-1 that (d)(1) did not, anyPolicy included.
	if hasAny && anyMatches {
		for e, parents := range expecting {
			if cur[e] == nil {
				g.add(cur, e, []int{e}, parents)
			}
		}
	}
	// (d)(3)
	g.prune()
}

// prune deletes the nodes above the current depth that have no children,
// deepest first so that a deletion is seen by the level above
// (RFC 9618 6.1.3 (d)(3) and 6.1.4 (b)(3)(ii)). When the current depth is
// empty this deletes every node, as RFC 5280 deletes the whole tree.
func (g *policyGraph) prune() {
	for d := len(g.levels) - 2; d >= 0; d-- {
		for p, n := range g.levels[d] {
			if n.children > 0 {
				continue
			}
			for _, q := range n.parents {
				q.children--
			}
			delete(g.levels[d], p)
		}
	}
}

// mapPolicies applies the policy mappings of the certificate just added,
// RFC 9618's replacement for RFC 5280 6.1.4 (b). Mappings from or to
// anyPolicy have been refused before (6.1.4 (a)).
func (g *policyGraph) mapPolicies(mappings []x509.PolicyMapping, allowed bool) {
	cur := g.leaves()
	if !allowed {
		// (b)(3): a mapped policy is deleted, then the graph pruned.
		for _, m := range mappings {
			p := g.ids.id(m.IssuerDomainPolicy)
			if n := cur[p]; n != nil {
				for _, q := range n.parents {
					q.children--
				}
				delete(cur, p)
			}
		}
		g.prune()
		return
	}
	// The subject policies each issuer policy maps to, without repeats.
	subjects := make(map[int][]int)
	seen := make(map[[2]int]bool)
	for _, m := range mappings {
		pair := [2]int{g.ids.id(m.IssuerDomainPolicy), g.ids.id(m.SubjectDomainPolicy)}
		if !seen[pair] {
			seen[pair] = true
			subjects[pair[0]] = append(subjects[pair[0]], pair[1])
		}
	}
	for p, s := range subjects {
		if n := cur[p]; n != nil {
			// (b)(1): the node now expects the subject policies.
			n.expected = s
			g.work += len(s)
		} else if a := cur[anyID]; a != nil {
			// (b)(2): a sibling of the anyPolicy node, under the
			// anyPolicy node of depth i-1 (its only parent).
			g.add(cur, p, s, a.parents)
		}
	}
}

// authorityPolicies is the authority_constrained_policy_set of RFC 9618
// 6.1.5 (g)(2) to (4): the policies of the nodes whose one parent is
// anyPolicy, and anyPolicy if it is valid at the last depth.
func (g *policyGraph) authorityPolicies() map[int]bool {
	set := make(map[int]bool)
	for _, level := range g.levels[1:] {
		for p, n := range level {
			if p != anyID && len(n.parents) == 1 && n.parents[0].policy == anyID {
				set[p] = true
			}
		}
	}
	if g.leaves()[anyID] != nil {
		set[anyID] = true
	}
	return set
}

// policyRun is the state of RFC 5280 6.1.2 (a), (d), (e), (f) for one
// path, with what is needed to say why it failed.
type policyRun struct {
	ids                           *policyIDs
	graph                         *policyGraph // nil: valid_policy_graph is NULL
	explicit, mapping, inhibitAny int
	explicitBy                    *x509.Certificate // the certificate that set explicit_policy, nil for the options
	emptiedBy                     *x509.Certificate // the certificate after which no policy was valid
	emptiedWhy                    string            // what it did
	work                          int               // work of the graph before it went NULL
}

// maxPolicyInput bounds the certificate policies and policy mappings one
// Build processes, over all the complete paths it tries. The graph is
// linear in them, but a sender who controls a CA could offer many paths
// through certificates that carry thousands each; a real path carries a
// handful. 65,536 take about 35 ms.
const maxPolicyInput = 1 << 16

// checkPolicies checks a complete path within the builder's budget.
func (b *builder) checkPolicies(path []*x509.Certificate) *Error {
	in := 0
	for _, c := range path[:len(path)-1] { // the anchor is not processed
		in += len(c.Policies) + len(c.PolicyMappings)
	}
	if b.policyIn+in > maxPolicyInput {
		return &Error{Reason: Policy, Cert: path[0], Detail: fmt.Sprintf(
			"has more certificate policies and policy mappings on its candidate paths than are checked (%d)", maxPolicyInput)}
	}
	b.policyIn += in
	return checkPolicies(path, b.opts.Policy)
}

// checkPolicies runs RFC 5280 6.1 policy processing over path, leaf first
// and trust anchor last; the anchor is an input of the algorithm, not one
// of the n certificates it processes. It returns a Policy error naming the
// certificate at which the path failed.
func checkPolicies(path []*x509.Certificate, opts PolicyOptions) *Error {
	_, err := runPolicies(path, opts)
	return err
}

// runPolicies is checkPolicies, also returning the final state.
func runPolicies(path []*x509.Certificate, opts PolicyOptions) (*policyRun, *Error) {
	n := len(path) - 1
	if n < 1 { // a trusted leaf: nothing to process
		return &policyRun{}, nil
	}
	// 6.1.2 (a), (d), (e), (f)
	ids := newPolicyIDs()
	r := &policyRun{ids: ids, graph: newPolicyGraph(ids), explicit: n + 1, mapping: n + 1, inhibitAny: n + 1}
	if opts.RequireExplicit {
		r.explicit = 0
	}
	if opts.InhibitMapping {
		r.mapping = 0
	}
	if opts.InhibitAny {
		r.inhibitAny = 0
	}
	for i := 1; i <= n; i++ {
		c := path[n-i]
		if err := checkSkipCerts(c); err != nil {
			return r, err
		}
		if err := r.process(c, i == n); err != nil {
			return r, err
		}
	}
	return r, r.wrapUp(path[0], opts.Acceptable)
}

func (r *policyRun) totalWork() int {
	if r.graph == nil {
		return r.work
	}
	return r.work + r.graph.work
}

func (r *policyRun) setNull(c *x509.Certificate, why string) {
	if r.graph != nil {
		r.work += r.graph.work
		r.graph, r.emptiedBy, r.emptiedWhy = nil, c, why
	}
}

// process is RFC 5280 6.1.3 (d) to (f) for certificate c, and for an
// intermediate (not last) 6.1.4 (a), (b), (h) to (j).
func (r *policyRun) process(c *x509.Certificate, last bool) *Error {
	selfIssued := bytes.Equal(c.RawIssuer, c.RawSubject)
	// (d), (e)
	if len(c.Policies) == 0 {
		r.setNull(c, "has no certificate policies")
	} else if r.graph != nil {
		r.graph.addLevel(c.Policies, r.inhibitAny > 0 || (!last && selfIssued))
		if r.graph.empty() {
			r.setNull(c, "asserts none the path above it allows")
		}
	}
	// (f)
	if r.explicit == 0 && r.graph == nil {
		return r.explicitError(c)
	}
	if last {
		return nil
	}
	// 6.1.4 (a), whatever the state: no policy is mapped to or from
	// anyPolicy. (crypto/x509 checks this only while the graph is not NULL
	// and mapping is allowed; OpenSSL, like RFC 5280, always.)
	for _, m := range c.PolicyMappings {
		if r.ids.id(m.IssuerDomainPolicy) == anyID || r.ids.id(m.SubjectDomainPolicy) == anyID {
			return &Error{Reason: Policy, Cert: c, Detail: fmt.Sprintf("maps policy %s to %s, and no policy may be mapped to or from anyPolicy (RFC 5280 4.2.1.5)",
				r.ids.name(r.ids.id(m.IssuerDomainPolicy)), r.ids.name(r.ids.id(m.SubjectDomainPolicy)))}
		}
	}
	// 6.1.4 (b)
	if r.graph != nil && len(c.PolicyMappings) > 0 {
		r.graph.mapPolicies(c.PolicyMappings, r.mapping > 0)
		if r.graph.empty() {
			r.setNull(c, "maps its policies where inhibitPolicyMapping forbids it")
		}
	}
	// 6.1.4 (h)
	if !selfIssued {
		r.explicit = max(r.explicit-1, 0)
		r.mapping = max(r.mapping-1, 0)
		r.inhibitAny = max(r.inhibitAny-1, 0)
	}
	// 6.1.4 (i), (j): a field that is present and lower wins.
	if (c.RequireExplicitPolicy > 0 || c.RequireExplicitPolicyZero) && c.RequireExplicitPolicy < r.explicit {
		r.explicit, r.explicitBy = c.RequireExplicitPolicy, c
	}
	if (c.InhibitPolicyMapping > 0 || c.InhibitPolicyMappingZero) && c.InhibitPolicyMapping < r.mapping {
		r.mapping = c.InhibitPolicyMapping
	}
	if (c.InhibitAnyPolicy > 0 || c.InhibitAnyPolicyZero) && c.InhibitAnyPolicy < r.inhibitAny {
		r.inhibitAny = c.InhibitAnyPolicy
	}
	return nil
}

// wrapUp is RFC 5280 6.1.5 (a), (b) and, as RFC 9618 replaces it, (g).
func (r *policyRun) wrapUp(leaf *x509.Certificate, acceptable []x509.OID) *Error {
	r.explicit = max(r.explicit-1, 0)
	if leaf.RequireExplicitPolicyZero {
		r.explicit, r.explicitBy = 0, leaf
	}
	if r.explicit > 0 {
		return nil
	}
	authority := map[int]bool{}
	if r.graph != nil {
		authority = r.graph.authorityPolicies()
	}
	var want []int
	for _, oid := range acceptable {
		if id := r.ids.id(oid); !slices.Contains(want, id) {
			want = append(want, id)
		}
	}
	if len(want) == 0 || len(want) == 1 && want[0] == anyID {
		// (g)(6) does not apply: user_constrained_policy_set is the
		// authority set.
		if len(authority) > 0 {
			return nil
		}
		return r.explicitError(leaf)
	}
	// (g)(6): only acceptable policies count, and anyPolicy in the
	// authority set stands for each of them.
	for _, p := range want {
		if authority[p] || authority[anyID] {
			return nil
		}
	}
	if len(authority) == 0 {
		return r.explicitError(leaf)
	}
	return &Error{Reason: Policy, Cert: leaf, Detail: fmt.Sprintf("has none of the acceptable certificate policies (%s) valid for the path, only %s, but %s",
		r.list(want), r.list(slices.Sorted(maps.Keys(authority))), r.requiredBy(leaf))}
}

// explicitError says why no policy is valid at c while one is required.
func (r *policyRun) explicitError(c *x509.Certificate) *Error {
	var why string
	switch {
	case len(c.Policies) == 0:
		why = "has no certificate policies"
	case r.emptiedBy == c:
		ids := make([]int, 0, min(len(c.Policies), maxListed+1))
		for _, o := range c.Policies[:cap(ids)] {
			ids = append(ids, r.ids.id(o))
		}
		why = fmt.Sprintf("asserts no certificate policy the path above it allows (it asserts %s)", r.list(ids))
	case r.emptiedBy != nil:
		why = fmt.Sprintf("has no certificate policy valid for the path: none is valid below %s, which %s", certName(r.emptiedBy), r.emptiedWhy)
	default:
		why = "has no certificate policy valid for the whole path"
	}
	return &Error{Reason: Policy, Cert: c, Detail: why + ", but " + r.requiredBy(c)}
}

// requiredBy says who requires an explicit policy, in an error about c.
func (r *policyRun) requiredBy(c *x509.Certificate) string {
	switch r.explicitBy {
	case nil:
		return "the verifier requires an explicit certificate policy"
	case c:
		return "it requires an explicit certificate policy itself (requireExplicitPolicy)"
	}
	return certName(r.explicitBy) + " requires an explicit certificate policy (requireExplicitPolicy)"
}

// maxListed is how many policies an error names: a hostile certificate
// may carry thousands, and an error message is no place for them.
const maxListed = 5

func (r *policyRun) list(ids []int) string {
	var names []string
	for _, id := range ids[:min(len(ids), maxListed)] {
		names = append(names, r.ids.name(id))
	}
	if len(ids) > maxListed {
		return fmt.Sprintf("%s and %d more", strings.Join(names, ", "), len(ids)-maxListed)
	}
	return strings.Join(names, ", ")
}

// checkSkipCerts refuses a negative SkipCerts in policyConstraints or
// inhibitAnyPolicy: the ASN.1 allows 0..MAX, crypto/x509 parses the value
// as it comes and ignores it when negative, which would turn a malformed
// constraint into no constraint. OpenSSL refuses such a certificate too.
func checkSkipCerts(c *x509.Certificate) *Error {
	for _, f := range []struct {
		name string
		v    int
	}{{"requireExplicitPolicy", c.RequireExplicitPolicy}, {"inhibitPolicyMapping", c.InhibitPolicyMapping}, {"inhibitAnyPolicy", c.InhibitAnyPolicy}} {
		if f.v < 0 {
			return &Error{Reason: Policy, Cert: c, Detail: fmt.Sprintf("has a malformed policy constraint: %s is %d (RFC 5280 allows 0 or more)", f.name, f.v)}
		}
	}
	return nil
}

// certName names a certificate in a detail: its common name, else its subject.
func certName(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return fmt.Sprintf("%q", c.Subject.CommonName)
	}
	return fmt.Sprintf("%q", c.Subject.String())
}
