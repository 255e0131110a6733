package capabilities

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/smimectl/smimectl/pkg/encrypt"
)

// Bounds of the store.
const (
	// MaxRecordBytes is the most bytes of one record file: a record that
	// would be larger (a certificate of tens of kilobytes) is not written,
	// and a file larger than this is not read.
	MaxRecordBytes = 64 << 10
	// DefaultSkew is how far in the future a signing time may lie and
	// still be taken as it is (Options.Skew).
	DefaultSkew = 5 * time.Minute
	// recordVersion is the version field of the record files.
	recordVersion = 1
	// lockName is the lock file every writer holds (flock) while it
	// compares and replaces a record.
	lockName = ".lock"
)

// Record is what the store knows of one certificate's holder: the
// capabilities their signed mail advertised, and when.
type Record struct {
	Certificate  *x509.Certificate
	Capabilities []Capability
	// Truncated is true if entries of the advertised list were dropped
	// (see [Parse]).
	Truncated bool
	// SigningTime is the signingTime attribute of the mail, zero if it
	// had none.
	SigningTime time.Time
	// Time orders records: the signing time, or the time the record was
	// learned when the mail had none or claimed one further in the future
	// than the store's skew allows (so a forged date can't pin a record
	// forever). A record replaces another only with a later Time.
	Time time.Time
	// Learned is when the record was written.
	Learned time.Time
}

// Fingerprint returns the lowercase hex SHA-256 of the certificate, the
// record's file name without ".json".
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return hex.EncodeToString(sum[:])
}

// Known returns what r says the holder reads, for encrypt.Options.Capabilities.
func (r *Record) Known() encrypt.Capabilities {
	ciphers, oaep := Ciphers(r.Capabilities)
	return encrypt.Capabilities{Source: encrypt.SourceSignedMail, At: r.Time, Ciphers: ciphers, OAEP: oaep}
}

// fileRecord is a record as stored, one JSON object per file.
type fileRecord struct {
	Version      int              `json:"version"`
	Fingerprint  string           `json:"fingerprint_sha256"`
	Time         time.Time        `json:"time"`
	SigningTime  *time.Time       `json:"signing_time,omitempty"`
	Learned      time.Time        `json:"learned"`
	Truncated    bool             `json:"truncated,omitempty"`
	Capabilities []fileCapability `json:"capabilities"`
	Certificate  []byte           `json:"certificate"`
}

type fileCapability struct {
	OID        string `json:"oid"`
	Parameters []byte `json:"parameters,omitempty"`
}

func (r *Record) marshal() ([]byte, error) {
	f := fileRecord{Version: recordVersion, Fingerprint: Fingerprint(r.Certificate), Time: r.Time.UTC(),
		Learned: r.Learned.UTC(), Truncated: r.Truncated, Certificate: r.Certificate.Raw, Capabilities: []fileCapability{}}
	if !r.SigningTime.IsZero() {
		t := r.SigningTime.UTC()
		f.SigningTime = &t
	}
	for _, c := range r.Capabilities {
		f.Capabilities = append(f.Capabilities, fileCapability{OID: c.OID.String(), Parameters: c.Parameters})
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// unmarshalRecord reads a record file, which must name the certificate
// whose fingerprint is want.
func unmarshalRecord(b []byte, want string) (*Record, error) {
	var f fileRecord
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&f); err != nil {
		return nil, fmt.Errorf("malformed record: %w", err)
	}
	if f.Version != recordVersion {
		return nil, fmt.Errorf("record version %d, want %d", f.Version, recordVersion)
	}
	cert, err := x509.ParseCertificate(f.Certificate)
	if err != nil {
		return nil, fmt.Errorf("malformed certificate in the record: %w", err)
	}
	if fp := Fingerprint(cert); fp != want || f.Fingerprint != want {
		return nil, errors.New("the record is of another certificate than its name says")
	}
	if len(f.Capabilities) > MaxEntries {
		return nil, fmt.Errorf("the record lists more than %d capabilities", MaxEntries)
	}
	r := &Record{Certificate: cert, Time: f.Time, Learned: f.Learned, Truncated: f.Truncated}
	if f.SigningTime != nil {
		r.SigningTime = *f.SigningTime
	}
	for _, c := range f.Capabilities {
		oid, err := parseOID(c.OID)
		if err != nil || len(c.Parameters) > MaxParameterBytes {
			return nil, fmt.Errorf("malformed capability %q in the record", c.OID)
		}
		r.Capabilities = append(r.Capabilities, Capability{OID: oid, Parameters: c.Parameters})
	}
	return r, nil
}

func parseOID(s string) (asn1.ObjectIdentifier, error) {
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > maxOIDArcs {
		return nil, errors.New("bad OID")
	}
	oid := make(asn1.ObjectIdentifier, len(parts))
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 31)
		if err != nil {
			return nil, err
		}
		oid[i] = int(n)
	}
	return oid, nil
}

