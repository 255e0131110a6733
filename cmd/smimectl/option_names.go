package main

import (
	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// The flags that set the library options its errors, warnings and notes
// name (issue #17 item 4). pkg/ names its Options fields ("accepted:
// Options.AllowUnsignedParts"); each call passes one of these functions as
// its OptionName, so the same texts name the flags here, on stderr and in
// the JSON alike. An option missing from a table keeps its Go name.

// verifyFlagNames are the flags of verify, decrypt --trust and annotate.
var verifyFlagNames = map[verify.Option]string{
	verify.OptionIntermediates:      "--intermediates",
	verify.OptionRoots:              "--trust",
	verify.OptionAllowMD5:           "--allow-md5",
	verify.OptionMinDigest:          "--min-digest",
	verify.OptionAllowUnsignedParts: "--allow-unsigned-parts",
	verify.OptionSigner:             "--signer",
	verify.OptionContent:            "--content",
}

// verifyOptionName names a verify option by its flag (verify.Options.OptionName).
func verifyOptionName(o verify.Option) string { return verifyFlagNames[o] }

// otherCommandNames name a verify option for a command that has not got its
// flag: by the command that has it. inspect's note on a detached signature
// says "verify --content FILE checks it", decrypt's warning on unchecked
// signed layers "decrypt --trust checks signatures".
var otherCommandNames = map[verify.Option]string{
	verify.OptionContent: "verify --content FILE",
	verify.OptionRoots:   "decrypt --trust",
}

// otherCommandName is the OptionName of inspect and of decrypt's warning.
func otherCommandName(o verify.Option) string { return otherCommandNames[o] }

// signFlagNames are the flags of sign, clear-sign, opaque-sign and triple-wrap.
var signFlagNames = map[sign.Option]string{
	sign.OptionChain:  "--intermediates",
	sign.OptionForce:  "--force",
	sign.OptionFrom:   "--from",
	sign.OptionBinary: "--binary",
}

// signOptionName names a sign option by its flag (sign.Options.OptionName).
func signOptionName(o sign.Option) string { return signFlagNames[o] }

// revocationOptionName names a revocation option by its flag
// (revocation.Options.OptionName): "(use --crl)" when no CRL can be found.
func revocationOptionName(o revocation.Option) string {
	if o == revocation.OptionCRLs {
		return "--crl"
	}
	return ""
}
