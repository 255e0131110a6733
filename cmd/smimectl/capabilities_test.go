package main

import (
	"encoding/asn1"
	"os"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/smimectl/smimectl/internal/keys"
	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/pkg/capabilities"
)

func init() {
	scriptCmds["capsign"] = cmdCapSign
}

// capabilityOIDs names the capabilities capsign can advertise.
var capabilityOIDs = map[string]asn1.ObjectIdentifier{
	"aes-256-gcm":  {2, 16, 840, 1, 101, 3, 4, 1, 46},
	"aes-128-gcm":  {2, 16, 840, 1, 101, 3, 4, 1, 6},
	"aes-256-cbc":  {2, 16, 840, 1, 101, 3, 4, 1, 42},
	"aes-128-cbc":  {2, 16, 840, 1, 101, 3, 4, 1, 2},
	"des-ede3-cbc": {1, 2, 840, 113549, 3, 7},
	"rsaes-oaep":   capabilities.OIDRSAESOAEP,
}

// cmdCapSign clear-signs a message advertising chosen S/MIME capabilities, as
// another client would (issue #18 tests): "capsign AT CAPS IN OUT CHAIN KEY
// CERT", CAPS a comma-separated list of aes-256-gcm, aes-128-gcm, aes-256-cbc,
// aes-128-cbc, des-ede3-cbc and rsaes-oaep, or "none" for no attribute; AT the
// signing time (RFC 3339).
func cmdCapSign(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 7 {
		ts.Fatalf("usage: capsign <at> <caps> <in> <out> <chain> <key> <cert>")
	}
	at, err := time.Parse(time.RFC3339, args[0])
	ts.Check(err)
	var caps []asn1.ObjectIdentifier
	if args[1] != "none" {
		for name := range strings.SplitSeq(args[1], ",") {
			oid, ok := capabilityOIDs[name]
			if !ok {
				ts.Fatalf("capsign: unknown capability %q", name)
			}
			caps = append(caps, oid)
		}
	}
	msg, err := os.ReadFile(ts.MkAbs(args[2]))
	ts.Check(err)
	chain, err := keys.LoadCertificates(ts.MkAbs(args[4]))
	ts.Check(err)
	id, err := keys.LoadIdentity(ts.MkAbs(args[5]), ts.MkAbs(args[6]), nil)
	ts.Check(err)
	out, err := labtest.CoSign(msg, at, chain, labtest.CoSigner{Key: id.Signer, Certificate: id.Certificate, Capabilities: caps})
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[3]), out, 0o644))
}
