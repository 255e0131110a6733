package main

import (
	"errors"

	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/verify"
)

// certWords are the words of cert-verify's errors: a certificate on its own.
func certWords(p verify.Purpose) trustWords {
	use := "for e-mail protection"
	switch p {
	case verify.PurposeSign:
		use = "to sign mail"
	case verify.PurposeEncrypt:
		use = "to encrypt mail"
	}
	return trustWords{
		cert:   "the certificate",
		use:    use,
		source: "the certificate file",
		atHint: "--at <time> checks the certificate as of another time",
	}
}

// describeCertCheckError words cert-verify's verdict: the chain, key usage and
// revocation failures of verify, said of a certificate rather than a signer.
func describeCertCheckError(e *verify.CertificateError) (string, []string) {
	var te *verify.TrustError
	if errors.As(e.Err, &te) {
		return describeTrust(te, certWords(e.Purpose))
	}
	var re *revocation.RevokedError
	if errors.As(e.Err, &re) {
		return describeRevoked(re, certWords(e.Purpose))
	}
	var ue *revocation.UnavailableError
	if errors.As(e.Err, &ue) {
		msg, _ := describeUnavailableError(ue)
		return msg, []string{"try again later, give the CRL with --crl, or accept the certificate with a warning with --revocation soft"}
	}
	return libraryDetail(e), nil
}

func describeAmbiguousCertificateError(e *verify.AmbiguousCertificateError) (string, []string) {
	return libraryDetail(e), []string{"give the certificate to check in a file of its own, and its chain with --intermediates"}
}

func describeMalformedCertificateError(e *verify.MalformedCertificateError) (string, []string) {
	if errors.Is(e, verify.ErrSignedMessage) {
		return libraryDetail(e), []string{"smimectl verify checks a signed message and its signer's certificate; cert-verify checks a certificate file"}
	}
	return libraryDetail(e), []string{"give a certificate in PEM or DER, or a PKCS#7 (.p7b) bundle; smimectl inspect reads messages"}
}
