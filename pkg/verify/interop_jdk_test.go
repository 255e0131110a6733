package verify

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"crypto/sha512"
	"crypto/x509"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/internal/testpeer"
)

// TestInteropEd25519JDK uses OpenJDK's jarsigner as a live Ed25519 CMS peer
// both ways (issue #18 item 5). A signed JAR's signature block
// (META-INF/NAME.EC) is an RFC 8419 SignedData with signed attributes and
// SHA-512, detached, over META-INF/NAME.SF. Debian 12's OpenSSL 3.0 cannot
// be the peer: `openssl cms -sign` with an Ed25519 key fails ("no default
// digest", or "invalid digest" with -md sha512) and so does -verify of any
// Ed25519 SignedData (openssl/openssl#11915, #32248).
//
// jarsigner signs, smimectl verifies: the .SF as the signed part of a
// multipart/signed message, the .EC as its signature. smimectl signs,
// jarsigner verifies: the .EC replaced by cms.SignDetachedDigest's over the
// same .SF. A changed byte fails both ways.
func TestInteropEd25519JDK(t *testing.T) {
	testpeer.Require(t, "jdk")
	l, err := lab.New(lab.Options{PQ: true})
	if err != nil {
		t.Fatal(err)
	}
	grace := l.User("grace-ed25519")
	dir := t.TempDir()
	if err := l.WriteDir(filepath.Join(dir, "lab"), "pw"); err != nil {
		t.Fatal(err)
	}
	p12 := filepath.Join(dir, "lab", "grace-ed25519.p12")
	run := func(name string, args ...string) string {
		t.Helper()
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	list := run("keytool", "-list", "-keystore", p12, "-storepass", "pw", "-storetype", "PKCS12")
	m := regexp.MustCompile(`(?m)^([^,\n]+), [^\n]*PrivateKeyEntry`).FindStringSubmatch(list)
	if m == nil {
		t.Fatalf("no key entry in keytool -list:\n%s", list)
	}
	alias := m[1]

	unsigned := filepath.Join(dir, "t.jar")
	writeZip(t, unsigned, map[string][]byte{"hello.txt": []byte("Hello from a JAR.\n")})
	signedJar := filepath.Join(dir, "s.jar")
	run("jarsigner", "-keystore", p12, "-storepass", "pw", "-storetype", "PKCS12", "-sigalg", "Ed25519",
		"-signedjar", signedJar, unsigned, alias)
	entries := readZip(t, signedJar)
	var sfName, ecName string
	for name := range entries {
		switch {
		case strings.HasPrefix(name, "META-INF/") && strings.HasSuffix(name, ".SF"):
			sfName = name
		case strings.HasPrefix(name, "META-INF/") && strings.HasSuffix(name, ".EC"):
			ecName = name
		}
	}
	if sfName == "" || ecName == "" {
		t.Fatalf("jarsigner wrote no .SF/.EC pair: %v", entries)
	}
	sf, ec := entries[sfName], entries[ecName]

	t.Run("jarsigner-signs", func(t *testing.T) {
		opts := Options{Roots: []*x509.Certificate{l.Root.Cert}, Intermediates: l.Chain(),
			Now: func() time.Time { return time.Now() }, SenderCheck: SenderOff}
		msg, err := testpeer.WrapSigned(sf, ec, "sha-512")
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		res, err := Verify(context.Background(), &out, bytes.NewReader(msg), opts)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if !res.Valid || len(res.Signers) != 1 || res.Signers[0].SignatureAlgorithm != "Ed25519" || res.Signers[0].DigestAlgorithm != "sha-512" {
			t.Fatalf("got valid %v, signers %+v", res.Valid, res.Signers)
		}
		bad := bytes.Replace(sf, []byte("Created-By"), []byte("Created-by"), 1)
		if bytes.Equal(bad, sf) {
			t.Fatal("could not change the .SF")
		}
		msg, _ = testpeer.WrapSigned(bad, ec, "sha-512")
		out.Reset()
		if res, err := Verify(context.Background(), &out, bytes.NewReader(msg), opts); err == nil || (res != nil && res.Valid) || out.Len() != 0 {
			t.Fatalf("changed .SF: err %v, released %d bytes", err, out.Len())
		}
	})

	t.Run("smimectl-signs", func(t *testing.T) {
		digest := sha512.Sum512(sf)
		ours, err := cms.SignDetachedDigest(digest[:], cms.SignOptions{
			Signer:       cms.Signer{Key: grace.Key, Certificate: grace.Cert, SigningTime: time.Now()},
			Certificates: []*x509.Certificate{grace.Cert, l.Intermediate.Cert},
		})
		if err != nil {
			t.Fatal(err)
		}
		check := func(ecBytes []byte) (string, error) {
			e := make(map[string][]byte, len(entries))
			for k, v := range entries {
				e[k] = v
			}
			e[ecName] = ecBytes
			path := filepath.Join(t.TempDir(), "ours.jar")
			writeZip(t, path, e)
			out, err := exec.Command("jarsigner", "-verify", path).CombinedOutput()
			return string(out), err
		}
		out, err := check(ours)
		if err != nil || !strings.Contains(out, "jar verified.") {
			t.Fatalf("jarsigner -verify of smimectl's signature block: %v\n%s", err, out)
		}
		bad := bytes.Clone(ours)
		bad[len(bad)-1] ^= 1 // the last byte of the Ed25519 signature
		if out, err := check(bad); err == nil && strings.Contains(out, "jar verified.") {
			t.Fatalf("jarsigner accepted a changed signature:\n%s", out)
		}
	})
}

// writeZip writes a ZIP (JAR) file holding files, META-INF first.
func writeZip(t *testing.T, path string, files map[string][]byte) {
	t.Helper()
	var names []string
	for n := range files {
		names = append(names, n)
	}
	// The manifest must come first, then META-INF, as jar writes them.
	order := func(n string) int {
		switch {
		case n == "META-INF/MANIFEST.MF":
			return 0
		case strings.HasPrefix(n, "META-INF/"):
			return 1
		}
		return 2
	}
	slices.SortFunc(names, func(a, b string) int {
		if c := cmp.Compare(order(a), order(b)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(files[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readZip returns the files of a ZIP file by name.
func readZip(t *testing.T, path string) map[string][]byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string][]byte{}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = b
	}
	return out
}
