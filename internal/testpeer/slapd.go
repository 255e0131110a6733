package testpeer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SLAPDSuffix is the naming context of the directory StartSLAPD serves.
const SLAPDSuffix = "dc=example,dc=com"

// SLAPD is a running OpenLDAP server started by [StartSLAPD].
type SLAPD struct {
	// URL is ldap://127.0.0.1:PORT/ followed by SLAPDSuffix.
	URL string
	// Addr is 127.0.0.1:PORT.
	Addr string
	// TLSURL is ldaps://127.0.0.1:PORT2/ followed by SLAPDSuffix when
	// SLAPDOptions gave a server certificate, else "". The ldap:// URL
	// then offers StartTLS too.
	TLSURL string
	cmd    *exec.Cmd
	done   chan struct{}
}

// StartSLAPD starts a real OpenLDAP slapd for t on 127.0.0.1 and a free
// port, with its own configuration directory (slapd -f, the mdb backend,
// the core, cosine and inetorgperson schemas, plus Active Directory's
// proxyAddresses attribute and contact object class) and the entries of ldif
// loaded below SLAPDSuffix with slapadd beforehand (the suffix entry itself
// is added here). Anonymous reads are allowed. The server is stopped at
// t.Cleanup. It skips t, or fails it under CI=true, when slapd is missing
// (see [Require]).
func StartSLAPD(t testing.TB, ldif string) *SLAPD {
	t.Helper()
	return StartSLAPDWith(t, ldif, SLAPDOptions{})
}

// SLAPDOptions configure [StartSLAPDWith].
type SLAPDOptions struct {
	// TLSCertFile and TLSKeyFile, if set, are PEM files of the server's
	// certificate (with its chain after it) and private key: the server then
	// also listens for ldaps:// and offers StartTLS.
	TLSCertFile, TLSKeyFile string
	// SMIMEEquality defines userSMIMECertificate as Active Directory does,
	// an octet string with an equality rule, so that single values can be
	// deleted (OpenLDAP's stock inetorgperson.schema gives it the binary
	// syntax and no equality rule, and refuses to delete one value).
	SMIMEEquality bool
	// DBConfig, if set, is slapd.conf lines of the database section placed
	// before the default "access to * by * read" (which lets only the
	// rootdn, cn=admin,SLAPDSuffix with password "secret", write): access
	// lines, size limits.
	DBConfig string
}

