package main

import (
	"github.com/spf13/cobra"

	"github.com/smimectl/smimectl/pkg/sign"
)

func newOpaqueSignCmd(e *env, runF func(*signOptions) error) *cobra.Command {
	return newSignModeCmd(e, runF, signDoc{
		use:   "opaque-sign {--key <file> --cert <file> | --p12 <file> | --pkcs11 <uri>} [flags] [<file>]",
		short: "Sign a message as application/pkcs7-mime signed-data",
		long: `Opaque-sign a message: "smimectl sign --mode opaque". The result is the guide's
"opaque signed" message (Chapter 1), application/pkcs7-mime with
smime-type=signed-data (RFC 8551 section 3.5.2): the message travels inside the
signature, base64-encoded, so no mail system on the way can change it unnoticed,
but only an S/MIME reader can show it.
` + signLongCommon,
		example: `  # Opaque-sign with a PKCS#12 file and send.
  smimectl opaque-sign --p12 alice.p12 --pass-file pass < msg.eml | sendmail -t

  # Opaque-sign with SHA-512 and RSASSA-PSS into a file.
  smimectl opaque-sign --key alice.key --cert alice.crt --digest sha512 --pss --in msg.eml --out signed.p7m`,
		mode:  sign.Opaque,
		fixed: true,
	})
}
