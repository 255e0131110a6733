package mime

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestReadOriginator: every mailbox of From and Sender, or an error — never
// a partial list a hostile From could hide a mailbox behind (issue #11
// item 2).
func TestReadOriginator(t *testing.T) {
	tests := []struct {
		name    string
		header  string
		from    []string
		sender  string
		look    []Lookalike
		wantErr string
	}{
		{name: "one mailbox", header: "From: Alice <Alice@Example.COM>\r\n", from: []string{"Alice@example.com"}},
		{name: "two mailboxes", header: "From: alice@example.com, \"CEO\" <ceo@example.com>\r\n",
			from: []string{"alice@example.com", "ceo@example.com"}},
		{name: "group members count", header: "From: board: alice@example.com, ceo@example.com;\r\n",
			from: []string{"alice@example.com", "ceo@example.com"}},
		{name: "empty group then mailbox", header: "From: undisclosed:;, alice@example.com\r\n", from: []string{"alice@example.com"}},
		{name: "obsolete empty elements", header: "From: , alice@example.com,,ceo@example.com,\r\n",
			from: []string{"alice@example.com", "ceo@example.com"}},
		{name: "folded list", header: "From: alice@example.com,\r\n ceo@example.com\r\n",
			from: []string{"alice@example.com", "ceo@example.com"}},
		{name: "comment is not a mailbox", header: "From: alice@example.com (ceo@example.com)\r\n",
			from: []string{"alice@example.com"}, look: []Lookalike{{Name: "ceo@example.com", Mailbox: "alice@example.com"}}},
		{name: "encoded word is not a mailbox", header: "From: =?utf-8?q?ceo=40example.com?= <alice@example.com>\r\n",
			from: []string{"alice@example.com"}, look: []Lookalike{{Name: "ceo@example.com", Mailbox: "alice@example.com"}}},
		{name: "unknown charset in a display name", header: "From: =?koi8-r?b?8NLJ18XU?= <alice@example.com>\r\n",
			from: []string{"alice@example.com"}},
		// Red team (attack2): display names a client shows as another
		// address, read as it shows them.
		{name: "fullwidth at sign", header: "From: \"ceo\uff20example\uff0ecom\" <alice@example.com>\r\n",
			from: []string{"alice@example.com"}, look: []Lookalike{{Name: "ceo\uff20example\uff0ecom", Mailbox: "alice@example.com"}}},
		{name: "zero-width space", header: "From: \"ceo@exam\u200bple.com\" <alice@example.com>\r\n",
			from: []string{"alice@example.com"}, look: []Lookalike{{Name: "ceo@exam\u200bple.com", Mailbox: "alice@example.com"}}},
		{name: "right-to-left override", header: "From: \"\u202emoc.elpmaxe@oec\" <alice@example.com>\r\n",
			from: []string{"alice@example.com"}, look: []Lookalike{{Name: "\u202emoc.elpmaxe@oec", Mailbox: "alice@example.com"}}},
		{name: "fullwidth same address", header: "From: \"alice\uff20example.com\" <alice@example.com>\r\n",
			from: []string{"alice@example.com"}},
		{name: "display name naming the same address", header: "From: \"alice@example.com\" <alice@EXAMPLE.com>\r\n",
			from: []string{"alice@example.com"}},
		{name: "sender", header: "From: alice@example.com\r\nSender: Sec <sec@example.com>\r\n",
			from: []string{"alice@example.com"}, sender: "sec@example.com"},
		{name: "utf-8 local part", header: "From: jörg@example.de\r\n", from: []string{"jörg@example.de"}},

		{name: "no From", header: "To: bob@example.com\r\n", wantErr: "no From field"},
		{name: "two From fields", header: "From: alice@example.com\r\nFrom: ceo@example.com\r\n", wantErr: "2 From fields"},
		{name: "two From fields in any case", header: "From: alice@example.com\r\nfROM: ceo@example.com\r\n", wantErr: "2 From fields"},
		{name: "empty From", header: "From: \r\n", wantErr: "does not parse"},
		{name: "only an empty group", header: "From: undisclosed:;\r\n", wantErr: "names no mailbox"},
		{name: "two mailboxes without a comma", header: "From: alice@example.com ceo@example.com\r\n", wantErr: "does not parse"},
		{name: "address as display name without quotes", header: "From: alice@example.com <ceo@example.com>\r\n", wantErr: "does not parse"},
		{name: "semicolon list", header: "From: alice@example.com;ceo@example.com\r\n", wantErr: "does not parse"},
		{name: "text after the mailbox", header: "From: Alice <alice@example.com> ceo@example.com\r\n", wantErr: "does not parse"},
		{name: "obsolete route", header: "From: <@relay.example:alice@example.com>\r\n", wantErr: "does not parse"},
		{name: "nested group", header: "From: a: b: c@example.com;;\r\n", wantErr: "does not parse"},
		{name: "encoded word as the address", header: "From: =?utf-8?q?alice=40example.com?=\r\n", wantErr: "does not parse"},
		{name: "no domain", header: "From: alice\r\n", wantErr: "does not parse"},
		{name: "invalid UTF-8", header: "From: al\xffice@example.com\r\n", wantErr: "does not parse"},
		{name: "too many mailboxes", header: "From: a@example.com" + strings.Repeat(", b@example.com", MaxMailboxes) + "\r\n", wantErr: "names 101 mailboxes; more than 100 are refused"},
		{name: "two Sender fields", header: "From: alice@example.com\r\nSender: a@example.com\r\nSender: b@example.com\r\n", wantErr: "2 Sender fields"},
		{name: "Sender with two mailboxes", header: "From: alice@example.com\r\nSender: a@example.com, b@example.com\r\n", wantErr: "2 mailboxes, not one"},
		{name: "Sender unreadable", header: "From: alice@example.com\r\nSender: a@example.com b@example.com\r\n", wantErr: "Sender field does not parse"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, _, err := readHeaderString(tc.header + "\r\n")
			if err != nil {
				t.Fatal(err)
			}
			o, err := ReadOriginator(h)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %+v, %v; want an error with %q", o, err, tc.wantErr)
				}
				if o.From != nil || o.Sender != "" {
					t.Errorf("got mailboxes %+v with the error", o)
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v", err)
			}
			if !reflect.DeepEqual(o.From, tc.from) || o.Sender != tc.sender || !reflect.DeepEqual(o.Lookalikes, tc.look) {
				t.Errorf("got %+v, want From %q Sender %q Lookalikes %+v", o, tc.from, tc.sender, tc.look)
			}
		})
	}
	if _, err := ReadOriginator(Header{}); !errors.Is(err, ErrNoFrom) {
		t.Errorf("empty header: got %v, want ErrNoFrom", err)
	}
}

