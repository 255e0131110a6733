//go:build cgo

package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sync"

	"github.com/miekg/pkcs11"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/smimectl/smimectl/internal/kem"
)

// module is the part of *pkcs11.Ctx this file calls: the seam through which
// tests count sessions and check that the module is finalised.
type module interface {
	Initialize(...pkcs11.InitializeOption) error
	Finalize() error
	Destroy()
	GetSlotList(tokenPresent bool) ([]uint, error)
	GetTokenInfo(slotID uint) (pkcs11.TokenInfo, error)
	OpenSession(slotID uint, flags uint) (pkcs11.SessionHandle, error)
	CloseSession(sh pkcs11.SessionHandle) error
	Login(sh pkcs11.SessionHandle, userType uint, pin string) error
	Logout(sh pkcs11.SessionHandle) error
	FindObjectsInit(sh pkcs11.SessionHandle, temp []*pkcs11.Attribute) error
	FindObjects(sh pkcs11.SessionHandle, max int) ([]pkcs11.ObjectHandle, bool, error)
	FindObjectsFinal(sh pkcs11.SessionHandle) error
	GetAttributeValue(sh pkcs11.SessionHandle, o pkcs11.ObjectHandle, a []*pkcs11.Attribute) ([]*pkcs11.Attribute, error)
	SignInit(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, o pkcs11.ObjectHandle) error
	Sign(sh pkcs11.SessionHandle, message []byte) ([]byte, error)
	DecryptInit(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, o pkcs11.ObjectHandle) error
	Decrypt(sh pkcs11.SessionHandle, cipher []byte) ([]byte, error)
	DeriveKey(sh pkcs11.SessionHandle, m []*pkcs11.Mechanism, basekey pkcs11.ObjectHandle, a []*pkcs11.Attribute) (pkcs11.ObjectHandle, error)
	DestroyObject(sh pkcs11.SessionHandle, oh pkcs11.ObjectHandle) error
}

// moduleHook, if set, wraps the loaded module (tests).
type moduleHook func(module) module

// maxObjects bounds how many objects one search reads from a token.
const maxObjects = 1000

// Token is an open session on a PKCS#11 token, logged in if a PIN source
// was given. Its keys are usable until Close. A Token is safe for
// concurrent use; its operations run one at a time.
type Token struct {
	mu       sync.Mutex
	mod      module
	sh       pkcs11.SessionHandle
	uri      *PKCS11URI
	label    string // the token's label
	loggedIn bool
	pin      []byte // kept for keys that need a login per use (CKA_ALWAYS_AUTHENTICATE)
	closed   bool
	owner    bool // this Token initialised the module and finalises it
}

// OpenToken loads the module, finds the one present token that u names and
// opens a session on it, logged in with opts.PIN if it is set. The caller
// must call Close; on error nothing stays open. A token that is not present
// is a [*TokenNotFoundError]; a refused PIN [ErrIncorrectPIN] (tried once).
func OpenToken(u *PKCS11URI, opts TokenOptions) (*Token, error) {
	path := opts.ModulePath
	if path == "" {
		path = u.ModulePath
	}
	if path == "" {
		return nil, errors.New("keys: no PKCS#11 module named (module-path in the URI)")
	}
	ctx := pkcs11.New(path)
	if ctx == nil {
		return nil, &TokenError{Op: "loading module", Err: fmt.Errorf("can't load %q", path)}
	}
	var mod module = ctx
	if opts.hook != nil {
		mod = opts.hook(mod)
	}
	owner := true
	if err := mod.Initialize(); err != nil {
		var e pkcs11.Error
		if !errors.As(err, &e) || e != pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED {
			mod.Destroy()
			return nil, &TokenError{Op: "initialising module " + path, Err: err}
		}
		// Another Token of this process (triple-wrap's second signer)
		// initialised the module: it finalises it, after this one is
		// closed.
		owner = false
	}
	t := &Token{mod: mod, uri: u, owner: owner}
	if err := t.open(opts); err != nil {
		return nil, errors.Join(err, t.Close())
	}
	return t, nil
}

