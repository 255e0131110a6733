package lab

import "crypto/x509"

// kemUsers returns the ML-KEM users of a --pq lab, issued by ca (the PQ
// intermediate). This file belongs to the ML-KEM work (issue #18 item 3);
// see /work/notes/pq18.md for the helpers it can use (issueSPKI,
// b.stream, b.serial, b.userTemplate).
func (b *builder) kemUsers(ca *Authority) ([]*User, error) {
	return nil, nil
}

// pqKeyName names, for the README, a certificate key crypto/x509 leaves
// unparsed and that is not ML-DSA (such as "ML-KEM-768"), or "".
func pqKeyName(cert *x509.Certificate) string {
	return ""
}
