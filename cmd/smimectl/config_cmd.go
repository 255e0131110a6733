package main

// smimectl config: the command that shows the settings in effect, and its help.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// wholeTree returns root if it holds every command, else the whole tree
// built anew: a file is checked against every command's flags and tables
// (a run builds only the command it runs, see newRootCmdFor).
func wholeTree(e *env, root *cobra.Command) *cobra.Command {
	if len(root.Commands()) >= len(commandTable(e)) {
		return root
	}
	return newRootCmdFor(e, nil)
}

// configCommand returns the command a table names, if it has configurable flags.
func configCommand(root *cobra.Command, name string) *cobra.Command {
	for _, c := range root.Commands() {
		if c.Name() == name && hasConfigurable(c) {
			return c
		}
	}
	return nil
}

// configKeys lists the configurable flags, sorted.
func configKeys() []string {
	keys := make([]string, 0, len(configurable))
	for k := range configurable {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// newConfigCmd returns "smimectl config" with its subcommand "show".
func newConfigCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config <command>",
		Short: "Show the settings from the config file and environment",
		Long:  configHelp(),
		Example: `  smimectl config show verify
  SMIMECTL_TRUST=/etc/ssl/smime-roots.pem smimectl config show verify`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	verbose := false
	show := &cobra.Command{
		Use:   "show [<command>]",
		Short: "Print the effective settings of a command and where each came from",
		Long: `Print, for every setting a config file or environment variable may give the
command (verify if none is named), its value and where it came from: an
SMIMECTL_ variable, a config file (and its table), or the default. -v says on
standard error which config files were looked for, and which were read.`,
		Example:           `  smimectl config show encrypt`,
		Args:              maxArgs(1),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(c *cobra.Command, args []string) error {
			name := "verify"
			if len(args) == 1 {
				name = args[0]
			}
			target := configCommand(c.Root(), name)
			if target == nil {
				return usagef([]string{"name a command that takes settings, such as verify, encrypt or sign"},
					"%q takes no settings", name)
			}
			if verbose {
				reportConfigFiles(e, target)
			}
			settings, err := resolveConfig(e, target)
			if err != nil {
				return err
			}
			return printSettings(e, settings)
		},
	}
	show.Flags().BoolVarP(&verbose, "verbose", "v", false, "say which config files were looked for and read, on standard error")
	cmd.AddCommand(show)
	return cmd
}

// reportConfigFiles says, for config show -v, which config files cmd's
// settings come from: each path looked for, read or not there.
func reportConfigFiles(e *env, cmd *cobra.Command) {
	user, _, system := configPaths(e, cmd)
	for _, p := range []string{user, system} {
		if p == "" {
			continue
		}
		state := "read"
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			state = "not there"
		} else if err != nil {
			state = "can't be read"
		}
		fmt.Fprintf(e.Stderr, "smimectl: config file %s: %s\n", p, state)
	}
}

// printSettings writes the table of config show, checking each value with
// its flag as the command would.
func printSettings(e *env, settings []setting) error {
	tw := tabwriter.NewWriter(e.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SETTING\tVALUE\tFROM")
	for _, s := range settings {
		if s.origin != "default" && s.origin != "flag" {
			if err := setFlag(s.flag, s.values); err != nil {
				return s.setError(err)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.flag.Name, showValue(s), s.origin)
	}
	return tw.Flush()
}

// showValue renders a setting's value as TOML would: a list in brackets,
// strings quoted, booleans and numbers bare.
func showValue(s setting) string {
	quote := func(v string) string { return strconv.Quote(v) }
	if isList(s.flag) {
		q := make([]string, len(s.values))
		for i, v := range s.values {
			q[i] = quote(v)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	if t := s.flag.Value.Type(); t == "bool" || t == "int" {
		return s.values[0]
	}
	return quote(s.values[0])
}

// configHelp is the long help of "smimectl config", also "smimectl help config".
func configHelp() string {
	return configHelpHead + wrapWords(configKeys(), 76, "  ") + configHelpTail
}

const configHelpHead = `Settings that filters and people would otherwise repeat on every command line
come from a config file or from the environment.

FILES
  $XDG_CONFIG_HOME/smimectl/config.toml   the user's (~/.config/smimectl/config.toml)
  /etc/smimectl/config.toml               the system's
--config FILE or SMIMECTL_CONFIG=FILE names the user's file instead; a file
named so must exist. A config file in the current directory is never read
unless named. A file writable by group or others, or owned by another user
than you or root, is refused (exit 2), as ssh refuses its config.

FORMAT
The file is TOML. Keys are spelled as the long flags, at the top level for
every command that has the flag, or in a table named after a command for that
command only. Lists (trust, intermediates, crl, certs, ldap-ca, require) are
TOML arrays; booleans are true or false; durations are strings such as "5s".
A relative path is taken from the config file's directory, not the current one.

  trust = ["/etc/ssl/smime-roots.pem"]
  crl-cache = "/var/cache/smimectl/crl"
  [verify]
  authserv-id = "mx.example.org"
  crl-timeout = "5s"

An unknown key, a table that is not a command, or a flag that can't be set in
a config file is an error naming the key and the file (exit 2).

ENVIRONMENT
SMIMECTL_ and the flag's name in capitals with - as _ (SMIMECTL_TRUST,
SMIMECTL_AUTHSERV_ID) sets a key for every command that has the flag; a list
holds its values separated by commas. A variable that names no configurable
flag is ignored, so that a variable meant for one command does not break
another.

PRECEDENCE
  flag > SMIMECTL_ variable > user file ([command], then top level) >
  system file ([command], then top level) > default
A list takes its whole value from the first of these that has one.

KEYS
`

const configHelpTail = `
Other flags (--in, --out, --at, --json, -v, --force, --allow-md5, --pkcs11...)
are given on the command line only: they say what one run does, or weaken a
check, or may carry a secret.

"smimectl config show <command>" prints the settings a command would use and
where each came from.`

// wrapWords joins words with ", " in lines of at most width columns, each
// starting with indent.
func wrapWords(words []string, width int, indent string) string {
	var b strings.Builder
	line := indent
	for i, w := range words {
		if i < len(words)-1 {
			w += ","
		}
		if len(line) > len(indent) && len(line)+1+len(w) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += w
	}
	return b.String() + line
}
