package capabilities

import (
	"bytes"
	"testing"
)

// FuzzParse: whatever a sender puts in its smimeCapabilities attribute,
// Parse keeps at most MaxEntries entries of at most MaxParameterBytes of
// parameters, and what it keeps encodes and parses back the same (issue #18
// item 1: bounded, and never more than was sent).
func FuzzParse(f *testing.F) {
	for _, caps := range [][]Capability{{aes256gcm, aes256cbc, oaep}, {rc2128, des3}, nil} {
		b, err := Marshal(caps)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(manyCaps(MaxEntries+2, 3))
	f.Add([]byte{0x30, 0x80, 0x30, 0x03, 0x06, 0x01, 0x2a, 0, 0})
	f.Fuzz(func(t *testing.T, der []byte) {
		caps, _, err := Parse(der)
		if err != nil {
			return
		}
		if len(caps) > MaxEntries {
			t.Fatalf("%d entries kept", len(caps))
		}
		for _, c := range caps {
			if len(c.Parameters) > MaxParameterBytes || len(c.OID) > maxOIDArcs {
				t.Fatalf("entry past the bounds kept: %d arcs, %d bytes", len(c.OID), len(c.Parameters))
			}
		}
		again, err := Marshal(caps)
		if err != nil {
			t.Fatal(err)
		}
		back, truncated, err := Parse(again)
		if err != nil || truncated || len(back) != len(caps) {
			t.Fatalf("re-encoded list: %v, %v, %d entries of %d", err, truncated, len(back), len(caps))
		}
		for i := range back {
			if !back[i].OID.Equal(caps[i].OID) || !bytes.Equal(back[i].Parameters, caps[i].Parameters) {
				t.Fatalf("entry %d changed: %v -> %v", i, caps[i], back[i])
			}
		}
	})
}
