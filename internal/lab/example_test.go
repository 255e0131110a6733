package lab_test

import (
	"fmt"
	"time"

	"github.com/smimectl/smimectl/internal/lab"
)

func ExampleNew() {
	l, err := lab.New(lab.Options{Seed: "1", Epoch: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(l.Root.Cert.Subject.CommonName)
	fmt.Println(l.Intermediate.Cert.Subject.CommonName)
	for _, u := range l.Users {
		fmt.Printf("%-13s %s\n", u.Name, u.Email)
	}
	// Output:
	// smimectl lab root CA
	// smimectl lab intermediate CA
	// alice-sign    alice@example.com
	// alice-encrypt alice@example.com
	// bob           bob@example.com
	// carol         carol@example.com
	// dave-expired  dave@example.com
	// eve-revoked   eve@example.com
}
