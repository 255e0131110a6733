package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/smimectl/smimectl/pkg/verify"
)

// requireValues are the values of --require on verify and decrypt.
var requireValues = []string{"signed", "encrypted", "signed-inner"}

// addRequireFlag adds --require to fs.
func addRequireFlag(fs *pflag.FlagSet, p *[]string) {
	fs.StringSliceVar(p, "require", nil, "fail unless the message has the layer: signed, encrypted or signed-inner (signed inside the encryption); repeatable")
	markListFlag(fs, "require", requireValues)
}

// parseRequire turns --require values into a verify.Requirement.
func parseRequire(vals []string) (verify.Requirement, error) {
	var q verify.Requirement
	for _, v := range vals {
		var r verify.Requirement
		if err := r.UnmarshalText([]byte(v)); err != nil || v == "" {
			return 0, usagef([]string{"--require takes " + strings.Join(requireValues, ", ")}, "--require: unknown layer %q", v)
		}
		q |= r
	}
	return q, nil
}

// reportLayers writes one line per layer of a layered result to w, for -v:
// "smimectl: layer 2: enveloped (aes-256-cbc), decrypted for issuer ..., serial ...".
func reportLayers(w io.Writer, res *verify.Result) {
	for _, l := range res.Layers {
		fmt.Fprintf(w, "smimectl: layer %d: %s\n", l.Depth, oneLine(layerLine(l)))
	}
}

func layerLine(l *verify.Layer) string {
	state := "valid"
	if !l.Valid {
		state = "failed"
		if l.Error == "" {
			state = "not opened"
		}
	}
	if l.Kind == verify.KindSigned {
		form := l.MediaType
		if form == "application/x-pkcs7-mime" {
			form = "application/pkcs7-mime"
		}
		return fmt.Sprintf("signed, %s: %s", state, summary(&verify.Result{Form: form, Signers: l.Signers}))
	}
	line := fmt.Sprintf("%s, %s", l.Kind, state)
	if l.ContentCipher != "" {
		line += " (" + l.ContentCipher + ")"
	}
	for _, r := range l.Recipients {
		if !r.Us {
			continue
		}
		who := "subject key identifier " + r.SubjectKeyID
		if r.SubjectKeyID == "" {
			who = fmt.Sprintf("issuer %s, serial %s", r.Issuer, r.Serial)
		}
		line += fmt.Sprintf(": decrypted with the entry for %s (%s)", who, r.KeyManagement)
	}
	return line
}

func describeRequirementError(e *verify.RequirementError) (string, []string) {
	if e.Require == verify.RequireSigned {
		// Issue #11 item 1: an encrypted-only message proves nothing about its sender.
		return e.Error(), []string{"nothing vouches for who wrote it: anyone with the recipient's certificate can encrypt a message; read it with smimectl decrypt"}
	}
	return e.Error(), nil
}

func describeDepthError(e *verify.DepthError) (string, []string) {
	return e.Error(), nil
}

func describeNoKey(err error) (string, []string, bool) {
	if !errors.Is(err, verify.ErrNoKey) {
		return "", nil, false
	}
	return err.Error(), []string{"give your key with --key and --cert, --p12, or --pkcs11, to open the encrypted layer"}, true
}

// joinNames joins the names of a library's named values ("sha-256, sha-1").
func joinNames[T fmt.Stringer](names []T, sep string) string {
	s := make([]string, len(names))
	for i, n := range names {
		s[i] = n.String()
	}
	return strings.Join(s, sep)
}
