package encrypt

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/smimectl/smimectl/pkg/certsel"
)

// TestManyAddressesCostLinear (issue #17 item 3, redteam17): a message
// header of 1 MiB can name some 80,000 distinct addresses. Before the
// recipient limit is applied, PlanRecipients and Addresses.All drop the
// repeats; compared pairwise (each comparison an IDNA conversion) that took
// minutes of CPU, a stall for any gateway that encrypts what it is handed.
// With keys in a map it is linear: the limit error comes at once.
func TestManyAddressesCostLinear(t *testing.T) {
	const n = 80000
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("u%d@ex.co", i)
	}
	// One repeat in another case of the domain, at the end: still found.
	addrs = append(addrs, "u0@EX.CO")
	start := time.Now()
	all := Addresses{To: addrs}.All()
	if len(all) != n {
		t.Errorf("Addresses.All gave %d addresses, want %d", len(all), n)
	}
	p, err := PlanRecipients(context.Background(), addrs, PlanOptions{})
	var le *certsel.LimitError
	if !errors.As(err, &le) || le.Count != n {
		t.Fatalf("PlanRecipients error = %v (%T), want a *certsel.LimitError for %d addresses", err, err, n)
	}
	if p != nil {
		t.Errorf("PlanRecipients returned a plan with a limit error")
	}
	// Linear work is well under a second; the pairwise comparison took
	// over a minute. 20s leaves room for a loaded machine.
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("deduplicating %d addresses took %v: the cost is not linear", n, d)
	}
}

// TestDuplicatesIDN (redteam17): the keys that made deduplication linear
// compare as certinfo.SameAddress does: a domain in U-labels and its
// A-labels in capitals are one address; local parts are not folded; a
// string without "@" is never a repeat.
func TestDuplicatesIDN(t *testing.T) {
	addrs := []string{"zoe@bücher.example", "zoe@XN--BCHER-KVA.example", "Zoe@bücher.example", "undisclosed", "undisclosed"}
	p, err := PlanRecipients(context.Background(), addrs, PlanOptions{})
	var me *certsel.MissingError
	if !errors.As(err, &me) || p == nil {
		t.Fatalf("error %v (%T), plan %v; want a *certsel.MissingError and the plan", err, err, p)
	}
	if len(p.Duplicates) != 1 || p.Duplicates[0] != "zoe@XN--BCHER-KVA.example" {
		t.Errorf("duplicates %q, want [zoe@XN--BCHER-KVA.example]", p.Duplicates)
	}
	if got := (Addresses{To: addrs}).All(); len(got) != 4 {
		t.Errorf("Addresses.All = %q, want 4 addresses", got)
	}
}
