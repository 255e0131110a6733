// Man pages are generated from the command tree by a test, not by the binary:
// go test ./cmd/smimectl -run Docs -update rewrites doc/.

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"
)

// manDate is the date in the man pages' footer. It is fixed, not the time of
// generation, so that regenerating doc/ gives the same bytes; move it forward when a
// release changes the pages.
var manDate = time.Date(2025, time.November, 25, 0, 0, 0, 0, time.UTC)

// genManPages writes a man page for root and for every available command under it
// into dir, as smimectl.1, smimectl-version.1 and so on. The root page gets an EXIT
// STATUS section from the exit constants in place of the table in its long help.
func genManPages(root *cobra.Command, dir string) error {
	root.Long = rootIntro
	header := &doc.GenManHeader{
		Title:   "SMIMECTL",
		Section: "1",
		Date:    &manDate,
		Source:  "smimectl",
		Manual:  "smimectl manual",
	}
	var cmds []*cobra.Command
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if c != root && (!c.IsAvailableCommand() || c.IsAdditionalHelpTopicCommand()) {
			return
		}
		cmds = append(cmds, c)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	for _, c := range cmds {
		c.DisableAutoGenTag = true
		// cobra/doc renders these as Markdown, where <placeholder> is an HTML tag.
		c.Use = manEscape(c.Use)
		c.Long = manEscape(c.Long)
		name := strings.ReplaceAll(c.CommandPath(), " ", "-")
		h := *header
		h.Title = strings.ToUpper(name) // the page's own name: SMIMECTL-VERIFY (issue #16 item 11)
		var buf bytes.Buffer
		if err := doc.GenMan(c, &h, &buf); err != nil {
			return fmt.Errorf("generating man page for %q: %w", c.CommandPath(), err)
		}
		page := replaceOptions(buf.Bytes(), manOptions(c))
		page = bytes.Replace(page, []byte("\n.SH EXAMPLE\n"), []byte("\n.SH EXAMPLES\n"), 1)
		before := ".SH EXAMPLES"
		if !bytes.Contains(page, []byte("\n"+before+"\n")) {
			before = ".SH SEE ALSO"
		}
		page = insertSection(page, before, exitStatusRoff()+environmentRoff(c)+filesRoff(c))
		if err := os.WriteFile(filepath.Join(dir, name+".1"), page, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// replaceOptions puts options in place of cobra/doc's OPTIONS sections, so that
// the page shows the flags as --help does (issue #16 item 11).
func replaceOptions(page []byte, options string) []byte {
	start := bytes.Index(page, []byte("\n.SH OPTIONS"))
	if start < 0 {
		return insertSection(page, ".SH EXAMPLE", options)
	}
	start++
	end := start
	for {
		next := bytes.Index(page[end+1:], []byte("\n.SH "))
		if next < 0 {
			end = len(page)
			break
		}
		end += 1 + next + 1
		if !bytes.HasPrefix(page[end:], []byte(".SH OPTIONS")) {
			break
		}
	}
	out := append([]byte(nil), page[:start]...)
	out = append(out, options...)
	return append(out, page[end:]...)
}

// manOptions renders c's flags as the OPTIONS section, each from the line
// flagUsages gives --help: the same names, placeholders, text and defaults.
func manOptions(c *cobra.Command) string {
	var b strings.Builder
	b.WriteString(".SH OPTIONS\n")
	list := func(fs *pflag.FlagSet) {
		fs.VisitAll(func(f *pflag.Flag) {
			if f.Hidden {
				return
			}
			one := pflag.NewFlagSet("", pflag.ContinueOnError)
			one.AddFlag(f)
			line := strings.TrimSpace(flagUsages(one))
			name, usage, _ := strings.Cut(line, "  ")
			fmt.Fprintf(&b, ".TP\n\\fB%s\\fP\n%s\n", roffEscape(name), roffEscape(strings.TrimSpace(usage)))
		})
	}
	list(c.LocalFlags())
	if c.HasAvailableInheritedFlags() {
		b.WriteString(".SS Global options\n")
		list(c.InheritedFlags())
	}
	b.WriteString("\n")
	return b.String()
}

// roffEscape escapes a line of text for roff: backslashes, and a dot or quote
// that would start a request.
func roffEscape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// environmentRoff renders the ENVIRONMENT section of c's page: the SMIMECTL_
// variable of each flag the config applies to (config.go), and the variables
// smimectl reads for every command.
func environmentRoff(c *cobra.Command) string {
	var b strings.Builder
	b.WriteString(".SH ENVIRONMENT\n")
	entry := func(name, text string) { fmt.Fprintf(&b, ".TP\n\\fB%s\\fP\n%s\n", name, text) }
	c.LocalFlags().VisitAll(func(f *pflag.Flag) {
		if configurable[f.Name] && !f.Hidden {
			entry(envName(f.Name), "the value of --"+f.Name+" when it is not given (below the flag, above the config files)")
		}
	})
	entry("SMIMECTL_CONFIG", "the user's config file, in place of $XDG_CONFIG_HOME/smimectl/config.toml (as --config)")
	entry("XDG_CONFIG_HOME", "where the user's config file is (default ~/.config)")
	if c.LocalFlags().Lookup("crl-cache") != nil {
		entry("XDG_CACHE_HOME", "where the CRL cache is (default ~/.cache)")
		entry("HTTPS_PROXY, HTTP_PROXY, NO_PROXY", "the proxy for CRL, OCSP and issuer downloads")
	}
	if c.LocalFlags().Lookup("capabilities-db") != nil {
		entry("XDG_DATA_HOME", "where the capabilities store is (default ~/.local/share)")
	}
	entry("TMPDIR", "where temporary files are written before --out appears")
	entry("SMIMECTL_DEBUG", "set to 1 to print the whole chain of an error")
	b.WriteString("\n")
	return b.String()
}

// filesRoff renders the FILES section of c's page.
func filesRoff(c *cobra.Command) string {
	var b strings.Builder
	b.WriteString(".SH FILES\n")
	entry := func(name, text string) { fmt.Fprintf(&b, ".TP\n\\fI%s\\fP\n%s\n", name, text) }
	entry("$XDG_CONFIG_HOME/smimectl/config.toml", "the user's config file (see smimectl help config)")
	entry("/etc/smimectl/config.toml", "the system's config file, below the user's")
	if c.LocalFlags().Lookup("crl-cache") != nil {
		entry("$XDG_CACHE_HOME/smimectl/crl", "fetched CRLs, kept until their nextUpdate (--crl-cache)")
	}
	if c.LocalFlags().Lookup("capabilities-db") != nil {
		entry("$XDG_DATA_HOME/smimectl/capabilities", "the S/MIME capabilities of valid signers (--capabilities-db)")
	}
	b.WriteString("\n")
	return b.String()
}

// manEscape escapes the angle brackets of <placeholder> for Markdown, except on
// indented lines, which Markdown shows as code.
func manEscape(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, " ") && !strings.HasPrefix(l, "\t") {
			lines[i] = strings.NewReplacer("<", `\<`, ">", `\>`).Replace(l)
		}
	}
	return strings.Join(lines, "\n")
}

// exitStatusRoff renders the exit statuses as a man page section.
func exitStatusRoff() string {
	var b strings.Builder
	b.WriteString(".SH EXIT STATUS\n")
	for _, s := range exitStatuses {
		fmt.Fprintf(&b, ".TP\n\\fB%d\\fP\n%s\n", s.code, strings.ReplaceAll(s.text, "\n", " "))
	}
	b.WriteString("\n")
	return b.String()
}

// insertSection inserts section before the line starting with before, or at the end.
func insertSection(page []byte, before, section string) []byte {
	i := bytes.Index(page, []byte("\n"+before))
	if i < 0 {
		return append(page, section...)
	}
	i++
	out := make([]byte, 0, len(page)+len(section))
	out = append(out, page[:i]...)
	out = append(out, section...)
	return append(out, page[i:]...)
}
