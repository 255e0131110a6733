package mime

import (
	"bufio"
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strings"
)

// Limits applied by [ReadSigned].
const (
	// MaxSignatureSize is the largest decoded signature part accepted.
	MaxSignatureSize = 16 << 20
	// maxSignaturePartRaw bounds the raw (encoded) signature part: base64
	// of MaxSignatureSize in 76-column CRLF lines, a header and slack.
	maxSignaturePartRaw = MaxSignatureSize/3*4*78/76 + MaxHeaderBytes + 64<<10
	// maxBoundaryLen is the longest boundary accepted. RFC 2046 section
	// 5.1.1 allows 70 characters; longer ones are seen in the wild, so
	// allow some slack while keeping delimiter lines well inside the
	// reader's buffer.
	maxBoundaryLen = 200
)

// SignedParts is a parsed multipart/signed message (RFC 1847 section 2.1,
// RFC 8551 section 3.5.3).
type SignedParts struct {
	// Outer holds the message's header fields other than Content-*
	// (MIME-Version stays here).
	Outer Header
	// Protocol is the lower-cased protocol parameter:
	// application/pkcs7-signature or application/x-pkcs7-signature.
	Protocol string
	// Micalg is the lower-cased micalg parameter, as given; it may be
	// empty.
	Micalg string
	// Content holds the first body part byte-exact, except that bare LF
	// line ends are turned into CRLF: the bytes that were signed.
	Content *Spool
	// Digests holds the digest of Content under each hash that
	// ReadSignedInto was asked for (none for ReadSigned).
	Digests map[crypto.Hash][]byte
	// Signature is the transfer-decoded body of the second part (the CMS
	// SignedData, DER or BER), at most MaxSignatureSize bytes.
	Signature []byte
	// SignatureType is the lower-cased media type of the second part.
	SignatureType string
}

// Close releases Content.
func (p *SignedParts) Close() error {
	if p == nil || p.Content == nil {
		return nil
	}
	return p.Content.Close()
}

// ReadSigned parses e, which must be multipart/signed with a boundary and a
// protocol of application/pkcs7-signature (or the older
// application/x-pkcs7-signature). It streams the first body part into a
// Spool configured like spool (only its Threshold and Dir are used), reads
// the second part (at most MaxSignatureSize bytes decoded) and stops at the
// close delimiter; the epilogue is not read.
//
// Delimiters are recognised only at the start of a line, as "--" followed
// by the boundary, optional transport padding (spaces and tabs) and a line
// end (RFC 2046 section 5.1.1); the line end before a delimiter belongs to
// the delimiter and is not part of the content. The preamble is skipped.
// A delimiter line longer than 64 KiB (absurd transport padding) is not
// recognised.
//
// ReadSigned fails if the boundary or protocol parameter is missing or
// wrong, no delimiter opens the first part, the first part is never closed,
// there is no second part, there are more than two parts, the signature is
// too large or badly encoded, or the input ends before the close
// delimiter. On failure nothing needs closing. On success the caller must
// call [SignedParts.Close].
func ReadSigned(e *Entity, spool Spool) (*SignedParts, error) {
	content := &Spool{Threshold: spool.Threshold, Dir: spool.Dir}
	p, err := ReadSignedInto(e, content, nil)
	if err != nil {
		content.Close()
		return nil, err
	}
	return p, nil
}

