package testpeer

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// ErrUnknownCondition is returned by [Condition] for a condition it does not
// handle, so that a caller can chain it with other condition functions.
var ErrUnknownCondition = errors.New("testpeer: unknown condition")

// tool is one program a peer needs and the Debian package that provides it.
type tool struct {
	program string
	pkg     string
}

// requirements lists the programs each peer needs. gpgsm needs openssl too:
// keys reach gpgsm as legacy PKCS#12 files that openssl builds.
func requirements(peer string) ([]tool, bool) {
	switch peer {
	case "openssl":
		return []tool{{"openssl", "openssl"}}, true
	case "gpgsm":
		return []tool{
			{"gpgsm", "gpgsm"},
			{"gpg-agent", "gpg-agent"},
			{"gpgconf", "gpgconf"},
			{"openssl", "openssl"},
		}, true
	case "cmsutil":
		return []tool{
			{"cmsutil", "libnss3-tools"},
			{"certutil", "libnss3-tools"},
			{"pk12util", "libnss3-tools"},
		}, true
	case "dovecot":
		// A private instance with no network protocols (dovecot.go).
		return []tool{
			{"/usr/sbin/dovecot", "dovecot-core"},
			{"doveadm", "dovecot-core"},
		}, true
	case "softhsm":
		// A software PKCS#11 token (softhsm.go) and pkcs11-tool to write
		// certificates to it.
		mod := SoftHSMModule()
		if mod == "" {
			mod = softHSMModules[0]
		}
		return []tool{
			{"softhsm2-util", "softhsm2"},
			{mod, "softhsm2"},
			{"pkcs11-tool", "opensc"},
		}, true
	case "jdk":
		// OpenJDK's jarsigner writes and checks RFC 8419 Ed25519
		// SignedData (the signature block of a signed JAR); OpenSSL 3.0
		// does no Ed25519 CMS at all (issue #18).
		return []tool{
			{"jarsigner", "openjdk-17-jdk-headless"},
			{"keytool", "openjdk-17-jre-headless"},
		}, true
	case "slapd":
		// Debian installs the daemon in /usr/sbin, often not on a user's PATH.
		return []tool{
			{"/usr/sbin/slapd", "slapd"},
			{"/usr/sbin/slapadd", "slapd"},
			// Restores directory backups in the directory tests.
			{"ldapmodify", "ldap-utils"},
		}, true
	}
	return nil, false
}

// Condition reports whether the peer named by cond ("peer:openssl",
// "peer:gpgsm" or "peer:cmsutil") is installed. It has the signature of
// testscript's Params.Condition.
//
// When a program is missing, Condition returns false outside CI; when the
// environment variable CI is "true" it returns an error naming the Debian
// packages to install, which fails the script instead of skipping it. For
// any other condition it returns an error wrapping [ErrUnknownCondition].
func Condition(cond string) (bool, error) {
	peer, ok := strings.CutPrefix(cond, "peer:")
	if !ok {
		return false, fmt.Errorf("%w %q", ErrUnknownCondition, cond)
	}
	tools, ok := requirements(peer)
	if !ok {
		return false, fmt.Errorf("%w %q (known peers: openssl, gpgsm, cmsutil, slapd, dovecot, softhsm, jdk)", ErrUnknownCondition, cond)
	}
	var programs, pkgs []string
	for _, t := range tools {
		if !installed(t.program) {
			programs = append(programs, t.program)
			if !slices.Contains(pkgs, t.pkg) {
				pkgs = append(pkgs, t.pkg)
			}
		}
	}
	if len(programs) == 0 {
		return true, nil
	}
	if os.Getenv("CI") == "true" {
		return false, fmt.Errorf("testpeer: peer %s is missing %s and CI=true forbids skipping: install it with apt-get install %s",
			peer, strings.Join(programs, ", "), strings.Join(pkgs, " "))
	}
	return false, nil
}

// Require skips t when peer ("openssl", "gpgsm" or "cmsutil") is not
// installed, or fails it when CI=true, following [Condition].
func Require(t testing.TB, peer string) {
	t.Helper()
	ok, err := Condition("peer:" + peer)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Skipf("peer %s is not installed (set CI=true to make this a failure)", peer)
	}
}

// installed reports whether program is on PATH, or, for a shared library
// (a PKCS#11 module, "….so"), whether the file exists.
func installed(program string) bool {
	if strings.HasSuffix(program, ".so") {
		_, err := os.Stat(program)
		return err == nil
	}
	_, err := exec.LookPath(program)
	return err == nil
}
