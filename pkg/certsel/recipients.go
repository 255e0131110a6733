package certsel

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// DefaultMaxRecipients is the recipient limit when [RecipientOptions]
// gives none, the guide's Appendix B "Recipient Limits" default.
const DefaultMaxRecipients = 5000

// RecipientOptions configure [Recipients].
type RecipientOptions struct {
	Options
	// MaxRecipients bounds the number of addresses. If zero, it is
	// DefaultMaxRecipients.
	MaxRecipients int
}

// MissingError reports the recipients without a usable encryption
// certificate (the guide's AlwaysEncrypt failure). Each entry says why.
type MissingError struct {
	Missing []*NoMatchError
}

func (e *MissingError) Error() string {
	addrs := make([]string, len(e.Missing))
	for i, m := range e.Missing {
		addrs[i] = m.Address
	}
	return fmt.Sprintf("certsel: no usable encryption certificate for %s", strings.Join(addrs, ", "))
}

// Unwrap gives the per-recipient errors.
func (e *MissingError) Unwrap() []error {
	errs := make([]error, len(e.Missing))
	for i, m := range e.Missing {
		errs[i] = m
	}
	return errs
}

// LimitError reports more addresses than [RecipientOptions.MaxRecipients]
// allows (the guide's Appendix B Recipient Limits); none was looked up.
type LimitError struct {
	Count, Limit int
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("certsel: %d recipients exceed the limit of %d", e.Count, e.Limit)
}

// Recipients selects an encryption certificate for each address, as
// `encrypt --to` needs. The result has one entry per address, in order,
// nil where none qualifies; then the error is a *MissingError naming those
// addresses, so a caller may encrypt for the rest (--allow-missing). A
// source failure (a *SourceError) stops the lookup and is returned as is.
// ctx bounds the whole lookup (the guide's DLExpansionTimeout).
func Recipients(ctx context.Context, addresses []string, opts RecipientOptions) ([]*Selection, error) {
	limit := opts.MaxRecipients
	if limit == 0 {
		limit = DefaultMaxRecipients
	}
	if len(addresses) > limit {
		return nil, &LimitError{Count: len(addresses), Limit: limit}
	}
	out := make([]*Selection, len(addresses))
	var missing []*NoMatchError
	for i, a := range addresses {
		sel, err := Select(ctx, a, PurposeEncrypt, opts.Options)
		var nm *NoMatchError
		switch {
		case errors.As(err, &nm):
			missing = append(missing, nm)
		case err != nil:
			return nil, err
		}
		out[i] = sel
	}
	if len(missing) > 0 {
		return out, &MissingError{Missing: missing}
	}
	return out, nil
}
