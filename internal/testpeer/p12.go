package testpeer

import (
	"fmt"
	"os"

	"github.com/rogpeppe/go-internal/testscript"
)

// PKCS#12 files as NSS and gpgsm handle them (issue #15 item 3):
//
//	nss-export-p12 [-legacy] DBDIR NICK PASS OUT
//	    export the key NICK with its certificates from the NSS database,
//	    protected by PASS, as pk12util writes it: BER with indefinite
//	    lengths; PBES2 with AES by default, with -legacy 3DES keys, RC2-40
//	    certificates and a SHA-1 MAC (older Thunderbird and Firefox).
//	gpgsm-import-p12 FILE.p12 PASS
//	    import a PKCS#12 file into $GNUPGHOME as it is ([GPGSM.ImportPKCS12]).
func p12Cmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"nss-export-p12":   cmdNSSExportP12,
		"gpgsm-import-p12": cmdGPGSMImportP12,
	}
}

func cmdNSSExportP12(ts *testscript.TestScript, neg bool, args []string) {
	args, legacy := flag(args, "-legacy")
	usage(ts, neg, false, args, 4, 4, "nss-export-p12 [-legacy] DBDIR NICK PASS OUT")
	n := &NSS{Dir: ts.MkAbs(args[0])}
	ts.Check(n.ExportPKCS12(args[1], args[2], ts.MkAbs(args[3]), legacy))
}

func cmdGPGSMImportP12(ts *testscript.TestScript, neg bool, args []string) {
	usage(ts, neg, false, args, 2, 2, "gpgsm-import-p12 FILE.p12 PASS")
	ts.Check(scriptGPGSM(ts).ImportPKCS12(ts.MkAbs(args[0]), args[1]))
}

// ExportPKCS12 writes the key nick and its certificates to out with
// pk12util, protected by pass. With legacy the ciphers are those older NSS
// versions chose: PBE-SHA1-3DES for the key, PBE-SHA1-RC2-40 for the
// certificates, SHA-1 for the MAC.
func (n *NSS) ExportPKCS12(nick, pass, out string, legacy bool) error {
	pw, err := os.CreateTemp("", "testpeer-pw-")
	if err != nil {
		return fmt.Errorf("testpeer: %w", err)
	}
	defer os.Remove(pw.Name())
	if _, err := pw.WriteString(pass); err != nil {
		pw.Close()
		return fmt.Errorf("testpeer: writing password file: %w", err)
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("testpeer: writing password file: %w", err)
	}
	args := []string{"-o", out, "-n", nick, "-w", pw.Name()}
	if legacy {
		args = append(args, "-c", "PKCS #12 V2 PBE With SHA-1 And 3KEY Triple DES-CBC",
			"-C", "PKCS #12 V2 PBE With SHA-1 And 40 Bit RC2 CBC", "-M", "SHA-1")
	}
	_, err = run(n.command("pk12util", args...))
	return err
}

// ImportPKCS12 imports the PKCS#12 file p12, protected by pass, as it is:
// no re-encoding (compare [GPGSM.ImportKey]).
func (g *GPGSM) ImportPKCS12(p12, pass string) error {
	_, err := run(withPassphrase(g.command("--import", p12), pass))
	return err
}
