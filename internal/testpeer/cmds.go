package testpeer

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"
)

// Cmds returns testscript commands that drive the peers; add them to
// Params.Cmds. File arguments are relative to the script's working
// directory. Guard scripts with the conditions of [Condition]
// ([!peer:gpgsm] skip).
//
//	gpgsm-init HOMEDIR ROOT.crt [INTERMEDIATE.crt...]
//	    create a throwaway gpgsm home (see [NewGPGSM]); HOMEDIR becomes a
//	    symbolic link to it and $GNUPGHOME its real, short path. The agent
//	    is stopped and the home removed when the script ends.
//	gpgsm-import-key KEY.pem CERT.crt PASS
//	    import a key into $GNUPGHOME ([GPGSM.ImportKey]).
//	gpgsm-sign [-detach] CERT.crt PASS IN OUT
//	    sign IN with CERT's key, writing raw CMS to OUT: opaque, or
//	    detached with -detach.
//	[!] gpgsm-verify [-out FILE] SIG [CONTENT]
//	    gpgsm accepts (with !: rejects) the raw CMS signature SIG, over the
//	    detached CONTENT if given ([GPGSM.Verify]). With -out, SIG is opaque
//	    and the content gpgsm extracts from it goes to FILE ([GPGSM.Open]).
//	nss-init DBDIR ROOT.crt [INTERMEDIATE.crt...]
//	    create an NSS database trusting ROOT ([NewNSS]).
//	nss-import-p12 DBDIR FILE.p12 PASS
//	    import a PKCS#12 file ([NSS.ImportPKCS12]).
//	nss-sign [-detach] DBDIR NICK IN OUT
//	    sign IN with the key NICK, writing raw CMS to OUT.
//	[!] nss-verify DBDIR CMS [CONTENT]
//	    cmsutil accepts (with !: rejects) CMS ([NSS.Verify]).
//	mime-part [-raw] N IN OUT
//	    write part N (from 1) of the multipart message IN to OUT: its
//	    decoded body ([MIMEPart]), or with -raw the whole part, header
//	    included, in CRLF form ([MIMEPartRaw]).
//	smime-body IN OUT
//	    write the CMS in the application/pkcs7-mime message IN ([SMIMEBody]).
//	wrap-pkcs7-mime IN OUT
//	    wrap the raw CMS IN as an application/pkcs7-mime message ([WrapPKCS7MIME]).
//	wrap-signed [-micalg ALG] CONTENT SIG OUT
//	    build a multipart/signed message from a signed MIME entity and its
//	    detached raw CMS signature ([WrapSigned]).
//
// A ! before a verify command expects a rejection ([*RejectedError]) and
// writes its reason (for gpgsm, the status lines that decided: BADSIG...)
// to the command's stderr, for a following stderr assertion; any other
// failure, such as a missing file, still fails the script. The other
// commands do not take !.
//
// The SoftHSM2 commands (softhsm-init, softhsm-import) are described in
// softhsm.go.
//
// The encryption commands (gpgsm-import-cert, gpgsm-encrypt, gpgsm-decrypt,
// nss-add-cert, nss-encrypt, nss-decrypt) are described in encrypt.go.
func Cmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	cmds := map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"gpgsm-init":       cmdGPGSMInit,
		"gpgsm-import-key": cmdGPGSMImportKey,
		"gpgsm-sign":       cmdGPGSMSign,
		"gpgsm-verify":     cmdGPGSMVerify,
		"nss-init":         cmdNSSInit,
		"nss-import-p12":   cmdNSSImportP12,
		"nss-sign":         cmdNSSSign,
		"nss-verify":       cmdNSSVerify,
		"mime-part":        cmdMIMEPart,
		"smime-body":       cmdSMIMEBody,
		"wrap-pkcs7-mime":  cmdWrapPKCS7MIME,
		"wrap-signed":      cmdWrapSigned,
	}
	for name, f := range encryptCmds() {
		cmds[name] = f
	}
	for name, f := range p12Cmds() {
		cmds[name] = f
	}
	for name, f := range softHSMCmds() {
		cmds[name] = f
	}
	return cmds
}

