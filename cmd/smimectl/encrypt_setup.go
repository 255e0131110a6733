package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/smimectl/smimectl/pkg/certsel"
	"github.com/smimectl/smimectl/pkg/encrypt"
)

// encryptSetup is what runEncrypt works out before it reads the message: the
// library options, the sender's certificate, and, once the addresses are
// known, the recipients' plan.
type encryptSetup struct {
	opts  encrypt.Options     // the cipher policy, header protection, --recipient-cert
	popts encrypt.PlanOptions // where addresses are looked up (--certs, the trust flags)
	self  *x509.Certificate
	now   time.Time
	// plan is the library's account of the addresses looked up (all of
	// them, with --bcc separate); plans holds the cipher plan of every
	// message written, in order.
	plan  *encrypt.Plan
	plans []encrypt.Plan
}

// setup reads the certificate files and the sender's certificate.
func (opts *encryptOptions) setup() (*encryptSetup, error) {
	e := opts.env
	if err := encrypt.CheckCiphers(opts.Cipher); err != nil {
		return nil, usagef(nil, "--cipher: %s", libraryDetail(err))
	}
	recips, err := loadCertificates("--recipient-cert", opts.RecipientCerts)
	if err != nil {
		return nil, err
	}
	if len(opts.To) > 0 && len(opts.Certs) == 0 {
		return nil, usagef([]string{"give the certificates to look addresses up in with --certs"}, "--to needs --certs")
	}
	if opts.MaxRecipients < 1 {
		return nil, usagef(nil, "--max-recipients must be at least 1")
	}
	if err := opts.keyFlags.check(); err != nil {
		return nil, err
	}
	if opts.KeepSubject && !opts.ProtectHeaders {
		return nil, usagef([]string{"add --protect-headers, or leave out --keep-subject: without it the Subject is never hidden"}, "--keep-subject needs --protect-headers")
	}
	sources, err := opts.certSourceFlags.sources(e, opts.keyFlags.passGiven(e), &opts.tokenFlags, false)
	if err != nil {
		return nil, err
	}
	if sources, err = preload(sources); err != nil {
		return nil, err
	}
	opts.revocationFlags.verbose = opts.Verbose
	sel, err := opts.trustFlags.selectOptions(e, sources, opts.NoProxies, &opts.revocationFlags)
	if err != nil {
		return nil, err
	}
	s := &encryptSetup{now: sel.Now()}
	if !opts.NoSelf {
		if s.self, err = opts.selfCert(s, sel); err != nil {
			return nil, err
		}
	}
	caps := knownCapabilities(e, opts.capsFlags.openExisting(e))
	s.popts = encrypt.PlanOptions{Select: sel, MaxRecipients: opts.MaxRecipients, AllowMissing: opts.AllowMissing,
		Certificates: recips, Sender: s.self, Ciphers: opts.Cipher, OAEP: opts.OAEP, Capabilities: caps}
	s.opts = encrypt.Options{
		Recipients: recips,
		Ciphers:    opts.Cipher,
		OAEP:       opts.OAEP,
		// triple-wrap protects the header fields inside its inner
		// signature instead (tripleWrapOptions.signatures).
		ProtectHeaders: opts.ProtectHeaders,
		KeepSubject:    opts.KeepSubject,
		SubjectKeyID:   opts.KeyID,
		Now:            func() time.Time { return s.now },
		Capabilities:   caps,
		OnPlan:         func(pl encrypt.Plan) { s.plans = append(s.plans, pl); s.explain(opts, pl) },
	}
	return s, nil
}

// explain is -v's account of a plan (issue #18 item 2): the cipher and why, then
// per recipient what is known of its client and its key transport.
func (s *encryptSetup) explain(opts *encryptOptions, pl encrypt.Plan) {
	if !opts.Verbose {
		return
	}
	w := opts.env.Stderr
	fmt.Fprintf(w, "smimectl: cipher %s: %s\n", pl.Cipher, pl.Why)
	for _, rp := range pl.Recipients {
		fmt.Fprintf(w, "smimectl: %s: %s; key transport %s\n", s.label(opts, rp.Certificate), rp.Why, rp.KeyTransport())
	}
}

// label names a recipient certificate by the addresses it was looked up
// for, or its holder.
func (s *encryptSetup) label(opts *encryptOptions, c *x509.Certificate) string {
	var addrs []string
	if s.plan != nil {
		for _, rp := range s.plan.Recipients {
			if rp.Certificate.Equal(c) {
				addrs = append(addrs, rp.Addresses...)
			}
		}
	}
	if len(addrs) > 0 {
		slices.Sort(addrs)
		return oneLine(strings.Join(addrs, ", "))
	}
	if s.self != nil && s.self.Equal(c) && opts.From != "" {
		return oneLine(opts.From)
	}
	return holder(c)
}

