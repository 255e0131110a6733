package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/smimectl/smimectl/pkg/certsel"
	"github.com/smimectl/smimectl/pkg/revocation"
)

// crlFetchOptions are the options of crl fetch (issue #16 item 5).
type crlFetchOptions struct {
	Certs         []string // --certs: certificate files or directories
	Trust         []string // --trust
	Intermediates []string // --intermediates
	revocationFlags
	Verbose bool // -v: one line per network request

	env *env
}

func newCRLCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "crl <command>",
		Short: "Keep the CRL cache warm",
		Long: `Work with the CRL cache that verify, decrypt and cert-verify read before they
go to the network (--crl-cache).`,
		Example:           `  smimectl crl fetch --trust /etc/smimectl/roots.pem --intermediates /etc/smimectl/issuing.pem`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(*cobra.Command, []string) error {
			return usagef([]string{`run "smimectl crl --help" for its commands`}, "crl needs a command: fetch")
		},
	}
	cmd.AddCommand(newCRLFetchCmd(e, nil))
	return cmd
}

func newCRLFetchCmd(e *env, runF func(*crlFetchOptions) error) *cobra.Command {
	opts := &crlFetchOptions{env: e}
	cmd := &cobra.Command{
		Use:   "fetch [--certs <path>]... [--trust <file>]... [--intermediates <file>]... [flags]",
		Short: "Fetch the CRLs of certificates into the cache",
		Long: `Fetch the CRL of every certificate in --certs, --intermediates and --trust from
its CRL distribution points into the CRL cache, so that mail filters can check
revocation with --offline and never wait for a CRL server during a delivery.
Run it from cron more often than the CAs publish (hourly is common).

Each certificate's issuer must be among the certificates given; self-signed
roots have no CRL to fetch. Certificates that share an issuer and distribution
points are fetched once. Each CRL is checked (the issuer's signature, its scope,
that it is current) before it is cached. A CRL server that gives nothing keeps
a CRL already cached, as long as that one is still current.

One line per CRL goes to standard output: "fetched" or "kept" (the server gave
nothing, the cached one is current), its URL, its issuer and its nextUpdate.
-v adds one line per network request on standard error. The exit status is 75
(try again later) when a CRL could not be had from the server or the cache, so
that cron mail or a systemd timer shows it, and 2 when an issuer is missing.`,
		Example: `  # From cron, every hour: the CRLs of the issuing CAs of the trusted roots.
  0 * * * * smimectl crl fetch --trust /etc/smimectl/roots.pem --intermediates /etc/smimectl/issuing.pem

  # Then, in the mail filter:
  smimectl verify --annotate --offline --trust /etc/smimectl/roots.pem`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(*cobra.Command, []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runCRLFetch(opts)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	fs.StringArrayVar(&opts.Certs, "certs", nil, "fetch the CRLs of the certificates in `path`, a file or a directory of certificate files (repeatable)")
	fs.StringArrayVar(&opts.Trust, "trust", nil, "trusted roots (and any CA certificates) in `file`: issuers, and certificates whose CRLs to fetch (repeatable)")
	fs.StringArrayVar(&opts.Intermediates, "intermediates", nil, "intermediate CA certificates in `file`: issuers, and certificates whose CRLs to fetch (repeatable)")
	fs.StringVar(&opts.CRLCache, "crl-cache", "", "the cache `dir` to fill (default $XDG_CACHE_HOME/smimectl/crl)")
	fs.DurationVar(&opts.CRLTimeout, "crl-timeout", revocation.DefaultURLTimeout, "give up on one URL after `duration` (5s to 10m)")
	fs.DurationVar(&opts.CRLTotalTimeout, "crl-total-timeout", revocation.DefaultTotalTimeout, "give up on the distribution points of one certificate after `duration` (0 for no limit, up to 10m)")
	fs.BoolVarP(&opts.Verbose, "verbose", "v", false, "print one line per network request on standard error")
	markFileFlag(fs, "certs", certExts...)
	markFileFlag(fs, "trust", certExts...)
	markFileFlag(fs, "intermediates", certExts...)
	return cmd
}

// crlGroup is the certificates of one issuer that name the same distribution
// points: one CRL serves them all.
type crlGroup struct {
	cert, issuer *x509.Certificate
}

func runCRLFetch(opts *crlFetchOptions) error {
	e := opts.env
	if len(opts.Certs)+len(opts.Trust)+len(opts.Intermediates) == 0 {
		return usagef([]string{"name the certificates whose CRLs to fetch with --certs, --intermediates or --trust"}, "crl fetch needs certificates")
	}
	if opts.CRLCache == noCacheDirValue || opts.cacheDir(e) == "" {
		return usagef([]string{"name the cache directory with --crl-cache"}, "crl fetch needs a cache directory")
	}
	opts.revocationFlags.verbose = opts.Verbose
	ropts, err := opts.revocationFlags.options(e, revocation.Hard, nil, 0)
	if err != nil {
		return err
	}
	groups, err := opts.groups()
	if err != nil {
		return err
	}
	at := e.Now()
	failed := 0
	for _, g := range groups {
		o, err := revocation.Refresh(context.Background(), g.cert, g.issuer, at, ropts)
		if err != nil {
			failed++
			reportError(e.Stderr, fmt.Errorf("no CRL of %s from %s: %w", holder(g.issuer),
				strings.Join(g.cert.CRLDistributionPoints, ", "), unavailableDetail(err)), false)
			continue
		}
		if o.Source == revocation.SourceCache {
			for _, f := range o.Fetches {
				if f.Err != nil {
					warn(e.Stderr, "%s: %s; the cached CRL is still current", safeText(f.URL, maxShownURL), safeText(f.Err.Error(), maxShownError))
				}
			}
		}
		if err := printCRLLine(e.Stdout, o, g.issuer); err != nil {
			return err
		}
	}
	if failed > 0 {
		writeLines(e.Stderr, hintPrefix, "checks with --offline find no current CRL for those certificates; run crl fetch again later")
		return &silentError{code: exitTempFail}
	}
	return nil
}

// unavailableDetail is why Refresh got no CRL, without the library's prefix.
func unavailableDetail(err error) error {
	var ue *revocation.UnavailableError
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// printCRLLine writes "fetched URL (issuer): next update TIME", or "kept" for a
// cached CRL the server could not replace.
func printCRLLine(w io.Writer, o revocation.Outcome, issuer *x509.Certificate) error {
	verb := "fetched"
	if o.Source == revocation.SourceCache {
		verb = "kept"
	}
	next := "next update " + o.NextUpdate.UTC().Format(time.RFC3339)
	if o.NextUpdate.IsZero() {
		next = "no next update given"
	}
	_, err := fmt.Fprintf(w, "%s %s (%s): %s\n", verb, o.URL, holder(issuer), next)
	return err
}

// groups reads the certificates and pairs each that names a distribution
// point with its issuer, one group per issuer and list of points.
func (opts *crlFetchOptions) groups() ([]*crlGroup, error) {
	trust, err := loadCertificates("--trust", opts.Trust)
	if err != nil {
		return nil, err
	}
	inter, err := loadCertificates("--intermediates", opts.Intermediates)
	if err != nil {
		return nil, err
	}
	certs, err := loadCertificatePaths(opts.env, opts.Certs)
	if err != nil {
		return nil, err
	}
	pool := slices.Concat(trust, inter, certs)
	var out []*crlGroup
	seen := map[string]*crlGroup{}
	for _, c := range slices.Concat(certs, inter, trust) {
		if len(c.CRLDistributionPoints) == 0 || revocation.IssuedBy(c, c) {
			continue // nothing to fetch, or a self-signed root
		}
		issuer := findIssuer(c, pool)
		if issuer == nil {
			return nil, usagef([]string{"give the issuer's certificate with --intermediates or --trust"},
				"the issuer of %s (%s) is not among the certificates given", holder(c), certsel.Name(c.Issuer))
		}
		key := string(issuer.Raw) + "\x00" + strings.Join(c.CRLDistributionPoints, "\x00")
		if seen[key] != nil {
			continue
		}
		g := &crlGroup{cert: c, issuer: issuer}
		seen[key] = g
		out = append(out, g)
	}
	if len(out) == 0 {
		return nil, usagef([]string{"give the certificates whose CRLs to fetch with --certs or --intermediates: roots have none"},
			"none of the certificates given names a CRL distribution point")
	}
	return out, nil
}

// findIssuer returns the certificate of pool that signed c, or nil.
func findIssuer(c *x509.Certificate, pool []*x509.Certificate) *x509.Certificate {
	for _, p := range pool {
		if !bytes.Equal(p.Raw, c.Raw) && revocation.IssuedBy(c, p) {
			return p
		}
	}
	return nil
}

// loadCertificatePaths reads the certificates of each --certs path: a file, or
// the certificate files (by extension) of a directory.
func loadCertificatePaths(e *env, paths []string) ([]*x509.Certificate, error) {
	var files []string
	for _, p := range paths {
		// --certs of cert-match and encrypt also takes directories and smart
		// cards, and a config file's "certs" may name them: not files here.
		if lp := strings.ToLower(p); strings.HasPrefix(lp, "ldap://") || strings.HasPrefix(lp, "ldaps://") || strings.HasPrefix(lp, "pkcs11:") {
			warn(e.Stderr, "--certs %q skipped: crl fetch reads certificate files and directories only", p)
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		for _, de := range entries {
			ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(de.Name())), ".")
			if de.Type().IsRegular() && slices.Contains(certExts, ext) {
				files = append(files, filepath.Join(p, de.Name()))
			}
		}
	}
	return loadCertificates("--certs", files)
}
