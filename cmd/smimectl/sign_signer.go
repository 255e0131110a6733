package main

import (
	"context"
	"fmt"
	"time"

	"github.com/smimectl/smimectl/internal/keys"
	"github.com/smimectl/smimectl/pkg/certsel"
	"github.com/smimectl/smimectl/pkg/revocation"
)

// What signs, for sign, clear-sign, opaque-sign and triple-wrap: the signing
// identity from the key flags or chosen among --certs, and the revocation check
// of its certificate.

// signer returns the signing identity: from --key/--cert or --p12, or else chosen
// among --certs for --from (certsel, private keys only).
func (opts *signOptions) signer(at time.Time) (*keys.Identity, error) {
	e := opts.env
	if opts.SmartCardOnly && (opts.Key != "" || opts.P12 != "") {
		return nil, smartCardRequired(map[bool]string{true: "--key", false: "--p12"}[opts.Key != ""])
	}
	if opts.keyFlags.given() || len(opts.Certs) == 0 {
		id, err := opts.keyFlags.loadIdentity(e, opts.From)
		if err == nil && opts.Verbose {
			fmt.Fprintf(e.Stderr, "smimectl: signing with %s serial %X\n", holder(id.Certificate), id.Certificate.SerialNumber)
		}
		return id, err
	}
	if opts.From == "" {
		return nil, usagef([]string{"give the sender's address with --from"}, "--certs needs --from to choose a certificate")
	}
	if err := opts.keyFlags.check(); err != nil {
		return nil, err
	}
	sources, err := opts.certSourceFlags.sources(e, opts.keyFlags.passGiven(e), &opts.tokenFlags, true)
	if err != nil {
		return nil, err
	}
	sel, err := certsel.Select(context.Background(), opts.From, certsel.PurposeSign, certsel.Options{
		Sources:       sources,
		SkipTrust:     true, // sign checks its own certificate's chain later, if at all
		Now:           func() time.Time { return at },
		NoProxies:     opts.NoProxies,
		RequireKey:    true,
		SmartCardOnly: opts.SmartCardOnly,
	})
	if err != nil {
		return nil, err
	}
	if opts.Verbose {
		fmt.Fprintf(e.Stderr, "smimectl: signing with %s serial %X from %s\n", holder(sel.Certificate), sel.Certificate.SerialNumber, sel.Origin)
	}
	return &keys.Identity{Signer: sel.Key, Certificate: sel.Certificate, Chain: sel.Chain}, nil
}

// revocationChecker returns the checker for the signer's own certificate, or
// nil when --revocation is off and no --crl is given.
func (opts *signOptions) revocationChecker() (revocation.Checker, error) {
	if opts.revocationFlags.fs == nil {
		return nil, nil // a command without the flags (triple-wrap) does not check
	}
	mode := opts.Revocation
	if mode == revocation.Off && len(opts.CRLs) > 0 {
		mode = revocation.Soft
	}
	if mode == revocation.Off {
		return nil, nil
	}
	crls, err := loadCRLs(opts.CRLs)
	if err != nil {
		return nil, err
	}
	opts.revocationFlags.verbose = opts.Verbose // issue #16 item 6
	ropts, err := opts.revocationFlags.options(opts.env, mode, crls, opts.MaxAge)
	if err != nil {
		return nil, err
	}
	return revocation.New(ropts), nil
}
