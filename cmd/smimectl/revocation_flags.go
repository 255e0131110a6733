package main

import (
	"context"
	"crypto/x509"
	"net/http"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/smimectl/smimectl/pkg/revocation"
)

// revocationFlags say where revocation answers may come from and how long fetching
// them may take (SPEC "Verification"; the guide's Appendix B
// RevocationURLRetrievalTimeout and CertURLRetrievalTimeout). --crl, --revocation and
// --revocation-max-age (what counts as an answer) live in trustFlags, beside the other
// trust material, and in sign's own flags.
type revocationFlags struct {
	CRLCache        string        // --crl-cache: cache directory; "" is the default, "none" disables
	CRLTimeout      time.Duration // --crl-timeout: per URL, 5s to 10m
	CRLTotalTimeout time.Duration // --crl-total-timeout: per verification, 0 (none) to 10m
	OCSP            bool          // --ocsp: ask the OCSP responder first
	Offline         bool          // --offline: no network
	// --fetch-intermediates: download missing issuers from caIssuers URLs
	FetchIntermediates bool

	fs       *pflag.FlagSet // where the flags were defined: which were given
	verbose  bool           // -v: a line per network request (netreport.go)
	noStatus bool           // no status line while waiting (a batch has its bar)
}

// Limits of the timeout flags.
const (
	minCRLTimeout   = 5 * time.Second
	maxCRLTimeout   = 10 * time.Minute
	noCacheDirValue = "none"
)

func (f *revocationFlags) addFlags(fs *pflag.FlagSet) {
	f.addCheckFlags(fs)
	fs.BoolVar(&f.FetchIntermediates, "fetch-intermediates", false, "download an issuer missing from the chain from the certificate's caIssuers URL (not with --offline)")
}

// addCheckFlags defines the flags of the revocation check itself, for commands
// that build no chains (sign checks its own certificate against the issuer given).
func (f *revocationFlags) addCheckFlags(fs *pflag.FlagSet) {
	f.fs = fs
	fs.StringVar(&f.CRLCache, "crl-cache", "", "keep fetched CRLs in `dir` until their nextUpdate (default $XDG_CACHE_HOME/smimectl/crl; \"none\" disables)")
	fs.DurationVar(&f.CRLTimeout, "crl-timeout", revocation.DefaultURLTimeout, "give up on one CRL or OCSP URL after `duration` (5s to 10m)")
	fs.DurationVar(&f.CRLTotalTimeout, "crl-total-timeout", revocation.DefaultTotalTimeout, "give up fetching revocation answers and issuers for the whole verification after `duration` (0 for no overall limit, up to 10m)")
	fs.BoolVar(&f.OCSP, "ocsp", false, "ask the certificate's OCSP responder before its CRL distribution points")
	fs.BoolVar(&f.Offline, "offline", false, "never use the network: only --crl files and cached CRLs answer")
}

// options checks the flags and returns the revocation options with mode, the CRLs
// given by hand and the --revocation-max-age of the command.
func (f *revocationFlags) options(e *env, mode revocation.Mode, crls []*x509.RevocationList, maxAge time.Duration) (revocation.Options, error) {
	if f.CRLTimeout < minCRLTimeout || f.CRLTimeout > maxCRLTimeout {
		return revocation.Options{}, usagef([]string{"give --crl-timeout between 5s and 10m, for example 30s"},
			"--crl-timeout %s is out of range", f.CRLTimeout)
	}
	if f.CRLTotalTimeout < 0 || f.CRLTotalTimeout > maxCRLTimeout {
		return revocation.Options{}, usagef([]string{"give --crl-total-timeout between 0 (no overall limit) and 10m"},
			"--crl-total-timeout %s is out of range", f.CRLTotalTimeout)
	}
	total := f.CRLTotalTimeout
	if total == 0 {
		total = -1 // the library's "no overall limit"
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = http.ProxyFromEnvironment // HTTPS_PROXY, HTTP_PROXY, NO_PROXY
	ro := revocation.Options{
		Mode:         mode,
		CRLs:         crls,
		CacheDir:     f.cacheDir(e),
		HTTPClient:   &http.Client{Transport: transport},
		URLTimeout:   f.CRLTimeout,
		TotalTimeout: total,
		OCSP:         f.OCSP,
		Offline:      f.Offline,
		MaxAge:       maxAge,
		OptionName:   revocationOptionName,
	}
	newFetchReporter(e, f.verbose, !f.noStatus).install(&ro)
	return ro, nil
}

// Filter mode's network budget (issue #16 item 4): a CRL server that takes
// connections and never answers must not hold each delivery for minutes.
const (
	filterURLTimeout   = 5 * time.Second
	filterTotalTimeout = 10 * time.Second
)

// filterBudget applies filter mode's timeouts where --crl-timeout and
// --crl-total-timeout were not set: neither given on the command line (Changed)
// nor by a setting (the config file sets a flag's value without marking it
// Changed), so a value other than the flag's default counts as set too.
func (f *revocationFlags) filterBudget() {
	set := func(name string) bool {
		if f.fs == nil {
			return false
		}
		fl := f.fs.Lookup(name)
		return fl != nil && (fl.Changed || fl.Value.String() != fl.DefValue)
	}
	if !set("crl-timeout") {
		f.CRLTimeout = filterURLTimeout
	}
	if !set("crl-total-timeout") {
		f.CRLTotalTimeout = filterTotalTimeout
	}
}

// cacheDir is --crl-cache, or smimectl/crl under the user's cache directory
// ($XDG_CACHE_HOME, else ~/.cache); "" (no cache) for "none" or when neither is set.
func (f *revocationFlags) cacheDir(e *env) string {
	switch f.CRLCache {
	case noCacheDirValue:
		return ""
	case "":
	default:
		return f.CRLCache
	}
	base := e.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home := e.Getenv("HOME")
		if home == "" {
			return ""
		}
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "smimectl", "crl")
}

// fetchIssuers is verify.Options.FetchIssuers for --fetch-intermediates, with the
// same client, timeouts, size cap and --offline as the revocation checks; nil
// without the flag.
func (f *revocationFlags) fetchIssuers(ropts revocation.Options) func(context.Context, *x509.Certificate) ([]*x509.Certificate, error) {
	if !f.FetchIntermediates {
		return nil
	}
	return func(ctx context.Context, cert *x509.Certificate) ([]*x509.Certificate, error) {
		return revocation.FetchIssuers(ctx, cert, ropts)
	}
}
