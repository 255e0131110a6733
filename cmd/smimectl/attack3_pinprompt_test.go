//go:build cgo && linux

package main

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/smimectl/smimectl/internal/lab"
	"github.com/smimectl/smimectl/internal/testpeer"
)

// Red team (attack3): Ctrl-C at the smart card's PIN prompt. The prompt
// turns the terminal's echo off; the signal handler exited (130) without
// turning it back on, so the user's shell was left typing blind. The test
// runs smimectl on a pseudo-terminal, waits for the prompt, types Ctrl-C
// and looks at the terminal after the exit.
func TestPINPromptInterruptRestoresEcho(t *testing.T) {
	testpeer.Require(t, "softhsm")
	dir := t.TempDir()
	hsm, err := testpeer.NewSoftHSM(dir)
	if err != nil {
		t.Fatal(err)
	}
	const pin = "161803"
	if err := hsm.InitToken("tty", "so"+pin, pin); err != nil {
		t.Fatal(err)
	}
	l, err := lab.New(lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	bob := l.User("bob")
	der, err := x509.MarshalPKCS8PrivateKey(bob.Key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "bob.key")
	certFile := filepath.Join(dir, "bob.crt")
	msg := filepath.Join(dir, "msg.eml")
	for f, data := range map[string][]byte{
		keyFile:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		certFile: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: bob.Cert.Raw}),
		msg:      []byte("From: bob@example.com\r\nSubject: x\r\n\r\nHello.\r\n"),
	} {
		if err := os.WriteFile(f, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := hsm.ImportKey("tty", pin, keyFile, "bob", []byte{1}); err != nil {
		t.Fatal(err)
	}
	if err := hsm.ImportCert("tty", pin, certFile, "bob", []byte{1}); err != nil {
		t.Fatal(err)
	}

	// A pseudo-terminal: the master is the user's side.
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminals here: %v", err)
	}
	defer master.Close()
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer slave.Close()

	cmd := exec.Command("smimectl", "clear-sign", "--pkcs11", "pkcs11:token=tty;object=bob?module-path="+hsm.Module, "--in", msg)
	cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+hsm.Conf, "TMPDIR="+t.TempDir())
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var seen bytes.Buffer
	prompt := make(chan bool, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			seen.Write(buf[:n])
			if strings.Contains(seen.String(), "PIN for") {
				prompt <- true
				return
			}
			if err != nil {
				prompt <- false
				return
			}
		}
	}()
	select {
	case ok := <-prompt:
		if !ok {
			t.Fatalf("no PIN prompt: %q", seen.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("no PIN prompt within a minute")
	}
	// The prompt is written before echo goes off: wait until it is off.
	waitFor(t, "echo is off", func() bool {
		tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
		return err == nil && tio.Lflag&unix.ECHO == 0
	})
	if _, err := master.Write([]byte{3}); err != nil { // Ctrl-C
		t.Fatal(err)
	}
	if got := exitStatus(t, cmd.Wait()); got != 130 {
		t.Errorf("exit status %d, want 130", got)
	}
	tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if tio.Lflag&unix.ECHO == 0 {
		t.Error("the terminal was left with echo off")
	}
}
