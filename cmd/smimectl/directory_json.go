package main

import (
	"fmt"
	"time"

	"github.com/smimectl/smimectl/pkg/certsel"
	"github.com/smimectl/smimectl/pkg/directory"
	"github.com/smimectl/smimectl/pkg/verify"
)

// The --json objects of directory list, clean and publish (docs/json.md,
// docs/schema/directory-*.json).

// listJSON is directory list --json.
type listJSON struct {
	Schema     int        `json:"schema"`
	Base       string     `json:"base"`
	Attribute  string     `json:"attribute"`
	Users      []userJSON `json:"users"`
	Processed  int        `json:"processed"`
	Found      int        `json:"found"`
	Values     int        `json:"values"`
	Unreadable int        `json:"unreadable"`
	Referrals  []string   `json:"referrals"`
}

func newListJSON() *listJSON {
	return &listJSON{Schema: jsonSchemaVersion, Users: []userJSON{}, Referrals: []string{}}
}

func (l *listJSON) fill(sum *directory.Summary) {
	l.Base, l.Attribute = sum.Base, sum.Attr
	l.Processed, l.Found, l.Values, l.Unreadable = sum.Users, sum.WithValues, sum.Values, sum.Unreadable
	l.Referrals = append(l.Referrals, sum.Referrals...)
}

type userJSON struct {
	DN     string      `json:"dn"`
	Name   string      `json:"name"`
	Mail   []string    `json:"mail"`
	Values []valueJSON `json:"values"`
}

func userToJSON(u *directory.User) userJSON {
	out := userJSON{DN: u.DN, Name: u.Name, Mail: append([]string{}, u.Mail...), Values: []valueJSON{}}
	for _, v := range u.Values {
		out.Values = append(out.Values, valueToJSON(v))
	}
	return out
}

// valueJSON is one value: its trust is "trusted", "untrusted" or
// "unchecked" (no --trust); an unreadable value has an error and no
// certificates.
type valueJSON struct {
	SHA256       string     `json:"sha256"`
	Size         int        `json:"size"`
	Trust        string     `json:"trust"`
	Expired      bool       `json:"expired"`
	Error        string     `json:"error,omitempty"`
	Certificates []certJSON `json:"certificates"`
}

type certJSON struct {
	Subject           string    `json:"subject"`
	Issuer            string    `json:"issuer"`
	Serial            string    `json:"serial"`
	NotBefore         time.Time `json:"not_before"`
	NotAfter          time.Time `json:"not_after"`
	EndEntity         bool      `json:"end_entity"`
	Trusted           bool      `json:"trusted"`
	Expired           bool      `json:"expired"`
	FingerprintSHA256 string    `json:"fingerprint_sha256"`
}

func valueToJSON(v directory.Value) valueJSON {
	out := valueJSON{SHA256: v.SHA256(), Size: len(v.Raw), Trust: "unchecked", Expired: v.Err == nil && v.Expired, Certificates: []certJSON{}}
	if v.TrustChecked {
		out.Trust = "trusted"
		if v.Untrusted {
			out.Trust = "untrusted"
		}
	}
	if v.Err != nil {
		out.Error = libraryDetail(v.Err)
	}
	for _, c := range v.Certs {
		out.Certificates = append(out.Certificates, certJSON{
			Subject: certsel.Name(c.Subject), Issuer: certsel.Name(c.Issuer), Serial: serialHex(c),
			NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(), EndEntity: c.EndEntity, Trusted: c.Trusted,
			Expired: c.Expired, FingerprintSHA256: verify.Fingerprint(c.Certificate),
		})
	}
	return out
}

func serialHex(c directory.Cert) string { return fmt.Sprintf("%X", c.SerialNumber) }

// cleanJSON is directory clean --json.
type cleanJSON struct {
	Schema    int             `json:"schema"`
	Base      string          `json:"base"`
	Attribute string          `json:"attribute"`
	Only      string          `json:"only"`
	Applied   bool            `json:"applied"`
	Backup    string          `json:"backup,omitempty"`
	Users     []cleanUserJSON `json:"users"`
	Processed int             `json:"processed"`
	Found     int             `json:"found"`
	Removed   int             `json:"removed"`
	Failed    int             `json:"failed"`
	Referrals []string        `json:"referrals"`
}