// ReadSignedInto is [ReadSigned] writing the first part to content, a
// Spool the caller made and closes, whatever happens (SignedParts.Close
// closes it too), and digesting it on the way with each of hashes, so that
// a large part is read once: SignedParts.Digests holds the digest of the
// bytes content holds under each of them. A caller that knows which
// algorithms the signers used (the micalg parameter names them, but a
// sender may lie or leave it out) asks for those, and digests content
// again for any other. On failure, content holds what was read so far.
func ReadSignedInto(e *Entity, content *Spool, hashes []crypto.Hash) (*SignedParts, error) {
	if e == nil || e.Body == nil {
		return nil, errors.New("mime: entity has no body")
	}
	mt, params, err := e.Header.MediaType()
	if err != nil {
		return nil, err
	}
	if mt != "multipart/signed" {
		return nil, fmt.Errorf("mime: media type is %q, not multipart/signed", mt)
	}
	boundary, ok := params["boundary"]
	if !ok || boundary == "" {
		return nil, errors.New("mime: multipart/signed without boundary parameter")
	}
	if len(boundary) > maxBoundaryLen {
		return nil, fmt.Errorf("mime: multipart/signed boundary longer than %d characters", maxBoundaryLen)
	}
	protocol := strings.ToLower(params["protocol"])
	switch protocol {
	case "application/pkcs7-signature", "application/x-pkcs7-signature":
	case "":
		return nil, errors.New("mime: multipart/signed without protocol parameter")
	default:
		return nil, fmt.Errorf("mime: unsupported multipart/signed protocol %q", protocol)
	}
	if err := checkOuter(e.Header, boundary); err != nil {
		return nil, err
	}
	outer, _ := e.Header.Split()

	sc := &partScanner{
		r:     bodyReader(e),
		delim: []byte("--" + boundary),
	}
	// Preamble.
	closing, err := sc.copyPart(io.Discard, -1)
	if err != nil {
		return nil, fmt.Errorf("mime: multipart/signed: no delimiter opens the first part: %w", err)
	}
	if closing {
		return nil, errors.New("mime: multipart/signed: close delimiter before the first part")
	}

	// The first part goes, canonicalised, to content, to the digests and
	// to the check of its header and nested boundaries, in one pass.
	tee := &contentTee{spool: content, check: newSignedPartChecker(boundary)}
	defer tee.stop()
	for _, h := range hashes {
		if h.Available() && !slices.Contains(tee.hashes, h) {
			tee.hashes = append(tee.hashes, h)
			tee.hs = append(tee.hs, h.New())
		}
	}
	// copyPart writes a line at a time; the canonical writer, the spool,
	// the digests and the check work best on larger pieces. headerEndCheck
	// sees every line as it comes, so its error is the first, as before.
	cw := NewCanonicalWriter(tee)
	bw := bufio.NewWriterSize(cw, canonicalBufSize)
	closing, err = sc.copyPart(&headerEndCheck{w: bw}, -1)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = cw.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("mime: multipart/signed: first part: %w", err)
	}
	if closing {
		return nil, errors.New("mime: multipart/signed: no second part")
	}

	var raw bytes.Buffer
	closing, err = sc.copyPart(&raw, maxSignaturePartRaw)
	if err != nil {
		return nil, fmt.Errorf("mime: multipart/signed: signature part: %w", err)
	}
	if !closing {
		return nil, errors.New("mime: multipart/signed: more than two parts")
	}
	// The epilogue: read to the end, so that a delimiter after the close
	// delimiter (a part another parser may show) is refused.
	closing, err = sc.copyPart(io.Discard, -1)
	switch {
	case err == nil && closing:
		err = ambiguous("a second close delimiter")
	case err == nil:
		err = ambiguous("a delimiter after the close delimiter")
	case errors.Is(err, errTruncated):
		err = nil
	}
	if err == nil {
		err = tee.check.close()
	}
	if err != nil {
		return nil, fmt.Errorf("mime: multipart/signed: %w", err)
	}
	sig, sigType, err := readSignaturePart(raw.Bytes())
	if err != nil {
		return nil, err
	}
	tee.stop()
	digests := make(map[crypto.Hash][]byte, len(tee.hs))
	for i, h := range tee.hs {
		digests[tee.hashes[i]] = h.Sum(nil)
	}
	return &SignedParts{
		Outer:         outer,
		Protocol:      protocol,
		Micalg:        strings.ToLower(params["micalg"]),
		Content:       content,
		Digests:       digests,
		Signature:     sig,
		SignatureType: sigType,
	}, nil
}

// contentTee writes the canonical first part to the spool and, once the
// spool took it, to each digest and to the checker: the digests are of
// exactly the bytes the spool holds.
//
// Past asyncHashFrom bytes the digests are taken on a goroutine of their
// own, on copies of what was written, so that on a machine with a core to
// spare a large part is hashed while it is read rather than after: SHA-256
// alone is half the time of a 100 MB message otherwise. stop waits for it.
type contentTee struct {
	spool   *Spool
	hashes  []crypto.Hash
	hs      []hash.Hash
	check   *signedPartChecker
	written int64
	async   *asyncHasher
}

// asyncHashFrom is the size from which contentTee hashes on a goroutine.
const asyncHashFrom = 1 << 20

func (t *contentTee) Write(p []byte) (int, error) {
	n, err := t.spool.Write(p)
	t.written += int64(n)
	switch {
	case len(t.hs) == 0:
	case t.async != nil:
		t.async.write(p[:n])
	case t.written > asyncHashFrom:
		t.async = newAsyncHasher(t.hs)
		t.async.write(p[:n])
	default:
		for _, h := range t.hs {
			h.Write(p[:n])
		}
	}
	t.check.Write(p[:n])
	return n, err
}

// stop waits until every byte written is in the digests. It may be called
// more than once.
func (t *contentTee) stop() {
	if t.async != nil {
		t.async.stop()
		t.async = nil
	}
}

// asyncHasher feeds hashes on a goroutine, from copies handed over a
// channel: at most asyncBuffers of them, of up to 64 KiB each, are
// in flight, so memory stays bounded whatever the size of the part.
type asyncHasher struct {
	work chan []byte
	free chan []byte
	done chan struct{}
}

