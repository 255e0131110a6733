package verify_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// Issue #15 item 7: Inspect describes what it can read and judges nothing:
// a signature that does not match, a signature part that is not CMS or
// carries content, a detached signature, an unreadable entity inside a
// layer are notes, not errors; only an outermost entity it can't read is.
func TestInspectNeverJudges(t *testing.T) {
	s := selfSignedTB(t)
	entity := "Content-Type: text/plain\r\n\r\nhello\r\n"
	signWith := func(mode sign.Mode, in string) []byte {
		o := s
		o.Mode = mode
		var out bytes.Buffer
		if err := sign.Sign(context.Background(), &out, strings.NewReader("From: alice@example.com\r\n"+in), o); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	clear := signWith(sign.Clear, entity)
	opaque := signWith(sign.Opaque, entity)
	var det bytes.Buffer
	if err := sign.SignDetached(context.Background(), &det, strings.NewReader(entity), s, false); err != nil {
		t.Fatal(err)
	}
	sig := signaturePart(t, clear)
	tests := []struct {
		name    string
		msg     []byte
		layers  int
		note    string // in the last layer's note
		content string
		wantErr bool
	}{
		{name: "signature does not match", msg: bytes.Replace(clear, []byte("hello"), []byte("HELLO"), 1), layers: 1, content: "text/plain"},
		{name: "signature part not CMS", msg: bytes.Replace(clear, []byte(sig[:40]), []byte(strings.Repeat("A", 40)), 1), layers: 1,
			note: "verify refuses this layer: reading the signature part", content: "text/plain"},
		{name: "signature part with content", msg: nestClear([]byte(entity), strings.TrimSpace(b64(t, opaque)), 1), layers: 1,
			note: "carries content of its own", content: "text/plain"},
		{name: "detached pkcs7-mime", msg: append([]byte("Content-Type: application/pkcs7-mime; smime-type=signed-data\r\nContent-Transfer-Encoding: base64\r\n\r\n"), b64raw(det.Bytes())...),
			layers: 1, note: "a detached signature"},
		{name: "bare detached DER", msg: det.Bytes(), layers: 1, note: "a detached signature"},
		{name: "unreadable entity inside", msg: nestClear([]byte("Content-Type: multipart/signed; boundary=\"x\"\r\n\r\n--x\r\nno end"), sig, 1), layers: 1,
			note: "the content inside this layer can't be read"},
		{name: "content without a header", msg: nestClear([]byte("just text, no header\r\n"), sig, 1), layers: 1, content: "text/plain"},
		{name: "outermost unreadable", msg: []byte("Content-Type: application/pkcs7-mime\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8="), wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ins, err := verify.Inspect(bytes.NewReader(tc.msg), verify.InspectOptions{})
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if len(ins.Layers) != tc.layers {
				t.Fatalf("%d layers, want %d", len(ins.Layers), tc.layers)
			}
			last := ins.Layers[len(ins.Layers)-1]
			if !strings.Contains(last.Note, tc.note) || tc.note == "" && last.Note != "" {
				t.Errorf("note %q, want %q", last.Note, tc.note)
			}
			if ins.Content != tc.content {
				t.Errorf("content %q, want %q", ins.Content, tc.content)
			}
			if last.Valid || last.Error != "" {
				t.Errorf("inspect judged: valid %v, error %q", last.Valid, last.Error)
			}
		})
	}
}

// b64 returns the base64 of the CMS in an application/pkcs7-mime message.
func b64(t *testing.T, msg []byte) string {
	t.Helper()
	_, body, ok := bytes.Cut(msg, []byte("\r\n\r\n"))
	if !ok {
		t.Fatal("no body")
	}
	return string(body)
}

func b64raw(der []byte) []byte {
	var out bytes.Buffer
	enc := []byte(strings.TrimSpace(strings.Join(strings.Fields(base64Std(der)), "")))
	for len(enc) > 76 {
		out.Write(enc[:76])
		out.WriteString("\r\n")
		enc = enc[76:]
	}
	out.Write(enc)
	out.WriteString("\r\n")
	return out.Bytes()
}

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