// open finds the token, opens the session and logs in.
func (t *Token) open(opts TokenOptions) error {
	slot, info, err := t.findSlot()
	if err != nil {
		return err
	}
	t.label = info.Label
	sh, err := t.mod.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		return &TokenError{Op: "opening a session", Err: err}
	}
	t.sh = sh
	t.closed = false
	if opts.PIN == nil {
		return nil
	}
	var pin []byte
	if info.Flags&pkcs11.CKF_PROTECTED_AUTHENTICATION_PATH == 0 {
		if pin, err = opts.PIN(); err != nil {
			return err
		}
	}
	if err := t.login(pkcs11.CKU_USER, pin); err != nil {
		clear(pin)
		return err
	}
	t.loggedIn, t.pin = true, pin
	return nil
}

// login logs in as userType; PIN errors become ErrIncorrectPIN/ErrPINLocked.
func (t *Token) login(userType uint, pin []byte) error {
	err := t.mod.Login(t.sh, userType, string(pin))
	var e pkcs11.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &e) && e == pkcs11.CKR_USER_ALREADY_LOGGED_IN:
		return nil
	case errors.As(err, &e) && (e == pkcs11.CKR_PIN_INCORRECT || e == pkcs11.CKR_PIN_LEN_RANGE || e == pkcs11.CKR_PIN_INVALID):
		return fmt.Errorf("%w (token %q)", ErrIncorrectPIN, t.label)
	case errors.As(err, &e) && e == pkcs11.CKR_PIN_LOCKED:
		return fmt.Errorf("%w (token %q)", ErrPINLocked, t.label)
	}
	return &TokenError{Op: "logging in", Err: err}
}

// findSlot returns the one present token matching t.uri.
func (t *Token) findSlot() (uint, pkcs11.TokenInfo, error) {
	slots, err := t.mod.GetSlotList(true)
	if err != nil {
		return 0, pkcs11.TokenInfo{}, &TokenError{Op: "listing slots", Err: err}
	}
	u := t.uri
	var present []string
	var match []uint
	var infos []pkcs11.TokenInfo
	for _, s := range slots {
		info, err := t.mod.GetTokenInfo(s)
		if err != nil || info.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 {
			continue // a card that went away between the calls, or a blank one
		}
		present = append(present, info.Label)
		if u.HasSlotID && uint64(s) != u.SlotID ||
			u.Token != "" && info.Label != u.Token ||
			u.Serial != "" && info.SerialNumber != u.Serial ||
			u.Manufacturer != "" && info.ManufacturerID != u.Manufacturer ||
			u.Model != "" && info.Model != u.Model {
			continue
		}
		match = append(match, s)
		infos = append(infos, info)
	}
	switch len(match) {
	case 0:
		return 0, pkcs11.TokenInfo{}, &TokenNotFoundError{URI: u.TokenString(), Present: present}
	case 1:
		return match[0], infos[0], nil
	}
	var labels []string
	for _, i := range infos {
		labels = append(labels, i.Label+" (serial "+i.SerialNumber+")")
	}
	return 0, pkcs11.TokenInfo{}, fmt.Errorf("keys: %d tokens match %s: %q; name one with token= or serial=", len(match), u.TokenString(), labels)
}

// Close logs out, closes the session and finalises and unloads the module,
// whatever fails on the way. Keys of the token can't be used after Close.
func (t *Token) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.mod == nil {
		return nil
	}
	var errs []error
	if !t.closed && t.sh != 0 {
		if t.loggedIn {
			if err := t.mod.Logout(t.sh); err != nil {
				errs = append(errs, &TokenError{Op: "logging out", Err: err})
			}
		}
		if err := t.mod.CloseSession(t.sh); err != nil {
			errs = append(errs, &TokenError{Op: "closing the session", Err: err})
		}
	}
	t.closed = true
	if t.owner {
		if err := t.mod.Finalize(); err != nil {
			errs = append(errs, &TokenError{Op: "finalising the module", Err: err})
		}
	}
	t.mod.Destroy()
	t.mod = nil
	clear(t.pin)
	t.pin = nil
	return errors.Join(errs...)
}

