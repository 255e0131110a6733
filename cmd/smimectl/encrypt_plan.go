package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/smimectl/smimectl/pkg/certsel"
	"github.com/smimectl/smimectl/pkg/encrypt"
)

// runEncryptPlan is encrypt --plan (issue #17 item 3): who the message would
// be encrypted to, and why, from encrypt.PlanRecipients, as text or --json on
// standard output. It encrypts nothing and writes no file; with neither --to
// nor --recipient-cert it reads the message's header for its addresses,
// never its body. A recipient without a certificate gives exit status 3
// (after the plan is printed), unless --allow-missing.
func runEncryptPlan(opts *encryptOptions) error {
	if !isStdio(opts.Out) || opts.OutDir != "" {
		return usagef([]string{"leave out --out and --out-dir: --plan writes no message"}, "--plan can't be used with --out or --out-dir")
	}
	s, err := opts.setup()
	if err != nil {
		return err
	}
	var addrs encrypt.Addresses
	fields := map[string]string{} // address -> the header field that named it
	if len(opts.RecipientCerts) == 0 && len(opts.To) == 0 {
		in, err := openInput(opts.env, opts.In)
		if err != nil {
			return err
		}
		addrs, err = encrypt.ReadAddresses(in)
		in.Close()
		if err != nil {
			return err
		}
		for _, fl := range []struct {
			name string
			list []string
		}{{"to", addrs.To}, {"cc", addrs.Cc}, {"bcc", addrs.Bcc}} {
			for _, a := range fl.list {
				if fields[a] == "" {
					fields[a] = fl.name // the first field that named it
				}
			}
		}
		if len(addrs.All()) == 0 {
			return &noCertError{err: errors.New("the message names no recipients (To, Cc, Bcc)")}
		}
	}
	pl, err := s.recipients(opts, slices.Concat(opts.To, addrs.To, addrs.Cc, addrs.Bcc))
	var me *certsel.MissingError
	if err != nil && !errors.As(err, &me) {
		return err
	}
	if opts.JSON {
		// The error, if any, is in the object and on standard error.
		if werr := encodeJSON(opts.env.Stdout, s.planReport(opts, pl, fields, err)); werr != nil {
			return werr
		}
		return err
	}
	if werr := s.printPlan(opts.env.Stdout, opts, pl, fields); werr != nil {
		return werr
	}
	return err
}

