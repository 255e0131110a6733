package verify

import (
	"io"

	"github.com/smimectl/smimectl/internal/mime"
)

// PrependAuthenticationResults writes field, an Authentication-Results
// field such as [AuthenticationResults] returns, to w, then copies msg: the
// field becomes the first of the message's header, where RFC 8601 section
// 2.1 puts it. Every Authentication-Results field of msg's header that
// claims authservID is left out: RFC 8601 section 5 has a receiver remove
// such fields, which only a forger upstream could have written, lest a
// filter downstream trust them; so is one whose authserv-id can't be read
// or that is too long to examine. Every other byte of msg is copied
// unchanged, and a message whose first line ends in a bare LF gets the
// field with LF line ends too. It returns the bytes written. This is what
// smimectl verify --annotate writes.
func PrependAuthenticationResults(w io.Writer, field, authservID string, msg io.Reader) (int64, error) {
	return mime.PrependField(w, field, authservID, msg)
}
