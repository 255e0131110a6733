package verify

import "github.com/smimectl/smimectl/internal/textenum"

// Option is an input of the library that one of its errors, warnings or
// notes names as what decides (issue #17 item 4): the option that would
// accept what was refused, or the call that would check what was not. Its
// value is its Go name ("Options.AllowMD5"); a caller with other words for
// it, such as a command whose flags set these options, gives them with
// Options.OptionName (InspectOptions.OptionName for [Inspect], the name
// argument of [UnwrappedWarning]), so that the texts name its flags and
// the library names none.
type Option string

// The options the library's texts name.
const (
	OptionIntermediates      Option = "Options.Intermediates"
	OptionRoots              Option = "Options.Roots"
	OptionAllowMD5           Option = "Options.AllowMD5"
	OptionMinDigest          Option = "Options.MinDigest"
	OptionAllowUnsignedParts Option = "Options.AllowUnsignedParts"
	OptionSigner             Option = "Options.Signer"
	// OptionContent is the content of a detached signature, given apart
	// from it: [VerifyDetached] checks it.
	OptionContent Option = "VerifyDetached"
)

func (o Option) String() string { return string(o) }

// optionName is opt in the caller's words, given by name, else its Go
// name.
func optionName(name func(Option) string, opt Option) string { return textenum.Word(name, opt) }

// name is opt in the caller's words (Options.OptionName).
func (o *Options) name(opt Option) string { return optionName(o.OptionName, opt) }