// usage fails the script unless the command got between min and max
// arguments (max < 0: no limit) and no unexpected !.
func usage(ts *testscript.TestScript, neg, negOK bool, args []string, min, max int, syntax string) {
	if neg && !negOK {
		ts.Fatalf("unsupported: ! %s", syntax)
	}
	if len(args) < min || (max >= 0 && len(args) > max) {
		ts.Fatalf("usage: %s", syntax)
	}
}

// flag removes a leading -name from args and reports whether it was there.
func flag(args []string, name string) ([]string, bool) {
	if len(args) > 0 && args[0] == name {
		return args[1:], true
	}
	return args, false
}

func abs(ts *testscript.TestScript, files []string) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = ts.MkAbs(f)
	}
	return out
}

// verdict applies a verify command's result: with neg, a rejection passes
// and an acceptance fails; errors that are not rejections always fail.
func verdict(ts *testscript.TestScript, neg bool, err error) {
	var rej *RejectedError
	switch {
	case err == nil && neg:
		ts.Fatalf("signature accepted, want rejected")
	case errors.As(err, &rej) && neg:
		fmt.Fprintf(ts.Stderr(), "rejected as expected: %v\n", err)
	default:
		ts.Check(err)
	}
}

func scriptGPGSM(ts *testscript.TestScript) *GPGSM {
	home := ts.Getenv("GNUPGHOME")
	if home == "" {
		ts.Fatalf("GNUPGHOME is not set: run gpgsm-init first")
	}
	return &GPGSM{Home: home}
}

func cmdGPGSMInit(ts *testscript.TestScript, neg bool, args []string) {
	usage(ts, neg, false, args, 2, -1, "gpgsm-init HOMEDIR ROOT.crt [INTERMEDIATE.crt...]")
	certs := abs(ts, args[1:])
	g, err := NewGPGSM(certs[0], certs[1:]...)
	ts.Check(err)
	ts.Defer(func() {
		if err := g.Close(); err != nil {
			ts.Logf("%v", err)
		}
	})
	ts.Setenv("GNUPGHOME", g.Home)
	ts.Check(os.Symlink(g.Home, ts.MkAbs(args[0])))
}

func cmdGPGSMImportKey(ts *testscript.TestScript, neg bool, args []string) {
	usage(ts, neg, false, args, 3, 3, "gpgsm-import-key KEY.pem CERT.crt PASS")
	ts.Check(scriptGPGSM(ts).ImportKey(ts.MkAbs(args[0]), ts.MkAbs(args[1]), args[2]))
}

func cmdGPGSMSign(ts *testscript.TestScript, neg bool, args []string) {
	args, detach := flag(args, "-detach")
	usage(ts, neg, false, args, 4, 4, "gpgsm-sign [-detach] CERT.crt PASS IN OUT")
	g := scriptGPGSM(ts)
	sign := g.SignOpaque
	if detach {
		sign = g.SignDetached
	}
	ts.Check(sign(ts.MkAbs(args[0]), args[1], ts.MkAbs(args[2]), ts.MkAbs(args[3])))
}

func cmdGPGSMVerify(ts *testscript.TestScript, neg bool, args []string) {
	const syntax = "gpgsm-verify [-out FILE] SIG [CONTENT]"
	out := ""
	if len(args) >= 2 && args[0] == "-out" {
		out, args = args[1], args[2:]
	}
	usage(ts, neg, true, args, 1, 2, syntax)
	g := scriptGPGSM(ts)
	switch {
	case out != "" && len(args) == 2:
		ts.Fatalf("usage: %s (-out takes an opaque SIG, without CONTENT)", syntax)
	case out != "":
		verdict(ts, neg, g.Open(ts.MkAbs(args[0]), ts.MkAbs(out)))
	case len(args) == 2:
		verdict(ts, neg, g.Verify(ts.MkAbs(args[0]), ts.MkAbs(args[1])))
	default:
		verdict(ts, neg, g.Verify(ts.MkAbs(args[0]), ""))
	}
}

