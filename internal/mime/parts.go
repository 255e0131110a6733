package mime

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ReadParts reads the multipart entity e (RFC 2046 section 5.1) part by
// part: each body part, byte-exact (its header, the blank line and its
// body, without the line end that belongs to the next delimiter), is
// spooled into a Spool configured like spool and handed to fn with its
// 0-based index; the Spool is closed when fn returns, so only one part is
// held at a time. The preamble is skipped and the epilogue read to the end.
//
// ReadParts fails, without calling fn again, if fn fails, if e is not
// multipart or has no boundary, if its header can be read otherwise by
// other parsers (the checks of [ReadSigned]: two Content-Type fields, a
// transfer encoding on the multipart body, an odd boundary parameter), if
// it has more than max parts, or if it ends before its close delimiter
// or has a delimiter after it.
func ReadParts(e *Entity, spool Spool, max int, fn func(i int, part *Spool) error) error {
	if e == nil || e.Body == nil {
		return errors.New("mime: entity has no body")
	}
	mt, params, err := e.Header.MediaType()
	if err != nil {
		return err
	}
	if !strings.HasPrefix(mt, "multipart/") {
		return fmt.Errorf("mime: media type is %q, not multipart", mt)
	}
	boundary := params["boundary"]
	switch {
	case boundary == "":
		return fmt.Errorf("mime: %s without boundary parameter", mt)
	case len(boundary) > maxBoundaryLen:
		return fmt.Errorf("mime: %s boundary longer than %d characters", mt, maxBoundaryLen)
	}
	if err := checkOuter(e.Header, boundary); err != nil {
		return err
	}
	sc := &partScanner{r: bufio.NewReaderSize(e.Body, readerBufSize), delim: []byte("--" + boundary)}
	closing, err := sc.copyPart(io.Discard, -1)
	if err != nil {
		return fmt.Errorf("mime: %s: no delimiter opens the first part: %w", mt, err)
	}
	for i := 0; !closing; i++ {
		if i == max {
			return &LimitError{What: "parts in a multipart entity", Max: max}
		}
		part := &Spool{Threshold: spool.Threshold, Dir: spool.Dir}
		closing, err = sc.copyPart(part, -1)
		if err != nil {
			part.Close()
			return fmt.Errorf("mime: %s: part %d: %w", mt, i+1, err)
		}
		err = fn(i, part)
		part.Close()
		if err != nil {
			return err
		}
	}
	closing, err = sc.copyPart(io.Discard, -1)
	switch {
	case err == nil && closing:
		return fmt.Errorf("mime: %s: %w", mt, ambiguous("a second close delimiter"))
	case err == nil:
		return fmt.Errorf("mime: %s: %w", mt, ambiguous("a delimiter after the close delimiter"))
	case errors.Is(err, errTruncated):
		return nil
	}
	return err
}

// LimitError reports a structure past a processing bound: a sign of a
// hostile message, not of a broken one.
type LimitError struct {
	What string
	Max  int
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("mime: more than %d %s", e.Max, e.What)
}
