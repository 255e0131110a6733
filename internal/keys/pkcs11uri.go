package keys

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// PKCS11URI is a parsed RFC 7512 "pkcs11:" URI: the path attributes choose
// the token and the object on it, the query attributes say where the module
// and the PIN are. Every field is the decoded value; "" (nil for ID) means
// the URI does not constrain it.
type PKCS11URI struct {
	// Token attributes (RFC 7512 section 2.3: pk11-token, pk11-serial,
	// pk11-manuf, pk11-model), compared with the token's CK_TOKEN_INFO.
	Token, Serial, Manufacturer, Model string
	// SlotID, if HasSlotID, is the slot's CK_SLOT_ID (pk11-slot-id).
	SlotID    uint64
	HasSlotID bool
	// Object is the CKA_LABEL and ID the CKA_ID of the object (pk11-object,
	// pk11-id); Type is "private", "cert", "public", "secret-key" or "data".
	Object string
	ID     []byte
	Type   string
	// ModulePath is the PKCS#11 module to load (pk11-module-path); ModuleName
	// a module name (pk11-module-name), which this package records but does
	// not resolve.
	ModulePath, ModuleName string
	// PINSource names where the PIN is (pk11-pin-source): a file path or a
	// file: URI. The caller reads it; this package never does.
	PINSource string
}

// maxURILength bounds a pkcs11: URI; real ones are a few hundred bytes.
const maxURILength = 4096

// PKCS11URIError reports a pkcs11: URI that does not parse. It never holds
// the value of pin-value.
type PKCS11URIError struct {
	URI string // the URI with any pin-value removed, shortened
	Err error
}

func (e *PKCS11URIError) Error() string {
	// The detail may quote part of the URI: remove any pin-value from the
	// whole message, wherever the quoting put it.
	return redactPIN(fmt.Sprintf("keys: bad pkcs11: URI %q: %v", e.URI, e.Err))
}

func (e *PKCS11URIError) Unwrap() error { return e.Err }

// ErrPINValue is reported for a URI with a pin-value attribute: a PIN on
// the command line would show in ps(1) and shell history.
var ErrPINValue = errors.New("pin-value is not accepted: a PIN in a URI shows in ps and shell history; use pin-source")

// IsPKCS11URI reports whether s starts with the "pkcs11:" scheme
// (case-insensitively).
func IsPKCS11URI(s string) bool {
	return len(s) >= 7 && strings.EqualFold(s[:7], "pkcs11:")
}

// ParsePKCS11URI parses an RFC 7512 URI. Unknown standard attributes and
// repeated ones are errors, so that a typo never widens the match to some
// other token or key; vendor attributes ("x-…") are ignored, as the RFC
// allows. A pin-value attribute is refused with [ErrPINValue].
func ParsePKCS11URI(s string) (*PKCS11URI, error) {
	u, err := parsePKCS11URI(s)
	if err != nil {
		if indexFold(s, "pin-value") >= 0 {
			// However the parse failed, a text that mentions pin-value may
			// hold a PIN: show none of it.
			return nil, &PKCS11URIError{URI: "pkcs11:…", Err: ErrPINValue}
		}
		return nil, &PKCS11URIError{URI: clip(s), Err: err}
	}
	return u, nil
}

func parsePKCS11URI(s string) (*PKCS11URI, error) {
	if len(s) > maxURILength {
		return nil, fmt.Errorf("longer than %d bytes", maxURILength)
	}
	if !IsPKCS11URI(s) {
		return nil, errors.New(`it does not start with "pkcs11:"`)
	}
	rest := s[len("pkcs11:"):]
	path, query, _ := strings.Cut(rest, "?")
	u := &PKCS11URI{}
	seen := map[string]bool{}
	for _, part := range []struct {
		text, sep string
		set       func(*PKCS11URI, string, string) (bool, error)
	}{{path, ";", setPathAttr}, {query, "&", setQueryAttr}} {
		if part.text == "" {
			continue
		}
		for attr := range strings.SplitSeq(part.text, part.sep) {
			name, raw, ok := strings.Cut(attr, "=")
			if !ok || name == "" {
				return nil, fmt.Errorf("attribute %q is not name=value", clip(attr))
			}
			name = strings.ToLower(name)
			if strings.HasPrefix(name, "x-") {
				continue
			}
			if seen[name] {
				return nil, fmt.Errorf("attribute %s appears twice", name)
			}
			seen[name] = true
			if name == "pin-value" {
				return nil, ErrPINValue
			}
			val, err := pctDecode(raw)
			if err != nil {
				return nil, fmt.Errorf("attribute %s: %w", name, err)
			}
			known, err := part.set(u, name, val)
			if err != nil {
				return nil, fmt.Errorf("attribute %s: %w", name, err)
			}
			if !known {
				return nil, fmt.Errorf("unknown attribute %q", clip(name))
			}
		}
	}
	return u, nil
}

