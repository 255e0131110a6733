package verify

import (
	"testing"

	"github.com/smimectl/smimectl/internal/chain"
	"github.com/smimectl/smimectl/internal/cms"
)

// TestTrustReasonMatchesChain: TrustReason mirrors chain.Reason value for
// value, so that trustReason converts by value (issue #17 item 1).
func TestTrustReasonMatchesChain(t *testing.T) {
	pairs := map[chain.Reason]TrustReason{
		chain.Untrusted: Untrusted, chain.Expired: Expired, chain.NotYetValid: NotYetValid,
		chain.NotAuthorized: NotAuthorized, chain.BadSignature: BadCertificateSignature,
		chain.Usage: IncompatibleUsage, chain.CriticalExtension: UnhandledCriticalExtension,
		chain.NameConstraint: NameConstraintViolation, chain.TooComplex: TooComplex, chain.Policy: PolicyViolation,
	}
	if len(pairs) != len(trustReasonNames) {
		t.Fatalf("%d chain reasons paired, %d trust reasons", len(pairs), len(trustReasonNames))
	}
	for c, r := range pairs {
		if trustReason(c) != r || r.String() != c.String() {
			t.Errorf("chain %v -> %v, want %v", c, trustReason(c), r)
		}
	}
	if MaxFileCertificates != cms.MaxCertificates {
		t.Errorf("MaxFileCertificates %d, the CMS reader's bound %d", MaxFileCertificates, cms.MaxCertificates)
	}
}