// selfCert returns the sender's encryption certificate: --cert or --p12 if
// given, else the one --from finds in --certs; nil, with a warning, if there is
// none that can encrypt.
func (opts *encryptOptions) selfCert(s *encryptSetup, sel certsel.Options) (*x509.Certificate, error) {
	e := opts.env
	var c *x509.Certificate
	switch {
	case opts.keyFlags.given():
		id, err := opts.keyFlags.loadIdentity(e, opts.From)
		if err != nil {
			return nil, err
		}
		c = id.Certificate
	case opts.keyFlags.Cert != "":
		certs, err := loadCertificates("--cert", []string{opts.keyFlags.Cert})
		if err != nil {
			return nil, err
		}
		if len(certs) == 0 {
			return nil, setupErrorf("no certificate in --cert %q", opts.keyFlags.Cert)
		}
		c = certs[0]
	case opts.From != "":
		c, err := opts.senderCert(sel)
		if c == nil && err == nil {
			warn(e.Stderr, "no encryption certificate for the sender %s: the sent copy will not be readable by the sender", opts.From)
		}
		return c, err
	default:
		return nil, nil
	}
	if err := encrypt.CheckRecipient(c, s.now); err != nil {
		if opts.From != "" {
			if alt, err := opts.senderCert(sel); alt != nil || err != nil {
				return alt, err
			}
		}
		warn(e.Stderr, "not encrypting to the sender: %s", libraryDetail(err))
		return nil, nil
	}
	return c, nil
}

// senderCert looks --from up in --certs: the sender's encryption certificate,
// nil if none qualifies, or the error of a source that could not be asked.
func (opts *encryptOptions) senderCert(sel certsel.Options) (*x509.Certificate, error) {
	if len(opts.Certs) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), opts.Timeout)
	defer cancel()
	found, err := certsel.Select(ctx, opts.From, certsel.PurposeEncrypt, sel)
	var nm *certsel.NoMatchError
	switch {
	case errors.As(err, &nm):
		return nil, nil
	case err != nil:
		return nil, err
	}
	if opts.Verbose {
		fmt.Fprintf(opts.env.Stderr, "smimectl: encrypting for the sender %s with %s serial %X from %s\n",
			oneLine(opts.From), holder(found.Certificate), found.Certificate.SerialNumber, oneLine(found.Origin))
	}
	return found.Certificate, nil
}

// preload reads the local sources (files, directories, .p12 files) once, so a
// missing or malformed file is reported before anything else and is not read
// again for every recipient; directories (LDAP) are asked per address.
func preload(sources []certsel.Source) ([]certsel.Source, error) {
	out := make([]certsel.Source, len(sources))
	for i, src := range sources {
		if _, ok := src.(certsel.LDAP); ok {
			out[i] = src
			continue
		}
		found, err := src.Find(context.Background(), "")
		if err != nil {
			return nil, &certsel.SourceError{Source: src.String(), Err: err}
		}
		out[i] = certsel.Memory{Name: src.String(), Found: found}
	}
	return out, nil
}

// recipients plans the encryption for addrs with the library
// (encrypt.PlanRecipients: each address once, the --allow-missing policy),
// then says what it found: -v's line per address, and a warning for each
// address --allow-missing leaves out. Missing addresses without
// --allow-missing give the plan and a *certsel.MissingError naming them all.
func (s *encryptSetup) recipients(opts *encryptOptions, addrs []string) (*encrypt.Plan, error) {
	// --lookup-timeout bounds the whole lookup (the guide's DLExpansionTimeout).
	ctx, cancel := context.WithTimeout(context.Background(), opts.Timeout)
	defer cancel()
	pl, err := encrypt.PlanRecipients(ctx, addrs, s.popts)
	if pl != nil {
		s.plan = pl
	}
	if err != nil {
		return pl, err
	}
	if opts.Verbose && !opts.Plan { // --plan says it on standard output
		for _, rp := range pl.Recipients {
			for _, a := range rp.Addresses {
				if rp.Selection == nil {
					continue
				}
				fmt.Fprintf(opts.env.Stderr, "smimectl: encrypting for %s with %s serial %X from %s\n",
					oneLine(a), holder(rp.Certificate), rp.Certificate.SerialNumber, oneLine(rp.Selection.Origin))
			}
		}
	}
	for _, nm := range pl.Missing {
		warn(opts.env.Stderr, "no encryption certificate for %s (%s): the message is not encrypted for it", nm.Address, whyMissing(nm))
	}
	return pl, nil
}

// encryptOptions returns the library options for the message of To, Cc and
// Bcc: the recipients given on the command line, the sender, and the
// addresses --to or else the message names, looked up in --certs.
func (s *encryptSetup) encryptOptions(opts *encryptOptions) encrypt.Options {
	o := s.opts
	o.Recipients = slices.Clone(o.Recipients)
	if s.self != nil {
		o.Recipients = append(o.Recipients, s.self)
	}
	fromHeader := len(opts.RecipientCerts) == 0 && len(opts.To) == 0
	o.Resolve = func(a encrypt.Addresses) ([]*x509.Certificate, error) {
		addrs := opts.To
		if fromHeader {
			addrs = a.All()
			if len(addrs) == 0 {
				return nil, &noCertError{err: errors.New("the message names no recipients (To, Cc, Bcc)")}
			}
		}
		pl, err := s.recipients(opts, addrs)
		if err != nil {
			return nil, err
		}
		return pl.Certificates(encrypt.RoleRecipient), nil
	}
	return o
}
