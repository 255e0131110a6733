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
