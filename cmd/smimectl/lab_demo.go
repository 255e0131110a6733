package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/pkg/revocation"
	"github.com/smimectl/smimectl/pkg/sign"
	"github.com/smimectl/smimectl/pkg/verify"
)

// labDemoOptions are the options of lab demo.
type labDemoOptions struct {
	Keep    string // --keep: leave the lab and messages in this directory
	Verbose bool   // -v: each signed message whole (issue #16 item 7)

	env *env
}

func newLabDemoCmd(e *env, runF func(*labDemoOptions) error) *cobra.Command {
	opts := &labDemoOptions{env: e}
	cmd := &cobra.Command{
		Use:   "demo [--keep <dir>]",
		Short: "Sign and verify a message in a throw-away lab, showing each step",
		Long: `Make a lab in a temporary directory, clear-sign and opaque-sign a small message
as alice-sign, and verify both against the lab's root and CRLs, printing the
commands that do the same from a shell, the start of each signed message, and
what verification found. The directory is removed at the end unless --keep
names one (new or empty) to leave it in, with msg.eml, clear.eml and opaque.eml
next to lab/, so the commands shown can be run there.`,
		Example: `  smimectl lab demo
  smimectl lab demo --keep demo && cd demo && smimectl verify --trust lab/root.crt -v < clear.eml`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(*cobra.Command, []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runLabDemo(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Keep, "keep", "", "leave the lab and the messages in `dir` instead of removing them")
	cmd.Flags().BoolVarP(&opts.Verbose, "verbose", "v", false, "show each signed message whole, not its first 12 lines")
	return cmd
}

// demoMessage is what the demo signs.
const demoMessage = "From: Alice <alice@%s>\r\n" +
	"To: Bob <bob@%[1]s>\r\n" +
	"Subject: lab demo\r\n" +
	"Date: %s\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"Hello Bob,\r\n" +
	"this message is signed with smimectl's test lab.\r\n"

// runLabDemo runs the demo and prints its transcript on standard output.
func runLabDemo(opts *labDemoOptions) (err error) {
	e := opts.env
	dir := opts.Keep
	if dir == "" {
		if dir, err = os.MkdirTemp("", "smimectl-demo-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	now := e.Now()
	// An epoch at the start of last year keeps the certificates valid and the
	// CRLs (issued 91 days after the epoch) current whenever the demo runs.
	l, err := lab.New(lab.Options{Epoch: time.Date(now.Year()-1, time.January, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		return err
	}
	if err := l.WriteDir(filepath.Join(dir, "lab"), defaultP12Password); err != nil {
		return setupErrorf("%w", err)
	}
	d := &demo{w: e.Stdout, dir: dir, lab: l, now: now, whole: opts.Verbose}
	msg := fmt.Sprintf(demoMessage, l.Options.Domain, now.UTC().Format(time.RFC1123Z))
	d.step("smimectl lab init lab", "")
	if err := d.write("msg.eml", []byte(msg)); err != nil {
		return err
	}
	d.step("cat msg.eml", msg)
	for _, run := range []struct {
		file, cmd string
		mode      sign.Mode
	}{
		{"clear.eml", "smimectl clear-sign --p12 lab/alice-sign.p12 --pass-file lab/p12.pass < msg.eml > clear.eml", sign.Clear},
		{"opaque.eml", "smimectl opaque-sign --key lab/alice-sign.key --cert lab/alice-sign.crt --intermediates lab/chain.pem < msg.eml > opaque.eml", sign.Opaque},
	} {
		if err := d.signAndVerify(msg, run.file, run.cmd, run.mode); err != nil {
			return err
		}
	}
	if opts.Keep != "" {
		fmt.Fprintf(e.Stdout, "# the lab and messages are in %s\n", opts.Keep)
	}
	return nil
}

// demo writes the transcript of lab demo.
type demo struct {
	w   io.Writer
	dir string
	lab *lab.Lab
	now time.Time
	// whole (-v) shows each signed message whole, not its first lines
	whole bool
}

// step prints a command as a user would type it, then its output.
func (d *demo) step(cmd, output string) {
	fmt.Fprintf(d.w, "$ %s\n%s", cmd, strings.ReplaceAll(output, "\r\n", "\n"))
}

func (d *demo) write(name string, data []byte) error {
	return os.WriteFile(filepath.Join(d.dir, name), data, modePublic)
}

// signAndVerify signs msg as alice-sign in mode, writes it to file, shows its
// start, and verifies it against the lab's root and CRLs.
func (d *demo) signAndVerify(msg, file, cmd string, mode sign.Mode) error {
	alice := d.lab.User("alice-sign")
	var signed bytes.Buffer
	err := sign.Sign(context.Background(), &signed, strings.NewReader(msg), sign.Options{
		Key: alice.Key, Certificate: alice.Cert, Chain: d.lab.Chain(), Mode: mode,
		Now: func() time.Time { return d.now },
	})
	if err != nil {
		return err
	}
	if err := d.write(file, signed.Bytes()); err != nil {
		return err
	}
	d.step(cmd, "")
	if d.whole {
		d.step("cat "+file, signed.String())
	} else {
		d.step("head -n 12 "+file, headLines(signed.Bytes(), 12, 72))
	}
	var crls []*x509.RevocationList
	for _, der := range [][]byte{d.lab.Root.CRL, d.lab.Intermediate.CRL} {
		c, err := revocation.ParseCRLs(der)
		if err != nil {
			return err
		}
		crls = append(crls, c...)
	}
	res, err := verify.Verify(context.Background(), io.Discard, bytes.NewReader(signed.Bytes()), verify.Options{
		Roots:      []*x509.Certificate{d.lab.Root.Cert},
		Now:        func() time.Time { return d.now },
		Revocation: revocation.New(revocation.Options{Mode: revocation.Soft, CRLs: crls, Offline: true}),
		OptionName: verifyOptionName,
	})
	if err != nil {
		return fmt.Errorf("lab demo: verifying %s: %w", file, err)
	}
	var out strings.Builder
	for _, w := range res.Warnings {
		fmt.Fprintf(&out, "%s%s\n", warningPrefix, w)
	}
	fmt.Fprintf(&out, "smimectl: verified: %s\n", summary(res))
	d.step("smimectl verify --trust lab/root.crt --crl lab/root.crl --crl lab/intermediate.crl -v < "+file+" > /dev/null", out.String())
	return nil
}

// headLines returns the first n lines of b with line ends as LF, each cut to width
// characters.
func headLines(b []byte, n, width int) string {
	var out strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(b))
	for i := 0; i < n && sc.Scan(); i++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if len(line) > width {
			line = line[:width] + "..."
		}
		out.WriteString(line + "\n")
	}
	return out.String()
}
