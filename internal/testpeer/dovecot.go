package testpeer

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Dovecot is a private Dovecot instance started by [StartDovecot]: a master
// process with no network protocols (protocols is empty), its own
// dovecot.conf, base_dir, log and one user's Maildir in a temporary
// directory. Messages go in with doveadm save and are read back with doveadm
// fetch: Dovecot's own MIME parser, the one that answers IMAP FETCH BODY[n].
type Dovecot struct {
	dir, conf, user string
	cmd             *exec.Cmd
	done            chan struct{}
	n               int
}

// StartDovecot starts Dovecot for t and stops it at t.Cleanup. It skips t,
// or fails it under CI=true, when dovecot or doveadm is missing (see
// [Require]). Run as root, the user's mail belongs to nobody (65534), as
// Dovecot refuses mail access as root.
func StartDovecot(t testing.TB) *Dovecot {
	t.Helper()
	Require(t, "dovecot")
	// Not t.TempDir: its path is long (unix socket paths are limited to
	// 108 bytes) and mode 0700, which the mail user must traverse.
	dir, err := os.MkdirTemp("", "dovecot")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	uid, gid := os.Getuid(), os.Getgid()
	internal := "" // the unprivileged user of Dovecot's own processes
	if uid == 0 {
		uid, gid, internal = 65534, 65534, "dovenull"
	} else {
		out, err := exec.Command("id", "-un").Output()
		if err != nil {
			t.Fatal(err)
		}
		internal = strings.TrimSpace(string(out))
	}
	for _, d := range []string{"base", "state", "home", "mail"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"home", "mail"} {
		if err := os.Chown(filepath.Join(dir, d), uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	d := &Dovecot{dir: dir, conf: filepath.Join(dir, "dovecot.conf"), user: "mailuser", done: make(chan struct{})}
	conf := fmt.Sprintf(`protocols =
base_dir = %[1]s/base
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
ssl = no
default_internal_user = %[2]s
default_login_user = %[2]s
first_valid_uid = %[3]d
first_valid_gid = %[4]d
mail_location = maildir:%[1]s/mail
passdb {
  driver = static
  args = nopassword=y
}
userdb {
  driver = static
  args = uid=%[3]d gid=%[4]d home=%[1]s/home
}
`, dir, internal, uid, gid)
	if err := os.WriteFile(d.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	d.cmd = exec.Command("/usr/sbin/dovecot", "-F", "-c", d.conf)
	var stderr bytes.Buffer
	d.cmd.Stderr = &stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("starting dovecot: %v", err)
	}
	go func() { _ = d.cmd.Wait(); close(d.done) }()
	t.Cleanup(d.stop)
	socket := filepath.Join(dir, "base", "auth-userdb")
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, err := os.Stat(socket); err == nil {
			break
		}
		select {
		case <-d.done:
			log, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
			t.Fatalf("dovecot exited: %s%s", stderr.Bytes(), log)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("dovecot did not start within 10s")
		}
	}
	return d
}

func (d *Dovecot) stop() {
	select {
	case <-d.done:
		return
	default:
	}
	_ = d.cmd.Process.Signal(os.Interrupt)
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
	}
}

func (d *Dovecot) doveadm(stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.Command("doveadm", append([]string{"-c", d.conf}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("doveadm %s: %v: %s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out, nil
}

// Deliver saves msg, as received, into a new mailbox of its own and
// returns the mailbox's name.
func (d *Dovecot) Deliver(t testing.TB, msg []byte) string {
	t.Helper()
	d.n++
	box := "m" + strconv.Itoa(d.n)
	if _, err := d.doveadm(nil, "mailbox", "create", "-u", d.user, box); err != nil {
		t.Fatal(err)
	}
	if _, err := d.doveadm(msg, "save", "-u", d.user, "-m", box); err != nil {
		t.Fatal(err)
	}
	return box
}

// Fetch returns the bytes Dovecot gives for an IMAP section of the one
// message in box: "body.1" is BODY[1], "body.1.mime" BODY[1.MIME] (the
// part's header and the blank line after it), "hdr" the message header.
func (d *Dovecot) Fetch(t testing.TB, box, field string) []byte {
	t.Helper()
	out, err := d.doveadm(nil, "fetch", "-u", d.user, field, "mailbox", box)
	if err != nil {
		t.Fatal(err)
	}
	// doveadm's flow format: "field:\n" then the value as it is.
	rest, ok := bytes.CutPrefix(out, []byte(field+":\n"))
	if !ok {
		t.Fatalf("doveadm fetch %s: unexpected output %q", field, out[:min(len(out), 80)])
	}
	return rest
}
