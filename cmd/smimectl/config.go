package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The config file and SMIMECTL_ variables (issue #16 item 3): settings a
// filter or a person would otherwise repeat on every command line. They are
// applied generically over each command's flag set: a setting sets a flag only
// when the flag was not given, so the precedence is
//
//	flag > SMIMECTL_<FLAG> > user file ([command] table, then top level) >
//	system file ([command] table, then top level) > the flag's default
//
// A list flag (--trust, --certs, ...) takes its whole value from the first of
// these that has one; values are not merged across them.

// configurable lists the flags a config file or an SMIMECTL_ variable may set:
// where to find trust, certificates and keys, how to check revocation, and the
// filter's identity. An allow-list, not every flag: what a message is (--in,
// --out, --at), what a run prints (--json, -v) and what weakens a check for one
// message (--force, --allow-md5, --skip-unsigned, --allow-missing) stay on the
// command line, where the reader of a script sees them. No setting holds a
// secret: passwords and PINs come from a file or a variable the setting names
// (--pass-file, --ldap-pass-env), and --pkcs11 (whose URI may carry a
// pin-value) is not configurable.
var configurable = map[string]bool{
	"trust": true, "intermediates": true, "crl": true,
	"revocation": true, "revocation-max-age": true, "crl-cache": true,
	"crl-timeout": true, "crl-total-timeout": true, "ocsp": true, "offline": true,
	"fetch-intermediates": true, "no-proxies": true,
	"authserv-id": true, "tempfail-exit": true, "sender-check": true, "require": true,
	"cipher": true, "oaep": true, "digest": true, "include": true, "protect-headers": true,
	"certs": true, "lookup-timeout": true, "capabilities-db": true,
	"ldap-bind-dn": true, "ldap-ca": true, "ldap-pass-file": true, "ldap-pass-env": true, "ldap-starttls": true,
	"from": true, "key": true, "cert": true, "p12": true, "pass-file": true, "pass-env": true,
	"pkcs11-module": true, "pin-file": true, "pin-env": true, "smartcard-only": true,
}

// pathKeys are the settings that name files or directories. A relative path
// in a config file is taken from the file's directory, never from the current
// one: the directory a filter happens to run in must not choose its trust
// anchors or keys.
var pathKeys = map[string]bool{
	"trust": true, "intermediates": true, "crl": true, "crl-cache": true, "capabilities-db": true,
	"certs": true, "ldap-ca": true, "ldap-pass-file": true, "key": true, "cert": true, "p12": true,
	"pass-file": true, "pkcs11-module": true, "pin-file": true,
}

// relativeTo makes the relative paths of values relative to dir, leaving
// alone what is not a path: "" , the words "system" and "none", and URLs
// (ldap://, pkcs11:).
func relativeTo(dir string, values []string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		switch {
		case v == "" || v == trustSystem || v == "none" || filepath.IsAbs(v) ||
			strings.Contains(v, "://") || strings.HasPrefix(v, "pkcs11:"):
			out[i] = v
		default:
			out[i] = filepath.Join(dir, v)
		}
	}
	return out
}

// systemConfigPath is the system-wide config file; Main gives it to env.
var systemConfigPath = "/etc/smimectl/config.toml"

// configFile is one parsed config file: its top-level settings and its
// per-command tables.
type configFile struct {
	path   string
	top    map[string]any
	tables map[string]map[string]any
}

// setting is the value one configurable flag takes and where it came from.
type setting struct {
	flag   *pflag.Flag
	values []string // for a list flag, each element; else one value
	origin string   // "flag", "SMIMECTL_X", a file (and table), or "default"
	// what names the origin in an error: "SMIMECTL_X" or `config file "f"`
	what string
}

// setError is the error of a setting whose value its flag refuses.
func (s setting) setError(err error) error {
	return setupErrorf("%s: %s: %w", s.what, s.flag.Name, err)
}