// Options controls a [Store].
type Options struct {
	// Now, if nil, is time.Now: the learning time, and what signing times
	// are compared with.
	Now func() time.Time
	// Skew, if zero, is DefaultSkew: a signing time later than Now plus
	// Skew is not believed, and the record is ordered by Now instead.
	Skew time.Duration
}

// Store keeps one [Record] per certificate in a directory, as
// <fingerprint>.json files (lowercase hex SHA-256 of the certificate).
//
// Writers are safe against each other, in one process or many: [Store.Learn]
// holds an exclusive lock (flock on the directory's .lock file) while it
// reads the current record, compares the times and replaces it; the new
// record is written to a temporary file in the directory, synced, and
// renamed over the old one, so a reader sees the old record or the new one,
// never a part. Nothing in the directory is followed if it is a symbolic
// link: records and the lock file are opened with O_NOFOLLOW, and a
// link where a record should be is replaced, not written through.
//
// WARNING: on systems without flock (Windows, Plan 9) writers are not
// serialised: each write is still atomic, but of two concurrent writers the
// one with the older record may win.
type Store struct {
	dir  string
	opts Options
}

// Open returns the store in dir, creating it (mode 0700, and any missing
// parent 0700) if needed. It refuses a dir that is a symbolic link, not a
// directory, or writable by group or others.
func Open(dir string, opts Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("capabilities: creating the store: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return nil, fmt.Errorf("capabilities: %w", err)
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return nil, fmt.Errorf("capabilities: the store %q is a symbolic link; give the directory itself", dir)
	case !fi.IsDir():
		return nil, fmt.Errorf("capabilities: the store %q is not a directory", dir)
	case fi.Mode().Perm()&0o022 != 0:
		return nil, fmt.Errorf("capabilities: the store %q is writable by others (mode %v): make it 0700", dir, fi.Mode().Perm())
	}
	return &Store{dir: dir, opts: opts}, nil
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) now() time.Time {
	if s.opts.Now == nil {
		return time.Now() // default
	}
	return s.opts.Now()
}

func (s *Store) path(fp string) string { return filepath.Join(s.dir, fp+".json") }

// Lookup returns the record of cert, or nil if there is none. A record
// that can't be read (malformed, too large, of another certificate, a
// symbolic link) is an error.
func (s *Store) Lookup(cert *x509.Certificate) (*Record, error) {
	fp := Fingerprint(cert)
	b, err := readRecordFile(s.path(fp))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("capabilities: reading %s.json in %q: %w", fp, s.dir, err)
	}
	r, err := unmarshalRecord(b, fp)
	if err != nil {
		return nil, fmt.Errorf("capabilities: %s.json in %q: %w", fp, s.dir, err)
	}
	return r, nil
}

