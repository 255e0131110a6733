package main

import (
	"github.com/spf13/cobra"

	"github.com/smimectl/smimectl/pkg/sign"
)

func newClearSignCmd(e *env, runF func(*signOptions) error) *cobra.Command {
	return newSignModeCmd(e, runF, signDoc{
		use:   "clear-sign {--key <file> --cert <file> | --p12 <file> | --pkcs11 <uri>} [flags] [<file>]",
		short: "Sign a message as multipart/signed, readable without S/MIME",
		long: `Clear-sign a message: "smimectl sign --mode clear". The result is the guide's
"clear signed" message (Chapter 1), multipart/signed with the message as its first
part and a detached application/pkcs7-signature as its second (RFC 8551 section
3.5.3), so that a reader without S/MIME still shows the text. A mail system that
re-wraps lines or adds a footer breaks the signature; opaque-sign such mail.
` + signLongCommon,
		example: signExample,
		mode:    sign.Clear,
		fixed:   true,
	})
}
