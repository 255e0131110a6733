package main

import (
	_ "embed"
	"strings"
)

// The long help texts of commands and help topics live in help/*.txt, as
// prose edited as prose (issue #17 item 5); the build embeds them. Each file
// ends with one newline that helpText drops, so that --help and the man pages
// stay as they were when the texts were Go strings.
var (
	//go:embed help/verify.txt
	verifyLong string
	//go:embed help/verify-examples.txt
	verifyExamples string
	//go:embed help/decrypt.txt
	decryptLong string
	//go:embed help/decrypt-examples.txt
	decryptExamples string
	//go:embed help/inspect.txt
	inspectLong string
	//go:embed help/inspect-examples.txt
	inspectExamples string
	//go:embed help/revocation.txt
	revocationTopic string
	//go:embed help/keys.txt
	keysTopic string
)

// helpText is an embedded help text without its final newline.
func helpText(s string) string { return strings.TrimSuffix(s, "\n") }
