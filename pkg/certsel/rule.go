package certsel

import "fmt"

// Rule names the selection rule that decided a [Candidate]'s verdict. The
// set is closed; String gives the stable name JSON output and
// `cert-match --explain` carry.
type Rule int

const (
	// Passed: the candidate passed every rule (the selected one).
	Passed Rule = iota
	// Duplicate: the same certificate came earlier from another source or attribute.
	Duplicate
	// Address: the certificate does not carry the address, and no directory
	// entry lists it as an alias of an address the certificate carries.
	Address
	// NoProxies: the address matched only through a proxy address (alias)
	// and proxies are disabled (CertMatchingDoNotUseProxies).
	NoProxies
	// KeyUsage: the key usage does not allow the purpose.
	KeyUsage
	// ExtKeyUsage: the extended key usage does not include emailProtection.
	ExtKeyUsage
	// PrivateKey: a private key is needed and the source has none for it.
	PrivateKey
	// SmartCardOnly: the private key is not in hardware and the
	// smart-card-only policy (SmartCardOnly) is on.
	SmartCardOnly
	// NotYetValid: notBefore is after the evaluation time.
	NotYetValid
	// Expired: notAfter is before the evaluation time.
	Expired
	// Untrusted: no chain leads to a trusted root.
	Untrusted
	// Chain: a chain reached a trusted root but failed on the way (an
	// issuer expired, not a CA, a bad signature...).
	Chain
	// Revoked: the certificate is revoked.
	Revoked
	// RevocationUnavailable: no revocation answer and one was required.
	RevocationUnavailable
	// MultiUsage: usable, but a single-usage certificate for the purpose wins.
	MultiUsage
	// SourceOrder: usable, but one from a directory's user entry (over a
	// contact entry), or from an earlier source or directory attribute
	// (userCertificate before userSMIMECertificate, or the reverse) wins.
	SourceOrder
	// TieBreak: usable, but one with a later notBefore, a longer remaining
	// validity or a lower serial number wins.
	TieBreak
)

var ruleNames = [...]string{
	Passed:                "passed",
	Duplicate:             "duplicate",
	Address:               "address",
	NoProxies:             "no-proxies",
	KeyUsage:              "key-usage",
	ExtKeyUsage:           "ext-key-usage",
	PrivateKey:            "private-key",
	SmartCardOnly:         "smartcard-only",
	NotYetValid:           "not-yet-valid",
	Expired:               "expired",
	Untrusted:             "untrusted",
	Chain:                 "chain",
	Revoked:               "revoked",
	RevocationUnavailable: "revocation-unavailable",
	MultiUsage:            "multi-usage",
	SourceOrder:           "source-order",
	TieBreak:              "tie-break",
}

func (r Rule) String() string {
	if r < 0 || int(r) >= len(ruleNames) {
		return fmt.Sprintf("rule(%d)", int(r))
	}
	return ruleNames[r]
}

// MarshalText gives the rule's stable name.
func (r Rule) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// Verdict is what selection made of a candidate.
type Verdict int

const (
	// Rejected: a rule excludes the candidate.
	Rejected Verdict = iota
	// Outranked: the candidate is usable, but another one is preferred.
	Outranked
	// Selected: the candidate chosen.
	Selected
)

func (v Verdict) String() string {
	switch v {
	case Outranked:
		return "outranked"
	case Selected:
		return "selected"
	}
	return "rejected"
}

// MarshalText gives the verdict's stable name.
func (v Verdict) MarshalText() ([]byte, error) { return []byte(v.String()), nil }
