package revocation

import (
	"context"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The shapes of RFC 6960's OCSPResponse, enough to forge one.
type forgedCertID struct {
	HashAlgorithm pkix.AlgorithmIdentifier
	NameHash      []byte
	IssuerKeyHash []byte
	SerialNumber  *big.Int
}
type forgedSingle struct {
	CertID     forgedCertID
	Good       asn1.Flag `asn1:"tag:0,optional"`
	ThisUpdate time.Time `asn1:"generalized"`
}
type forgedData struct {
	ResponderID asn1.RawValue
	ProducedAt  time.Time `asn1:"generalized"`
	Responses   []forgedSingle
}
type forgedBasic struct {
	TBS       forgedData
	Alg       pkix.AlgorithmIdentifier
	Signature asn1.BitString
}
type forgedBytes struct {
	ResponseType asn1.ObjectIdentifier
	Response     []byte
}
type forgedResponse struct {
	Status asn1.Enumerated
	Bytes  forgedBytes `asn1:"explicit,tag:0"`
}

// TestOCSPForgedHugeNotParsed: x/crypto/ocsp decodes every SingleResponse
// of a response before it looks at a signature, so a forged answer of
// 400,000 of them (15 MB, under the 32 MiB download cap) cost 660 MiB of
// allocations and 3 s of CPU on a filter whose OCSP traffic is plain HTTP.
// An OCSP response is now refused past 256 KiB, unread.
func TestOCSPForgedHugeNotParsed(t *testing.T) {
	f := setup(t, nil)
	l := f.lab
	singles := make([]forgedSingle, 400_000)
	for i := range singles {
		singles[i] = forgedSingle{CertID: forgedCertID{HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}},
			SerialNumber: big.NewInt(int64(i + 2))}, ThisUpdate: at}
	}
	basic, err := asn1.Marshal(forgedBasic{TBS: forgedData{ResponderID: asn1.RawValue{Class: 2, Tag: 2, IsCompound: true, Bytes: []byte{4, 0}},
		ProducedAt: at, Responses: singles},
		Alg: pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}}, Signature: asn1.BitString{Bytes: []byte{1}, BitLength: 8}})
	if err != nil {
		t.Fatal(err)
	}
	der, err := asn1.Marshal(forgedResponse{Bytes: forgedBytes{ResponseType: asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}, Response: basic}})
	if err != nil {
		t.Fatal(err)
	}
	singles = nil
	mux := http.NewServeMux()
	mux.Handle("/", labCRLs(l))
	mux.HandleFunc("POST /ocsp", func(w http.ResponseWriter, r *http.Request) { w.Write(der) })
	var h http.Handler = mux
	f.handler.Store(&h)

	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start := time.Now()
	o, err := New(Options{OCSP: true, Mode: Hard}).Check(context.Background(), f.user(t, "alice-sign"), l.Intermediate.Cert, at)
	took := time.Since(start)
	runtime.ReadMemStats(&m1)
	if err != nil || o.Status != Good || o.Source != SourceURL {
		t.Fatalf("%v from %q (%s), %v; want good from the CRL", o.Status, o.Source, o.Detail, err)
	}
	if o.Fetches[0].Err == nil || !strings.Contains(o.Fetches[0].Err.Error(), "too large") {
		t.Errorf("OCSP fetch error %v, want the response refused as too large", o.Fetches[0].Err)
	}
	alloc := (m1.TotalAlloc - m0.TotalAlloc) >> 20
	t.Logf("%d MiB allocated, %v, for a forged response of %d MiB", alloc, took, len(der)>>20)
	if alloc > 64 {
		t.Errorf("%d MiB allocated, want under 64", alloc)
	}
}
