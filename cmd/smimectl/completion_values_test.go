package main

import (
	"testing"

	"github.com/smimectl/smimectl/pkg/encrypt"
)

// TestCipherNames (issue #16 item 12): every cipher the shell offers for
// --cipher is one encrypt accepts.
func TestCipherNames(t *testing.T) {
	for _, name := range cipherNames {
		var c encrypt.Cipher
		if err := c.UnmarshalText([]byte(name)); err != nil {
			t.Errorf("completion offers --cipher %s: %v", name, err)
		}
	}
}