// findObjects returns the handles of the objects matching template.
func (t *Token) findObjects(template []*pkcs11.Attribute) ([]pkcs11.ObjectHandle, error) {
	if err := t.mod.FindObjectsInit(t.sh, template); err != nil {
		return nil, &TokenError{Op: "searching objects", Err: err}
	}
	var all []pkcs11.ObjectHandle
	var ferr error
	for len(all) < maxObjects {
		hs, _, err := t.mod.FindObjects(t.sh, 100)
		if err != nil {
			ferr = &TokenError{Op: "searching objects", Err: err}
			break
		}
		if len(hs) == 0 {
			break
		}
		all = append(all, hs...)
	}
	if err := t.mod.FindObjectsFinal(t.sh); err != nil && ferr == nil {
		ferr = &TokenError{Op: "searching objects", Err: err}
	}
	return all, ferr
}

// attrs reads the attributes types of object o; an attribute the object
// lacks is nil in the result.
func (t *Token) attrs(o pkcs11.ObjectHandle, types ...uint) (map[uint][]byte, error) {
	out := map[uint][]byte{}
	for _, typ := range types {
		// One call per attribute: a module fails the whole call when one
		// attribute is missing or sensitive.
		a, err := t.mod.GetAttributeValue(t.sh, o, []*pkcs11.Attribute{pkcs11.NewAttribute(typ, nil)})
		if err != nil || len(a) != 1 {
			continue
		}
		out[typ] = a[0].Value
	}
	return out, nil
}

// objectTemplate is the search template of u's object attributes.
func objectTemplate(class uint, u *PKCS11URI) []*pkcs11.Attribute {
	tmpl := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, class)}
	if u.Object != "" {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_LABEL, u.Object))
	}
	if u.ID != nil {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_ID, u.ID))
	}
	return tmpl
}

// tokenCert is a certificate object read from the token.
type tokenCert struct {
	cert  *x509.Certificate
	id    []byte
	label string
}

// certificates reads the X.509 certificates matching tmpl.
func (t *Token) certificates(tmpl []*pkcs11.Attribute) ([]tokenCert, error) {
	tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_CERTIFICATE_TYPE, pkcs11.CKC_X_509))
	hs, err := t.findObjects(tmpl)
	if err != nil {
		return nil, err
	}
	var out []tokenCert
	for _, h := range hs {
		a, _ := t.attrs(h, pkcs11.CKA_VALUE, pkcs11.CKA_ID, pkcs11.CKA_LABEL)
		c, err := kem.ParseCertificate(a[pkcs11.CKA_VALUE])
		if err != nil {
			continue // not a certificate this program can use
		}
		out = append(out, tokenCert{cert: c, id: a[pkcs11.CKA_ID], label: string(a[pkcs11.CKA_LABEL])})
	}
	return out, nil
}

// identity finds the private key t.uri names and its certificate.
func (t *Token) identity(cert *x509.Certificate) (*Identity, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u := t.uri
	if u.Type != "" && u.Type != "private" && u.Type != "cert" {
		return nil, fmt.Errorf("keys: %s names a %s object, not a private key", u.TokenString(), u.Type)
	}
	hs, err := t.findObjects(objectTemplate(pkcs11.CKO_PRIVATE_KEY, u))
	if err != nil {
		return nil, err
	}
	switch {
	case len(hs) == 0:
		return nil, &ObjectNotFoundError{URI: u.TokenString(), What: "private key"}
	case len(hs) > 1:
		return nil, fmt.Errorf("keys: %d private keys match %s; name one with object= or id=", len(hs), u.TokenString())
	}
	a, _ := t.attrs(hs[0], pkcs11.CKA_ID, pkcs11.CKA_LABEL)
	id := &Identity{}
	all, err := t.certificates([]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE)})
	if err != nil {
		return nil, err
	}
	if cert == nil {
		for _, c := range all {
			if a[pkcs11.CKA_ID] != nil && bytes.Equal(c.id, a[pkcs11.CKA_ID]) {
				cert = c.cert
				break
			}
		}
	}
	if cert == nil {
		return nil, &ObjectNotFoundError{URI: u.TokenString(), What: "certificate with the private key's CKA_ID"}
	}
	key, err := t.newKey(hs[0], cert.PublicKey)
	if err != nil {
		return nil, err
	}
	id.Signer, id.Certificate = key, cert
	for _, c := range all {
		if c.cert.IsCA && !c.cert.Equal(cert) {
			id.Chain = append(id.Chain, c.cert)
		}
	}
	return id, nil
}

