package main

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/rogpeppe/go-internal/testscript"
)

// servers holds the hit counters of the servers httpserve started, by script and
// variable name, for httphits.
var servers sync.Map // map[serverKey]*atomic.Int64

type serverKey struct {
	ts   *testscript.TestScript
	name string
}

// cmdHTTPServe starts a local HTTP server for the rest of the script and puts its
// base URL (ending in /) in the environment variable NAME:
// "httpserve CRL lab" serves the files of the directory lab, which may not exist
// yet (the CRL URLs go into the lab that lab init then writes there);
// "httpserve -hang NAME" never answers (each request waits until the client gives up
// or the script ends). Requests are counted for httphits.
func cmdHTTPServe(ts *testscript.TestScript, neg bool, args []string) {
	hang := len(args) > 0 && args[0] == "-hang"
	if hang {
		args = args[1:]
	}
	if neg || (hang && len(args) != 1) || (!hang && len(args) != 2) {
		ts.Fatalf("usage: httpserve NAME DIR | httpserve -hang NAME")
	}
	hits := new(atomic.Int64)
	done := make(chan struct{})
	var h http.Handler
	if hang {
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-done:
			}
		})
	} else {
		h = http.FileServer(http.Dir(ts.MkAbs(args[1])))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h.ServeHTTP(w, r)
	}))
	servers.Store(serverKey{ts, args[0]}, hits)
	ts.Defer(func() {
		close(done)
		srv.Close()
	})
	ts.Setenv(args[0], srv.URL+"/")
}

// cmdHTTPHits checks how many requests the server httpserve started as NAME has had:
// "httphits CRL 2".
func cmdHTTPHits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: httphits NAME COUNT")
	}
	want, err := strconv.ParseInt(args[1], 10, 64)
	ts.Check(err)
	v, ok := servers.Load(serverKey{ts, args[0]})
	if !ok {
		ts.Fatalf("httphits: no server %s", args[0])
	}
	if got := v.(*atomic.Int64).Load(); got != want {
		ts.Fatalf("server %s had %d requests, want %d", args[0], got, want)
	}
}
