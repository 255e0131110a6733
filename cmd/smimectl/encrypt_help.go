package main

// encryptLong is the long help of encrypt.
const encryptLong = `Encrypt a message as the guide's Figure 1.18 and Chapter 6 "Sending an Encrypted
E-Mail Message" describe: generate a one-time session key, encrypt the message
with it, and encrypt the session key with each recipient's public key. The
outer header fields (From, To, Subject, ...) stay readable; Bcc is removed.

Recipients come from --recipient-cert files and from --to addresses, each
looked up in the --certs sources as cert-match --purpose encrypt does: files,
directories, PKCS#7 bundles, .p12 files and LDAP directories
(ldap://host:port/base-dn). A certificate must carry the address (subject
e-mail, subjectAltName, or a directory alias unless --no-proxies), allow
encryption, be valid now (or at --at) and, with --trust, chain to a trusted root
and not be revoked (--crl, --revocation); an encryption-only certificate wins
over a dual-use one. With neither --recipient-cert nor --to, the message's To,
Cc and Bcc addresses are looked up. -v says which certificate each recipient
gets. At most --max-recipients addresses are looked up (the guide's Appendix B
Recipient Limits, 5000), and the whole lookup must finish within
--lookup-timeout (its DLExpansionTimeout). A recipient without a usable certificate
stops the command with exit status 3 and nothing written, naming every such
recipient (the guide's AlwaysEncrypt); --allow-missing encrypts for the others
and warns. The sender is a recipient too, so that the sent copy stays readable
(guide Chapter 8), when --cert or --p12 gives the sender's certificate or
--from finds one in --certs; --no-self turns this off.

--cipher is the ordered policy (the guide's EncryptionAlgorithms): the first
cipher every recipient is known to read is used. What a recipient reads is
learnt from its signed mail: verify, and decrypt --trust, remember the S/MIME
capabilities (RFC 8551 2.5.2) every valid signer advertised, with the signing
time, in --capabilities-db (newer mail replaces older); failing that, the
certificate's smimeCapabilities extension (RFC 4262) says. A recipient of unknown
capabilities is assumed to read AES-CBC only. So the default list, aes-256-gcm
then aes-256-cbc, gives AES-256-GCM (smime-type=authEnveloped-data, which also
detects tampering) when every recipient advertised it, and AES-256-CBC, which
reaches the most clients (gpgsm and NSS read no AES-GCM), otherwise. --cipher
aes-256-gcm alone uses AES-GCM whatever is known; --cipher aes-256-cbc alone
never does. RSA recipients that advertised rsaes-oaep get RSA-OAEP key
transport; --oaep gives it to every RSA recipient. -v says, for each recipient,
what is known (signed mail of which date, the certificate extension, or
nothing) and which cipher and key transport were chosen; --json records the
same.

--protect-headers copies the header fields (From, To, Cc, Subject, Date,
Message-ID, ...; not Bcc) into the encrypted part, marked hp="cipher" (RFC 9788
header protection, the guide's SecurityFlags 0x200), and hides the Subject
outside as "[...]" (RFC 9788's hcp_baseline, which also drops Keywords and
Comments outside); --keep-subject leaves it readable. decrypt puts the protected
fields back. A message that is signed already can't get them: sign it with
--protect-headers, or use triple-wrap --protect-headers.

--plan says, for every recipient, which certificate the message would be
encrypted to and why, without encrypting anything: where the certificate was
found, the selection rule that chose it over the other candidates (cert-match
--explain shows them all), what is known of the recipient's client and the key
transport, the cipher, and which recipients have no usable certificate (exit
status 3, unless --allow-missing). It writes no file; with neither --to nor
--recipient-cert it reads the message's header (To, Cc, Bcc), never its body.
--json prints the same as one JSON object (see docs/json.md).

--bcc separate writes one message for To and Cc and one per Bcc recipient into
--out-dir (message.eml, bcc-<address>.eml), so Bcc recipients stay hidden from
each other (the guide's SecurityFlags 0x040/0x080). An address that is not
plain lowercase letters, digits and . _ @ + - (at most 64 of them) is written
as bcc-<address with "_" for the rest>~<16 hex digits of its SHA-256>.eml, so
no name leaves --out-dir and no two addresses share one. The files appear all
together or not at all: if anything fails, none is left. A Bcc recipient without
a certificate stops the command (exit status 3); with --allow-missing it gets
no message, with a warning, and the others are written.
` + directoryHelp
