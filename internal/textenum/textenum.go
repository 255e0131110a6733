// Package textenum spells the values of the small closed sets of pkg/ (a
// signature's mode, the certificates sent with it, a revocation mode, the
// values a directory clean removes) for their String, MarshalText and
// UnmarshalText methods: the command binds its flags to them with pflag's
// TextVar, and JSON carries their names.
package textenum

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Name returns names[v], or v's number for a value outside the set.
func Name[T ~int](names []string, v T) string {
	if v >= 0 && int(v) < len(names) {
		return names[v]
	}
	return strconv.Itoa(int(v))
}

// Unmarshal sets *v to the value whose name is text, the index of text in
// names. Otherwise it leaves *v alone and returns an error that starts with
// what ("sign: unknown mode") and lists the names allowed.
func Unmarshal[T ~int](v *T, what string, names []string, text []byte) error {
	i := slices.Index(names, string(text))
	if i < 0 {
		return fmt.Errorf("%s %s (want %s)", what, Quote(text), list(names))
	}
	*v = T(i)
	return nil
}

// list spells names as "a, b or c".
func list(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// maxQuoted is how much of a refused text an error quotes.
const maxQuoted = 64

// Quote quotes text for an error message as %q does, but at most its first
// 64 bytes ("..." after the quote says the rest was cut): a refused value
// may be a hostile megabyte, and the error ends up on a terminal or in a log
// line (issue #17 item 4, redteam17).
func Quote(text []byte) string {
	if len(text) <= maxQuoted {
		return strconv.Quote(string(text))
	}
	return strconv.Quote(string(text[:maxQuoted])) + "..."
}

// Word is v in a caller's words: name(v) when name is set and says
// something, else v's own string (its Go name). pkg/verify, pkg/sign and
// pkg/revocation name their options this way (Options.OptionName), so the
// command words them as its flags and the libraries name none.
func Word[T ~string](name func(T) string, v T) string {
	if name != nil {
		if s := name(v); s != "" {
			return s
		}
	}
	return string(v)
}
