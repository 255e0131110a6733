// Command genmail writes clear-signed test messages for bench/batch.sh:
// -n messages of about -size bytes each, signed by the lab's alice-sign
// key, into -out as msg-NNNNN.eml. It signs on every CPU, so 10,000
// messages take seconds rather than the minutes a loop of `smimectl
// clear-sign` processes would. The messages are for benchmarks only and
// are never committed.
//
//	go run ./bench/genmail -lab LABDIR -out DIR -n 10000 -size 1024
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/smimectl/smimectl/internal/keys"
	"github.com/smimectl/smimectl/pkg/sign"
)

func main() {
	lab := flag.String("lab", "", "the lab directory (smimectl lab init)")
	out := flag.String("out", "", "the directory to write the messages to")
	n := flag.Int("n", 10000, "how many messages")
	size := flag.Int("size", 1024, "the size of each message before signing, in bytes")
	flag.Parse()
	if *lab == "" || *out == "" || *n < 1 {
		fmt.Fprintln(os.Stderr, "usage: genmail -lab LABDIR -out DIR [-n 10000] [-size 1024]")
		os.Exit(2)
	}
	if err := run(*lab, *out, *n, *size); err != nil {
		fmt.Fprintln(os.Stderr, "genmail:", err)
		os.Exit(1)
	}
}

func run(lab, out string, n, size int) error {
	id, err := keys.LoadIdentity(filepath.Join(lab, "alice-sign.key"), filepath.Join(lab, "alice-sign.crt"), nil)
	if err != nil {
		return err
	}
	inter, err := keys.LoadCertificates(filepath.Join(lab, "intermediate.crt"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	opts := sign.Options{Key: id.Signer, Certificate: id.Certificate, Chain: inter}
	next := make(chan int)
	errs := make(chan error, runtime.NumCPU())
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Go(func() {
			for i := range next {
				if err := write(out, i, size, opts); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := range n {
		select {
		case next <- i:
		case err := <-errs:
			close(next)
			wg.Wait()
			return err
		}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// write signs message i (a header, then 64-byte lines up to size bytes).
func write(dir string, i, size int, opts sign.Options) error {
	var msg bytes.Buffer
	fmt.Fprintf(&msg, "From: alice@example.com\r\nTo: bob@example.com\r\nSubject: benchmark message %d\r\n"+
		"Message-ID: <bench-%d@example.com>\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n", i, i)
	line := fmt.Sprintf("message %06d: %s", i, strings.Repeat("0123456789", 5))[:62] + "\r\n"
	for msg.Len() < size {
		msg.WriteString(line)
	}
	var signed bytes.Buffer
	if err := sign.Sign(context.Background(), &signed, &msg, opts); err != nil {
		return fmt.Errorf("signing message %d: %w", i, err)
	}
	return os.WriteFile(filepath.Join(dir, fmt.Sprintf("msg-%05d.eml", i)), signed.Bytes(), 0o644)
}
