package main

import (
	"crypto/x509"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/smimectl/smimectl/pkg/capabilities"
	"github.com/smimectl/smimectl/pkg/encrypt"
	"github.com/smimectl/smimectl/pkg/verify"
)

// capsFlags is --capabilities-db, the store of correspondents' S/MIME
// capabilities that verify and decrypt --trust fill and encrypt reads
// (issue #18 items 1 and 2).
type capsFlags struct {
	CapsDB string // --capabilities-db: the store's directory, or "none"
}

const capsDBUsage = "remember the S/MIME capabilities of valid signers, and read them to choose the cipher, in `dir` (default $XDG_DATA_HOME/smimectl/capabilities; \"none\" turns it off)"

func (f *capsFlags) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&f.CapsDB, "capabilities-db", "", capsDBUsage)
	fs.SetAnnotation("capabilities-db", cobra.BashCompSubdirsInDir, []string{})
}

// dir is --capabilities-db, or smimectl/capabilities under the user's data
// directory ($XDG_DATA_HOME, else ~/.local/share); "" (no store) for "none"
// or when neither is set.
func (f *capsFlags) dir(e *env) string {
	switch f.CapsDB {
	case noCacheDirValue:
		return ""
	case "":
	default:
		return f.CapsDB
	}
	base := e.Getenv("XDG_DATA_HOME")
	if base == "" {
		home := e.Getenv("HOME")
		if home == "" {
			return ""
		}
		base = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(base, "smimectl", "capabilities")
}

// open opens the store, or returns nil with a warning when it can't be: the
// store only ever improves the choice of cipher, so a store that can't be used
// never stops a verification or an encryption.
func (f *capsFlags) open(e *env) *capabilities.Store {
	dir := f.dir(e)
	if dir == "" {
		return nil
	}
	return openStore(e, dir)
}

// openExisting is open for a command that only reads the store (encrypt): a
// store that does not exist yet is empty, and is not created.
func (f *capsFlags) openExisting(e *env) *capabilities.Store {
	dir := f.dir(e)
	if dir == "" {
		return nil
	}
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return openStore(e, dir)
}

func openStore(e *env, dir string) *capabilities.Store {
	s, err := capabilities.Open(dir, capabilities.Options{Now: e.Now})
	if err != nil {
		warn(e.Stderr, "not using the S/MIME capabilities store: %s", libraryDetail(err))
		writeLines(e.Stderr, hintPrefix, `fix or remove it, or give another with --capabilities-db ("none" turns it off)`)
		return nil
	}
	return s
}

// learnCapabilities records what the valid signers of res advertised in the
// store of f, opened only then; only a valid result teaches anything
// (capabilities.Store.LearnFrom).
func learnCapabilities(e *env, f *capsFlags, res *verify.Result) {
	if res == nil || !res.Valid {
		return
	}
	learnInto(e, f.open(e), res)
}

// learnInto is learnCapabilities with the store opened (nil: none).
func learnInto(e *env, s *capabilities.Store, res *verify.Result) {
	if s == nil || res == nil || !res.Valid {
		return
	}
	if _, err := s.LearnFrom(res); err != nil {
		warn(e.Stderr, "not remembering the signer's S/MIME capabilities: %s", libraryDetail(err))
	}
}

// knownCapabilities is encrypt.Options.Capabilities over the store s (nil
// for none) and the certificates' RFC 4262 extension; a record that can't be
// read is warned about once and passed over.
func knownCapabilities(e *env, s *capabilities.Store) func(*x509.Certificate) (encrypt.Capabilities, error) {
	var mu sync.Mutex
	warned := map[string]bool{}
	return func(c *x509.Certificate) (encrypt.Capabilities, error) {
		k, err := capabilities.Known(s, c)
		if err != nil {
			mu.Lock()
			defer mu.Unlock()
			if fp := capabilities.Fingerprint(c); !warned[fp] {
				warned[fp] = true
				warn(e.Stderr, "passing over what is remembered of %s's S/MIME capabilities: %s", holder(c), libraryDetail(err))
			}
		}
		return k, nil
	}
}
