package directory

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Backup keeps the undo of changes so that they can be put back.
type Backup interface {
	// Save records changes durably, replacing what an earlier Save of the
	// same Backup recorded. It returns only once the record is on disk.
	Save(changes []*Change) error
}

// Outcome is what became of one change.
type Outcome struct {
	Change *Change
	// Err is why the change failed; nil if it was made.
	Err error
	// Unknown: the server did not answer (Err is an *UnavailableError), so
	// the change may or may not have been made; its undo stays in the
	// backup.
	Unknown bool
}

// ErrNotAttempted is the outcome of the changes Apply did not send because
// the server had stopped answering.
var ErrNotAttempted = errors.New("directory: not attempted: the server stopped answering before this change")

// Apply makes changes, one modify per entry, after recording every change's
// undo with b. It carries on past a change the server refuses and returns an
// outcome per change; once the server does not answer (an
// *UnavailableError), it sends nothing more and the remaining changes fail
// with ErrNotAttempted, so that a dead server costs one timeout, not one per
// entry. After the last modify it records with b the undo of
// the changes that were made or whose outcome is unknown, so that the backup
// restores exactly what was changed.
//
// Nothing is sent if the first Save fails. If the last Save fails, Apply
// returns the outcomes and the error: the backup then still holds the undo
// of every change, including those that failed (restoring those adds values
// that are there, which ldapmodify -c skips).
func Apply(ctx context.Context, c Conn, changes []*Change, b Backup) ([]Outcome, error) {
	if err := b.Save(changes); err != nil {
		return nil, fmt.Errorf("directory: writing the backup, before any change: %w", err)
	}
	out := make([]Outcome, len(changes))
	var done []*Change
	stopped := false
	for i, ch := range changes {
		out[i].Change = ch
		if stopped {
			out[i].Err = ErrNotAttempted
			continue
		}
		err := c.Modify(ctx, ch.DN, ch.Mods)
		var ue *UnavailableError
		switch {
		case err == nil:
			done = append(done, ch)
		case errors.As(err, &ue):
			out[i].Err, out[i].Unknown = err, true
			done = append(done, ch)
			stopped = true
		default:
			out[i].Err = err
		}
	}
	if len(done) != len(changes) {
		if err := b.Save(done); err != nil {
			return out, fmt.Errorf("directory: rewriting the backup after the changes (it still holds every planned change): %w", err)
		}
	}
	return out, nil
}

// BackupFile is a [Backup] in an LDIF file (RFC 2849) of modify records
// that ldapmodify applies to undo the changes. Each Save writes a temporary
// file in the same directory, syncs it, and renames it over Path (the first
// Save links it, so that it never replaces a file that was there), then syncs
// the directory. The file is readable by its owner only.
type BackupFile struct {
	Path string
	// Header is written as comment lines at the top.
	Header []string
	// Time, if not zero, is written in the header.
	Time time.Time

	saved bool
}

// Save writes changes' undo to the file.
func (f *BackupFile) Save(changes []*Change) error {
	dir := filepath.Dir(f.Path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(f.Path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	werr := f.write(w, changes)
	if werr == nil {
		werr = w.Flush()
	}
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return werr
	}
	if !f.saved {
		if err := os.Link(tmp.Name(), f.Path); err != nil {
			if errors.Is(err, os.ErrExist) {
				return &os.PathError{Op: "create", Path: f.Path, Err: fmt.Errorf("%w (a backup is never replaced)", os.ErrExist)}
			}
			return err
		}
	} else if err := os.Rename(tmp.Name(), f.Path); err != nil {
		return err
	}
	f.saved = true
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (f *BackupFile) write(w io.Writer, changes []*Change) error {
	var b strings.Builder
	for _, h := range f.Header {
		for l := range strings.SplitSeq(h, "\n") {
			b.WriteString(comment(l))
		}
	}
	if !f.Time.IsZero() {
		fmt.Fprintf(&b, "# written %s\n", f.Time.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(&b, "# %d change(s) to undo\n", len(changes))
	b.WriteString("version: 1\n\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	return WriteLDIF(w, changes)
}

// WriteLDIF writes the undo of each change as an LDIF modify record.
func WriteLDIF(w io.Writer, changes []*Change) error {
	for _, ch := range changes {
		var b strings.Builder
		if ch.Note != "" {
			b.WriteString(comment(ch.Note))
		}
		ldifLine(&b, "dn", []byte(ch.DN))
		b.WriteString("changetype: modify\n")
		for _, m := range ch.Undo {
			ldifLine(&b, m.Op.String(), []byte(m.Attr))
			for _, v := range m.Values {
				ldifLine(&b, m.Attr, v)
			}
			b.WriteString("-\n")
		}
		b.WriteString("\n")
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
	}
	return nil
}

// comment is s as one LDIF comment line. Notes and headers hold names from
// the directory (a user's name, the base DN): no control character in them
// may end the line and start a record.
func comment(s string) string {
	return "# " + strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s) + "\n"
}

// ldifLine writes "name: value", or "name:: base64" when value is not a
// SAFE-STRING (RFC 2849), folded at 76 columns.
func ldifLine(b *strings.Builder, name string, value []byte) {
	line := name + ": " + string(value)
	if !safeString(value) {
		line = name + ":: " + base64.StdEncoding.EncodeToString(value)
	}
	for len(line) > 76 {
		b.WriteString(line[:76] + "\n ")
		line = line[76:]
	}
	b.WriteString(line + "\n")
}

func safeString(v []byte) bool {
	if len(v) == 0 {
		return true
	}
	if c := v[0]; c == ' ' || c == ':' || c == '<' {
		return false
	}
	if v[len(v)-1] == ' ' {
		return false
	}
	for _, c := range v {
		if c == 0 || c == '\n' || c == '\r' || c > 0x7f {
			return false
		}
	}
	return true
}
