package main

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/smimectl/smimectl/internal/certinfo"
	"github.com/smimectl/smimectl/pkg/encrypt"
	"github.com/smimectl/smimectl/pkg/verify"
)

// encryptReport is what encrypt --json prints: the content cipher and, for
// every recipient, the certificate the message was encrypted to and where it
// came from. Field names are stable.
type encryptReport struct {
	jsonHead
	Cipher     string            `json:"cipher"`
	Recipients []recipientReport `json:"recipients"`
	Out        string            `json:"out"`
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
}

func certReport(addr, role, origin string, c *x509.Certificate) recipientReport {
	return recipientReport{Address: addr, Role: role, Subject: certinfo.Name(c.Subject), Issuer: certinfo.Name(c.Issuer),
		Serial: strings.ToUpper(c.SerialNumber.Text(16)), Origin: origin, FingerprintSHA256: verify.Fingerprint(c)}
}

// report describes what runEncrypt did, for --json.
func (p *encryptPlan) report(opts *encryptOptions) (*encryptReport, error) {
	c, err := encrypt.ChooseCipher(p.opts.Ciphers)
	if err != nil {
		return nil, err
	}
	r := &encryptReport{jsonHead: newJSONHead(opts.In), Cipher: c.String(), Out: opts.Out, Recipients: []recipientReport{}}
	if opts.OutDir != "" {
		r.Out = opts.OutDir
	}
	for _, rc := range p.opts.Recipients {
		r.Recipients = append(r.Recipients, certReport("", "certificate", "--recipient-cert", rc))
	}
	addrs := make([]string, 0, len(p.found))
	for a := range p.found {
		addrs = append(addrs, a)
	}
	slices.Sort(addrs)
	for _, a := range addrs {
		if sel := p.found[a]; sel != nil {
			r.Recipients = append(r.Recipients, certReport(a, "recipient", sel.Origin, sel.Certificate))
		}
	}
	if p.self != nil {
		r.Recipients = append(r.Recipients, certReport(opts.From, "sender", "", p.self))
	}
	return r, nil
}

// printReport writes the --json object; the message itself went to --out or
// --out-dir.
func (p *encryptPlan) printReport(opts *encryptOptions) error {
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
