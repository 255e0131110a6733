package encrypt

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/smimectl/smimectl/internal/certinfo"
	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/pkg/certsel"
)

// Role says why a certificate is among a message's recipients. The zero
// value is no role (the plans [Encrypt] reports carry none).
type Role int

// Roles of a [RecipientPlan].
const (
	// RoleRecipient: the certificate was selected for one or more of the
	// addresses (PlanOptions.Select).
	RoleRecipient Role = iota + 1
	// RoleCertificate: the caller gave the certificate
	// (PlanOptions.Certificates).
	RoleCertificate
	// RoleSender: the sender's own certificate, so that the sent copy
	// stays readable (PlanOptions.Sender, the guide's Chapter 8).
	RoleSender
)

// String gives the stable name JSON output carries: "recipient",
// "certificate" or "sender".
func (r Role) String() string {
	switch r {
	case RoleCertificate:
		return "certificate"
	case RoleSender:
		return "sender"
	case RoleRecipient:
		return "recipient"
	case 0:
		return "none"
	}
	return fmt.Sprintf("Role(%d)", int(r))
}

// MarshalText gives [Role.String].
func (r Role) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// PlanOptions configure [PlanRecipients]: where addresses are looked up and
// the cipher policy. The zero value looks nothing up (no sources) and trusts
// no certificate (see certsel.Options).
type PlanOptions struct {
	// Select is how each address's encryption certificate is chosen: the
	// sources, trust anchors, revocation and evaluation time, as
	// [certsel.Select] applies them.
	Select certsel.Options
	// MaxRecipients bounds the distinct addresses looked up (the guide's
	// Appendix B Recipient Limits). If zero, it is
	// certsel.DefaultMaxRecipients.
	MaxRecipients int
	// AllowMissing plans for the recipients that have a certificate when
	// others have none (the guide's AlwaysEncrypt turned off): the plan
	// lists them in Missing and no error is returned, unless no recipient
	// at all is left. If false, any missing recipient is an error.
	AllowMissing bool
	// Certificates are recipients given as certificates, besides the
	// addresses.
	Certificates []*x509.Certificate
	// Sender, if not nil, is the sender's own encryption certificate.
	Sender *x509.Certificate
	// Ciphers, OAEP and Capabilities are the cipher policy, as in
	// [Options].
	Ciphers      []Cipher
	OAEP         bool
	Capabilities func(*x509.Certificate) (Capabilities, error)
}

// PlanRecipients works out, before any message is read, who a message for
// addresses would be encrypted to: for every address the certificate chosen
// and why (the selection rule that decided, where it came from, and every
// other candidate with the rule that rejected or outranked it), the
// addresses without one, and the cipher and key transport the recipients'
// capabilities give ([Choose]). It is `smimectl encrypt --plan`: the
// guide's "which certificate will this go to?".
//
// Addresses are compared as mail addresses (domains case-insensitively): a
// repeat is looked up once and listed in Plan.Duplicates. Two addresses
// whose selected certificate is the same give one recipient with both
// addresses. ctx bounds the whole lookup (the guide's DLExpansionTimeout).
//
// Errors: a *certsel.LimitError (more addresses than MaxRecipients, none
// looked up), a *certsel.SourceError (a source that could not be asked), a
// *[RecipientError] (a given certificate that can't be used), or, when
// recipients are missing and AllowMissing is false or nobody is left, a
// *certsel.MissingError naming them; with the last, the returned plan is
// complete too (Missing says why each has none, Recipients who was found).
func PlanRecipients(ctx context.Context, addresses []string, opts PlanOptions) (*Plan, error) {
	p := &Plan{}
	var uniq []string
	seen := map[string]bool{} // certinfo.AddressKey: linear in the addresses a header may name
	for _, a := range addresses {
		if k, ok := certinfo.AddressKey(a); ok {
			if seen[k] {
				p.Duplicates = append(p.Duplicates, a)
				continue
			}
			seen[k] = true
		}
		uniq = append(uniq, a)
	}
	sels, err := certsel.Recipients(ctx, uniq, certsel.RecipientOptions{Options: opts.Select, MaxRecipients: opts.MaxRecipients})
	var me *certsel.MissingError
	if err != nil && !errors.As(err, &me) {
		return nil, err
	}
	if me != nil {
		p.Missing = me.Missing
	}
	add := func(rp RecipientPlan) {
		for i := range p.Recipients {
			if q := &p.Recipients[i]; q.Certificate.Equal(rp.Certificate) {
				q.Addresses = append(q.Addresses, rp.Addresses...)
				if q.Selection == nil {
					q.Selection = rp.Selection
				}
				return
			}
		}
		p.Recipients = append(p.Recipients, rp)
	}
	for _, c := range opts.Certificates {
		add(RecipientPlan{Role: RoleCertificate, Certificate: c})
	}
	for i, sel := range sels {
		if sel != nil {
			add(RecipientPlan{Role: RoleRecipient, Addresses: []string{uniq[i]}, Certificate: sel.Certificate, Selection: sel})
		}
	}
	if opts.Sender != nil {
		add(RecipientPlan{Role: RoleSender, Certificate: opts.Sender})
	}
	// A message for the sender alone reaches nobody: with every address
	// missing and no certificate given, AllowMissing does not help.
	if me != nil && (!opts.AllowMissing || len(p.Certificates(RoleRecipient, RoleCertificate)) == 0) {
		return p, me
	}
	if len(p.Recipients) == 0 {
		return p, errors.New("encrypt: no recipients")
	}
	if err := p.choose(opts); err != nil {
		return nil, err
	}
	return p, nil
}