// cleanUserJSON is one user's change: status "planned" (dry run),
// "removed", "failed" or "unknown" (no answer: it may have been made).
type cleanUserJSON struct {
	DN     string      `json:"dn"`
	Name   string      `json:"name"`
	Status string      `json:"status"`
	Remove []valueJSON `json:"remove"`
	Kept   int         `json:"kept"`
	Reason string      `json:"reason,omitempty"`
	Error  string      `json:"error,omitempty"`
}

func (r *cleanReport) toJSON() *cleanJSON {
	out := &cleanJSON{Schema: jsonSchemaVersion, Base: r.sum.Base, Attribute: r.sum.Attr, Only: r.opts.Only.String(), Applied: r.outcomes != nil,
		Backup: r.backup, Users: []cleanUserJSON{}, Processed: r.sum.Users, Found: r.sum.WithValues, Referrals: append([]string{}, r.sum.Referrals...)}
	for i, ch := range r.changes {
		u := cleanUserJSON{DN: ch.DN, Name: ch.Name, Status: "planned", Remove: []valueJSON{}, Kept: ch.Kept}
		for _, v := range ch.Removed {
			u.Remove = append(u.Remove, valueToJSON(v))
		}
		if r.outcomes != nil {
			o := r.outcomes[i]
			switch {
			case o.Err == nil:
				u.Status = "removed"
				out.Removed += len(ch.Removed)
			case o.Unknown:
				u.Status = "unknown"
			default:
				u.Status = "failed"
			}
			if o.Err != nil {
				out.Failed++
				u.Reason, u.Error = reasonCode(o.Err), errorText(o.Err)
			}
		}
		out.Users = append(out.Users, u)
	}
	return out
}

// publishJSON is directory publish --json: status "planned" (dry run),
// "published" or "unchanged" (the entry holds the values already).
type publishJSON struct {
	Schema   int        `json:"schema"`
	DN       string     `json:"dn"`
	Name     string     `json:"name"`
	Status   string     `json:"status"`
	Replace  bool       `json:"replace"`
	Backup   string     `json:"backup,omitempty"`
	Changes  []modJSON  `json:"changes"`
	Warnings []string   `json:"warnings"`
	Undo     []modJSON  `json:"undo"`
	Certs    []certJSON `json:"certificates"`
}

type modJSON struct {
	Op        string   `json:"op"`
	Attribute string   `json:"attribute"`
	Values    []string `json:"values_sha256"`
}

func modsToJSON(mods []directory.Mod) []modJSON {
	out := []modJSON{}
	for _, m := range mods {
		mj := modJSON{Op: m.Op.String(), Attribute: m.Attr, Values: []string{}}
		for _, v := range m.Values {
			mj.Values = append(mj.Values, (&directory.Value{Raw: v}).SHA256())
		}
		out = append(out, mj)
	}
	return out
}

func (r *publishReport) toJSON() *publishJSON {
	out := &publishJSON{Schema: jsonSchemaVersion, Status: "unchanged", Replace: r.opts.Replace, Backup: r.backup,
		Changes: []modJSON{}, Undo: []modJSON{}, Warnings: append([]string{}, r.warnings...), Certs: []certJSON{}}
	if r.change == nil {
		return out
	}
	out.DN, out.Name, out.Status = r.change.DN, r.change.Name, "planned"
	if r.applied {
		out.Status = "published"
	}
	out.Changes, out.Undo = modsToJSON(r.change.Mods), modsToJSON(r.change.Undo)
	for _, m := range r.change.Mods {
		if m.Attr == directory.AttrSMIME && len(m.Values) > 0 {
			v := directory.Judge{}.ReadValue(m.Values[0])
			out.Certs = valueToJSON(v).Certificates
		}
	}
	return out
}