const asyncBuffers = 4

func newAsyncHasher(hs []hash.Hash) *asyncHasher {
	a := &asyncHasher{work: make(chan []byte, asyncBuffers), free: make(chan []byte, asyncBuffers+1), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		for b := range a.work {
			for _, h := range hs {
				h.Write(b)
			}
			select {
			case a.free <- b:
			default:
			}
		}
	}()
	return a
}

func (a *asyncHasher) write(p []byte) {
	var b []byte
	select {
	case b = <-a.free:
	default:
	}
	if cap(b) < len(p) {
		b = make([]byte, 0, max(len(p), canonicalBufSize))
	}
	a.work <- append(b[:0], p...)
}

func (a *asyncHasher) stop() {
	close(a.work)
	<-a.done
}

// headerEndCheck passes the raw first part on to w and refuses a header
// that ends in LF CR LF (see errLFCRLF) before canonicalisation turns the
// bare LF into CRLF and hides it: jsmime would read the lines after such a
// blank line, which are the body here, as header fields of the signed part
// (a protected From, with hp).
type headerEndCheck struct {
	w    io.Writer
	done bool
	// line holds the first bytes (at most two) of the current line, cr
	// whether its last byte was CR, prevLF whether the line before it
	// ended in a bare LF.
	line       []byte
	cr, prevLF bool
}

func (h *headerEndCheck) Write(p []byte) (int, error) {
	for i := 0; i < len(p) && !h.done; i++ {
		c := p[i]
		if c != '\n' {
			if len(h.line) < 2 {
				h.line = append(h.line, c)
			}
			h.cr = c == '\r'
			continue
		}
		// A line ends: "\r" alone before this LF makes it a blank CRLF
		// line; nothing before it a blank LF line.
		blank := len(h.line) == 0 || len(h.line) == 1 && h.line[0] == '\r'
		if blank {
			if len(h.line) == 1 && h.prevLF {
				return 0, errLFCRLF
			}
			h.done = true
			break
		}
		h.prevLF = !h.cr
		h.line, h.cr = h.line[:0], false
	}
	return h.w.Write(p)
}

// readSignaturePart parses the raw second part and decodes its body.
func readSignaturePart(raw []byte) ([]byte, string, error) {
	e, err := ReadEntity(bytes.NewReader(raw))
	if err != nil {
		return nil, "", fmt.Errorf("mime: multipart/signed: signature part header: %w", err)
	}
	if len(e.Header.Values("Content-Type")) > 1 || len(e.Header.Values("Content-Transfer-Encoding")) > 1 {
		return nil, "", fmt.Errorf("mime: multipart/signed: signature part: %w",
			ambiguous("more than one Content-Type or Content-Transfer-Encoding field in the signature part"))
	}
	mt, _, err := e.Header.MediaType()
	if err != nil {
		return nil, "", fmt.Errorf("mime: multipart/signed: signature part: %w", err)
	}
	body, err := DecodeBody(e)
	if err != nil {
		return nil, "", fmt.Errorf("mime: multipart/signed: signature part: %w", err)
	}
	sig, err := io.ReadAll(io.LimitReader(body, MaxSignatureSize+1))
	if err != nil {
		return nil, "", fmt.Errorf("mime: multipart/signed: decoding signature: %w", err)
	}
	if len(sig) > MaxSignatureSize {
		return nil, "", fmt.Errorf("mime: multipart/signed: signature larger than %d bytes", MaxSignatureSize)
	}
	if len(sig) == 0 {
		return nil, "", errors.New("mime: multipart/signed: empty signature part")
	}
	return sig, mt, nil
}

// errTruncated reports input that ended inside a part.
var errTruncated = errors.New("input ends before the next delimiter (truncated message)")

// partScanner reads a multipart body line by line, finding delimiters.
type partScanner struct {
	r     *bufio.Reader
	delim []byte // "--" + boundary
	eof   bool
}

