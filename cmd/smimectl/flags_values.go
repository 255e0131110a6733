package main

// Enum, list and file flags with their shell completion, and the checks of
// positional arguments.

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// enumValue is a string flag that accepts only one of a fixed set of values.
type enumValue struct {
	p       *string
	allowed []string
}

func (v *enumValue) String() string { return *v.p }
func (v *enumValue) Type() string   { return "{" + strings.Join(v.allowed, "|") + "}" }
func (v *enumValue) Set(s string) error {
	if !slices.Contains(v.allowed, s) {
		return fmt.Errorf("want one of %s", strings.Join(v.allowed, ", "))
	}
	*v.p = s
	return nil
}

// enumAnnotation marks enum flags so completeEnums can offer their values.
const enumAnnotation = "smimectl_enum"

// enumFlag defines a flag that accepts one of allowed, validated when parsed and
// completed by the shell (see completeEnums).
func enumFlag(fs *pflag.FlagSet, p *string, name, value string, allowed []string, usage string) {
	*p = value
	fs.Var(&enumValue{p: p, allowed: allowed}, name, usage)
	fs.SetAnnotation(name, enumAnnotation, allowed)
}

// completeEnums registers shell completion for every enum flag under cmd. The root
// command calls it once, after all commands are added.
func completeEnums(cmd *cobra.Command) error {
	var errs []error
	cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
		allowed, ok := f.Annotations[enumAnnotation]
		if !ok {
			return
		}
		errs = append(errs, cmd.RegisterFlagCompletionFunc(f.Name, cobra.FixedCompletions(allowed, cobra.ShellCompDirectiveNoFileComp)))
	})
	cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
		if values, ok := f.Annotations[listAnnotation]; ok {
			errs = append(errs, cmd.RegisterFlagCompletionFunc(f.Name, completeList(values)))
		}
	})
	for _, c := range cmd.Commands() {
		errs = append(errs, completeEnums(c))
	}
	return errors.Join(errs...)
}

// File extensions the shell offers for file flags.
var (
	messageExts = []string{"eml", "msg", "p7m", "p7s", "txt"}
	certExts    = []string{"pem", "crt", "cer", "der", "p7b", "p7c"}
	keyExts     = []string{"pem", "key"}
	p12Exts     = []string{"p12", "pfx"}
	crlExts     = []string{"crl", "pem"}
)

// listAnnotation marks flags taking a comma-separated list of fixed values
// (--cipher, --require), completed one value after another by completeEnums.
const listAnnotation = "smimectl_list"

// markListFlag makes shell completion offer values for the comma-separated list
// flag name (issue #16 item 12).
func markListFlag(fs *pflag.FlagSet, name string, values []string) {
	fs.SetAnnotation(name, listAnnotation, values)
}

// completeList completes the last element of a comma-separated list: the values
// not yet in the list, each after what was typed before the last comma.
func completeList(values []string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		done, prefix := "", toComplete
		if i := strings.LastIndexByte(toComplete, ','); i >= 0 {
			done, prefix = toComplete[:i+1], toComplete[i+1:]
		}
		given := strings.Split(done, ",")
		var out []cobra.Completion
		for _, v := range values {
			if strings.HasPrefix(v, prefix) && !slices.Contains(given, v) {
				out = append(out, done+v)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
}

// completeFiles completes positional arguments with file names ending in one of
// exts, and directories (issue #16 item 12).
func completeFiles(exts ...string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return exts, cobra.ShellCompDirectiveFilterFileExt
	}
}

// markFileFlag tells shell completion that flag name takes a file with one of exts.
func markFileFlag(fs *pflag.FlagSet, name string, exts ...string) {
	fs.SetAnnotation(name, cobra.BashCompFilenameExt, exts)
}

// Argument validators that fail with a *usageError, so a wrong number of arguments
// exits with exitUsage and the usage line.

// noArgs accepts no positional arguments.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return &usageError{err: fmt.Errorf("unexpected argument %q", args[0]), usage: cmd.UseLine()}
	}
	return nil
}

// exactArgs accepts exactly n positional arguments.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return &usageError{err: fmt.Errorf("want %d argument(s), got %d", n, len(args)), usage: cmd.UseLine()}
		}
		return nil
	}
}

// maxArgs accepts at most n positional arguments.
func maxArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return &usageError{err: fmt.Errorf("unexpected argument %q", args[n]), usage: cmd.UseLine()}
		}
		return nil
	}
}
