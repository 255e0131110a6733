package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/smimectl/smimectl/pkg/certsel"
	"github.com/smimectl/smimectl/pkg/encrypt"
	"github.com/smimectl/smimectl/pkg/sign"
)

// The words of the errors of signing, encrypting, decrypting and finding
// certificates (pkg/sign, pkg/encrypt, pkg/certsel).

func describeRecipientError(e *encrypt.RecipientError) (string, []string) {
	return fmt.Sprintf("the certificate of recipient %s can't be used for encryption: %s", certName(e.Cert), libraryDetail(e.Err)),
		[]string{"give the recipient's encryption certificate (keyEncipherment or keyAgreement, valid now)"}
}

func describeNotForUsError(e *encrypt.NotForUsError) (string, []string) {
	return "this message can't be decrypted: none of its recipients matches your certificate (" + e.Summary() + ")",
		[]string{"decrypt with the key of one of these certificates, or try your key on every recipient with --try-all"}
}

func describeDecryptError(e *encrypt.DecryptError) (string, []string) {
	const msg = "this message can't be decrypted: the key does not fit, or the message was modified in transit"
	if errors.Is(e, encrypt.ErrKEMUnwrap) {
		// ML-KEM decapsulation never fails (implicit rejection): the wrong
		// key or the change shows only at the key-unwrap check after it.
		return msg, []string{"the ML-KEM recipient entry names your certificate, but its content key does not unwrap with your key: " +
			"the entry was changed in transit or made for another key (ML-KEM accepts any ciphertext, only the AES key-wrap check after it can tell); " +
			"ask the sender to encrypt again"}
	}
	return msg, nil
}

func describeEncryptMalformedError(e *encrypt.MalformedError) (string, []string) {
	return "the message is not well-formed S/MIME: " + libraryDetail(e.Err), nil
}

func describeNotEncrypted(err error) (string, []string, bool) {
	if !errors.Is(err, encrypt.ErrNotEncrypted) {
		return "", nil, false
	}
	return err.Error(), []string{"decrypt reads application/pkcs7-mime enveloped-data and authEnveloped-data messages"}, true
}

func describeCertificateError(e *sign.CertificateError) (string, []string) {
	who := e.Address
	if who == "" {
		who = "this message"
	}
	msg := fmt.Sprintf("no certificate with a private key can sign for %s: %s", who, libraryDetail(e.Err))
	if errors.Is(e, sign.ErrKeyCannotSign) {
		// --force can't help: the key itself cannot sign.
		return msg, []string{"an ML-KEM key only decrypts: give a signing certificate for the sender with --key and --cert, or --p12"}
	}
	return msg, []string{"give a signing certificate for the sender with --key and --cert, or --p12; --force signs anyway"}
}

func describeNoMatchError(e *certsel.NoMatchError) (string, []string) {
	what, purpose := "encryption certificate", "encrypt"
	if e.Purpose == certsel.PurposeSign {
		what, purpose = "signing certificate", "sign"
	}
	msg := fmt.Sprintf("no %s found for %s", what, e.Address)
	if len(e.Candidates) > 0 {
		msg = fmt.Sprintf("no usable %s for %s: %s", what, e.Address, e.Summary())
	}
	return msg, []string{fmt.Sprintf("see why with smimectl cert-match %s --purpose %s --certs <source> --explain", e.Address, purpose)}
}

// describeMissingError names every recipient without a usable encryption
// certificate on the error line, and why for each on a hint line.
func describeMissingError(e *certsel.MissingError) (string, []string) {
	addrs := make([]string, len(e.Missing))
	var hints []string
	for i, nm := range e.Missing {
		addrs[i] = nm.Address
		hints = append(hints, nm.Address+": "+whyMissing(nm))
	}
	return "no encryption certificate for " + strings.Join(addrs, ", "), append(hints,
		"give each recipient's certificate with --recipient-cert, or look addresses up in --certs; --allow-missing encrypts for the others",
		"see why with smimectl cert-match <address> --purpose encrypt --certs <source> --explain")
}

func describeLimitError(e *certsel.LimitError) (string, []string) {
	return fmt.Sprintf("%d recipients exceed the limit of %d", e.Count, e.Limit),
		[]string{"send to fewer recipients at once, or raise the limit with --max-recipients"}
}

// whyMissing says in a few words why no certificate qualified for an address:
// what was wrong with each certificate that carries it, leaving out the many
// that are for other addresses.
func whyMissing(nm *certsel.NoMatchError) string {
	var why []string
	for _, c := range nm.Candidates {
		if c.Rule != certsel.Address && c.Rule != certsel.Duplicate {
			why = append(why, fmt.Sprintf("%s from %s: %s", holder(c.Cert), c.Origin, c.Detail))
		}
	}
	switch {
	case len(why) > 0:
		return strings.Join(why, "; ")
	case len(nm.Candidates) > 0:
		return fmt.Sprintf("none of the %d certificates found carries the address", len(nm.Candidates))
	}
	return "no certificate found"
}

func describeSourceError(e *certsel.SourceError) (string, []string) {
	msg := fmt.Sprintf("can't search %s: %s", e.Source, libraryDetail(e.Err))
	if e.Temporary() {
		return msg, []string{"the directory may be down or slow; try again later, or raise --lookup-timeout"}
	}
	return msg, nil
}
