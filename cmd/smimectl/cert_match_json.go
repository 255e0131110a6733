package main

import (
	"fmt"
	"io"
	"time"

	"github.com/smimectl/smimectl/internal/certinfo"
	"github.com/smimectl/smimectl/pkg/certsel"
	"github.com/smimectl/smimectl/pkg/verify"
)

// matchJSON is cert-match's --json output.
type matchJSON struct {
	Schema     int             `json:"schema"`
	Address    string          `json:"address"`
	Purpose    string          `json:"purpose"`
	Selected   *candidateJSON  `json:"selected"`
	Candidates []candidateJSON `json:"candidates"`
	// Reason and Error say why no certificate was selected (the reason
	// code and the sentence smimectl would print on standard error).
	Reason string `json:"reason,omitempty"`
	Error  string `json:"error,omitempty"`
}

type candidateJSON struct {
	Source    string          `json:"source"`
	Subject   string          `json:"subject"`
	Serial    string          `json:"serial"`
	KeyUsage  certsel.Usage   `json:"key_usage"`
	NotBefore time.Time       `json:"not_before"`
	NotAfter  time.Time       `json:"not_after"`
	Match     string          `json:"match,omitempty"`
	Verdict   certsel.Verdict `json:"verdict"`
	Rule      certsel.Rule    `json:"rule"`
	Detail    string          `json:"detail"`
	PrivKey   bool            `json:"private_key"`
	SHA256    string          `json:"sha256"`
	// FingerprintSHA256 is SHA256 again, under the name every other
	// --json object gives a certificate's fingerprint.
	FingerprintSHA256 string `json:"fingerprint_sha256"`
}

func printMatchJSON(w io.Writer, addr, purpose string, cands []certsel.Candidate, serr error) error {
	out := matchJSON{Schema: jsonSchemaVersion, Address: addr, Purpose: purpose, Candidates: []candidateJSON{},
		Reason: reasonCode(serr), Error: errorText(serr)}
	out.Candidates = candidatesJSON(cands)
	for i, c := range cands {
		if c.Verdict == certsel.Selected {
			out.Selected = &out.Candidates[i]
		}
	}
	return encodeJSON(w, out)
}

// candidatesJSON is the JSON of every candidate (cert-match --json,
// encrypt --plan --json).
func candidatesJSON(cands []certsel.Candidate) []candidateJSON {
	out := []candidateJSON{}
	for _, c := range cands {
		fp := verify.Fingerprint(c.Cert)
		out = append(out, candidateJSON{
			Source: c.Origin, Subject: certinfo.Name(c.Cert.Subject), Serial: fmt.Sprintf("%X", c.Cert.SerialNumber),
			KeyUsage: certsel.Usage(c.Cert.KeyUsage), NotBefore: c.Cert.NotBefore.UTC(), NotAfter: c.Cert.NotAfter.UTC(),
			Match: c.Match, Verdict: c.Verdict, Rule: c.Rule, Detail: c.Detail, PrivKey: c.Key != nil,
			SHA256: fp, FingerprintSHA256: fp,
		})
	}
	return out
}
