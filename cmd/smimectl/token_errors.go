package main

// Errors of smart cards and tokens: which exit status, and how report.go
// words them.

import (
	"errors"
	"fmt"
	"os"

	"github.com/smimectl/smimectl/internal/keys"
)

// tokenError classifies a token failure: a usage/setup error (exit 2) unless
// exit.go already knows the type (token absent: 3; wrong PIN: 2).
func tokenError(err error) error {
	var (
		nf *keys.TokenNotFoundError
		of *keys.ObjectNotFoundError
		ue *usageError
	)
	switch {
	case errors.As(err, &nf), errors.As(err, &of), errors.As(err, &ue),
		errors.Is(err, keys.ErrIncorrectPIN), errors.Is(err, keys.ErrPINLocked), errors.Is(err, os.ErrNotExist):
		return err
	}
	return &setupError{err: err}
}

// smartCardRequired is the refusal of a file key under --smartcard-only, in
// the guide's words (Appendix B SmartCardOnly).
func smartCardRequired(flags string) error {
	return withHint(&noCertError{err: fmt.Errorf("a smart-card-based certificate is required (--smartcard-only), and %s names a key in a file", flags)},
		"use the key on your smart card with --pkcs11 pkcs11:…, or leave out --smartcard-only")
}

// Wording of token failures (report.go's describers), in the guide's words
// where it has them (Ch. 8 "Cannot decrypt message … when the recipient's
// digital certificate is missing": "If you have a smart card-based digital
// ID, insert the card and try … again").

func describeTokenNotFound(e *keys.TokenNotFoundError) (string, []string) {
	hints := []string{"if you have a smart card-based digital ID, insert the card and try again"}
	if len(e.Present) > 0 {
		hints = append(hints, fmt.Sprintf("the module sees the tokens %q; check token= or serial= in the URI", e.Present))
	}
	return "no smart card matching " + e.URI + " is present", hints
}

func describeObjectNotFound(e *keys.ObjectNotFoundError) (string, []string) {
	return "the smart card has no " + e.What + " matching " + e.URI,
		[]string{"list what it holds with pkcs11-tool --module <module> --login --list-objects, and name the key with object= or id="}
}

func describeTokenPIN(err error) (string, []string, bool) {
	switch {
	case errors.Is(err, keys.ErrIncorrectPIN):
		return libraryDetail(err), []string{"check the PIN given with --pin-file, --pin-env or the URI's pin-source; a card locks after a few wrong PINs, so don't retry blindly"}, true
	case errors.Is(err, keys.ErrPINLocked):
		return libraryDetail(err), []string{"ask the card's administrator to unblock the PIN (with the PUK or security officer PIN)"}, true
	case errors.Is(err, keys.ErrNoPKCS11):
		return libraryDetail(err), []string{"smart cards need a smimectl built with cgo (CGO_ENABLED=1), the default on Linux"}, true
	}
	return "", nil, false
}
