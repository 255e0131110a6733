package main

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/smimectl/smimectl/pkg/certsel"
	"github.com/smimectl/smimectl/pkg/encrypt"
	"github.com/smimectl/smimectl/pkg/verify"
)

// encryptReport is what encrypt --json prints: the content cipher and, for
// every recipient, the certificate the message was encrypted to and where it
// came from. Field names are stable.
type encryptReport struct {
	jsonHead
	Cipher string `json:"cipher"`
	// CipherReason says why Cipher was chosen (issue #18 item 2).
	CipherReason string            `json:"cipher_reason"`
	Recipients   []recipientReport `json:"recipients"`
	Out          string            `json:"out"`
}

type recipientReport struct {
	Address string `json:"address,omitempty"` // empty for --recipient-cert
	Role    string `json:"role"`              // "recipient", "certificate" (--recipient-cert) or "sender"
	Subject string `json:"subject"`
	Issuer  string `json:"issuer"`
	Serial  string `json:"serial"`
	Origin  string `json:"origin,omitempty"` // the --certs source it was found in
	// FingerprintSHA256 is the certificate's SHA-256 fingerprint.
	FingerprintSHA256 string `json:"fingerprint_sha256"`
	cert              *x509.Certificate
	// Cipher is the cipher of the message this recipient gets (with --bcc
	// separate, a Bcc recipient's message may differ), KeyTransport its key
	// management, Capabilities what is known of its client.
	Cipher       string      `json:"cipher,omitempty"`
	KeyTransport string      `json:"key_transport,omitempty"`
	Capabilities *capsReport `json:"capabilities,omitempty"`
}

// capsReport is what encrypt knew of a recipient's client.
type capsReport struct {
	Source string     `json:"source"`         // "signed-mail", "certificate-extension" or "unknown"
	Date   *time.Time `json:"date,omitempty"` // the signing time of the mail, for "signed-mail"
	// Ciphers are the advertised ciphers encrypt writes, most preferred first.
	Ciphers []string `json:"ciphers"`
	OAEP    bool     `json:"rsaes_oaep"` // RSAES-OAEP advertised
	Reads   bool     `json:"reads_cipher"`
	Reason  string   `json:"reason"`
}

// addPlan fills in the cipher, key transport and capabilities of r from the
// first plan that has its certificate.
func (r *recipientReport) addPlan(plans []encrypt.Plan, c *x509.Certificate) {
	for _, pl := range plans {
		for _, rp := range pl.Recipients {
			if !rp.Certificate.Equal(c) {
				continue
			}
			k := rp.Capabilities
			cr := &capsReport{Source: k.Source.String(), Ciphers: []string{}, OAEP: k.OAEP, Reads: rp.Reads, Reason: rp.Why}
			if k.Source == encrypt.SourceSignedMail {
				at := k.At.UTC()
				cr.Date = &at
			}
			for _, x := range k.Ciphers {
				cr.Ciphers = append(cr.Ciphers, x.String())
			}
			r.Cipher, r.KeyTransport, r.Capabilities = pl.Cipher.String(), rp.KeyTransport(), cr
			return
		}
	}
}

func certReport(addr, role, origin string, c *x509.Certificate) recipientReport {
	return recipientReport{Address: addr, Role: role, Subject: certsel.Name(c.Subject), Issuer: certsel.Name(c.Issuer),
		Serial: strings.ToUpper(c.SerialNumber.Text(16)), Origin: origin, FingerprintSHA256: verify.Fingerprint(c), cert: c}
}

// report describes what runEncrypt did, for --json.
func (p *encryptSetup) report(opts *encryptOptions) (*encryptReport, error) {
	if len(p.plans) == 0 {
		return nil, errors.New("no message was encrypted")
	}
	r := &encryptReport{jsonHead: newJSONHead(opts.In), Cipher: p.plans[0].Cipher.String(), CipherReason: p.plans[0].Why,
		Out: opts.Out, Recipients: []recipientReport{}}
	if opts.OutDir != "" {
		r.Out = opts.OutDir
	}
	for _, rc := range p.opts.Recipients {
		r.Recipients = append(r.Recipients, certReport("", "certificate", "--recipient-cert", rc))
	}
	var found []recipientReport
	if p.plan != nil {
		for _, rp := range p.plan.Recipients {
			for _, a := range rp.Addresses {
				found = append(found, certReport(a, "recipient", rp.Selection.Origin, rp.Certificate))
			}
		}
	}
	slices.SortFunc(found, func(a, b recipientReport) int { return strings.Compare(a.Address, b.Address) })
	r.Recipients = append(r.Recipients, found...)
	if p.self != nil {
		r.Recipients = append(r.Recipients, certReport(opts.From, "sender", "", p.self))
	}
	for i := range r.Recipients {
		r.Recipients[i].addPlan(p.plans, r.Recipients[i].cert)
	}
	return r, nil
}

// printReport writes the --json object; the message itself went to --out or
// --out-dir.
func (p *encryptSetup) printReport(opts *encryptOptions) error {
	r, err := p.report(opts)
	if err != nil {
		return err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(opts.env.Stdout, "%s\n", b)
	return err
}
