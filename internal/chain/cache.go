package chain

import (
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"sync"
)

// Cost bounds of path building (issue #11 item 11). A message carries its
// own certificates, so whoever writes it chooses the graph [Build] walks:
// certificates that sign one another under the same names make the number
// of candidate paths grow exponentially with their count. As crypto/x509
// does (maxChainSignatureChecks), Build gives up with [TooComplex] once a
// budget is spent rather than walk them all.
const (
	// maxSignatureChecks bounds the signature verifications one Build call
	// makes; results the [Cache] already holds cost nothing.
	// crypto/x509 allows 100 candidate issuers per Verify call.
	maxSignatureChecks = 100
	// maxTotalSignatureChecks bounds those of all the Build calls sharing
	// a Cache (one message: up to 64 signers, each built at two times and
	// after each download of a missing issuer). A real chain costs one
	// check per link, and links shared by signers are checked once.
	maxTotalSignatureChecks = 1000
	// maxCandidates bounds the candidate issuers one Build call examines,
	// memoised or not: with signatures memoised, walking the paths is
	// what remains to bound.
	maxCandidates = 1000
	// maxIssuersPerName bounds the untrusted certificates (intermediates,
	// from the message or the caller) tried as the issuer of one
	// certificate: the holders of its issuer name, those whose subject key
	// identifier matches its authority key identifier first. A CA rarely
	// has more than two or three certificates under one name (renewals,
	// cross-certificates); trusted roots are always all tried.
	maxIssuersPerName = 8
	// maxNameComparisons bounds the name-against-constraint comparisons of
	// one Build call, as crypto/x509's VerifyOptions.MaxConstraintComparisions
	// does (the same default).
	maxNameComparisons = 250000
)

// A Cache remembers, across the [Build] calls of one verification, which
// certificate's signature verifies under which issuer's key, and each
// certificate's parsed names and name constraints, and counts the signature
// checks made. Building a signer's chain again (at the signing time, after
// a missing issuer was downloaded, for another signer of the same message)
// then costs no new signature check for a link already examined, and all
// the calls together stay within a bounded number of checks.
//
// The zero value is ready to use. A Cache keeps the certificates it has
// seen alive: use one per verification, not one per program. It is not
// safe for concurrent use.
type Cache struct {
	sigs   map[edge]*Error
	names  map[*x509.Certificate]*certNames
	nc     map[*x509.Certificate]*constraints
	checks int // signature checks made through this cache
}

// edge is a (child, issuer) pair whose signature was checked.
type edge struct{ child, issuer *x509.Certificate }

// checkSignature reports whether issuer's key verifies child's signature,
// from the cache when it can. When the signature budget of this Build call
// or of the cache is spent before the check, it returns the TooComplex
// error that ends the search.
func (b *builder) checkSignature(child, issuer *x509.Certificate) *Error {
	c := b.cache
	if err, seen := c.sigs[edge{child, issuer}]; seen {
		return err
	}
	if b.opts.Memo.valid(child, issuer) {
		// Found valid by an earlier verification of the batch: a result
		// already held, which costs no check.
		if c.sigs == nil {
			c.sigs = map[edge]*Error{}
		}
		c.sigs[edge{child, issuer}] = nil
		return nil
	}
	if b.sigChecks >= maxSignatureChecks || c.checks >= maxTotalSignatureChecks {
		n := b.sigChecks
		if c.checks >= maxTotalSignatureChecks {
			n = c.checks
		}
		b.exhaust(fmt.Sprintf("has too many candidate chains among the certificates given (path building gave up after %d signature checks)", n))
		return b.exhausted
	}
	b.sigChecks++
	c.checks++
	var e *Error
	if err := CheckCertificateSignature(child, issuer); err != nil {
		e = &Error{Reason: BadSignature, Cert: child, Detail: fmt.Sprintf("signature by %s does not verify: %v", issuer.Subject, err)}
	}
	if c.sigs == nil {
		c.sigs = map[edge]*Error{}
	}
	c.sigs[edge{child, issuer}] = e
	if e == nil {
		b.opts.Memo.add(child, issuer)
	}
	return e
}

// maxMemoSignatures bounds a SignatureMemo: a batch of mail from a few
// thousand signers under a few CAs fits, and a batch of messages each
// bringing certificates of its own costs at most this many entries
// (about 100 bytes each).
const maxMemoSignatures = 16384

// A SignatureMemo remembers which certificate signatures were found valid,
// across the verifications of a batch (the messages of verify PATH...,
// which mostly carry the same few certificates, each parsed anew from
// each message), so that a link is checked once per run rather than once
// per message. A signature is known by what decides it: the SHA-256 of
// the child certificate's DER (its to-be-signed part, signature algorithm
// and signature) and of the issuer's subjectPublicKeyInfo. Only valid
// signatures are remembered; one that failed is checked again each time,
// and is bounded by each message's own budget (see [Cache]). At most 16,384
// signatures are remembered; after that, new ones are checked and not
// remembered.
//
// The zero value is ready to use. A SignatureMemo is safe for concurrent
// use by the Build calls of several goroutines.
type SignatureMemo struct {
	mu   sync.Mutex
	sigs map[memoKey]struct{}
}

// memoKey names a (child, issuer key) pair by content.
type memoKey struct{ child, issuerKey [sha256.Size]byte }

func newMemoKey(child, issuer *x509.Certificate) memoKey {
	return memoKey{sha256.Sum256(child.Raw), sha256.Sum256(issuer.RawSubjectPublicKeyInfo)}
}

// valid reports whether issuer's key was found to verify child's
// signature before. A nil memo knows nothing.
func (m *SignatureMemo) valid(child, issuer *x509.Certificate) bool {
	if m == nil {
		return false
	}
	k := newMemoKey(child, issuer)
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.sigs[k]
	return ok
}

// add records that issuer's key verifies child's signature.
func (m *SignatureMemo) add(child, issuer *x509.Certificate) {
	if m == nil {
		return
	}
	k := newMemoKey(child, issuer)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sigs == nil {
		m.sigs = map[memoKey]struct{}{}
	}
	if len(m.sigs) < maxMemoSignatures {
		m.sigs[k] = struct{}{}
	}
}

// exhaust stops the search with a TooComplex error about the leaf.
func (b *builder) exhaust(detail string) {
	if b.exhausted == nil {
		b.exhausted = &Error{Reason: TooComplex, Cert: b.leaf, Detail: detail}
	}
}
