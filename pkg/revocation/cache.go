package revocation

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
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

// readCache returns the cached CRL of url, of at most limit bytes. The
// directory may be shared: only a regular file (or a link to one) is read,
// opened without blocking, so that a FIFO or a device planted there, or a
// huge file, costs a fetch and not a stall or the memory.
func readCache(dir, url string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(cachePath(dir, url), os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() || fi.Size() > limit {
		return nil, fmt.Errorf("revocation: cache entry %s is not a regular file of at most %d bytes", f.Name(), limit)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err == nil && int64(len(data)) > limit {
		err = fmt.Errorf("revocation: cache entry %s is larger than %d bytes", f.Name(), limit)
	}
	if err != nil {
		return nil, err
	}
	return data, nil
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