// readRecordFile reads a record file without following a symbolic link and
// without reading more than MaxRecordBytes.
func readRecordFile(path string) ([]byte, error) {
	f, err := openNoFollow(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxRecordBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxRecordBytes {
		return nil, fmt.Errorf("larger than %d bytes", MaxRecordBytes)
	}
	return b, nil
}

// Outcome says what [Store.Learn] did.
type Outcome int

// Outcomes of Learn.
const (
	// Written: the record was new or newer and was written.
	Written Outcome = iota + 1
	// KeptNewer: the store holds a record from mail signed at the same
	// time or later, which was kept.
	KeptNewer
)

// TooLargeError reports a record that would take more than MaxRecordBytes.
type TooLargeError struct{ Size int }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("capabilities: the record would take %d bytes, more than %d: not stored", e.Size, MaxRecordBytes)
}

// Learn records that the holder of cert advertised caps in mail signed at
// signingTime (zero if the mail had no signingTime), unless the store holds
// a record of cert from mail signed at the same time or later. A signing
// time more than the skew in the future, or none, counts as the time of
// learning (see Record.Time). The caller must have checked the signature
// and the certificate: Learn believes what it is given.
func (s *Store) Learn(cert *x509.Certificate, caps []Capability, truncated bool, signingTime time.Time) (Outcome, error) {
	now := s.now()
	skew := s.opts.Skew
	if skew == 0 {
		skew = DefaultSkew
	}
	t := signingTime
	if t.IsZero() || t.After(now.Add(skew)) {
		t = now
	}
	if len(caps) > MaxEntries {
		caps, truncated = caps[:MaxEntries], true
	}
	rec := &Record{Certificate: cert, Capabilities: caps, Truncated: truncated, SigningTime: signingTime, Time: t, Learned: now}
	b, err := rec.marshal()
	if err != nil {
		return 0, fmt.Errorf("capabilities: %w", err)
	}
	if len(b) > MaxRecordBytes {
		return 0, &TooLargeError{Size: len(b)}
	}
	unlock, err := s.lock()
	if err != nil {
		return 0, err
	}
	defer unlock()
	fp := Fingerprint(cert)
	if old, err := readRecordFile(s.path(fp)); err == nil {
		if r, err := unmarshalRecord(old, fp); err == nil && !r.Time.Before(t) {
			return KeptNewer, nil
		}
		// A record that can't be read is replaced.
	}
	if err := s.replace(fp, b); err != nil {
		return 0, fmt.Errorf("capabilities: writing the record of %s: %w", fp, err)
	}
	return Written, nil
}

// replace writes b as the record fp: a temporary file in the directory,
// synced, then renamed over the old record (a symbolic link there is
// replaced, not followed), then the directory synced.
func (s *Store) replace(fp string, b []byte) error {
	tmp, err := os.CreateTemp(s.dir, ".tmp-"+fp+"-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if _, err := tmp.Write(b); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(name, s.path(fp)); err != nil {
		return err
	}
	ok = true
	return syncDir(s.dir)
}

// lock takes the store's write lock; unlock releases it.
func (s *Store) lock() (unlock func(), err error) {
	f, err := openLockFile(filepath.Join(s.dir, lockName))
	if err != nil {
		return nil, fmt.Errorf("capabilities: opening the store's lock file: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("capabilities: locking the store: %w", err)
	}
	return func() { unlockFile(f); f.Close() }, nil
}

// Known returns what is known of the holder of cert, for
// encrypt.Options.Capabilities: the record of s (signed mail) if there is
// one, else the certificate's smimeCapabilities extension (RFC 4262), else
// nothing (encrypt.SourceUnknown). s may be nil (no store). A record or an
// extension that can't be read is passed over, and the error says why; the
// capabilities returned are then those of the next source, so a damaged
// store never stops encryption.
func Known(s *Store, cert *x509.Certificate) (encrypt.Capabilities, error) {
	var errs []error
	if s != nil {
		r, err := s.Lookup(cert)
		if err == nil && r != nil {
			return r.Known(), nil
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	caps, ok, err := FromCertificate(cert)
	if err != nil {
		errs = append(errs, err)
	}
	if !ok {
		return encrypt.Capabilities{}, errors.Join(errs...)
	}
	ciphers, oaep := Ciphers(caps)
	return encrypt.Capabilities{Source: encrypt.SourceCertificate, Ciphers: ciphers, OAEP: oaep}, errors.Join(errs...)
}
