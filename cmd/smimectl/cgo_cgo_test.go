//go:build cgo

package main

// cgoEnabled: this test binary, and the smimectl it runs, has PKCS#11 support
// (the [cgo] script condition).
const cgoEnabled = true