// setPathAttr sets a path attribute; it reports false for an unknown name.
func setPathAttr(u *PKCS11URI, name, val string) (bool, error) {
	switch name {
	case "token":
		u.Token = val
	case "serial":
		u.Serial = val
	case "manufacturer":
		u.Manufacturer = val
	case "model":
		u.Model = val
	case "object":
		u.Object = val
	case "id":
		u.ID = []byte(val)
	case "type":
		switch val {
		case "private", "cert", "public", "secret-key", "data":
		default:
			return true, fmt.Errorf("want private, cert, public, secret-key or data, got %q", clip(val))
		}
		u.Type = val
	case "slot-id":
		n, err := strconv.ParseUint(val, 10, 64)
		if err != nil {
			return true, fmt.Errorf("want a decimal number, got %q", clip(val))
		}
		u.SlotID, u.HasSlotID = n, true
	case "library-manufacturer", "library-description", "library-version",
		"slot-manufacturer", "slot-description":
		// Module and slot descriptions: accepted, not needed to find a token
		// once the module is named.
	default:
		return false, nil
	}
	return true, nil
}

// setQueryAttr sets a query attribute; it reports false for an unknown name.
func setQueryAttr(u *PKCS11URI, name, val string) (bool, error) {
	switch name {
	case "module-path":
		if val == "" {
			return true, errors.New("empty")
		}
		u.ModulePath = val
	case "module-name":
		u.ModuleName = val
	case "pin-source":
		if val == "" {
			return true, errors.New("empty")
		}
		u.PINSource = val
	default:
		return false, nil
	}
	return true, nil
}

// pctDecode decodes RFC 3986 percent-encoding. Unlike net/url it leaves "+"
// alone, as RFC 7512 does.
func pctDecode(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) || unhex(s[i+1]) < 0 || unhex(s[i+2]) < 0 {
			return "", errors.New("bad percent-encoding")
		}
		b.WriteByte(byte(unhex(s[i+1])<<4 | unhex(s[i+2])))
		i += 2
	}
	return b.String(), nil
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// String encodes u as a pkcs11: URI, percent-encoding every byte outside
// RFC 7512's unreserved set and the id in full.
func (u *PKCS11URI) String() string {
	var path, query []string
	add := func(list *[]string, name, val string) {
		if val != "" {
			*list = append(*list, name+"="+pctEncode(val, false))
		}
	}
	add(&path, "token", u.Token)
	add(&path, "serial", u.Serial)
	add(&path, "manufacturer", u.Manufacturer)
	add(&path, "model", u.Model)
	if u.HasSlotID {
		path = append(path, "slot-id="+strconv.FormatUint(u.SlotID, 10))
	}
	add(&path, "object", u.Object)
	if u.ID != nil {
		path = append(path, "id="+pctEncode(string(u.ID), true))
	}
	add(&path, "type", u.Type)
	add(&query, "module-path", u.ModulePath)
	add(&query, "module-name", u.ModuleName)
	add(&query, "pin-source", u.PINSource)
	s := "pkcs11:" + strings.Join(path, ";")
	if len(query) > 0 {
		s += "?" + strings.Join(query, "&")
	}
	return s
}

// TokenString is u without its query (module and PIN source): the part
// that names the token and object, for messages.
func (u *PKCS11URI) TokenString() string {
	v := *u
	v.ModulePath, v.ModuleName, v.PINSource = "", "", ""
	return v.String()
}

func pctEncode(s string, all bool) string {
	const hexdigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !all && ('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("-._~:[]@!$'()*+,/", c) >= 0) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexdigits[c>>4])
		b.WriteByte(hexdigits[c&15])
	}
	return b.String()
}

// redactPIN returns s with the value after any "pin-value=" removed.
func redactPIN(s string) string {
	i := indexFold(s, "pin-value=")
	if i < 0 {
		return s
	}
	j := i + len("pin-value=")
	end := strings.IndexAny(s[j:], "&;?")
	if end < 0 {
		return s[:j] + "…"
	}
	return s[:j] + "…" + redactPIN(s[j+end:])
}

// clip shortens s for an error message.
func clip(s string) string {
	const max = 200
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// indexFold is strings.Index ignoring ASCII case; unlike strings.ToLower it
// keeps byte offsets.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}