func cmdNSSInit(ts *testscript.TestScript, neg bool, args []string) {
	usage(ts, neg, false, args, 2, -1, "nss-init DBDIR ROOT.crt [INTERMEDIATE.crt...]")
	certs := abs(ts, args[1:])
	_, err := NewNSS(ts.MkAbs(args[0]), certs[0], certs[1:]...)
	ts.Check(err)
}

func cmdNSSImportP12(ts *testscript.TestScript, neg bool, args []string) {
	usage(ts, neg, false, args, 3, 3, "nss-import-p12 DBDIR FILE.p12 PASS")
	n := &NSS{Dir: ts.MkAbs(args[0])}
	ts.Check(n.ImportPKCS12(ts.MkAbs(args[1]), args[2]))
}

func cmdNSSSign(ts *testscript.TestScript, neg bool, args []string) {
	args, detach := flag(args, "-detach")
	usage(ts, neg, false, args, 4, 4, "nss-sign [-detach] DBDIR NICK IN OUT")
	n := &NSS{Dir: ts.MkAbs(args[0])}
	sign := n.SignOpaque
	if detach {
		sign = n.SignDetached
	}
	ts.Check(sign(args[1], ts.MkAbs(args[2]), ts.MkAbs(args[3])))
}

func cmdNSSVerify(ts *testscript.TestScript, neg bool, args []string) {
	usage(ts, neg, true, args, 2, 3, "nss-verify DBDIR CMS [CONTENT]")
	content := ""
	if len(args) == 3 {
		content = ts.MkAbs(args[2])
	}
	n := &NSS{Dir: ts.MkAbs(args[0])}
	verdict(ts, neg, n.Verify(ts.MkAbs(args[1]), content))
}

// transform reads in, applies f and writes out.
func transform(ts *testscript.TestScript, in, out string, f func([]byte) ([]byte, error)) {
	data, err := os.ReadFile(ts.MkAbs(in))
	ts.Check(err)
	res, err := f(data)
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(out), res, 0o644))
}

func cmdMIMEPart(ts *testscript.TestScript, neg bool, args []string) {
	args, raw := flag(args, "-raw")
	usage(ts, neg, false, args, 3, 3, "mime-part [-raw] N IN OUT")
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 {
		ts.Fatalf("mime-part: part number %q is not a positive integer", args[0])
	}
	part := MIMEPart
	if raw {
		part = MIMEPartRaw
	}
	transform(ts, args[1], args[2], func(msg []byte) ([]byte, error) { return part(msg, n) })
}

func cmdSMIMEBody(ts *testscript.TestScript, neg bool, args []string) {
	usage(ts, neg, false, args, 2, 2, "smime-body IN OUT")
	transform(ts, args[0], args[1], SMIMEBody)
}

func cmdWrapPKCS7MIME(ts *testscript.TestScript, neg bool, args []string) {
	usage(ts, neg, false, args, 2, 2, "wrap-pkcs7-mime IN OUT")
	transform(ts, args[0], args[1], WrapPKCS7MIME)
}

func cmdWrapSigned(ts *testscript.TestScript, neg bool, args []string) {
	micalg := ""
	if len(args) >= 2 && args[0] == "-micalg" {
		micalg, args = args[1], args[2:]
	}
	usage(ts, neg, false, args, 3, 3, "wrap-signed [-micalg ALG] CONTENT SIG OUT")
	sig, err := os.ReadFile(ts.MkAbs(args[1]))
	ts.Check(err)
	transform(ts, args[0], args[2], func(content []byte) ([]byte, error) {
		return WrapSigned(content, sig, micalg)
	})
}
