package directory

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// parseLDIFModify reads back one modify record as WriteLDIF writes it
// (unfolding continuation lines, decoding "::" values), for the round trip.
func parseLDIFModify(t *testing.T, text string) (dn []byte, mods []Mod) {
	t.Helper()
	text = strings.ReplaceAll(text, "\n ", "")
	var cur *Mod
	for _, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.ContainsRune(line, '\r') {
			t.Fatalf("a line holds a CR: %q", line)
		}
		name, val, ok := strings.Cut(line, ":")
		if !ok {
			if line == "-" {
				cur = nil
				continue
			}
			t.Fatalf("not an LDIF line: %q", line)
		}
		var v []byte
		if strings.HasPrefix(val, ": ") {
			var err error
			if v, err = base64.StdEncoding.DecodeString(val[2:]); err != nil {
				t.Fatalf("bad base64 in %q: %v", line, err)
			}
		} else {
			v = []byte(strings.TrimPrefix(val, " "))
		}
		switch {
		case name == "dn":
			dn = v
		case name == "changetype":
		case cur == nil:
			op := map[string]ModOp{"add": Add, "delete": Delete, "replace": Replace}[name]
			mods = append(mods, Mod{Op: op, Attr: string(v)})
			cur = &mods[len(mods)-1]
		default:
			if name != cur.Attr {
				t.Fatalf("value of %q under %q", name, cur.Attr)
			}
			cur.Values = append(cur.Values, v)
		}
	}
	return dn, mods
}

// FuzzWriteLDIF: whatever bytes a hostile directory puts in a DN or a
// value, the backup's record reads back to exactly that DN and those values
// (the backup restores what was removed, byte for byte), and a note can't
// add a line (issue #14 item 2).
func FuzzWriteLDIF(f *testing.F) {
	f.Add("uid=bob,dc=example,dc=com", []byte{0x30, 0x82, 0x01}, []byte("plain"), "removed 1")
	f.Add(" leading space", []byte(":colon"), []byte("<less"), "a\nb: c")
	f.Add("trailing ", []byte("x\r\ny"), []byte{}, "\rdn: evil")
	f.Add("é,dc=x", bytes.Repeat([]byte("A"), 200), []byte("\x00"), "")
	f.Fuzz(func(t *testing.T, dn string, v1, v2 []byte, note string) {
		ch := &Change{DN: dn, Note: note, Undo: []Mod{{Op: Add, Attr: AttrSMIME, Values: [][]byte{v1, v2}}, {Op: Delete, Attr: AttrCert}}}
		var b strings.Builder
		if err := WriteLDIF(&b, []*Change{ch}); err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(b.String(), "\n") {
			if strings.HasPrefix(line, "#") && strings.ContainsRune(line, '\r') {
				t.Fatalf("comment line holds a CR: %q", line)
			}
		}
		gotDN, mods := parseLDIFModify(t, b.String())
		if string(gotDN) != dn {
			t.Fatalf("dn %q, want %q", gotDN, dn)
		}
		if len(mods) != 2 || mods[0].Op != Add || len(mods[0].Values) != 2 || !bytes.Equal(mods[0].Values[0], v1) ||
			!bytes.Equal(mods[0].Values[1], v2) || mods[1].Op != Delete || mods[1].Attr != AttrCert || len(mods[1].Values) != 0 {
			t.Fatalf("mods %+v", mods)
		}
	})
}