func TestOriginatorSame(t *testing.T) {
	a := Originator{From: []string{"alice@example.com", "ceo@example.com"}}
	tests := []struct {
		name string
		b    Originator
		want bool
	}{
		{"same", Originator{From: []string{"alice@example.com", "ceo@example.com"}}, true},
		{"other order, domain case", Originator{From: []string{"ceo@EXAMPLE.com", "alice@example.com"}}, true},
		{"one left out", Originator{From: []string{"alice@example.com"}}, false},
		{"local part case", Originator{From: []string{"Alice@example.com", "ceo@example.com"}}, false},
		{"duplicate instead of another", Originator{From: []string{"alice@example.com", "alice@example.com"}}, false},
		{"sender added", Originator{From: []string{"alice@example.com", "ceo@example.com"}, Sender: "x@example.com"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := a.Same(tc.b); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if got := (Originator{From: []string{"a@x.example"}, Sender: "a@x.example"}).Mailboxes(); !reflect.DeepEqual(got, []string{"a@x.example"}) {
		t.Errorf("Mailboxes: got %q", got)
	}
}

func TestProtectionOriginator(t *testing.T) {
	p := &Protection{Fields: []Field{{"Subject", "x"}, {"From", "alice@example.com"}, {"From", "ceo@example.com"}}}
	if _, ok, err := p.Originator(); !ok || err == nil {
		t.Errorf("two protected From fields: got ok %v, error %v; want ok and an error", ok, err)
	}
	// Red team (attack2): no protected From is not "unprotected": a client
	// that reads protected headers ignores the outer From.
	p = &Protection{Fields: []Field{{"Subject", "x"}}}
	if _, ok, err := p.Originator(); !ok || err == nil || !strings.Contains(err.Error(), "has no From field") {
		t.Errorf("no protected From: got ok %v, error %v; want ok and an error", ok, err)
	}
	if _, ok, err := (*Protection)(nil).Originator(); ok || err != nil {
		t.Errorf("no protection: got ok %v, error %v", ok, err)
	}
	// Red team (attack2): a protected Sender alone is not "unprotected":
	// a client shows it, and WriteEffective releases it without a From.
	p = &Protection{Fields: []Field{{"Subject", "x"}, {"Sender", "alice@example.com"}}}
	if _, ok, err := p.Originator(); !ok || err == nil || !strings.Contains(err.Error(), "a Sender field but no From field") {
		t.Errorf("a protected Sender without From: got ok %v, error %v; want ok and an error", ok, err)
	}
	p = &Protection{Fields: []Field{{"From", "alice@example.com, ceo@example.com"}, {"Sender", "sec@example.com"}}}
	o, ok, err := p.Originator()
	if !ok || err != nil || !reflect.DeepEqual(o.Mailboxes(), []string{"alice@example.com", "ceo@example.com", "sec@example.com"}) {
		t.Errorf("got %+v %v %v", o, ok, err)
	}
}

// FuzzReadOriginator: ReadOriginator never panics; it succeeds only for a
// header with one From field and at most one Sender field, and then every
// mailbox has a local part and a domain, From names at least one, and the
// Sender, if any, is read from a Sender field (issue #11 item 2).
func FuzzReadOriginator(f *testing.F) {
	for _, s := range []string{
		"From: alice@example.com, \"CEO\" <ceo@example.com>\r\n",
		"From: board: alice@example.com, ceo@example.com;\r\nSender: sec@example.com\r\n",
		"From: =?utf-8?q?ceo=40example.com?= <alice@example.com> (c)\r\n",
		"From: alice@example.com\r\nFrom: ceo@example.com\r\n",
		"From: \"a\\\"b\"@example.com,,\r\n <@r.example:x@example.com>\r\n",
	} {
		f.Add([]byte(s + "\r\n"))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, _, err := readHeaderString(string(b))
		if err != nil {
			return
		}
		o, err := ReadOriginator(h)
		if err != nil {
			if o.From != nil || o.Sender != "" {
				t.Fatalf("mailboxes %+v with error %v", o, err)
			}
			return
		}
		if len(h.Values("From")) != 1 || len(h.Values("Sender")) > 1 {
			t.Fatalf("read %d From and %d Sender fields", len(h.Values("From")), len(h.Values("Sender")))
		}
		if len(o.From) == 0 || o.Sender != "" && !h.Has("Sender") {
			t.Fatalf("got %+v", o)
		}
		for _, m := range o.Mailboxes() {
			at := strings.LastIndexByte(m, '@')
			if at <= 0 || at == len(m)-1 {
				t.Fatalf("mailbox %q without a local part or domain", m)
			}
		}
	})
}
