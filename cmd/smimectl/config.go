package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

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
