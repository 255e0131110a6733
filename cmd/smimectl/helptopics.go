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
		Long: `verify, decrypt, cert-verify, cert-match and sign check every certificate of a
chain for revocation: first against the CRLs given with --crl, then (with --ocsp)
the certificate's OCSP responder, then CRLs cached in --crl-cache until their
nextUpdate, then the certificate's CRL distribution points over HTTP or LDAP.
Each URL gets --crl-timeout, all of them together --crl-total-timeout; --offline
uses only --crl files and the cache. With --annotate (filter mode) they are 5s
and 10s unless given, so that a CRL server that never answers does not hold a
delivery; "smimectl crl fetch" from cron keeps the cache warm for --offline.
Proxies come from HTTPS_PROXY, HTTP_PROXY and NO_PROXY. -v prints one line per
network request (URL, result, time) on standard error.

--revocation says what a missing answer means: soft passes with a warning, hard
fails with exit status 75 (try again later), off skips the check. A revoked
certificate always fails, with the date and reason.

A CRL or OCSP response that names no nextUpdate counts for --revocation-max-age
after it was issued (a week by default); one from the future is refused. A
partitioned CRL counts only for certificates that name the same distribution
point; a delta CRL or a CRL for some reasons only can prove a revocation, never
that a certificate is good; indirect CRLs are not used.

With --fetch-intermediates, an issuer missing from the message and
--intermediates is downloaded from the certificate's caIssuers URL (Authority
Information Access) under the same timeouts, and used only if the chain then
checks out; it is off by default and never with --offline.`,
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
		Long: `sign, decrypt, verify (for encrypted layers), triple-wrap and directory publish
take your private key in one of three ways:

  --key FILE --cert FILE   a PEM private key, and its certificate file with any
                           intermediates
  --p12 FILE               a PKCS#12 (.p12, .pfx) file holding the key and its
                           certificates, as Windows, Outlook, Thunderbird and
                           NSS export them
  --pkcs11 URI             a key on a smart card or token, named by a pkcs11: URI
                           (RFC 7512), with its certificate from the token or
                           --cert; --pkcs11-module names the module (a build
                           with cgo only)

An encrypted key or PKCS#12 file takes its passphrase from the first line of
--pass-file FILE or from the environment variable --pass-env NAME, never from the
command line, where other users of the machine could read it; a token takes its
PIN from --pin-file or --pin-env the same way. An encrypted key without its
passphrase is a setup error (exit status 2) that names the flags to give.`,
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
