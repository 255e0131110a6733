package verify_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/smimectl/smimectl/internal/lab/labtest"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// benchSizes are the message sizes of BenchmarkVerify and BenchmarkOpen;
// 100 MiB is issue #13's large message (select it with
// -bench 'Verify/clear/102400KiB').
var benchSizes = []int{1 << 10, 1 << 20, 16 << 20, 100 << 20}

// benchMessage signs a text message of about size bytes in mode.
func benchMessage(b *testing.B, mode sign.Mode, size int) []byte {
	l := labtest.Default(b)
	alice := l.User("alice-sign")
	line := strings.Repeat("0123456789abcdef", 4) + "\r\n"
	var msg bytes.Buffer
	msg.Grow(size + 128)
	msg.WriteString("From: alice@example.com\r\nSubject: bench\r\nContent-Type: text/plain\r\n\r\n")
	for msg.Len() < size {
		msg.WriteString(line)
	}
	var signed bytes.Buffer
	if err := sign.Sign(context.Background(), &signed, &msg, sign.Options{Key: alice.Key, Certificate: alice.Cert,
		Chain: l.Chain(), Mode: mode, Now: func() time.Time { return at }}); err != nil {
		b.Fatal(err)
	}
	return signed.Bytes()
}

// benchVerify runs fn, Verify or Open, over signed messages of every
// size and mode. Allocations stay flat as messages grow (content beyond the
// spool threshold goes to a file); the bytes per second are those of the
// signed message.
func benchVerify(b *testing.B, fn func(context.Context, io.Writer, io.Reader, verify.Options) (*verify.Result, error)) {
	l := labtest.Default(b)
	for _, mode := range []sign.Mode{sign.Clear, sign.Opaque} {
		for _, size := range benchSizes {
			name := fmt.Sprintf("%s/%dKiB", map[sign.Mode]string{sign.Clear: "clear", sign.Opaque: "opaque"}[mode], size>>10)
			b.Run(name, func(b *testing.B) {
				signed := benchMessage(b, mode, size)
				opts := verify.Options{Roots: []*x509.Certificate{l.Root.Cert}, Now: func() time.Time { return at },
					SpoolDir: b.TempDir()}
				b.SetBytes(int64(len(signed)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := fn(context.Background(), io.Discard, bytes.NewReader(signed), opts); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkVerify measures Verify, one signed layer.
func BenchmarkVerify(b *testing.B) { benchVerify(b, verify.Verify) }

// BenchmarkOpen measures Open, what the verify command calls.
func BenchmarkOpen(b *testing.B) { benchVerify(b, verify.Open) }
