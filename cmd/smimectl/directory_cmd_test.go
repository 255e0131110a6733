package main

import (
	"reflect"
	"testing"
	"time"

	"github.com/smimectl/smimectl/pkg/directory"
)

// dirDefaults are the directoryFlags of a command line that gives only --ldap.
var dirDefaults = directoryFlags{URL: "ldap://dc", Timeout: directory.DefaultTimeout, Attribute: "userSMIMECertificate", PageSize: directory.DefaultPageSize}

// TestNewDirectoryCmds: argv -> options for directory list, clean and
// publish; bad enum values are usage errors (issue #14 items 1-3).
func TestNewDirectoryCmds(t *testing.T) {
	all := directoryFlags{URL: "ldaps://dc:636/dc=x", Base: "ou=people,dc=x", BindDN: "cn=a", PassFile: "pw", CA: []string{"ca.pem"}, StartTLS: true,
		Timeout: 5 * time.Second, Attribute: "userCertificate", Filter: "(ou=x)", PageSize: 100, Trust: []string{"r.crt"}, Inter: []string{"i.crt"}, JSON: true}
	allArgs := []string{"--ldap", "ldaps://dc:636/dc=x", "--base", "ou=people,dc=x", "--ldap-bind-dn", "cn=a", "--ldap-pass-file", "pw", "--ldap-ca", "ca.pem",
		"--ldap-starttls", "--timeout", "5s", "--attribute", "userCertificate", "--filter", "(ou=x)", "--page-size", "100", "--trust", "r.crt",
		"--intermediates", "i.crt", "--json"}
	t.Run("list", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			argv []string
			code int
			want directoryListOptions
		}{
			{"defaults", []string{"--ldap", "ldap://dc"}, exitOK, directoryListOptions{directoryFlags: dirDefaults}},
			{"everything", append(allArgs, "-v"), exitOK, directoryListOptions{directoryFlags: all, Verbose: true}},
			{"bad attribute", []string{"--attribute", "mail"}, exitUsage, directoryListOptions{}},
			{"argument", []string{"/remove"}, exitUsage, directoryListOptions{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e, _, _ := testEnv("", nil)
				var got *directoryListOptions
				code := execCmd(t, newDirectoryListCmd(e, func(o *directoryListOptions) error { got = o; return nil }), tc.argv)
				if code != tc.code {
					t.Fatalf("status %d, want %d", code, tc.code)
				}
				if code == exitOK {
					got.env = nil
					if !reflect.DeepEqual(*got, tc.want) {
						t.Errorf("got %+v, want %+v", *got, tc.want)
					}
				}
			})
		}
	})
	t.Run("clean", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			argv []string
			code int
			want directoryCleanOptions
		}{
			{"defaults", []string{"--ldap", "ldap://dc"}, exitOK, directoryCleanOptions{directoryFlags: dirDefaults}},
			{"everything", append(allArgs, "--only", "expired", "--apply", "-y", "--backup", "b.ldif", "-v"), exitOK,
				directoryCleanOptions{directoryFlags: all, Only: directory.OnlyExpired, onlySet: true, Apply: true, Yes: true, Backup: "b.ldif", Verbose: true}},
			{"bad only", []string{"--only", "old"}, exitUsage, directoryCleanOptions{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e, _, _ := testEnv("", nil)
				var got *directoryCleanOptions
				code := execCmd(t, newDirectoryCleanCmd(e, func(o *directoryCleanOptions) error { got = o; return nil }), tc.argv)
				if code != tc.code {
					t.Fatalf("status %d, want %d", code, tc.code)
				}
				if code == exitOK {
					got.env = nil
					if !reflect.DeepEqual(*got, tc.want) {
						t.Errorf("got %+v, want %+v", *got, tc.want)
					}
				}
			})
		}
	})
	t.Run("publish", func(t *testing.T) {
		e, _, _ := testEnv("", nil)
		var got *directoryPublishOptions
		code := execCmd(t, newDirectoryPublishCmd(e, func(o *directoryPublishOptions) error { got = o; return nil }),
			[]string{"--ldap", "ldap://dc", "--cert", "a.crt", "--cert", "b.crt", "--p12", "c.p12", "--pass-env", "P", "--dn", "uid=a", "--replace", "--force", "--apply", "--yes", "--backup", "p.ldif"})
		if code != exitOK {
			t.Fatalf("status %d", code)
		}
		got.env = nil
		want := directoryPublishOptions{directoryFlags: dirDefaults, Certs: []string{"a.crt", "b.crt"}, P12s: []string{"c.p12"}, PassEnv: "P", DN: "uid=a",
			Replace: true, Force: true, Apply: true, Yes: true, Backup: "p.ldif"}
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("got %+v, want %+v", *got, want)
		}
	})
	t.Run("certs-only", func(t *testing.T) {
		e, _, _ := testEnv("", nil)
		var got *certsOnlyOptions
		if code := execCmd(t, newCertsOnlyCmd(e, func(o *certsOnlyOptions) error { got = o; return nil }), []string{"--cert", "a.crt", "-o", "x.p7c", "--der"}); code != exitOK {
			t.Fatalf("status %d", code)
		}
		got.env = nil
		if want := (certsOnlyOptions{Certs: []string{"a.crt"}, Out: "x.p7c", DER: true}); !reflect.DeepEqual(*got, want) {
			t.Errorf("got %+v, want %+v", *got, want)
		}
	})
}
