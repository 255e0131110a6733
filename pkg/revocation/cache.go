package revocation

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// The on-disk cache holds one DER CRL per distribution point URL, in a file
// named by the SHA-256 of the URL. Entries are written to a temporary file
// and renamed into place, so a reader never sees half a CRL; they are
// checked again (issuer, signature, nextUpdate) each time they are read,
// so a damaged or stale file only costs a fetch.

// cachePath is the file holding the CRL fetched from url.
func cachePath(dir, url string) string {
	sum := sha256.Sum256([]byte(url))
	return filepath.Join(dir, hex.EncodeToString(sum[:])+".crl")
}

// readCache returns the cached CRL of url.
func readCache(dir, url string) ([]byte, error) {
	return os.ReadFile(cachePath(dir, url))
}

// writeCache stores der as the CRL of url, atomically.
func writeCache(dir, url string, der []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("revocation: creating the cache directory: %w", err)
	}
	f, err := os.CreateTemp(dir, ".crl-*")
	if err != nil {
		return fmt.Errorf("revocation: writing the cache: %w", err)
	}
	_, err = f.Write(der)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), cachePath(dir, url))
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("revocation: writing the cache: %w", err)
	}
	return nil
}