// StartSLAPDWith is [StartSLAPD] with options.
func StartSLAPDWith(t testing.TB, ldif string, opts SLAPDOptions) *SLAPD {
	t.Helper()
	Require(t, "slapd")
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	// Active Directory's proxyAddresses ("smtp:alias@domain"), which OpenLDAP's
	// schemas lack; entries carry it through the extensibleObject class.
	schema := filepath.Join(dir, "ad.schema")
	if err := os.WriteFile(schema, []byte(`attributetype ( 1.2.840.113556.1.2.210 NAME 'proxyAddresses'
	EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
	SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
objectclass ( 1.2.840.113556.1.5.15 NAME 'contact' SUP organizationalPerson STRUCTURAL
	MAY ( mail $ userCertificate $ userSMIMECertificate ) )
`), 0o600); err != nil {
		t.Fatal(err)
	}
	inetorg := "/etc/ldap/schema/inetorgperson.schema"
	if opts.SMIMEEquality {
		inetorg = smimeEqualitySchema(t, dir)
	}
	conf := filepath.Join(dir, "slapd.conf")
	cfg := fmt.Sprintf(`include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include %s
include %s
pidfile %s
argsfile %s
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 10485760
suffix "%s"
rootdn "cn=admin,%s"
rootpw secret
directory %s
%saccess to * by * read
`, inetorg, schema, filepath.Join(dir, "slapd.pid"), filepath.Join(dir, "slapd.args"), SLAPDSuffix, SLAPDSuffix, data, opts.DBConfig)
	cfg = tlsConfig(opts) + cfg
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	base := "dn: " + SLAPDSuffix + "\nobjectClass: dcObject\nobjectClass: organization\no: example\ndc: example\n\n"
	ldifPath := filepath.Join(dir, "data.ldif")
	if err := os.WriteFile(ldifPath, []byte(base+strings.TrimSpace(ldif)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("/usr/sbin/slapadd", "-f", conf, "-l", ldifPath).CombinedOutput(); err != nil {
		t.Fatalf("slapadd: %v\n%s", err, out)
	}
	port := freePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	urls := "ldap://" + addr + "/"
	tlsAddr := ""
	if opts.TLSCertFile != "" {
		tlsAddr = "127.0.0.1:" + strconv.Itoa(freePort(t))
		urls += " ldaps://" + tlsAddr + "/"
	}
	cmd := exec.Command("/usr/sbin/slapd", "-f", conf, "-h", urls, "-d", "0")
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting slapd: %v", err)
	}
	s := &SLAPD{URL: "ldap://" + addr + "/" + SLAPDSuffix, Addr: addr, cmd: cmd, done: make(chan struct{})}
	if tlsAddr != "" {
		s.TLSURL = "ldaps://" + tlsAddr + "/" + SLAPDSuffix
	}
	go func() { _ = cmd.Wait(); close(s.done) }()
	t.Cleanup(s.Stop)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return s
		}
		select {
		case <-s.done:
			t.Fatalf("slapd exited: %s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("slapd did not listen on %s: %s", addr, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ServerCertificate issues a TLS server certificate for 127.0.0.1 and
// localhost from issuer and writes it, with issuer's certificate after it as
// the chain, and its new key as PEM files into a temporary directory: the
// SLAPDOptions to serve them.
func ServerCertificate(t testing.TB, issuer *x509.Certificate, issuerKey crypto.Signer) SLAPDOptions {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    issuer.NotBefore, NotAfter: issuer.NotAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:    []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, key.Public(), issuerKey)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	opts := SLAPDOptions{TLSCertFile: filepath.Join(dir, "server.crt"), TLSKeyFile: filepath.Join(dir, "server.key")}
	certPEM := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: issuer.Raw})...)
	if err := os.WriteFile(opts.TLSCertFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(opts.TLSKeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600); err != nil {
		t.Fatal(err)
	}
	return opts
}

// smimeEqualitySchema writes a copy of OpenLDAP's inetorgperson.schema in
// which userSMIMECertificate is Active Directory's octet string with
// octetStringMatch, and returns its path.
func smimeEqualitySchema(t testing.TB, dir string) string {
	t.Helper()
	stock, err := os.ReadFile("/etc/ldap/schema/inetorgperson.schema")
	if err != nil {
		t.Fatal(err)
	}
	old := "\tDESC 'RFC2798: PKCS#7 SignedData used to support S/MIME'\n\tSYNTAX 1.3.6.1.4.1.1466.115.121.1.5 )"
	if !strings.Contains(string(stock), old) {
		t.Fatalf("inetorgperson.schema does not define userSMIMECertificate as expected")
	}
	path := filepath.Join(dir, "inetorgperson-ad.schema")
	mod := strings.Replace(string(stock), old, "\tDESC 'RFC2798: PKCS#7 SignedData used to support S/MIME'\n\tEQUALITY octetStringMatch\n\tSYNTAX 1.3.6.1.4.1.1466.115.121.1.40 )", 1)
	if err := os.WriteFile(path, []byte(mod), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tlsConfig returns the global slapd.conf directives for opts' server
// certificate, or "".
func tlsConfig(opts SLAPDOptions) string {
	if opts.TLSCertFile == "" {
		return ""
	}
	return fmt.Sprintf("TLSCertificateFile %s\nTLSCertificateKeyFile %s\n", opts.TLSCertFile, opts.TLSKeyFile)
}

// Stop stops the server and waits for it to exit. It may be called more
// than once.
func (s *SLAPD) Stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
