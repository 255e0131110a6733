package chain

import (
	"crypto/x509/pkix"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
)

// FuzzNameConstraints reads a nameConstraints extension and a name and
// states what the reading must guarantee (issue #11 item 3): no panic;
// an exclusion is read at least as broadly as a permission (whatever a
// constraint permits of this name, it also excludes when it stands among
// the excluded subtrees), so that the "stricter reading wins" rule can
// never let a name through an excluded subtree that the same subtree
// would permit; and a directory name always lies within itself and its
// own prefixes.
func FuzzNameConstraints(f *testing.F) {
	for _, ext := range []pkix.Extension{
		ncExt(true, []gn{rfc822("example.org"), rfc822(".example.com"), rfc822("alice@example.net")}, []gn{rfc822("")}),
		ncExt(true, []gn{dnsName("example.com"), uriName(".example.com"), ipRange("10.0.0.0/8")}, []gn{dnsName(".evil.example")}),
		ncExt(false, []gn{dirName(pkix.Name{Organization: []string{"Example"}, Country: []string{"DE"}})}, []gn{registeredID}),
		ncExt(true, []gn{otherName(oidSmtpUTF8Mailbox, "example.com")}, nil),
		withMinimum(),
	} {
		for _, name := range []string{"alice@example.org", "ALICE@Sub.Example.COM.", `"a@b"@example.net`, "用户@bücher.example", "host.example.com", "@", ""} {
			f.Add(ext.Value, name)
		}
	}
	f.Fuzz(func(t *testing.T, der []byte, name string) {
		nc := parseConstraints(der)
		if nc.err != nil {
			return
		}
		m := parseMailbox(name)
		host := strings.ToLower(name)
		for _, side := range []*subtrees{&nc.permitted, &nc.excluded} {
			for _, c := range side.email {
				if m.ok && matchMailbox(m, c, false) && !matchMailbox(m, c, true) {
					t.Fatalf("rfc822Name %q permits %q but does not exclude it", c.raw, name)
				}
			}
			for _, c := range side.dns {
				if matchDNS(name, c, false) && !matchDNS(name, c, true) {
					t.Fatalf("dNSName %q permits %q but does not exclude it", c, name)
				}
			}
			for _, c := range side.uri {
				if matchHost(host, c, false) && !matchHost(host, c, true) {
					t.Fatalf("URI %q permits host %q but does not exclude it", c, host)
				}
			}
			for _, d := range side.dir {
				for i := range len(d) + 1 {
					if !d.hasPrefix(d[:i]) {
						t.Fatalf("directory name %s does not lie within its prefix of %d RDNs", d, i)
					}
				}
			}
		}
		// A name parsed as a directory name lies within itself.
		var b cryptobyte.Builder
		b.AddBytes([]byte(name))
		if d, err := parseDName(cryptobyte.String(b.BytesOrPanic())); err == nil && !d.hasPrefix(d) {
			t.Fatalf("directory name %s does not lie within itself", d)
		}
	})
}
