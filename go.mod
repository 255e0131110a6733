module github.com/smimectl/smimectl

go 1.26.0

require (
	github.com/BurntSushi/toml v1.6.0
	github.com/cloudflare/circl v1.6.5
	github.com/emersion/go-message v0.18.2
	github.com/go-ldap/ldap/v3 v3.4.15
	github.com/miekg/pkcs11 v1.1.2
	github.com/spf13/cobra v1.10.2
	github.com/spf13/pflag v1.1.0
	golang.org/x/crypto v0.59.0
	golang.org/x/net v0.62.0
	golang.org/x/sys v0.50.0
	golang.org/x/term v0.48.0
	software.sslmate.com/src/go-pkcs12 v0.7.4
)

require (
	github.com/Azure/go-ntlmssp v0.1.1 // indirect
	github.com/go-asn1-ber/asn1-ber v1.5.8 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	golang.org/x/text v0.44.0 // indirect
)

// Test dependencies. Only tests import these (and internal/testpeer, the
// driver of openssl, gpgsm and cmsutil that only tests import), so neither the
// smimectl binary nor an importer of pkg/ builds them: testscript runs the CLI
// scripts (and brings x/tools' txtar), go.mozilla.org/pkcs7 is the
// differential oracle, jsonschema checks --json output against its schema, and
// cobra/doc, which writes the man pages in a test, brings go-md2man,
// blackfriday and yaml. Check with
// go list -deps -f '{{with .Module}}{{.Path}}{{end}}' ./cmd/... ./pkg/...
require (
	github.com/cpuguy83/go-md2man/v2 v2.0.6 // indirect
	github.com/rogpeppe/go-internal v1.16.0
	github.com/russross/blackfriday/v2 v2.1.0 // indirect
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3
	go.mozilla.org/pkcs7 v0.10.0
	go.yaml.in/yaml/v3 v3.0.4 // indirect
	golang.org/x/tools v0.52.0 // indirect
)
