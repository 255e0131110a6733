package sign_test

import (
	"bytes"
	"context"
	"fmt"
	"github.com/smimectl/smimectl/internal/lab/labtest"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/pkg/sign"
)

// benchMessage is a text message of about size bytes with CRLF lines.
func benchMessage(size int) []byte {
	var b bytes.Buffer
	b.WriteString("From: alice@example.com\r\nSubject: bench\r\nContent-Type: text/plain\r\n\r\n")
	line := strings.Repeat("0123456789abcdef", 4) + "\r\n"
	for b.Len() < size {
		b.WriteString(line)
	}
	return b.Bytes()
}

// BenchmarkSign shows throughput and that allocations do not grow with the
// message: compare B/op across sizes.
func BenchmarkSign(b *testing.B) {
	l := labtest.Default(b)
	alice := l.User("alice-sign")
	for _, mode := range []sign.Mode{sign.Clear, sign.Opaque} {
		for _, size := range []int{1 << 10, 1 << 20, 16 << 20} {
			msg := benchMessage(size)
			name := fmt.Sprintf("%s/%dKiB", map[sign.Mode]string{sign.Clear: "clear", sign.Opaque: "opaque"}[mode], size>>10)
			b.Run(name, func(b *testing.B) {
				opts := sign.Options{Key: alice.Key, Certificate: alice.Cert, Chain: l.Chain(), Mode: mode,
					Now: func() time.Time { return now }}
				b.SetBytes(int64(len(msg)))
				b.ReportAllocs()
				for b.Loop() {
					if err := sign.Sign(context.Background(), io.Discard, bytes.NewReader(msg), opts); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
