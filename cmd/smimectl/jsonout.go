package main

import (
	"encoding/json"
	"io"

	"github.com/smimectl/smimectl/pkg/encrypt"
	"github.com/smimectl/smimectl/pkg/verify"
)

// jsonSchemaVersion is the "schema" of every --json object (docs/json.md,
// docs/schema/*.json). Adding a field keeps it; renaming or removing one, or
// changing a field's meaning, is a new version.
const jsonSchemaVersion = 1

// inputName is the "input" of a --json object: the file path given, or "-"
// for standard input.
func inputName(in string) string {
	if in == "" {
		return "-"
	}
	return in
}

// jsonHead are the fields every --json object of a message or file starts
// with.
type jsonHead struct {
	Schema int    `json:"schema"`
	Input  string `json:"input"`
}

func newJSONHead(in string) jsonHead {
	return jsonHead{Schema: jsonSchemaVersion, Input: inputName(in)}
}

// batchJSON are the fields a line of a batch (verify, decrypt --trust or
// inspect with PATH arguments, issue #13) has after "schema" and "input";
// nil, they are left out (one message).
type batchJSON struct {
	MboxIndex  *int   `json:"mbox_index,omitempty"`
	MboxOffset *int64 `json:"mbox_offset,omitempty"`
	Verdict    string `json:"verdict,omitempty"`
	Expected   string `json:"expected,omitempty"`
	Detail     string `json:"detail,omitempty"`
	Out        string `json:"out,omitempty"` // decrypt --out-dir: the file written
}

// verifyJSON is the object of verify --json and decrypt --trust --json: the
// library's result, with the schema and input first, and the error as
// standard error says it, with its reason code. A batch line adds its
// fields after the input.
type verifyJSON struct {
	jsonHead
	*batchJSON
	*verify.Result
	Reason string `json:"reason,omitempty"`
	Error  string `json:"error,omitempty"`
}

// newVerifyJSON makes the object for a verification of input in, whose result
// is res (nil when the message was too broken to give one) and error verr.
// The layers' errors are worded as standard error words them too.
func newVerifyJSON(in string, res *verify.Result, verr error, vopts verify.Options) *verifyJSON {
	if res == nil {
		res = &verify.Result{At: vopts.Now().UTC(), Signers: []*verify.Signer{}}
	}
	wordLayerErrors(res)
	return &verifyJSON{jsonHead: newJSONHead(in), Result: res, Reason: reasonCode(verr), Error: errorText(verr)}
}

// wordLayerErrors words the errors of res's layers as standard error words
// them.
func wordLayerErrors(res *verify.Result) {
	for _, l := range res.Layers {
		if l.Err != nil {
			l.Error = errorText(l.Err)
		}
	}
	for _, p := range res.Parts {
		if p.Err != nil {
			p.Error = errorText(p.Err)
		}
	}
}

// encodeJSON writes v as one line of JSON, without HTML escapes.
func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// inspectJSON is the object of inspect --json.
type inspectJSON struct {
	jsonHead
	*batchJSON
	*verify.Inspection
	Reason string `json:"reason,omitempty"`
	Error  string `json:"error,omitempty"`
}

// decryptJSON is the object of decrypt --json without --trust.
// A message it can't decrypt gets an object with only the reason and error.
type decryptJSON struct {
	jsonHead
	*encrypt.Result
	Reason string `json:"reason,omitempty"`
	Error  string `json:"error,omitempty"`
}

// certVerifyJSON is the object of cert-verify --json.
type certVerifyJSON struct {
	jsonHead
	*verify.CertificateResult
	Reason string `json:"reason,omitempty"`
	Error  string `json:"error,omitempty"`
}