// Certificates returns every X.509 certificate on the token, each with its
// private key when the session is logged in and a key has the
// certificate's CKA_ID.
func (t *Token) Certificates() ([]TokenCert, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.mod == nil {
		return nil, errors.New("keys: the token is closed")
	}
	certs, err := t.certificates([]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE)})
	if err != nil {
		return nil, err
	}
	var out []TokenCert
	for _, c := range certs {
		cu := *t.uri
		cu.Object, cu.ID, cu.Type = c.label, c.id, "cert"
		tc := TokenCert{Certificate: c.cert, URI: cu.TokenString()}
		if t.loggedIn && len(c.id) > 0 {
			hs, err := t.findObjects([]*pkcs11.Attribute{
				pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
				pkcs11.NewAttribute(pkcs11.CKA_ID, c.id)})
			if err != nil {
				return nil, err
			}
			if len(hs) == 1 {
				if k, err := t.newKey(hs[0], c.cert.PublicKey); err == nil {
					tc.Key = k
				}
			}
		}
		out = append(out, tc)
	}
	return out, nil
}

// newKey returns the crypto.Signer for private key object h whose public
// key (from its certificate) is pub. The key object's type must agree.
func (t *Token) newKey(h pkcs11.ObjectHandle, pub crypto.PublicKey) (crypto.Signer, error) {
	a, _ := t.attrs(h, pkcs11.CKA_KEY_TYPE, pkcs11.CKA_MODULUS, pkcs11.CKA_EC_PARAMS, pkcs11.CKA_ALWAYS_AUTHENTICATE)
	kt, err := ulong(a[pkcs11.CKA_KEY_TYPE])
	if err != nil {
		return nil, fmt.Errorf("keys: reading the token key's type: %w", err)
	}
	base := tokenKey{t: t, h: h, alwaysAuth: len(a[pkcs11.CKA_ALWAYS_AUTHENTICATE]) == 1 && a[pkcs11.CKA_ALWAYS_AUTHENTICATE][0] != 0}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if kt != pkcs11.CKK_RSA {
			return nil, errKeyMismatch
		}
		if m := a[pkcs11.CKA_MODULUS]; m != nil && new(big.Int).SetBytes(m).Cmp(p.N) != 0 {
			return nil, errKeyMismatch
		}
		return &tokenRSAKey{tokenKey: base, pub: p}, nil
	case *ecdsa.PublicKey:
		if kt != pkcs11.CKK_EC {
			return nil, errKeyMismatch
		}
		if params := a[pkcs11.CKA_EC_PARAMS]; params != nil && !sameCurve(params, p.Curve) {
			return nil, errKeyMismatch
		}
		return &tokenECKey{tokenKey: base, pub: p}, nil
	}
	return nil, fmt.Errorf("keys: unsupported token key type for a %T certificate key", pub)
}

// ulong decodes a CK_ULONG attribute value (native byte order and size).
func ulong(b []byte) (uint, error) {
	switch len(b) {
	case 4, 8:
		var v uint
		// miekg/pkcs11 stores CK_ULONG in the platform's byte order; every
		// platform Go supports with cgo here is little-endian.
		for i := len(b) - 1; i >= 0; i-- {
			v = v<<8 | uint(b[i])
		}
		return v, nil
	}
	return 0, fmt.Errorf("CK_ULONG of %d bytes", len(b))
}

// curveOID returns the OID (RFC 5480) of a curve the package supports, nil
// for another. A function, not a map built at init: elliptic.P256() and the
// others set up every curve's parameters the first time one is called,
// which every run of smimectl paid at start-up (issue #13, start-up time).
func curveOID(curve elliptic.Curve) asn1.ObjectIdentifier {
	switch curve {
	case elliptic.P256():
		return asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	case elliptic.P384():
		return asn1.ObjectIdentifier{1, 3, 132, 0, 34}
	case elliptic.P521():
		return asn1.ObjectIdentifier{1, 3, 132, 0, 35}
	}
	return nil
}

