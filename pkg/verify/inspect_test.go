package verify_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"github.com/smimectl/smimectl/internal/lab/labtest"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// nestClear wraps inner in n multipart/signed layers that all carry the
// signature part sig (a real detached signature, over other content:
// Inspect checks nothing). The message grows linearly with n.
func nestClear(inner []byte, sig string, n int) []byte {
	var pre, post []string
	for i := range n {
		// Fixed width: no boundary is a prefix of another, which would be ambiguous.
		b := fmt.Sprintf("b%04d", i)
		pre = append(pre, "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\""+b+"\"\r\n\r\n--"+b+"\r\n")
		post = append(post, "\r\n--"+b+"\r\nContent-Type: application/pkcs7-signature\r\nContent-Transfer-Encoding: base64\r\n\r\n"+sig+"\r\n--"+b+"--\r\n")
	}
	var buf bytes.Buffer
	for i := n - 1; i >= 0; i-- {
		buf.WriteString(pre[i])
	}
	buf.Write(inner)
	for i := range n {
		buf.WriteString(post[i])
	}
	return buf.Bytes()
}

// signaturePart returns the base64 signature part of a clear-signed message.
func signaturePart(t *testing.T, msg []byte) string {
	t.Helper()
	e, err := mime.ReadEntity(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	parts, err := mime.ReadSigned(e, mime.Spool{})
	if err != nil {
		t.Fatal(err)
	}
	defer parts.Close()
	return base64.StdEncoding.EncodeToString(parts.Signature)
}

func TestInspectDepth(t *testing.T) {
	l := labtest.Default(t)
	sig := signaturePart(t, signAs(t, l, "alice-sign", sign.Clear, "alice@example.com", false))
	inner := []byte("Content-Type: text/plain\r\n\r\nhello\r\n")
	tests := []struct {
		name    string
		layers  int
		wantErr bool
	}{
		{"one", 1, false},
		{"eight", verify.MaxDepth, false},
		{"nine", verify.MaxDepth + 1, true},
		{"thousand", 1000, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := nestClear(inner, sig, tc.layers)
			start := time.Now()
			ins, err := verify.Inspect(bytes.NewReader(msg), verify.InspectOptions{SpoolDir: t.TempDir()})
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("took %v", took)
			}
			var de *verify.DepthError
			if got := errors.As(err, &de); got != tc.wantErr {
				t.Fatalf("got error %v, want a depth error: %v", err, tc.wantErr)
			}
			want := min(tc.layers, verify.MaxDepth)
			if len(ins.Layers) != want {
				t.Errorf("got %d layers, want %d", len(ins.Layers), want)
			}
			if !tc.wantErr && ins.Content != "text/plain" {
				t.Errorf("got content %q, want text/plain", ins.Content)
			}
			for i, layer := range ins.Layers {
				if layer.Depth != i+1 || layer.Kind != verify.KindSigned || len(layer.Signers) != 1 {
					t.Errorf("layer %d: got depth %d, kind %s, %d signers", i+1, layer.Depth, layer.Kind, len(layer.Signers))
				}
			}
		})
	}
}

// TestOpenDepth: a message nested 1,000 layers deep, its outer 9 layers
// validly signed, fails at layer 9 with a DepthError, quickly, releasing
// nothing.
func TestOpenDepth(t *testing.T) {
	l := labtest.Default(t)
	u := l.User("alice-sign")
	sig := signaturePart(t, signAs(t, l, "alice-sign", sign.Clear, "alice@example.com", false))
	msg := nestClear([]byte("Content-Type: text/plain\r\n\r\nhello\r\n"), sig, 1000-verify.MaxDepth-1)
	for range verify.MaxDepth + 1 {
		var out bytes.Buffer
		in := msg
		if !bytes.HasPrefix(in, []byte("From: ")) {
			in = append([]byte("From: alice@example.com\r\n"), msg...)
		}
		if err := sign.Sign(context.Background(), &out, bytes.NewReader(in), sign.Options{
			Key: u.Key, Certificate: u.Cert, Chain: l.Chain(), Now: func() time.Time { return at }}); err != nil {
			t.Fatal(err)
		}
		msg = out.Bytes()
	}
	start := time.Now()
	var out bytes.Buffer
	res, err := verify.Open(context.Background(), &out, bytes.NewReader(msg), verify.Options{
		Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at }, SpoolDir: t.TempDir()})
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %v", took)
	}
	var de *verify.DepthError
	if !errors.As(err, &de) {
		t.Fatalf("got error %v, want a depth error", err)
	}
	if out.Len() != 0 || res.Valid {
		t.Errorf("released %d bytes, valid %v", out.Len(), res.Valid)
	}
	if len(res.Layers) != verify.MaxDepth {
		t.Errorf("got %d layers, want %d", len(res.Layers), verify.MaxDepth)
	}
	for _, layer := range res.Layers {
		if !layer.Valid {
			t.Errorf("layer %d: %s", layer.Depth, layer.Error)
		}
	}
}