// copyPart copies the bytes of the current part to w, up to the line end
// that precedes the next delimiter line, consumes that delimiter line and
// reports whether it was the close delimiter. If limit >= 0, more than
// limit bytes is an error. The first part's data may begin with a
// delimiter (no line end before it), as a body may begin with one.
//
// Line ends are held back until the next line is known not to be a
// delimiter, so the line end that belongs to the delimiter is never
// written. A line longer than the reader's buffer comes in fragments; only
// a fragment at the start of a line can be a delimiter, and only if the
// whole line is in it.
func (s *partScanner) copyPart(w io.Writer, limit int64) (closing bool, err error) {
	if s.eof {
		return false, errTruncated
	}
	// held is the line end (or a trailing CR) not yet written; it lives
	// in heldBuf so that holding it back costs no allocation per line.
	var heldBuf [2]byte
	held := heldBuf[:0]
	atLineStart := true
	var n int64
	write := func(b []byte) error {
		if len(b) == 0 {
			return nil
		}
		n += int64(len(b))
		if limit >= 0 && n > limit {
			return fmt.Errorf("part larger than %d bytes", limit)
		}
		_, err := w.Write(b)
		return err
	}
	for {
		seg, rerr := s.r.ReadSlice('\n')
		if rerr != nil && rerr != bufio.ErrBufferFull && rerr != io.EOF {
			return false, rerr
		}
		if rerr == io.EOF {
			s.eof = true
		}
		if len(seg) == 0 {
			if rerr == io.EOF {
				return false, errTruncated
			}
			continue
		}
		complete := rerr == nil || rerr == io.EOF
		// A bare CR ends a line for Thunderbird's parsers (jsmime and
		// libmime), not for this one or Dovecot: a boundary right after one
		// would be a delimiter there only.
		if len(held) == 1 && held[0] == '\r' && hasPrefixFold(seg, s.delim) || s.delimAfterBareCR(seg, complete) {
			return false, ambiguous("a boundary after a bare CR")
		}
		if atLineStart && hasPrefixFold(seg, s.delim) {
			// A line that starts with the boundary is a delimiter, exactly,
			// or the message is refused: Dovecot takes every such line
			// for a delimiter, whatever follows the boundary.
			isDelim, isClose := s.delimiterLine(seg)
			switch {
			case !complete || len(bytes.TrimRight(seg, "\r\n")) > maxDelimiterLine:
				return false, ambiguous("a delimiter line too long to check")
			case !isDelim:
				return false, ambiguous("a line starts with the boundary but is not a delimiter")
			}
			return isClose, nil
		}
		// A CR held from the end of a fragment and this LF form one
		// line end.
		if len(held) == 1 && held[0] == '\r' && seg[0] == '\n' {
			held = append(heldBuf[:0], '\r', '\n')
			atLineStart = true
			continue
		}
		if err := write(held); err != nil {
			return false, err
		}
		held = heldBuf[:0]
		switch {
		case len(seg) >= 2 && seg[len(seg)-2] == '\r' && seg[len(seg)-1] == '\n':
			held = append(held, '\r', '\n')
			seg = seg[:len(seg)-2]
			atLineStart = true
		case seg[len(seg)-1] == '\n':
			held = append(held, '\n')
			seg = seg[:len(seg)-1]
			atLineStart = true
		case seg[len(seg)-1] == '\r':
			held = append(held, '\r')
			seg = seg[:len(seg)-1]
			atLineStart = false
		default:
			atLineStart = false
		}
		if err := write(seg); err != nil {
			return false, err
		}
		if rerr == io.EOF {
			return false, errTruncated
		}
	}
}

// delimAfterBareCR reports whether seg has a CR not followed by LF whose
// following bytes start with the boundary delimiter (compared as
// hasPrefixFold compares), or, when seg is a fragment of a longer line,
// end in a beginning of it.
func (s *partScanner) delimAfterBareCR(seg []byte, complete bool) bool {
	for i := bytes.IndexByte(seg, '\r'); i >= 0; {
		rest := seg[i+1:]
		switch {
		case len(rest) == 0:
		case rest[0] == '\n':
		case hasPrefixFold(rest, s.delim):
			return true
		case !complete && len(rest) < len(s.delim) && bytes.EqualFold(rest, s.delim[:len(rest)]):
			return true
		}
		j := bytes.IndexByte(rest, '\r')
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

// hasPrefixFold reports whether line starts with prefix, compared
// case-insensitively: a line that differs from a delimiter only in case is
// refused, not taken for content, in case a parser compares so.
func hasPrefixFold(line, prefix []byte) bool {
	return len(line) >= len(prefix) && bytes.EqualFold(line[:len(prefix)], prefix)
}

// delimiterLine reports whether line (a complete line, with its line end
// if any) is a delimiter or close delimiter line: "--" boundary ["--"]
// followed only by transport padding (spaces and tabs) and the line end.
func (s *partScanner) delimiterLine(line []byte) (isDelim, isClose bool) {
	if !bytes.HasPrefix(line, s.delim) {
		return false, false
	}
	rest := line[len(s.delim):]
	if bytes.HasPrefix(rest, []byte("--")) {
		isClose = true
		rest = rest[2:]
	}
	rest = bytes.TrimSuffix(rest, []byte("\n"))
	rest = bytes.TrimSuffix(rest, []byte("\r"))
	if len(bytes.Trim(rest, " \t")) != 0 {
		return false, false
	}
	return true, isClose
}
