package revocation

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestFetchCallbacks: every network request is told to FetchStarted as it
// begins and to FetchDone with its record when it ended, a refused answer with
// the refusal, so that the command can say what is slow (issue #16 item 6)
// without this package printing.
func TestFetchCallbacks(t *testing.T) {
	f := setup(t, nil)
	base := f.srv.URL + "/"
	tests := []struct {
		name    string
		handler http.Handler
		ocsp    bool
		want    []string // "start SOURCE URL" and "done SOURCE URL ERR"
	}{
		{"answered", labCRLs(f.lab), false, []string{
			"start url " + base + "intermediate.crl", "done url " + base + "intermediate.crl ok"}},
		{"refused", serveBytes("/intermediate.crl", []byte("not a CRL")), false, []string{
			"start url " + base + "intermediate.crl", "done url " + base + "intermediate.crl revocation: no CRL found"}},
		{"timeout", hang(t), false, []string{
			"start url " + base + "intermediate.crl", "done url " + base + "intermediate.crl no answer within the per-URL timeout (200ms)"}},
		{"ocsp then crl", http.NotFoundHandler(), true, []string{
			"start ocsp " + base + "ocsp", "done ocsp " + base + "ocsp HTTP status 404",
			"start url " + base + "intermediate.crl", "done url " + base + "intermediate.crl HTTP status 404"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.handler.Store(&tc.handler)
			var mu sync.Mutex
			var got []string
			var done []Fetch
			opts := Options{URLTimeout: 200 * time.Millisecond, OCSP: tc.ocsp,
				FetchStarted: func(src Source, u string) {
					mu.Lock()
					defer mu.Unlock()
					got = append(got, "start "+string(src)+" "+u)
				},
				FetchDone: func(fe Fetch) {
					mu.Lock()
					defer mu.Unlock()
					res := "ok"
					if fe.Err != nil {
						res = fe.Err.Error()
					}
					got = append(got, "done "+string(fe.Source)+" "+fe.URL+" "+res)
					done = append(done, fe)
				}}
			o, _ := New(opts).Check(context.Background(), f.user(t, "alice-sign"), f.lab.Intermediate.Cert, at)
			if len(got) != len(tc.want) {
				t.Fatalf("callbacks %q, want %q", got, tc.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("callback %d: %q, want it to start %q", i, got[i], tc.want[i])
				}
			}
			// What FetchDone heard is what the outcome records.
			if len(o.Fetches) != len(done) {
				t.Fatalf("%d fetches in the outcome, %d told", len(o.Fetches), len(done))
			}
			for i := range done {
				if o.Fetches[i].URL != done[i].URL || (o.Fetches[i].Err == nil) != (done[i].Err == nil) {
					t.Errorf("fetch %d: outcome %+v, told %+v", i, o.Fetches[i], done[i])
				}
			}
		})
	}
}

// TestFetchCallbacksIssuers: FetchIssuers reports its downloads the same way.
func TestFetchCallbacksIssuers(t *testing.T) {
	f := setup(t, http.NotFoundHandler())
	var started, finished int
	_, err := FetchIssuers(context.Background(), f.user(t, "alice-sign"), Options{URLTimeout: time.Second,
		FetchStarted: func(src Source, u string) {
			if src != SourceIssuer {
				t.Errorf("source %q", src)
			}
			started++
		},
		FetchDone: func(fe Fetch) {
			if fe.Err == nil || !strings.Contains(fe.Err.Error(), "404") {
				t.Errorf("done: %+v", fe)
			}
			finished++
		}})
	if err == nil || started != 1 || finished != 1 {
		t.Errorf("err %v, %d started, %d finished; want an error, 1, 1", err, started, finished)
	}
}
