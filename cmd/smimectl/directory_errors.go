package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/smimectl/smimectl/pkg/directory"
)

// Wording of directory failures (report.go's describers), for the error cases
// of the guide's ListSMIMECerts (Appendix C "Troubleshooting").

func describePartialError(e *partialError) (string, []string) {
	return e.Error(), []string{"each failed user's error is above; those users were left as they were, so run again once the cause is fixed"}
}

func describeDirectoryUnavailable(e *directory.UnavailableError) (string, []string) {
	return "the directory is unavailable: " + libraryDetail(e.Err) + " (" + e.Op + ")",
		[]string{"check --ldap, the network and the server; try again later, or raise --timeout"}
}

func describeDirectoryPermission(e *directory.PermissionError) (string, []string) {
	what := "no permission to " + string(e.Op)
	if e.DN != "" {
		what += " " + e.DN
	}
	if e.Op == directory.OpBind {
		return "the directory refused the bind as " + e.DN + ": " + libraryDetail(e.Err),
			[]string{"check --ldap-bind-dn and the password in --ldap-pass-file or --ldap-pass-env"}
	}
	return "the directory refused: " + what,
		[]string{"bind with --ldap-bind-dn as an account allowed to read the users (and, to change them, write their certificate attributes)"}
}

func describeNoNamingContext(err error) (string, []string, bool) {
	if !errors.Is(err, directory.ErrNoNamingContext) {
		return "", nil, false
	}
	return "the directory names no default naming context to search: " + libraryDetail(err),
		[]string{"give the base DN to search with --base, e.g. --base dc=example,dc=com"}, true
}

func describeNoEquality(err error) (string, []string, bool) {
	if !errors.Is(err, directory.ErrNoEquality) {
		return "", nil, false
	}
	return "the directory can't delete single values of the attribute: its schema has no equality matching rule for it",
		[]string{"give the attribute an equality rule in the server's schema (EQUALITY octetStringMatch, as Active Directory has); smimectl never deletes the whole attribute instead"}, true
}

func describeRefusedError(e *directory.RefusedError) (string, []string) {
	return "refusing to publish: " + strings.Join(e.Reasons, "; "),
		[]string{"publish the user's own, current certificates, or add --force if you are sure"}
}

func describeTooLarge(err error) (string, []string, bool) {
	if !errors.Is(err, directory.ErrResponseTooLarge) {
		return "", nil, false
	}
	return libraryDetail(err), []string{"a page of a search may not exceed 64 MiB; lower --page-size, or check that the server is the directory you meant"}, true
}

func describeNoSuchBase(e *directory.NoSuchBaseError) (string, []string) {
	return fmt.Sprintf("the directory has no entry %s to search below, or does not let this bind read it", termSafe(e.Base)),
		[]string{"check --base (or the URL's path), and bind with --ldap-bind-dn as an account allowed to read the users"}
}
