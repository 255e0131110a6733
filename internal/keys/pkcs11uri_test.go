package keys

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Issue #12: RFC 7512 pkcs11: URIs.
func TestParsePKCS11URI(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     *PKCS11URI
		err      string // substring of the error; "" for success
	}{
		{"token and object", "pkcs11:token=My%20Card;object=Sign%20key;type=private",
			&PKCS11URI{Token: "My Card", Object: "Sign key", Type: "private"}, ""},
		{"RFC 7512 example", "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;manufacturer=Snake%20Oil,%20Inc.;model=1.0;object=my-certificate;type=cert;id=%69%95%3E%5C%F4%BD%EC%91;serial=?pin-source=file:/etc/token_pin",
			&PKCS11URI{Token: "The Software PKCS#11 Softtoken", Manufacturer: "Snake Oil, Inc.", Model: "1.0", Object: "my-certificate",
				Type: "cert", ID: []byte{0x69, 0x95, 0x3e, 0x5c, 0xf4, 0xbd, 0xec, 0x91}, PINSource: "file:/etc/token_pin"}, ""},
		{"module and slot", "PKCS11:slot-id=3;serial=0123?module-path=/usr/lib/softhsm/libsofthsm2.so&x-vendor=1",
			&PKCS11URI{SlotID: 3, HasSlotID: true, Serial: "0123", ModulePath: "/usr/lib/softhsm/libsofthsm2.so"}, ""},
		{"plus is literal", "pkcs11:object=a+b", &PKCS11URI{Object: "a+b"}, ""},
		{"empty", "pkcs11:", &PKCS11URI{}, ""},
		{"not pkcs11", "file:/key.pem", nil, `does not start with "pkcs11:"`},
		{"pin-value refused", "pkcs11:token=a?pin-value=123456", nil, "pin-value is not accepted"},
		{"unknown attribute", "pkcs11:tokn=a", nil, `unknown attribute "tokn"`},
		{"repeated attribute", "pkcs11:token=a;token=b", nil, "appears twice"},
		{"bad escape", "pkcs11:object=%4", nil, "bad percent-encoding"},
		{"bad type", "pkcs11:type=key", nil, "want private, cert"},
		{"bad slot", "pkcs11:slot-id=-1", nil, "decimal number"},
		{"no value", "pkcs11:token", nil, "not name=value"},
		{"too long", "pkcs11:object=" + strings.Repeat("a", maxURILength), nil, "longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePKCS11URI(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want an error with %q", err, tc.err)
				}
				var ue *PKCS11URIError
				if !errors.As(err, &ue) || got != nil {
					t.Errorf("got %v, %T; want nil and *PKCS11URIError", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestPKCS11URIErrorHidesPIN(t *testing.T) {
	for _, in := range []string{
		"pkcs11:token=a?pin-value=s3cr3t-P1N",
		"pkcs11:token=a?PIN-VALUE=s3cr3t-P1N&module-path=/x",
		"pkcs11:token=a;pin-value=s3cr3t-P1N",
	} {
		_, err := ParsePKCS11URI(in)
		if err == nil {
			t.Fatalf("%s: parsed", in)
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%s: the error %q holds the PIN", in, err)
		}
	}
}

// pinValueRefused is the whole error for any text mentioning pin-value.
var pinValueRefused = (&PKCS11URIError{URI: "pkcs11:…", Err: ErrPINValue}).Error()

// FuzzParsePKCS11URI: no input panics; a URI that parses prints as one that
// parses to the same value; a pin-value never reaches the error text.
func FuzzParsePKCS11URI(f *testing.F) {
	for _, s := range []string{
		"pkcs11:token=My%20Card;object=Sign%20key;type=private;id=%01%02",
		"pkcs11:slot-id=3;serial=0123?module-path=/usr/lib/x.so&pin-source=file:/p",
		"pkcs11:token=a?pin-value=1234",
		"pkcs11:object=%zz", "pkcs11:;;", "pkcs11:?&", "pkcs11:x-a=b;token=%00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParsePKCS11URI(s)
		if err != nil {
			if u != nil {
				t.Fatal("a URI and an error")
			}
			// A text that mentions pin-value gets one fixed error, which
			// quotes nothing of the input. (Looking for the value in the
			// error instead finds values that are words of that fixed
			// text, such as "in-v".)
			if indexFold(s, "pin-value") >= 0 && err.Error() != pinValueRefused {
				t.Fatalf("the error for a text with a pin-value is %q, want the fixed %q", err, pinValueRefused)
			}
			return
		}
		if len(u.String()) > maxURILength {
			return // encoding can triple the length past the bound
		}
		again, err := ParsePKCS11URI(u.String())
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", s, u.String(), err)
		}
		if !reflect.DeepEqual(u, again) && !(bytes.Equal(u.ID, again.ID) && len(u.ID) == 0) {
			t.Fatalf("%q: %+v printed as %q parses to %+v", s, u, u.String(), again)
		}
	})
}