// printPlan writes the plan as text: one block per recipient (the
// certificate, where it came from, the rule that chose it, the key
// transport and what is known of the client), one line per missing
// address and per duplicate, then the cipher. Every name and address came
// from someone else (a header, a certificate, a directory): control
// characters are escaped, so no line can pass for another.
func (s *encryptSetup) printPlan(w io.Writer, opts *encryptOptions, pl *encrypt.Plan, fields map[string]string) error {
	var b strings.Builder
	line := func(format string, args ...any) { b.WriteString(oneLine(fmt.Sprintf(format, args...)) + "\n") }
	for _, rp := range pl.Recipients {
		who := s.planWho(opts, rp, fields)
		line("%s: %s serial %X (%s)", who, holder(rp.Certificate), rp.Certificate.SerialNumber, rp.Role)
		if rp.Selection != nil {
			rule, detail := rp.Selection.Decided()
			n, noun := len(rp.Selection.Candidates), "candidates"
			if n == 1 {
				noun = "candidate"
			}
			line("  from %s; chosen by rule %s: %s (%d %s)", rp.Selection.Origin, rule, detail, n, noun)
		}
		if pl.Cipher != 0 {
			line("  key transport %s; %s", rp.KeyTransport(), rp.Why)
		}
	}
	for _, nm := range pl.Missing {
		line("%s: no usable encryption certificate: %s", addressLabel(nm.Address, fields), whyMissing(nm))
	}
	for _, d := range pl.Duplicates {
		line("%s: listed more than once; looked up once", addressLabel(d, fields))
	}
	if pl.Cipher != 0 {
		line("cipher %s: %s", pl.Cipher, pl.Why)
	} else {
		line("cipher: none chosen: recipients are missing")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// planWho names a planned recipient: its addresses (with the header field
// that named each), "--recipient-cert", or the sender.
func (s *encryptSetup) planWho(opts *encryptOptions, rp encrypt.RecipientPlan, fields map[string]string) string {
	var names []string
	for _, a := range rp.Addresses {
		names = append(names, addressLabel(a, fields))
	}
	switch {
	case len(names) > 0:
		return strings.Join(names, ", ")
	case rp.Role == encrypt.RoleSender && opts.From != "":
		return opts.From
	case rp.Role == encrypt.RoleSender:
		return "the sender"
	}
	return "--recipient-cert"
}

// addressLabel is an address with the header field that named it: "bob@example.com (cc)".
func addressLabel(a string, fields map[string]string) string {
	if f := fields[a]; f != "" {
		return a + " (" + f + ")"
	}
	return a
}

// planJSON is encrypt --plan --json (docs/json.md, docs/schema/encrypt-plan.json).
type planJSON struct {
	jsonHead
	// Cipher and CipherReason are "" when recipients are missing and no
	// cipher was chosen.
	Cipher       string              `json:"cipher"`
	CipherReason string              `json:"cipher_reason"`
	Recipients   []planRecipientJSON `json:"recipients"`
	Missing      []planMissingJSON   `json:"missing"`
	Duplicates   []string            `json:"duplicates"`
	// Reason and Error say why the plan can't be carried out (the reason
	// code and the sentence smimectl would print on standard error).
	Reason string `json:"reason,omitempty"`
	Error  string `json:"error,omitempty"`
}

type planRecipientJSON struct {
	recipientReport
	Addresses []planAddressJSON `json:"addresses"`
	// Rule is the selection rule that chose the certificate over the
	// other candidates (certsel.Selection.Decided), Detail why.
	Rule       string          `json:"rule,omitempty"`
	Detail     string          `json:"detail,omitempty"`
	Candidates []candidateJSON `json:"candidates"`
}

type planAddressJSON struct {
	Address string `json:"address"`
	Field   string `json:"field,omitempty"` // "to", "cc" or "bcc"; "" for --to
}

type planMissingJSON struct {
	planAddressJSON
	Why        string          `json:"why"`
	Candidates []candidateJSON `json:"candidates"`
}

func (s *encryptSetup) planReport(opts *encryptOptions, pl *encrypt.Plan, fields map[string]string, perr error) planJSON {
	r := planJSON{jsonHead: newJSONHead(opts.In), Recipients: []planRecipientJSON{}, Missing: []planMissingJSON{},
		Duplicates: append([]string{}, pl.Duplicates...), Reason: reasonCode(perr), Error: errorText(perr)}
	if len(fields) == 0 {
		r.Input = "" // no message was read
	}
	if pl.Cipher != 0 {
		r.Cipher, r.CipherReason = pl.Cipher.String(), pl.Why
	}
	for _, rp := range pl.Recipients {
		addr := ""
		if len(rp.Addresses) > 0 {
			addr = rp.Addresses[0]
		} else if rp.Role == encrypt.RoleSender {
			addr = opts.From
		}
		origin := ""
		if rp.Selection != nil {
			origin = rp.Selection.Origin
		} else if rp.Role == encrypt.RoleCertificate {
			origin = "--recipient-cert"
		}
		pr := planRecipientJSON{recipientReport: certReport(addr, rp.Role.String(), origin, rp.Certificate),
			Addresses: []planAddressJSON{}, Candidates: []candidateJSON{}}
		if pl.Cipher != 0 {
			pr.addPlan([]encrypt.Plan{*pl}, rp.Certificate)
		}
		for _, a := range rp.Addresses {
			pr.Addresses = append(pr.Addresses, planAddressJSON{Address: a, Field: fields[a]})
		}
		if rp.Selection != nil {
			rule, detail := rp.Selection.Decided()
			pr.Rule, pr.Detail = rule.String(), detail
			pr.Candidates = candidatesJSON(rp.Selection.Candidates)
		}
		r.Recipients = append(r.Recipients, pr)
	}
	for _, nm := range pl.Missing {
		r.Missing = append(r.Missing, planMissingJSON{planAddressJSON: planAddressJSON{Address: nm.Address, Field: fields[nm.Address]},
			Why: whyMissing(nm), Candidates: candidatesJSON(nm.Candidates)})
	}
	return r
}