// envName is the environment variable for flag name: SMIMECTL_AUTHSERV_ID.
func envName(name string) string {
	return "SMIMECTL_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// addConfig gives root the --config flag and applies the settings before any
// command that has configurable flags runs.
func addConfig(root *cobra.Command, e *env) {
	root.PersistentFlags().String("config", "", "read settings from `file` instead of $XDG_CONFIG_HOME/smimectl/config.toml (see \"smimectl help config\")")
	markFileFlag(root.PersistentFlags(), "config", "toml")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if !hasConfigurable(cmd) {
			return nil
		}
		settings, err := resolveConfig(e, cmd)
		if err != nil {
			return err
		}
		for _, s := range settings {
			if s.origin == "flag" || s.origin == "default" {
				continue
			}
			if err := setFlag(s.flag, s.values); err != nil {
				return s.setError(err)
			}
		}
		return nil
	}
}

// hasConfigurable reports whether cmd has a flag a setting can set.
func hasConfigurable(cmd *cobra.Command) bool {
	found := false
	cmd.LocalFlags().VisitAll(func(f *pflag.Flag) { found = found || configurable[f.Name] })
	return found
}

// isList reports whether f takes several values (repeatable, or a list).
func isList(f *pflag.Flag) bool {
	_, ok := f.Value.(pflag.SliceValue)
	return ok
}

// setFlag gives f the values of a setting, validated by the flag's own Set,
// without marking it Changed: a setting is a default the user chose.
func setFlag(f *pflag.Flag, values []string) error {
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		if err := sv.Replace(nil); err != nil {
			return err
		}
		for _, v := range values {
			if err := f.Value.Set(v); err != nil {
				return err
			}
		}
		return nil
	}
	return f.Value.Set(values[0])
}

// configPaths returns the user's config file (and whether the user named it,
// so that it must exist) and the system's.
func configPaths(e *env, cmd *cobra.Command) (user string, named bool, system string) {
	system = e.SystemConfig
	if f := cmd.Root().PersistentFlags().Lookup("config"); f != nil && f.Changed {
		return f.Value.String(), true, system
	}
	if p := e.Getenv("SMIMECTL_CONFIG"); p != "" {
		return p, true, system
	}
	// Never a relative path: a config file in the current directory is not
	// read unless named (XDG: relative values are ignored).
	dir := e.Getenv("XDG_CONFIG_HOME")
	if !filepath.IsAbs(dir) {
		dir = ""
		if home := e.Getenv("HOME"); filepath.IsAbs(home) {
			dir = filepath.Join(home, ".config")
		}
	}
	if dir == "" {
		return "", false, system
	}
	return filepath.Join(dir, "smimectl", "config.toml"), false, system
}

// resolveConfig reads the config files and returns, for every configurable
// flag of cmd, its value and where it came from.
func resolveConfig(e *env, cmd *cobra.Command) ([]setting, error) {
	userPath, named, sysPath := configPaths(e, cmd)
	var files []*configFile
	for _, p := range []struct {
		path     string
		required bool
	}{{userPath, named}, {sysPath, false}} {
		if p.path == "" {
			continue
		}
		if _, err := os.Stat(p.path); errors.Is(err, fs.ErrNotExist) && !p.required {
			continue // no such file: nothing to read (readConfigFile words a named one)
		}
		cf, err := readConfigFile(p.path, p.required, wholeTree(e, cmd.Root()))
		if err != nil {
			return nil, err
		}
		if cf != nil {
			files = append(files, cf)
		}
	}
	var out []setting
	var errs []error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if !configurable[f.Name] {
			return
		}
		s, err := resolveFlag(e, cmd.Name(), f, files)
		if err != nil {
			errs = append(errs, err)
			return
		}
		out = append(out, s)
	})
	return out, errors.Join(errs...)
}

// resolveFlag finds the first layer that sets f.
func resolveFlag(e *env, command string, f *pflag.Flag, files []*configFile) (setting, error) {
	if f.Changed {
		return setting{flag: f, origin: "flag", values: currentValues(f)}, nil
	}
	if v := e.Getenv(envName(f.Name)); v != "" {
		values := []string{v}
		if isList(f) {
			values = strings.Split(v, ",")
		}
		return setting{flag: f, values: values, origin: envName(f.Name), what: envName(f.Name)}, nil
	}
	for _, cf := range files {
		for _, layer := range []struct {
			m      map[string]any
			origin string
		}{{cf.tables[command], cf.path + " [" + command + "]"}, {cf.top, cf.path}} {
			raw, ok := layer.m[f.Name]
			if !ok {
				continue
			}
			values, err := tomlValues(f, raw)
			if err != nil {
				return setting{}, setupErrorf("config file %q: %s: %w", cf.path, f.Name, err)
			}
			if pathKeys[f.Name] {
				values = relativeTo(filepath.Dir(cf.path), values)
			}
			return setting{flag: f, values: values, origin: layer.origin, what: fmt.Sprintf("config file %q", cf.path)}, nil
		}
	}
	return setting{flag: f, origin: "default", values: currentValues(f)}, nil
}