// sameCurve reports whether DER ECParameters name curve.
func sameCurve(params []byte, curve elliptic.Curve) bool {
	var oid asn1.ObjectIdentifier
	if rest, err := asn1.Unmarshal(params, &oid); err != nil || len(rest) > 0 {
		return false
	}
	return oid.Equal(curveOID(curve))
}

// tokenKey is a private key object on a token.
type tokenKey struct {
	t          *Token
	h          pkcs11.ObjectHandle
	alwaysAuth bool
}

// sign runs C_SignInit/C_Sign with mech over data, logging in again for a
// key that wants a login per use (PIV's signature key).
func (k *tokenKey) sign(mech *pkcs11.Mechanism, data []byte) ([]byte, error) {
	t := k.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.mod == nil {
		return nil, errors.New("keys: the token is closed")
	}
	if err := t.mod.SignInit(t.sh, []*pkcs11.Mechanism{mech}, k.h); err != nil {
		return nil, &TokenError{Op: "signing", Err: err}
	}
	if k.alwaysAuth {
		if err := t.login(pkcs11.CKU_CONTEXT_SPECIFIC, t.pin); err != nil {
			_, _ = t.mod.Sign(t.sh, nil) // ends the operation
			return nil, err
		}
	}
	sig, err := t.mod.Sign(t.sh, data)
	if err != nil {
		return nil, &TokenError{Op: "signing", Err: err}
	}
	return sig, nil
}

// decrypt runs C_DecryptInit/C_Decrypt with mech.
func (k *tokenKey) decrypt(mech *pkcs11.Mechanism, data []byte) ([]byte, error) {
	t := k.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.mod == nil {
		return nil, errors.New("keys: the token is closed")
	}
	if err := t.mod.DecryptInit(t.sh, []*pkcs11.Mechanism{mech}, k.h); err != nil {
		return nil, &TokenError{Op: "decrypting", Err: err}
	}
	if k.alwaysAuth {
		if err := t.login(pkcs11.CKU_CONTEXT_SPECIFIC, t.pin); err != nil {
			_, _ = t.mod.Decrypt(t.sh, nil)
			return nil, err
		}
	}
	out, err := t.mod.Decrypt(t.sh, data)
	if err != nil {
		return nil, &TokenError{Op: "decrypting", Err: err}
	}
	return out, nil
}

// tokenRSAKey is an RSA key on a token: crypto.Signer (PKCS#1 v1.5 and PSS)
// and crypto.Decrypter (PKCS#1 v1.5 and OAEP).
type tokenRSAKey struct {
	tokenKey
	pub *rsa.PublicKey
}

func (k *tokenRSAKey) Public() crypto.PublicKey { return k.pub }

// digestInfoPrefix is the DER DigestInfo (RFC 8017 section 9.2) before the
// digest, per hash; CKM_RSA_PKCS signs DigestInfo as given.
var digestInfoPrefix = map[crypto.Hash][]byte{
	crypto.SHA1:   {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14},
	crypto.SHA224: {0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04, 0x05, 0x00, 0x04, 0x1c},
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

// PKCS#11 mechanism and MGF of each hash.
var hashMech = map[crypto.Hash][2]uint{
	crypto.SHA1:   {pkcs11.CKM_SHA_1, pkcs11.CKG_MGF1_SHA1},
	crypto.SHA224: {pkcs11.CKM_SHA224, pkcs11.CKG_MGF1_SHA224},
	crypto.SHA256: {pkcs11.CKM_SHA256, pkcs11.CKG_MGF1_SHA256},
	crypto.SHA384: {pkcs11.CKM_SHA384, pkcs11.CKG_MGF1_SHA384},
	crypto.SHA512: {pkcs11.CKM_SHA512, pkcs11.CKG_MGF1_SHA512},
}

// Sign signs digest with PKCS#1 v1.5, or RSASSA-PSS when opts is
// *rsa.PSSOptions (salt length the hash length for EqualsHash and Auto).
func (k *tokenRSAKey) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	h := opts.HashFunc()
	if h != 0 && len(digest) != h.Size() {
		return nil, errors.New("keys: digest length does not match the hash")
	}
	if pss, ok := opts.(*rsa.PSSOptions); ok {
		m, ok := hashMech[h]
		if !ok {
			return nil, fmt.Errorf("keys: RSASSA-PSS with %v is not supported on tokens", h)
		}
		salt := pss.SaltLength
		if salt == rsa.PSSSaltLengthEqualsHash || salt == rsa.PSSSaltLengthAuto {
			salt = h.Size()
		}
		if salt < 0 {
			return nil, errors.New("keys: bad PSS salt length")
		}
		sig, err := k.sign(pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS_PSS, pkcs11.NewPSSParams(m[0], m[1], uint(salt))), digest)
		if err != nil {
			return nil, err
		}
		if rsa.VerifyPSS(k.pub, h, digest, sig, &rsa.PSSOptions{SaltLength: salt, Hash: h}) != nil {
			return nil, errTokenKeyMismatch
		}
		return sig, nil
	}
	var data []byte
	if h != 0 {
		prefix, ok := digestInfoPrefix[h]
		if !ok {
			return nil, fmt.Errorf("keys: RSA signatures with %v are not supported on tokens", h)
		}
		data = append(append(data, prefix...), digest...)
	} else {
		data = digest
	}
	sig, err := k.sign(pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil), data)
	if err != nil {
		return nil, err
	}
	if rsa.VerifyPKCS1v15(k.pub, h, digest, sig) != nil {
		return nil, errTokenKeyMismatch
	}
	return sig, nil
}

