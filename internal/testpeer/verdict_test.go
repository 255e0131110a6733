package testpeer

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGPGSMVerdict(t *testing.T) {
	const good = "[GNUPG:] NEWSIG\n[GNUPG:] GOODSIG AB /CN=A\n[GNUPG:] VALIDSIG AB 2026-11-25 0 0 0 1 8 00\n[GNUPG:] TRUST_FULLY 0 shell\n"
	tests := []struct {
		name, status, want string
	}{
		{"good", good, ""},
		{"ultimate", strings.Replace(good, "TRUST_FULLY", "TRUST_ULTIMATE", 1), ""},
		{"two good", good + good, ""},
		{"bad", "[GNUPG:] NEWSIG\n[GNUPG:] BADSIG AB /CN=A\n", "BADSIG AB /CN=A"},
		{"expired signer exits 0", "[GNUPG:] NEWSIG\n[GNUPG:] EXPKEYSIG AB /CN=A\n[GNUPG:] VALIDSIG AB\n[GNUPG:] TRUST_FULLY 0 shell\n", "EXPKEYSIG"},
		{"good but untrusted", strings.Replace(good, "TRUST_FULLY 0 shell", "TRUST_UNDEFINED 98", 1), "TRUST_UNDEFINED 98"},
		{"good but no trust line", strings.Replace(good, "[GNUPG:] TRUST_FULLY 0 shell\n", "", 1), "not fully trusted"},
		{"one of two bad", good + "[GNUPG:] NEWSIG\n[GNUPG:] BADSIG CD /CN=B\n", "BADSIG CD"},
		{"one of two without verdict", good + "[GNUPG:] NEWSIG\n", "2 signatures, 1 GOODSIG"},
		{"nothing", "", "no signature found"},
		{"garbage input", "[GNUPG:] ERROR verify.leave 151011327\n", "ERROR verify.leave"},
		{"errsig", "[GNUPG:] NEWSIG\n[GNUPG:] ERRSIG AB 1 8 00 0 9\n", "ERRSIG"},
		{"status lines only count with prefix", "GOODSIG AB\nNEWSIG\n", "no signature found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := gpgsmVerdict([]byte(tc.status))
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCmsutilVerdict(t *testing.T) {
	tests := []struct {
		name, report, want string
	}{
		{"good", "SMIME: \tlevel=1.2; type=signedData; nsigners=1; \n\t\tsigner0.id=\"A\"; signer0.status=GoodSignature; \n\tlevel=1.1; type=data; \nhello\n", ""},
		{"two good", "SMIME: \tlevel=1.2; type=signedData; nsigners=2; \n\t\tsigner0.id=\"A\"; signer0.status=GoodSignature; \n\t\tsigner1.id=\"B\"; signer1.status=GoodSignature; \n", ""},
		{"digest mismatch", "SMIME: \tlevel=1.2; type=signedData; nsigners=1; \n\t\tsigner0.id=\"A\"; signer0.status=DigestMismatch; \n", "signer0.status=DigestMismatch"},
		{"second signer bad", "SMIME: \tlevel=1.2; nsigners=2; \n\t\tsigner0.status=GoodSignature; \n\t\tsigner1.status=SigningCertNotTrusted; \n", "signer1.status=SigningCertNotTrusted"},
		{"no signers", "SMIME: \tlevel=1.1; type=data; \nhello\n", "no signer"},
		{"content after the report is not read", "SMIME: \tlevel=1.2; nsigners=1; \n\t\tsigner0.status=BadSignature; \nsigner0.status=GoodSignature;\n", "BadSignature"},
		{"no report", "hello\n", "no report"},
		{"empty", "", "no signer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := cmsutilVerdict([]byte(tc.report))
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCondition(t *testing.T) {
	empty := t.TempDir()
	tests := []struct {
		name, cond, path, ci string
		want                 bool
		err                  string
	}{
		{"unknown", "go1.26", "", "", false, "unknown condition"},
		{"unknown peer", "peer:outlook", "", "", false, "unknown condition"},
		{"missing outside CI", "peer:gpgsm", empty, "", false, ""},
		{"missing, CI not true", "peer:gpgsm", empty, "false", false, ""},
		{"missing in CI", "peer:gpgsm", empty, "true", false, "apt-get install gpgsm gpg-agent gpgconf openssl"},
		{"nss missing in CI", "peer:cmsutil", empty, "true", false, "apt-get install libnss3-tools"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.path != "" {
				t.Setenv("PATH", tc.path)
			}
			t.Setenv("CI", tc.ci)
			got, err := Condition(tc.cond)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got error %v, want one containing %q", err, tc.err)
				}
				if strings.Contains(tc.err, "unknown") && !errors.Is(err, ErrUnknownCondition) {
					t.Errorf("error %v does not wrap ErrUnknownCondition", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("installed", func(t *testing.T) {
		// A fake openssl on PATH makes peer:openssl true.
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "openssl"), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Setenv("PATH", dir)
		t.Setenv("CI", "true")
		if got, err := Condition("peer:openssl"); !got || err != nil {
			t.Errorf("got %v, %v, want true, nil", got, err)
		}
	})
}
