package cms

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the committed fuzz seed corpora from generated messages")

// seedMessages returns signed messages in the forms peers write: DER
// detached, BER streamed, with and without certificates.
func seedMessages(t testing.TB) [][]byte {
	ids := identities(t)
	content := []byte("Content-Type: text/plain\r\n\r\nseed\r\n")
	var seeds [][]byte
	for _, key := range []string{"rsa", "ecdsa"} {
		id := ids[key]
		opts := SignOptions{Signer: Signer{Key: id.key, Certificate: id.cert, Capabilities: DefaultCapabilities()},
			Certificates: []*x509.Certificate{id.cert}}
		h := crypto.SHA256.New()
		h.Write(content)
		der, err := SignDetachedDigest(h.Sum(nil), opts)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, der)
		var out bytes.Buffer
		w, _ := NewSignedDataWriter(&out, opts)
		w.Write(content)
		w.Close()
		seeds = append(seeds, out.Bytes())
	}
	return seeds
}

// TestWriteFuzzCorpus regenerates testdata/fuzz/*/ with -update-corpus, and
// otherwise checks that the committed corpora are there.
func TestWriteFuzzCorpus(t *testing.T) {
	if !*updateCorpus {
		for _, name := range []string{"FuzzReadSignedData", "FuzzToDER"} {
			if m, _ := filepath.Glob(filepath.Join("testdata", "fuzz", name, "seed-*")); len(m) == 0 {
				t.Errorf("no seed corpus for %s: run with -update-corpus", name)
			}
		}
		return
	}
	for _, name := range []string{"FuzzReadSignedData", "FuzzToDER"} {
		dir := filepath.Join("testdata", "fuzz", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, s := range seedMessages(t) {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%d", i)), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// FuzzReadSignedData: hostile input never panics or hangs; whatever parses
// in BER parses the same after conversion to DER.
//
// Its seeds are the committed testdata/fuzz corpus (TestWriteFuzzCorpus), so
// that fuzz workers do not generate keys at start.
func FuzzReadSignedData(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var c1 bytes.Buffer
		sd, err := ReadSignedData(bytes.NewReader(data), &c1)
		if err != nil {
			if sd != nil {
				t.Fatal("result with error")
			}
			return
		}
		for _, si := range sd.SignerInfos {
			si.SigningTime()
			si.FindCertificate(sd.Certificates)
			for _, c := range sd.Certificates {
				si.CheckSignature(c, sd.ContentType, make([]byte, 32))
			}
		}
		der, err := ToDER(data[:len(data)-trailing(data)])
		if err != nil {
			return
		}
		var c2 bytes.Buffer
		sd2, err := ReadSignedData(bytes.NewReader(der), &c2)
		if err != nil {
			t.Fatalf("DER form of a readable message does not read: %v", err)
		}
		if !bytes.Equal(c1.Bytes(), c2.Bytes()) || len(sd.SignerInfos) != len(sd2.SignerInfos) {
			t.Fatal("BER and DER forms differ")
		}
	})
}

// trailing returns how many bytes follow the first element of data.
func trailing(data []byte) int {
	b := newBERReader(bytes.NewReader(data))
	h, err := b.readHeader()
	if err != nil {
		return 0
	}
	budget := int64(len(data))
	if _, err := b.readDER(h, 0, &budget); err != nil {
		return 0
	}
	return len(data) - int(b.off)
}

// FuzzToDER: conversion never panics and is idempotent (DER in, same out).
func FuzzToDER(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		der, err := ToDER(data)
		if err != nil {
			return
		}
		again, err := ToDER(der)
		if err != nil {
			t.Fatalf("DER output does not convert again: %v", err)
		}
		if !bytes.Equal(der, again) {
			t.Fatal("ToDER is not idempotent")
		}
	})
}
