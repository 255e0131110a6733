package main

import (
	"strings"

	"github.com/spf13/cobra"
)

// Help topics for what several commands share, so that each command's help
// points at one text instead of repeating it (issue #16 item 10).

// newLDAPTopic returns "smimectl help ldap".
func newLDAPTopic() *cobra.Command {
	return &cobra.Command{
		Use:   "ldap",
		Short: "Certificates from an LDAP directory",
		Long: `sign, encrypt and cert-match find certificates in LDAP directories given with
--certs; the directory commands (list, clean, publish) work on one given with
--ldap.

CERTIFICATE SOURCES (--certs)

` + ldapCertsHelp + `

THE DIRECTORY COMMANDS (--ldap)

` + ldapDirectoryHelp,
		Example: `  smimectl encrypt --certs ldap://dc.example.com/dc=example,dc=com --to bob@example.com < msg.eml
  smimectl cert-match bob@example.com --purpose encrypt --certs ldaps://dc.example.com/dc=example,dc=com --explain
  smimectl directory list --ldap ldap://dc.example.com --verbose --trust corp-root.crt`,
	}
}

// newRevocationTopic returns "smimectl help revocation".
func newRevocationTopic() *cobra.Command {
	return &cobra.Command{
		Use:   "revocation",
		Short: "How certificates are checked for revocation",
		Long:  helpText(revocationTopic),
		Example: `  smimectl verify --trust root.crt --crl issuing.crl --offline < signed.eml
  smimectl verify --trust root.crt --revocation hard --crl-timeout 5s < signed.eml
  smimectl crl fetch --trust root.crt --certs certs/`,
	}
}

// newKeysTopic returns "smimectl help keys".
func newKeysTopic() *cobra.Command {
	return &cobra.Command{
		Use:   "keys",
		Short: "Private keys: PEM files, PKCS#12 files, smart cards",
		Long:  helpText(keysTopic),
		Example: `  smimectl sign --key alice.key --cert alice.crt < msg.eml
  smimectl decrypt --p12 bob.p12 --pass-file ~/.config/smimectl/p12.pass < sealed.eml
  smimectl sign --pkcs11 'pkcs11:token=alice;object=sign' --pin-env PIN < msg.eml`,
	}
}

// topicPointers lists, per command, the help topics its help points at.
var topicPointers = map[string][]string{
	"sign":        {"keys", "revocation", "ldap"},
	"clear-sign":  {"keys"},
	"opaque-sign": {"keys"},
	"verify":      {"revocation", "keys"},
	"cert-match":  {"revocation", "ldap"},
	"cert-verify": {"revocation"},
	"encrypt":     {"ldap", "revocation"},
	"triple-wrap": {"keys"},
	"decrypt":     {"keys", "revocation"},
	"directory":   {"ldap"},
}

// addTopicPointers ends the long help of root's commands with the help topics
// that say more (topicPointers).
func addTopicPointers(root *cobra.Command) {
	for _, c := range root.Commands() {
		topics := topicPointers[c.Name()]
		if len(topics) == 0 {
			continue
		}
		quoted := make([]string, len(topics))
		for i, t := range topics {
			quoted[i] = `"smimectl help ` + t + `"`
		}
		c.Long = strings.TrimRight(c.Long, "\n") + "\n\nSee also " + strings.Join(quoted, ", ") + "."
	}
}