// errTokenKeyMismatch: a signature made on the token does not verify with
// the certificate's public key. newKey compares what the token shows of the
// key (an RSA modulus, an EC curve), but an EC private key object has no
// public point to compare, and a module may hide the modulus: so every
// signature is checked before it leaves, as crypto/rsa checks its own, and a
// certificate that is not the key's never goes out on a bad signature.
var errTokenKeyMismatch = errors.New("keys: the token's signature does not verify with the certificate's public key: the certificate does not belong to the key on the token")

// Decrypt decrypts with RSAES-OAEP when opts is *rsa.OAEPOptions, else with
// PKCS#1 v1.5. With *rsa.PKCS1v15DecryptOptions and SessionKeyLen set, a
// padding failure or a key of another length yields random bytes of that
// length, as rsa.DecryptPKCS1v15SessionKey does, so the caller sees no
// padding oracle (the token's own timing is beyond our reach).
func (k *tokenRSAKey) Decrypt(rnd io.Reader, msg []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	switch o := opts.(type) {
	case *rsa.OAEPOptions:
		m, ok := hashMech[o.Hash]
		if !ok {
			return nil, fmt.Errorf("keys: RSAES-OAEP with %v is not supported on tokens", o.Hash)
		}
		mgf := m[1]
		if o.MGFHash != 0 {
			mm, ok := hashMech[o.MGFHash]
			if !ok {
				return nil, fmt.Errorf("keys: OAEP MGF1 with %v is not supported on tokens", o.MGFHash)
			}
			mgf = mm[1]
		}
		params := pkcs11.NewOAEPParams(m[0], mgf, pkcs11.CKZ_DATA_SPECIFIED, o.Label)
		return k.decrypt(pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS_OAEP, params), msg)
	//lint:ignore SA1019 S/MIME key transport (RFC 8551 section 2.3) still uses PKCS#1 v1.5
	case *rsa.PKCS1v15DecryptOptions:
		out, err := k.decrypt(pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil), msg)
		if o.SessionKeyLen > 0 && (err != nil || len(out) != o.SessionKeyLen) {
			// Modules report bad padding as they like (SoftHSM2:
			// CKR_GENERAL_ERROR); only failures that can't be about the
			// ciphertext are reported as such.
			var ce pkcs11.Error
			if err != nil && (!errors.As(err, &ce) || notAboutData(ce)) {
				return nil, err
			}
			if rnd == nil {
				rnd = rand.Reader
			}
			key := make([]byte, o.SessionKeyLen)
			if _, err := io.ReadFull(rnd, key); err != nil {
				return nil, err
			}
			return key, nil
		}
		return out, err
	case nil:
		return k.decrypt(pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil), msg)
	}
	return nil, fmt.Errorf("keys: unsupported decrypter options %T", opts)
}

