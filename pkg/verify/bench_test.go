package verify_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"github.com/smimectl/smimectl/internal/lab/labtest"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// BenchmarkVerify shows throughput and that allocations stay flat as
// messages grow (content beyond the spool threshold goes to a file).
func BenchmarkVerify(b *testing.B) {
	l := labtest.Default(b)
	alice := l.User("alice-sign")
	line := strings.Repeat("0123456789abcdef", 4) + "\r\n"
	for _, mode := range []sign.Mode{sign.Clear, sign.Opaque} {
		for _, size := range []int{1 << 10, 1 << 20, 16 << 20} {
			var msg bytes.Buffer
			msg.WriteString("From: alice@example.com\r\nSubject: bench\r\nContent-Type: text/plain\r\n\r\n")
			for msg.Len() < size {
				msg.WriteString(line)
			}
			var signed bytes.Buffer
			if err := sign.Sign(&signed, &msg, sign.Options{Key: alice.Key, Certificate: alice.Cert,
				Chain: l.Chain(), Mode: mode, Now: func() time.Time { return at }}); err != nil {
				b.Fatal(err)
			}
			opts := verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at },
				SpoolDir: b.TempDir()}
			name := fmt.Sprintf("%s/%dKiB", map[sign.Mode]string{sign.Clear: "clear", sign.Opaque: "opaque"}[mode], size>>10)
			b.Run(name, func(b *testing.B) {
				b.SetBytes(int64(signed.Len()))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := verify.Verify(context.Background(), io.Discard, bytes.NewReader(signed.Bytes()), opts); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
