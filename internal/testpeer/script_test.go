package testpeer

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestScripts runs the testscript commands of Cmds against the shared PKI,
// copied into each script's working directory.
func TestScripts(t *testing.T) {
	t.Parallel()
	p := sharedPKI(t)
	files := map[string]string{
		"root.crt": p.root, "inter.crt": p.inter, "other.crt": p.otherRoot, "chain.pem": p.chain,
		"alice.key": p.aliceKey, "alice.crt": p.alice, "alice.p12": p.aliceP12,
		"expired.key": p.expiredKey, "expired.crt": p.expired, "msg.txt": p.msg,
	}
	testscript.Run(t, testscript.Params{
		Dir:       "testdata",
		Cmds:      Cmds(),
		Condition: Condition,
		Setup: func(env *testscript.Env) error {
			for name, src := range files {
				data, err := os.ReadFile(src)
				if err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(env.WorkDir, name), data, 0o600); err != nil {
					return err
				}
			}
			env.Setenv("PASS", p.pass)
			return nil
		},
	})
}
