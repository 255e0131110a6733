package main

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/smimectl/smimectl/internal/mime"
	"github.com/smimectl/smimectl/pkg/certsel"
	"github.com/smimectl/smimectl/pkg/encrypt"
)

// separateJob is one message of --bcc separate: its file name in --out-dir
// and the certificates it is encrypted to.
type separateJob struct {
	name  string
	bcc   string // the Bcc recipient, or "" for the To and Cc message
	certs []*x509.Certificate
}

// encryptSeparate writes one message for To and Cc and one per Bcc recipient
// into --out-dir, all or nothing (issue #11 item 16). The message is spooled
// (memory, then a temporary file without a name), its header read for its
// addresses, and every recipient is looked up before anything is written. A
// Bcc recipient without a certificate stops the command (exit 3) with nothing
// written; with --allow-missing it is warned about and gets no file, and the
// others are written (exit 0). Every message is written to a temporary file in
// --out-dir, and only when all of them are complete are they renamed into
// place; any failure removes them all.
func encryptSeparate(opts *encryptOptions, s *encryptSetup, in io.Reader) (err error) {
	msg := &mime.Spool{}
	defer msg.Close()
	if _, err := io.Copy(msg, in); err != nil {
		return fmt.Errorf("reading the message: %w", err)
	}
	r, err := msg.Open()
	if err != nil {
		return err
	}
	addrs, err := encrypt.ReadAddresses(r)
	if err != nil {
		return err
	}
	// Every lookup before any output: a missing certificate writes nothing.
	pl, err := s.recipients(opts, slices.Concat(opts.To, addrs.To, addrs.Cc, addrs.Bcc))
	if err != nil {
		return err
	}
	jobs, err := s.separateJobs(opts, pl, addrs)
	if err != nil {
		return err
	}
	// A failed or killed run leaves no empty directory behind either.
	made, err := opts.env.temps.mkdirAll(opts.OutDir, 0o755)
	if err != nil {
		return err
	}
	defer func() { opts.env.temps.dropDirs(made, err != nil) }()
	var files []rename
	defer func() {
		if err != nil {
			for _, f := range files {
				opts.env.temps.discard(f.tmp)
			}
		}
	}()
	for _, j := range jobs {
		o := s.opts
		o.Recipients = j.certs
		tf, err := opts.env.temps.create(opts.OutDir, "."+j.name+".tmp*")
		if err != nil {
			return err
		}
		files = append(files, rename{tmp: tf, dst: filepath.Join(opts.OutDir, j.name)})
		err = encryptFrom(msg, tf.f, o)
		if err == nil {
			err = tf.f.Chmod(modePublic &^ opts.env.Umask)
		}
		if err == nil {
			err = tf.f.Sync()
		}
		if err == nil {
			// Named and closed until all are done: one descriptor
			// at a time, however many Bcc recipients.
			err = opts.env.temps.park(tf)
		}
		if err != nil {
			return fmt.Errorf("writing %q: %w", j.name, err)
		}
	}
	if opts.JSON {
		// Before the files are in place: a report that can't be written
		// fails the run, and a failed run leaves nothing.
		if err := s.printReport(opts); err != nil {
			return err
		}
	}
	return opts.env.temps.promote(files)
}

// encryptFrom encrypts the spooled message to w.
func encryptFrom(msg *mime.Spool, w io.Writer, o encrypt.Options) error {
	r, err := msg.Open()
	if err != nil {
		return err
	}
	return encrypt.Encrypt(w, r, o)
}

// separateJobs lists the messages of --bcc separate: message.eml for
// --recipient-cert, --to, To and Cc, and one for each distinct Bcc recipient
// that has a certificate (with --allow-missing, the others were warned about
// and get none), named by bccFileName; the sender gets every one. Two
// addresses whose names would collide stop the command.
func (s *encryptSetup) separateJobs(opts *encryptOptions, pl *encrypt.Plan, addrs encrypt.Addresses) ([]separateJob, error) {
	main := slices.Clone(s.opts.Recipients)
	var missing []*certsel.NoMatchError
	for _, a := range slices.Concat(opts.To, addrs.To, addrs.Cc) {
		if rp := pl.For(a); rp != nil {
			main = append(main, rp.Certificate)
		} else if i := slices.IndexFunc(pl.Missing, func(nm *certsel.NoMatchError) bool { return nm.Address == a }); i >= 0 {
			missing = append(missing, pl.Missing[i])
		}
	}
	if len(missing) > 0 && len(main) == 0 {
		// To and Cc named someone, and none of them has a certificate:
		// --allow-missing does not send the message to nobody.
		return nil, &certsel.MissingError{Missing: missing}
	}
	withSelf := func(certs []*x509.Certificate) []*x509.Certificate {
		if s.self != nil {
			certs = append(certs, s.self)
		}
		return certs
	}
	jobs := []separateJob{{name: "message.eml", certs: withSelf(main)}}
	names := map[string]string{}
	for _, b := range addrs.Bcc {
		if slices.ContainsFunc(jobs[1:], func(j separateJob) bool { return certsel.SameAddress(j.bcc, b) }) {
			continue
		}
		rp := pl.For(b)
		if rp == nil {
			continue // warned about by recipients: no message for it
		}
		name := bccFileName(b)
		if other, ok := names[name]; ok {
			return nil, fmt.Errorf("the Bcc addresses %q and %q would both be written to %q: nothing written", other, b, name)
		}
		names[name] = b
		jobs = append(jobs, separateJob{name: name, bcc: b, certs: withSelf([]*x509.Certificate{rp.Certificate})})
	}
	return jobs, nil
}

// maxNameAddress is the most bytes of an address a Bcc file name keeps.
const maxNameAddress = 64

// bccFileName is the --out-dir file name of the message for Bcc recipient
// addr. The address comes from the message's header, so it may be anything
// ("../../x"@example.com, /etc/passwd@x, a megabyte long): the name is
// "bcc-<addr>.eml" only when addr is plain — lowercase ASCII letters, digits
// and . _ @ + - only, at most maxNameAddress bytes, no leading dot and no
// ".." — and otherwise
// "bcc-<safe>~<hash>.eml", where safe is addr in lower case with every other
// character replaced by "_" and cut to maxNameAddress bytes, and hash is the
// first 16 hex digits of the SHA-256 of addr. So a name is never empty, never
// starts with a dot, holds no path separator and no byte outside that set but
// "~", and is at most 4+64+1+16+4 bytes; a plain address and a transformed
// one can't meet (only the latter has "~"), and two transformed addresses
// differ in their hash (a collision of 64 bits is still refused by
// separateJobs rather than written over).
func bccFileName(addr string) string {
	plain := addr != "" && len(addr) <= maxNameAddress
	var b strings.Builder
	for _, r := range strings.ToLower(addr) {
		if b.Len() >= maxNameAddress {
			plain = false
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', strings.ContainsRune("._@+-", r):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
			plain = false
		}
	}
	if plain && b.String() == addr && addr[0] != '.' && !strings.Contains(addr, "..") {
		return "bcc-" + addr + ".eml"
	}
	sum := sha256.Sum256([]byte(addr))
	return "bcc-" + b.String() + "~" + hex.EncodeToString(sum[:8]) + ".eml"
}
