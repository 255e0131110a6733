package main

import (
	"fmt"
	"io"

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
			Source: c.Origin, Subject: certsel.Name(c.Cert.Subject), Serial: fmt.Sprintf("%X", c.Cert.SerialNumber),
			KeyUsage: certsel.Usage(c.Cert.KeyUsage), NotBefore: c.Cert.NotBefore.UTC(), NotAfter: c.Cert.NotAfter.UTC(),
			Match: c.Match, Verdict: c.Verdict, Rule: c.Rule, Detail: c.Detail, PrivKey: c.Key != nil,
			SHA256: fp, FingerprintSHA256: fp,
		})
	}
	return out
}
