package main

import (
	"encoding"

	"github.com/spf13/pflag"
)

// textEnumFlag defines the flag name bound to p, a library type that reads
// itself with UnmarshalText (issue #17 item 4), through pflag's TextVar, with def
// as its default. It keeps what the command line shows of every enum flag
// (enumFlag): the values allowed in the help ({a|b}) and in shell completion,
// and "want one of a, b" for any other value.
func textEnumFlag(fs *pflag.FlagSet, p encoding.TextUnmarshaler, name string, def encoding.TextMarshaler, allowed []string, usage string) *pflag.Flag {
	fs.TextVar(p, name, def, usage)
	f := fs.Lookup(name)
	f.Value = textEnumValue{Value: f.Value, enum: enumValue{p: new(string), allowed: allowed}}
	fs.SetAnnotation(name, enumAnnotation, allowed)
	return f
}

// textEnumValue is pflag's TextVar value shown as an enumValue.
type textEnumValue struct {
	pflag.Value
	enum enumValue // the values allowed, for Type and the error (its p is scratch)
}

func (v textEnumValue) Type() string { return v.enum.Type() }

// Set refuses what the help does not list with the enum flags' error, then
// lets the library type read the value.
func (v textEnumValue) Set(s string) error {
	if err := v.enum.Set(s); err != nil {
		return err
	}
	return v.Value.Set(s)
}
