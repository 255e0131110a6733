// Package directory maintains the certificates users publish in a directory:
// the guide's Appendix C "Digital Certificates Cleanup Script" (ListSMIMECerts:
// find the users whose userSMIMECertificate holds certificates, list them,
// remove the values) and Chapter 6's "Publish to GAL" (write a user's signing
// and encryption certificates to their entry), done so that no value is lost.
//
// [Scan] reads every user below a base DN with a paged search and hands each
// one, with its values parsed and judged ([Value]), to a callback. [PlanClean]
// and [PlanPublish] turn what was read into [Change]s, each one LDAP modify
// of one entry with the modify that undoes it; [Apply] records every change's
// undo in a [Backup] before it sends the first modify, sends one modify per
// entry (RFC 4511 section 4.6 makes each atomic, so no entry is ever left
// half-changed), carries on past an entry that fails, and records the undo of
// the changes that were made, replacing the first record. [BackupFile] keeps
// the undo as an LDIF file that ldapmodify restores.
//
// Values are removed one by one (a modify "delete" naming the value), never
// by deleting the attribute, so a value written meanwhile by someone else is
// never lost; if the value changed meanwhile, the server refuses the whole
// modify and the entry is reported, unchanged. The server's schema must give
// the attribute an equality rule for that: Active Directory's
// userSMIMECertificate (octet string) has one, OpenLDAP's stock
// inetorgperson.schema (binary syntax) has none, and such a server refuses
// with [ErrNoEquality].
//
// The directory is reached through [Conn], a small interface: [Dial] returns
// one over LDAP (ldap://, ldaps://, StartTLS; anonymous or simple bind), and
// tests use their own. The package never follows referrals: a search that
// meets them reports them in [Summary.Referrals].
package directory

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Attribute names (RFC 2798 userSMIMECertificate, RFC 4523 userCertificate,
// which OpenLDAP requires with the ;binary option).
const (
	AttrSMIME = "userSMIMECertificate"
	AttrCert  = "userCertificate;binary"
)

// Entry is a directory entry as read: its DN and the attributes asked for.
type Entry struct {
	DN    string
	Attrs map[string][][]byte
}

// Get returns the values of the attribute name, compared without regard to
// case and to a ";binary" option on either side.
func (e *Entry) Get(name string) [][]byte {
	want := baseName(name)
	for k, v := range e.Attrs {
		if baseName(k) == want {
			return v
		}
	}
	return nil
}

// First returns the first value of name as a string, or "".
func (e *Entry) First(name string) string {
	if v := e.Get(name); len(v) > 0 {
		return string(v[0])
	}
	return ""
}

func baseName(name string) string {
	name = strings.ToLower(name)
	name, _, _ = strings.Cut(name, ";")
	return name
}

// ModOp is the operation of a [Mod] (RFC 4511 section 4.6).
type ModOp int

const (
	// Add adds the values.
	Add ModOp = iota
	// Delete deletes the values named; with no values, the attribute.
	Delete
	// Replace replaces every value with the values given; with none, it
	// deletes the attribute.
	Replace
)

func (op ModOp) String() string {
	switch op {
	case Add:
		return "add"
	case Delete:
		return "delete"
	case Replace:
		return "replace"
	}
	return fmt.Sprintf("ModOp(%d)", int(op))
}

// Mod is one modification of an LDAP modify operation.
type Mod struct {
	Op     ModOp
	Attr   string
	Values [][]byte
}

// SearchRequest is a paged subtree search.
type SearchRequest struct {
	Base   string
	Filter string
	Attrs  []string
	// PageSize is the number of entries asked for per page (RFC 2696); zero
	// means DefaultPageSize.
	PageSize int
}

// DefaultPageSize is the page size of a search whose PageSize is zero.
const DefaultPageSize = 500

// Conn is a directory. Implementations must be safe for one caller at a time.
type Conn interface {
	// RootDSE reads the root DSE (namingContexts, defaultNamingContext).
	RootDSE(ctx context.Context) (*Entry, error)
	// Search runs req page by page and calls fn for each entry, stopping at
	// fn's first error. It returns the search continuation references
	// (referrals) it met, which it does not follow.
	Search(ctx context.Context, req SearchRequest, fn func(*Entry) error) (referrals []string, err error)
	// Read reads one entry (a base search of dn), nil if there is none.
	Read(ctx context.Context, dn string, attrs []string) (*Entry, error)
	// Modify applies mods to dn as one operation.
	Modify(ctx context.Context, dn string, mods []Mod) error
}

// ErrNoNamingContext means the server's root DSE names no naming context to
// search below: the base must be given.
var ErrNoNamingContext = errors.New("directory: the server's root DSE names no default naming context")

// ErrNoEquality means the server can't delete one value of the attribute
// because its schema gives the attribute no equality matching rule (OpenLDAP's
// stock userSMIMECertificate).
var ErrNoEquality = errors.New("directory: the server can't delete single values of this attribute: its schema has no equality matching rule for it")

// UnavailableError is a directory that could not be reached or did not
// answer in time: worth trying again later.
type UnavailableError struct {
	Op  string // "connecting", "searching", ...
	Err error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("directory: %s: the server is unreachable or did not answer: %v", e.Op, e.Err)
}
func (e *UnavailableError) Unwrap() error { return e.Err }

// PermissionError is an operation the server refused for lack of rights, or
// a bind it refused (wrong DN or password): Op is then [OpBind].
type PermissionError struct {
	Op  Operation // what was refused
	DN  string    // the entry, if any
	Err error
}

// Operation names an operation the server may refuse, as "no permission to
// <Operation> <DN>" reads.
type Operation string

// The operations of a [PermissionError].
const (
	OpBind        Operation = "bind as"
	OpConnect     Operation = "connect"
	OpStartTLS    Operation = "start TLS"
	OpReadRootDSE Operation = "read the root DSE"
	OpRead        Operation = "read"
	OpSearch      Operation = "search below"
	OpModify      Operation = "modify"
)

func (e *PermissionError) Error() string {
	if e.DN != "" {
		return fmt.Sprintf("directory: %s %q: permission denied: %v", e.Op, e.DN, e.Err)
	}
	return fmt.Sprintf("directory: %s: permission denied: %v", e.Op, e.Err)
}
func (e *PermissionError) Unwrap() error { return e.Err }

// NoSuchBaseError is a search base the server says does not exist: a wrong
// DN, or one the bind may not see (OpenLDAP hides what it may not disclose).
type NoSuchBaseError struct {
	Base string
	Err  error
}

func (e *NoSuchBaseError) Error() string {
	return fmt.Sprintf("directory: no entry %q, or no permission to read it: %v", e.Base, e.Err)
}
func (e *NoSuchBaseError) Unwrap() error { return e.Err }

// ReferralError is a search or operation the server referred elsewhere
// (result code referral); it is not followed.
type ReferralError struct {
	Op   string
	URLs []string
}

func (e *ReferralError) Error() string {
	return fmt.Sprintf("directory: %s: the server referred the request to %s, which is not followed", e.Op, strings.Join(e.URLs, ", "))
}