// currentValues is f's value as strings.
func currentValues(f *pflag.Flag) []string {
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		return sv.GetSlice()
	}
	return []string{f.Value.String()}
}

// tomlValues turns a TOML value into flag values: an array of strings for a
// list flag (a single string is a list of one), a boolean for a boolean flag,
// an integer for an integer flag, else a string (durations as "5s").
func tomlValues(f *pflag.Flag, raw any) ([]string, error) {
	switch v := raw.(type) {
	case []any:
		if !isList(f) {
			return nil, errors.New("want one value, not a list")
		}
		out := make([]string, 0, len(v))
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, errors.New("want a list of strings")
			}
			out = append(out, s)
		}
		return out, nil
	case bool:
		if f.Value.Type() != "bool" {
			return nil, fmt.Errorf("want a %s, not true or false", typeWord(f))
		}
		return []string{strconv.FormatBool(v)}, nil
	case int64:
		if f.Value.Type() != "int" {
			return nil, fmt.Errorf("want a %s, not a number", typeWord(f))
		}
		return []string{strconv.FormatInt(v, 10)}, nil
	case string:
		if t := f.Value.Type(); t == "bool" || t == "int" {
			return nil, fmt.Errorf("want a %s, not a string", typeWord(f))
		}
		return []string{v}, nil
	}
	return nil, fmt.Errorf("want a %s", typeWord(f))
}

// typeWord names what a flag's setting must be, in TOML's words.
func typeWord(f *pflag.Flag) string {
	switch {
	case isList(f):
		return "list of strings"
	case f.Value.Type() == "bool":
		return "boolean"
	case f.Value.Type() == "int":
		return "integer"
	}
	return "string"
}

// readConfigFile reads and checks one config file; a missing file is nil
// unless required. Every key is checked, for every command, so a typo is
// found whatever command runs.
func readConfigFile(path string, required bool, root *cobra.Command) (*configFile, error) {
	data, err := readPrivateConfig(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !required {
			return nil, nil
		}
		return nil, err
	}
	var doc map[string]any
	if _, err := toml.Decode(string(data), &doc); err != nil {
		return nil, setupErrorf("config file %q: %w", path, err)
	}
	cf := &configFile{path: path, top: map[string]any{}, tables: map[string]map[string]any{}}
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := doc[k]
		if table, ok := v.(map[string]any); ok {
			cmd := configCommand(root, k)
			if cmd == nil {
				return nil, withHint(setupErrorf("config file %q: unknown table [%s]", path, k),
					"a table is named after a command, such as [verify] or [encrypt]")
			}
			for name := range table {
				if err := checkKey(path, name, "["+k+"] ", cmd); err != nil {
					if cmd.LocalFlags().Lookup(name) == nil && configurable[name] {
						return nil, setupErrorf("config file %q: [%s] %s: %s has no --%s", path, k, name, k, name)
					}
					return nil, err
				}
			}
			cf.tables[k] = table
			continue
		}
		if err := checkKey(path, k, "", root); err != nil {
			return nil, err
		}
		cf.top[k] = v
	}
	return cf, nil
}

// checkKey rejects a key that is not a configurable flag of cmd (or, for the
// top level, of any command).
func checkKey(path, key, where string, cmd *cobra.Command) error {
	exists := false
	for _, c := range append([]*cobra.Command{cmd}, cmd.Commands()...) {
		if c.LocalFlags().Lookup(key) != nil {
			exists = true
		}
	}
	switch {
	case exists && configurable[key]:
		return nil
	case exists:
		return withHint(setupErrorf("config file %q: %skey %q can't be set in a config file", path, where, key),
			fmt.Sprintf("give --%s on the command line; \"smimectl help config\" lists the keys", key))
	}
	return withHint(setupErrorf("config file %q: %sunknown key %q", path, where, key),
		"keys are spelled as the long flags, such as trust or authserv-id; \"smimectl help config\" lists them")
}

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
