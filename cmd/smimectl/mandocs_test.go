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
		c.LocalFlags().VisitAll(func(f *pflag.Flag) { f.Usage = manEscape(f.Usage) })
		var buf bytes.Buffer
		if err := doc.GenMan(c, header, &buf); err != nil {
			return fmt.Errorf("generating man page for %q: %w", c.CommandPath(), err)
		}
		page := buf.Bytes()
		if c == root {
			page = insertSection(page, ".SH SEE ALSO", exitStatusRoff())
		}
		name := strings.ReplaceAll(c.CommandPath(), " ", "-") + ".1"
		if err := os.WriteFile(filepath.Join(dir, name), page, 0o644); err != nil {
			return err
		}
	}
	return nil
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