// notAboutData reports whether a C_Decrypt error is about the card or the
// session (gone, logged out), not the ciphertext.
func notAboutData(e pkcs11.Error) bool {
	switch e {
	case pkcs11.CKR_DEVICE_REMOVED, pkcs11.CKR_TOKEN_NOT_PRESENT, pkcs11.CKR_SESSION_CLOSED,
		pkcs11.CKR_SESSION_HANDLE_INVALID, pkcs11.CKR_USER_NOT_LOGGED_IN, pkcs11.CKR_PIN_EXPIRED,
		pkcs11.CKR_DEVICE_MEMORY, pkcs11.CKR_HOST_MEMORY, pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED,
		pkcs11.CKR_KEY_HANDLE_INVALID, pkcs11.CKR_KEY_FUNCTION_NOT_PERMITTED:
		return true
	}
	return false
}

// tokenECKey is an EC key on a token: crypto.Signer (ECDSA) and ECDH.
type tokenECKey struct {
	tokenKey
	pub *ecdsa.PublicKey
}

func (k *tokenECKey) Public() crypto.PublicKey { return k.pub }

// Sign signs digest with CKM_ECDSA and returns the ASN.1 ECDSA-Sig-Value
// (RFC 5480 section 2.2.3), as ecdsa.SignASN1 does; the token returns r||s.
func (k *tokenECKey) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	raw, err := k.sign(pkcs11.NewMechanism(pkcs11.CKM_ECDSA, nil), digest)
	if err != nil {
		return nil, err
	}
	sig, err := rawToASN1(raw, (k.pub.Curve.Params().BitSize+7)/8)
	if err != nil {
		return nil, err
	}
	if !ecdsa.VerifyASN1(k.pub, digest, sig) {
		return nil, errTokenKeyMismatch
	}
	return sig, nil
}

// rawToASN1 converts a PKCS#11 ECDSA signature, r and s as big-endian
// integers of size bytes each, to DER.
func rawToASN1(raw []byte, size int) ([]byte, error) {
	if len(raw) != 2*size {
		return nil, fmt.Errorf("keys: the token's ECDSA signature has %d bytes, want %d", len(raw), 2*size)
	}
	r := new(big.Int).SetBytes(raw[:size])
	s := new(big.Int).SetBytes(raw[size:])
	if r.Sign() == 0 || s.Sign() == 0 {
		return nil, errors.New("keys: the token returned a zero ECDSA signature")
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1BigInt(r)
		b.AddASN1BigInt(s)
	})
	return b.Bytes()
}

// ECDH computes the shared secret with remote on the token
// (CKM_ECDH1_DERIVE, no KDF): the x-coordinate, as ecdh.PrivateKey.ECDH
// returns it. The derived session object is destroyed before returning.
func (k *tokenECKey) ECDH(remote *ecdh.PublicKey) ([]byte, error) {
	want, err := k.pub.ECDH()
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	if remote.Curve() != want.Curve() {
		return nil, errors.New("keys: ECDH with a key on another curve")
	}
	size := (k.pub.Curve.Params().BitSize + 7) / 8
	t := k.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.mod == nil {
		return nil, errors.New("keys: the token is closed")
	}
	mech := pkcs11.NewMechanism(pkcs11.CKM_ECDH1_DERIVE, pkcs11.NewECDH1DeriveParams(pkcs11.CKD_NULL, nil, remote.Bytes()))
	tmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_GENERIC_SECRET),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, false),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, size),
	}
	if k.alwaysAuth {
		if err := t.login(pkcs11.CKU_CONTEXT_SPECIFIC, t.pin); err != nil {
			return nil, err
		}
	}
	obj, err := t.mod.DeriveKey(t.sh, []*pkcs11.Mechanism{mech}, k.h, tmpl)
	if err != nil {
		return nil, &TokenError{Op: "deriving an ECDH secret", Err: err}
	}
	a, err := t.mod.GetAttributeValue(t.sh, obj, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil)})
	derr := t.mod.DestroyObject(t.sh, obj)
	if err != nil {
		return nil, &TokenError{Op: "reading the ECDH secret", Err: err}
	}
	if derr != nil {
		return nil, &TokenError{Op: "destroying the ECDH secret", Err: derr}
	}
	if len(a) != 1 || len(a[0].Value) != size {
		return nil, errors.New("keys: the token's ECDH secret has the wrong length")
	}
	return a[0].Value, nil
}
