// Package apicheck holds no code: its tests check the public API the way an
// importer meets it (issue #17 items 1 and 6).
//
//   - TestExampleFixtures generates the files the pkg/ Examples read
//     (pkg/testdata/example: PEM certificates, PKCS#8 keys, CRLs, an OCSP
//     response, a signed and an encrypted message) from internal/lab, and
//     fails when the committed ones are stale or expire within five years;
//     `go test ./internal/apicheck -run TestExampleFixtures -update`
//     rewrites them.
//   - TestSealedAPI fails when `go doc -all` of a package under pkg/
//     mentions an internal package, or its exported declarations name one
//     (TestSealRules shows what counts).
//   - TestImporterModule builds, in a module of its own, a program that
//     imports only pkg/verify and pkg/encrypt: since Go refuses internal/
//     imports across modules, its compiling proves the public API suffices.
package apicheck