// choose checks every recipient certificate and fills in the cipher and
// each recipient's key transport, as Encrypt would choose them.
func (p *Plan) choose(opts PlanOptions) error {
	now := time.Now // default
	if opts.Select.Now != nil {
		now = opts.Select.Now
	}
	at := now()
	certs := make([]*x509.Certificate, len(p.Recipients))
	caps := make([]Capabilities, len(p.Recipients))
	for i, rp := range p.Recipients {
		if err := CheckRecipient(rp.Certificate, at); err != nil {
			return err
		}
		certs[i] = rp.Certificate
		if opts.Capabilities != nil {
			k, err := opts.Capabilities(rp.Certificate)
			if err != nil {
				return err
			}
			caps[i] = k
		}
	}
	c, err := Choose(opts.Ciphers, opts.OAEP, certs, caps)
	if err != nil {
		return err
	}
	p.Cipher, p.Why, p.Assumed = c.Cipher, c.Why, c.Assumed
	for i := range p.Recipients {
		cr := c.Recipients[i]
		rp := &p.Recipients[i]
		rp.Capabilities, rp.Reads, rp.OAEP, rp.Why = cr.Capabilities, cr.Reads, cr.OAEP, cr.Why
	}
	return nil
}

// Certificates returns the certificates of the recipients with a role in
// roles (all recipients if none is given), in plan order.
func (p *Plan) Certificates(roles ...Role) []*x509.Certificate {
	var out []*x509.Certificate
	for _, rp := range p.Recipients {
		if len(roles) == 0 || slices.Contains(roles, rp.Role) {
			out = append(out, rp.Certificate)
		}
	}
	return out
}

// For returns the recipient planned for address, or nil if the address has
// no certificate in the plan.
func (p *Plan) For(address string) *RecipientPlan {
	for i, rp := range p.Recipients {
		if slices.ContainsFunc(rp.Addresses, func(a string) bool { return certinfo.SameAddress(a, address) }) {
			return &p.Recipients[i]
		}
	}
	return nil
}

// ReadAddresses reads the header of the RFC 5322 message r and returns the
// addresses of its To, Cc and Bcc fields (fields that do not parse are
// skipped), as [Encrypt] passes them to Options.Resolve. It reads the
// header only, within the same bounds as Encrypt.
func ReadAddresses(r io.Reader) (Addresses, error) {
	h, err := mime.ReadHeader(bufio.NewReader(r))
	if err != nil {
		return Addresses{}, fmt.Errorf("encrypt: reading the message header: %w", err)
	}
	return headerAddresses(h), nil
}
