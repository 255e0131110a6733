package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/smimectl/smimectl/pkg/directory"
)

// directoryCleanOptions are the options of directory clean.
type directoryCleanOptions struct {
	directoryFlags
	Only    directory.Only // --only: untrusted, expired, all
	onlySet bool           // --only was given: it has no default
	Apply   bool           // --apply: change the directory
	Yes     bool           // --yes: do not ask
	Backup  string         // --backup: the LDIF file
	Verbose bool
	env     *env
}

func newDirectoryCleanCmd(e *env, runF func(*directoryCleanOptions) error) *cobra.Command {
	opts := &directoryCleanOptions{env: e}
	cmd := &cobra.Command{
		Use:   "clean --ldap <url> --only {untrusted | expired | all} [--trust <file>]... [--apply [--yes]] [flags]",
		Short: "Remove certificates from users' userSMIMECertificate, with a backup",
		Long: `Remove values from the users' userSMIMECertificate (or userCertificate), as the
guide's ListSMIMECerts /remove does, but safely: --only untrusted removes the
values whose certificates were not issued under the organisation's CA (--trust;
a value that is not a readable certificate counts as untrusted), --only
expired those whose certificates have all expired, --only all every value.

Without --apply nothing changes: the command lists what it would remove. With
--apply it asks for confirmation on a terminal (not with --yes; without a
terminal --yes is required), then writes an LDIF backup of every value it is
about to remove (--backup, default directory-backup-<time>.ldif; a file that
exists is never replaced), synced to disk, before the first change. Each user's
values are removed in one LDAP modify that names each value, so the attribute
itself stays and a value added meanwhile stays too; if a value changed
meanwhile, the server refuses that user's whole modify. A user that fails is
reported and the others go on; the exit status is then non-zero. At the end
the backup is rewritten to hold exactly the values removed (a run stopped
midway leaves the first backup, of every planned removal: restore it with
ldapmodify -c, which skips the values that are still there). Restore with

  ldapmodify -H <url> -D <admin DN> -W -f <backup>` + directoryIntro,
		Example: `  # What would go? (dry run)
  smimectl directory clean --ldap ldap://dc.example.com --only untrusted --trust corp-root.crt --verbose

  # Remove them, with a backup, without asking.
  smimectl directory clean --ldap ldap://dc.example.com --only untrusted --trust corp-root.crt \
      --ldap-bind-dn cn=admin,dc=example,dc=com --ldap-pass-file admin.pw --apply --yes --backup removed.ldif`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.onlySet = cmd.Flags().Changed("only")
			if runF != nil {
				return runF(opts)
			}
			return runDirectoryClean(opts)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	opts.directoryFlags.addFlags(fs)
	only := textEnumFlag(fs, &opts.Only, "only", directory.OnlyUntrusted, []string{"untrusted", "expired", "all"}, "which values to remove")
	only.DefValue = "" // none: clean needs --only
	fs.BoolVar(&opts.Apply, "apply", false, "change the directory (without it, nothing changes)")
	fs.BoolVarP(&opts.Yes, "yes", "y", false, "with --apply, do not ask for confirmation")
	fs.StringVar(&opts.Backup, "backup", "", "write the removed values to LDIF `file` (default directory-backup-<time>.ldif)")
	fs.BoolVarP(&opts.Verbose, "verbose", "v", false, "show each value's certificates")
	markFileFlag(fs, "backup", "ldif")
	return cmd
}

func runDirectoryClean(opts *directoryCleanOptions) error {
	e := opts.env
	if err := opts.check("clean"); err != nil {
		return err
	}
	if !opts.onlySet {
		return usagef([]string{"give --only untrusted, --only expired or --only all"}, "directory clean needs --only")
	}
	if opts.Only == directory.OnlyUntrusted && len(opts.Trust) == 0 {
		return usagef([]string{"give the organisation's CA certificate with --trust"}, "--only untrusted needs --trust: without it no value can be told trusted")
	}
	if opts.Apply && !opts.Yes && e.Confirm == nil {
		return usagef([]string{"check the dry run's list, then add --yes"}, "--apply asks for confirmation on a terminal, and there is none")
	}
	var changes []*directory.Change
	sum, c, err := opts.scan(e, func(u *directory.User) error {
		ch, err := directory.PlanClean(u, opts.Only)
		if ch != nil {
			changes = append(changes, ch)
		}
		return err
	})
	if err != nil {
		return err
	}
	defer c.Close()
	rep := &cleanReport{opts: opts, sum: sum, changes: changes}
	if !opts.Apply || len(changes) == 0 {
		return rep.print(e)
	}
	if !opts.Yes {
		ok, err := e.Confirm(fmt.Sprintf("Remove %d value(s) from %d user(s) in %s? [y/N] ", rep.values(), len(changes), termSafe(sum.Base)))
		if err != nil {
			return err
		}
		if !ok {
			return usagef(nil, "not confirmed; nothing was changed")
		}
	}
	b := &directory.BackupFile{Path: opts.backupPath(e), Time: e.Now(),
		Header: []string{fmt.Sprintf("smimectl directory clean --only %s: the values removed from %s of the users below %s", opts.Only, baseAttr(sum.Attr), sum.Base),
			"restore them with: ldapmodify -H <url> -D <admin DN> -W -f <this file>"}}
	rep.backup = b.Path
	rep.outcomes, err = applyWithBackup(e, c, changes, b)
	if rep.outcomes == nil {
		return err
	}
	if perr := rep.print(e); perr != nil {
		return perr
	}
	if err != nil {
		return err
	}
	return rep.failure()
}

// applyWithBackup applies changes with b; a signal that stops the run
// removes the backup's temporary file, never the backup itself.
func applyWithBackup(e *env, c directory.Conn, changes []*directory.Change, b *directory.BackupFile) ([]directory.Outcome, error) {
	defer e.temps.atSignal(func() {
		tmps, _ := filepath.Glob(filepath.Join(filepath.Dir(b.Path), "."+filepath.Base(b.Path)+".tmp-*"))
		for _, t := range tmps {
			_ = os.Remove(t)
		}
	})()
	return directory.Apply(context.Background(), c, changes, b)
}

// backupPath is --backup, else a new name in the current directory.
func (opts *directoryCleanOptions) backupPath(e *env) string {
	if opts.Backup != "" {
		return opts.Backup
	}
	return defaultBackup(e)
}

func defaultBackup(e *env) string {
	return "directory-backup-" + e.Now().UTC().Format("20060102T150405Z") + ".ldif"
}

// cleanReport is what clean did or would do.
type cleanReport struct {
	opts     *directoryCleanOptions
	sum      *directory.Summary
	changes  []*directory.Change
	outcomes []directory.Outcome // nil for a dry run
	backup   string
}

func (r *cleanReport) values() int {
	n := 0
	for _, ch := range r.changes {
		n += len(ch.Removed)
	}
	return n
}

// print writes the report, text or JSON, and each failed user's error on
// standard error.
func (r *cleanReport) print(e *env) error {
	var hints []string
	skipped := 0
	for _, o := range r.outcomes {
		if errors.Is(o.Err, directory.ErrNotAttempted) {
			skipped++
			continue
		}
		if o.Err != nil {
			msg, hs := describe(o.Err)
			fmt.Fprintf(e.Stderr, "%suser %s (%s): %s\n", errorPrefix, displayName(o.Change.Name), termSafe(o.Change.DN), termSafe(msg))
			for _, h := range hs {
				if !slices.Contains(hints, h) {
					hints = append(hints, h)
				}
			}
		}
	}
	if skipped > 0 {
		fmt.Fprintf(e.Stderr, "%s%d user(s) not attempted: the directory stopped answering; they are unchanged\n", errorPrefix, skipped)
	}
	for _, h := range hints {
		fmt.Fprintf(e.Stderr, "%s%s\n", hintPrefix, h)
	}
	if r.opts.JSON {
		return encodeJSON(e.Stdout, r.toJSON())
	}
	w := e.Stdout
	if r.outcomes == nil && len(r.changes) > 0 {
		fmt.Fprintln(w, "Dry run: nothing was changed; run again with --apply to remove these values.")
	}
	for i, ch := range r.changes {
		verb := "would remove"
		if r.outcomes != nil {
			switch o := r.outcomes[i]; {
			case o.Err == nil:
				verb = "removed"
			case o.Unknown:
				verb = "may have removed (no answer)"
			case errors.Is(o.Err, directory.ErrNotAttempted):
				verb = "did not try to remove"
			default:
				verb = "failed to remove"
			}
		}
		fmt.Fprintf(w, "  %s (%s): %s %d of %d value(s) (%s)\n", displayName(ch.Name), termSafe(ch.DN), verb, len(ch.Removed), len(ch.Removed)+ch.Kept, r.opts.Only)
		if r.opts.Verbose {
			for j, v := range ch.Removed {
				writeValue(w, j+1, v)
			}
		}
	}
	fmt.Fprintln(w, summaryLine(r.sum))
	if r.outcomes == nil {
		_, err := fmt.Fprintf(w, "%d value(s) of %d user(s) to remove.\n", r.values(), len(r.changes))
		return err
	}
	removed, failed := r.tally()
	fmt.Fprintf(w, "Removed %d value(s) from %d user(s); %d user(s) failed.\n", removed, len(r.changes)-failed, failed)
	_, err := fmt.Fprintf(w, "Backup: %s (restore with ldapmodify -f %s)\n", r.backup, r.backup)
	return err
}

func (r *cleanReport) tally() (removed, failed int) {
	for _, o := range r.outcomes {
		if o.Err != nil {
			failed++
		} else {
			removed += len(o.Change.Removed)
		}
	}
	return removed, failed
}

// failure is the run's error when a user failed: the first failure decides
// the exit status (a refusal 2, no answer 75).
func (r *cleanReport) failure() error {
	_, failed := r.tally()
	if failed == 0 {
		return nil
	}
	for _, o := range r.outcomes {
		if o.Err != nil {
			return &partialError{failed: failed, total: len(r.outcomes), backup: r.backup, err: o.Err}
		}
	}
	return nil
}

// partialError: some users' changes failed, the others were made. Its
// exit status is the first failure's.
type partialError struct {
	failed, total int
	backup        string
	err           error
}

func (e *partialError) Error() string {
	return fmt.Sprintf("%d of %d users could not be changed (see above); the others were, and the backup %q holds what was removed", e.failed, e.total, e.backup)
}
func (e *partialError) Unwrap() error { return e.err }
