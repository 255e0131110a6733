// Package testpeer drives the real S/MIME implementations that smimectl's
// interoperability tests run against: OpenSSL (openssl cms), GnuPG (gpgsm)
// and NSS (cmsutil, certutil, pk12util).
//
// It is a test-only package: import it from _test.go files. It offers three
// things:
//
//   - [Condition] answers testscript conditions such as peer:gpgsm. Outside
//     CI a missing tool makes the condition false (the script skips); with
//     CI=true it is an error that names the Debian package to install, so a
//     CI run can never pass by skipping the interop tests.
//   - [GPGSM] and [NSS] hide the tedious set-up of each peer (throwaway
//     homes and databases, trust, key import) and read each peer's verdict
//     the way its documentation says to, not from its exit status: gpgsm
//     exits 0 for an expired signer and cmsutil exits 0 for a bad signature.
//   - Small MIME tools ([MIMEPart], [SMIMEBody], [WrapPKCS7MIME],
//     [WrapSigned]) move between S/MIME messages (RFC 8551 §3.4, RFC 1847)
//     and the raw CMS (RFC 5652) that gpgsm and cmsutil read and write.
//
// [Cmds] exposes all of this as testscript commands for the CLI scripts.
// The facts these drivers rely on are collected in the project's PEERS.md.
package testpeer
