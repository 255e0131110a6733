package main

// Reading a config file: TOML values checked against the flags they set.

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strconv"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

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

// maxConfigSize bounds a config file: settings fit in a few kilobytes.
const maxConfigSize = 1 << 20

// readPrivateConfig reads a config file: a regular file of at most 1 MiB
// that checkConfigOwner (config_perm_*.go) accepts.
func readPrivateConfig(path string) ([]byte, error) {
	f, err := openConfig(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, setupErrorf("config file %q is not a regular file", path)
	}
	if err := checkConfigOwner(path, fi); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxConfigSize {
		return nil, setupErrorf("config file %q is larger than 1 MiB", path)
	}
	return data, nil
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
