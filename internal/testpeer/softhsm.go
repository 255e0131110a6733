package testpeer

import (
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/rogpeppe/go-internal/testscript"
)

// SoftHSM2 (Debian softhsm2) is the software token the PKCS#11 tests use
// (issue #12): a token directory and configuration of its own per test, so
// no test sees another's token or the system's. pkcs11-tool (Debian opensc)
// writes certificates to it.

// softHSMModules are where Debian and other distributions install the
// SoftHSM2 PKCS#11 module.
var softHSMModules = []string{
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib64/pkcs11/libsofthsm2.so",
	"/usr/local/lib/softhsm/libsofthsm2.so",
}

// SoftHSMModule returns the path of the installed SoftHSM2 module, or "".
func SoftHSMModule() string {
	for _, p := range softHSMModules {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// SoftHSM is a SoftHSM2 installation confined to Dir: its tokens live in
// Dir/tokens and Conf is the file SOFTHSM2_CONF must name.
type SoftHSM struct {
	Dir, Conf, Module string
}

// NewSoftHSM prepares a SoftHSM2 configuration with an empty token
// directory in dir. Programs and modules see it through the environment
// [SoftHSM.Env] returns (SOFTHSM2_CONF).
func NewSoftHSM(dir string) (*SoftHSM, error) {
	mod := SoftHSMModule()
	if mod == "" {
		return nil, fmt.Errorf("testpeer: no SoftHSM2 module in %v (apt-get install softhsm2)", softHSMModules)
	}
	tokens := filepath.Join(dir, "tokens")
	if err := os.MkdirAll(tokens, 0o700); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	text := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", tokens)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return nil, err
	}
	return &SoftHSM{Dir: dir, Conf: conf, Module: mod}, nil
}

// Env is the environment entry that points SoftHSM2 at s.
func (s *SoftHSM) Env() string { return "SOFTHSM2_CONF=" + s.Conf }

func (s *SoftHSM) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), s.Env())
	return cmd
}

// InitToken creates a token labelled label in a free slot, with user PIN
// pin and security officer PIN soPIN.
func (s *SoftHSM) InitToken(label, soPIN, pin string) error {
	_, err := run(s.command("softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", soPIN, "--pin", pin))
	return err
}

// ImportKey puts the unencrypted PEM private key in keyFile on the token as
// a private object with the given object label and CKA_ID, allowed to sign,
// decrypt and derive (ECDH), as a card's key-management key is. It uses
// pkcs11-tool: softhsm2-util --import leaves CKA_DERIVE false.
func (s *SoftHSM) ImportKey(token, pin, keyFile, label string, id []byte) error {
	_, err := run(s.command("pkcs11-tool", "--module", s.Module, "--token-label", token, "--login", "--pin", pin,
		"--write-object", keyFile, "--type", "privkey", "--id", hex.EncodeToString(id), "--label", label,
		"--usage-sign", "--usage-decrypt", "--usage-derive"))
	return err
}

// ImportCert puts the certificate in certFile (PEM or DER) on the token
// with the given object label and CKA_ID, using pkcs11-tool.
func (s *SoftHSM) ImportCert(token, pin, certFile, label string, id []byte) error {
	der, err := readCert(certFile)
	if err != nil {
		return err
	}
	tmp := filepath.Join(s.Dir, "cert-"+hex.EncodeToString(id)+".der")
	if err := os.WriteFile(tmp, der, 0o600); err != nil {
		return err
	}
	defer os.Remove(tmp)
	_, err = run(s.command("pkcs11-tool", "--module", s.Module, "--token-label", token, "--login", "--pin", pin,
		"--write-object", tmp, "--type", "cert", "--id", hex.EncodeToString(id), "--label", label))
	return err
}

// softHSMCmds are the testscript commands over SoftHSM2:
//
//	softhsm-init LABEL PIN
//	    create a SoftHSM2 configuration in $WORK/softhsm (once per script)
//	    and a token LABEL with user PIN PIN (security officer PIN "so"+PIN);
//	    sets $SOFTHSM2_CONF and $SOFTHSM_MODULE, the module's path.
//	softhsm-import LABEL PIN KEY.pem CERT.crt OBJECT ID
//	    put the PKCS#8 key and its certificate on token LABEL as OBJECT,
//	    both with CKA_ID ID (hex).
func softHSMCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"softhsm-init":   cmdSoftHSMInit,
		"softhsm-import": cmdSoftHSMImport,
	}
}

func scriptSoftHSM(ts *testscript.TestScript) *SoftHSM {
	s, err := NewSoftHSM(ts.MkAbs("softhsm"))
	ts.Check(err)
	return s
}

func cmdSoftHSMInit(ts *testscript.TestScript, neg bool, args []string) {
	usage(ts, neg, false, args, 2, 2, "softhsm-init LABEL PIN")
	s := scriptSoftHSM(ts)
	ts.Setenv("SOFTHSM2_CONF", s.Conf)
	ts.Setenv("SOFTHSM_MODULE", s.Module)
	ts.Check(s.InitToken(args[0], "so"+args[1], args[1]))
}

func cmdSoftHSMImport(ts *testscript.TestScript, neg bool, args []string) {
	usage(ts, neg, false, args, 6, 6, "softhsm-import LABEL PIN KEY.pem CERT.crt OBJECT ID")
	s := scriptSoftHSM(ts)
	id, err := hex.DecodeString(args[5])
	ts.Check(err)
	ts.Check(s.ImportKey(args[0], args[1], ts.MkAbs(args[2]), args[4], id))
	ts.Check(s.ImportCert(args[0], args[1], ts.MkAbs(args[3]), args[4], id))
}
