package batch

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func split(t *testing.T, in string, max int64) []MboxMessage {
	t.Helper()
	var got []MboxMessage
	if err := SplitMbox(strings.NewReader(in), max, func(m MboxMessage) bool {
		got = append(got, m)
		return true
	}); err != nil {
		t.Fatalf("SplitMbox: %v", err)
	}
	return got
}

// Issue #13 item 1: mbox files are split at "From " lines with the index and
// byte offset of each, and mboxrd quoting undone.
func TestSplitMbox(t *testing.T) {
	type msg struct {
		off  int64
		data string
	}
	for _, tc := range []struct {
		name string
		in   string
		want []msg
	}{
		{"one", "From a@b Sat Jan  1 00:00:00 2026\nSubject: x\n\nbody\n\n",
			[]msg{{0, "Subject: x\n\nbody\n"}}},
		{"three", "From a\nA: 1\n\nx\n\nFrom b\nB: 2\n\ny\n\nFrom c\nC: 3\n\nz\n",
			[]msg{{0, "A: 1\n\nx\n"}, {16, "B: 2\n\ny\n"}, {32, "C: 3\n\nz\n"}}},
		{"mboxrd unquoting", "From a\nS: 1\n\n>From here\n>>From there\n>Fromage\n\n",
			[]msg{{0, "S: 1\n\nFrom here\n>From there\n>Fromage\n"}}},
		// A "From " line not after an empty line is not a separator.
		{"from inside", "From a\nS: 1\n\nline\nFrom me\n\n",
			[]msg{{0, "S: 1\n\nline\nFrom me\n"}}},
		{"crlf", "From a\r\nS: 1\r\n\r\nx\r\n\r\nFrom b\r\nT: 2\r\n\r\ny\r\n",
			[]msg{{0, "S: 1\r\n\r\nx\r\n"}, {21, "T: 2\r\n\r\ny\r\n"}}},
		{"empty messages", "From a\n\nFrom b\n\n", []msg{{0, ""}, {8, ""}}},
		{"no final newline", "From a\nS: 1\n\nx", []msg{{0, "S: 1\n\nx"}}},
		{"two empty lines kept one", "From a\nS: 1\n\nx\n\n\nFrom b\n", []msg{{0, "S: 1\n\nx\n\n"}, {17, ""}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := split(t, tc.in, 0)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d messages, want %d: %+v", len(got), len(tc.want), got)
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Index != i || g.Offset != w.off || string(g.Data) != w.data || g.Err != nil {
					t.Errorf("message %d: got (%d, %d, %q, %v), want (%d, %d, %q, nil)", i, g.Index, g.Offset, g.Data, g.Err, i, w.off, w.data)
				}
				if !strings.HasPrefix(tc.in[w.off:], "From ") {
					t.Errorf("message %d: offset %d is not at a From line", i, w.off)
				}
			}
		})
	}
}

func TestSplitMboxNotMbox(t *testing.T) {
	err := SplitMbox(strings.NewReader("Subject: x\n\nFrom a\n"), 0, func(MboxMessage) bool { t.Fatal("yielded"); return true })
	if err == nil {
		t.Fatal("got nil error for a file that does not start with From")
	}
}

// A message larger than the limit is reported without its data, and a huge
// line is not held whole; the next message is still found.
func TestSplitMboxTooLarge(t *testing.T) {
	in := "From a\nS: 1\n\n" + strings.Repeat("x", 1<<20) + "\n\nFrom b\nS: 2\n\nok\n"
	got := split(t, in, 1000)
	if len(got) != 2 {
		t.Fatalf("got %d messages, want 2", len(got))
	}
	if !errors.Is(got[0].Err, ErrMessageTooLarge) || got[0].Data != nil {
		t.Errorf("message 0: got err %v, %d bytes; want ErrMessageTooLarge and no data", got[0].Err, len(got[0].Data))
	}
	if got[1].Err != nil || string(got[1].Data) != "S: 2\n\nok\n" || got[1].Offset != int64(strings.Index(in, "From b")) {
		t.Errorf("message 1: got %+v", got[1])
	}
}

// Stopping early stops reading.
func TestSplitMboxStop(t *testing.T) {
	n := 0
	SplitMbox(strings.NewReader("From a\n\nFrom b\n\nFrom c\n"), 0, func(MboxMessage) bool { n++; return n < 2 })
	if n != 2 {
		t.Errorf("yield called %d times after returning false, want 2", n)
	}
}

// FuzzSplitMbox: whatever the input, every message's offset points at a
// "From " line of the input, offsets and indices increase, and a message
// quoted the mboxrd way and put between two others comes back unchanged.
func FuzzSplitMbox(f *testing.F) {
	f.Add([]byte("From a\nS: 1\n\n>From x\n\nFrom b\n\n"), []byte("Subject: hi\n\nFrom me\n>From you\n"))
	f.Add([]byte("From \r\n\r\nFrom \n"), []byte(""))
	f.Fuzz(func(t *testing.T, in, msg []byte) {
		last := int64(-1)
		SplitMbox(bytes.NewReader(in), 1<<16, func(m MboxMessage) bool {
			if m.Offset <= last || !bytes.HasPrefix(in[m.Offset:], []byte("From ")) {
				t.Fatalf("message %d: bad offset %d (last %d)", m.Index, m.Offset, last)
			}
			if m.Err == nil && int64(len(m.Data)) > int64(len(in))-m.Offset {
				t.Fatalf("message %d: %d bytes from %d bytes after its offset", m.Index, len(m.Data), int64(len(in))-m.Offset)
			}
			last = m.Offset
			return true
		})
		// Round trip: quote msg as mboxrd writers do and split it back.
		if bytes.Contains(msg, []byte("\r")) || len(msg) > 0 && msg[len(msg)-1] != '\n' || bytes.HasSuffix(msg, []byte("\n\n")) {
			return // a message ends in one line end: writers add the empty line
		}
		var box bytes.Buffer
		box.WriteString("From a\n\n")
		box.WriteString("From x Sat Jan  1 00:00:00 2026\n")
		for line := range bytes.Lines(msg) {
			if bytes.HasPrefix(bytes.TrimLeft(line, ">"), []byte("From ")) {
				box.WriteByte('>')
			}
			box.Write(line)
		}
		box.WriteString("\nFrom z\n")
		var got []MboxMessage
		SplitMbox(&box, 0, func(m MboxMessage) bool { got = append(got, m); return true })
		if len(got) != 3 || !bytes.Equal(got[1].Data, msg) {
			t.Fatalf("round trip of %q: got %s", msg, fmt.Sprint(got))
		}
	})
}
