package batch

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// MboxMessage is one message of an mbox file.
type MboxMessage struct {
	// Index is the message's position in the file, from 0.
	Index int
	// Offset is the byte offset of the message's "From " separator line.
	Offset int64
	// Size is the bytes of the file from Offset to the next message's
	// "From " line, or to the end of the file.
	Size int64
	// Data is the message without its "From " line, with mboxrd quoting
	// undone (">From " becomes "From ", ">>From " becomes ">From "), and
	// without the empty line that separates it from the next message.
	Data []byte
	// Err, if not nil, says why Data is missing: the message is larger
	// than the splitter's limit.
	Err error
}

// ErrMessageTooLarge is the Err of an mbox message larger than the limit.
var ErrMessageTooLarge = errors.New("batch: mbox message too large")

// IsMbox reports whether the first bytes of a file make it an mbox: it
// starts with a "From " separator line (RFC 4155).
func IsMbox(head []byte) bool { return bytes.HasPrefix(head, []byte("From ")) }

// SplitMbox reads an mbox (mboxrd or mboxo, RFC 4155) from r and calls
// yield with each message in order, until yield returns false. A line
// beginning "From " starts a message when it is the first line of the file
// or follows an empty line; any other such line stays in the message it is
// in. It reads r as a stream: at most one message is held in memory, and a
// message longer than max bytes (0: no limit) is reported with
// [ErrMessageTooLarge] and no Data instead of being held.
//
// Quoting is undone as mboxrd writes it: one ">" is removed from lines that
// match ">+From ". An mboxo file that held a body line ">From " before it
// was written gives that line back as "From ", which breaks the signature
// of such a message; the two formats can't be told apart by their content.
//
// The error is from r; a file that does not start with a "From " line is
// not an mbox and returns an error before any message.
func SplitMbox(r io.Reader, max int64, yield func(MboxMessage) bool) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		off      int64 // offset of the next line
		cur      *MboxMessage
		size     int64
		prevBlnk = true // the line before was empty (or there was none)
		pending  []byte // an empty line held back: it may be the separator's
	)
	flush := func(end int64) bool {
		if cur == nil {
			return true
		}
		m := *cur
		m.Size = end - m.Offset
		cur = nil
		return yield(m)
	}
	add := func(line []byte, n int64) {
		if cur.Err != nil {
			return
		}
		size += n
		if max > 0 && size > max {
			cur.Err = fmt.Errorf("%w: more than %d bytes", ErrMessageTooLarge, max)
			cur.Data = nil
			return
		}
		cur.Data = append(cur.Data, line...)
	}
	index := 0
	for {
		line, n, err := readLine(br, max)
		if n > 0 {
			start := off
			off += n
			switch {
			case prevBlnk && bytes.HasPrefix(line, []byte("From ")):
				pending = nil // the separator's empty line is not the message's
				if !flush(start) {
					return nil
				}
				cur = &MboxMessage{Index: index, Offset: start, Data: []byte{}}
				index++
				size = 0
			case cur == nil:
				return errors.New("batch: not an mbox: the first line is not a \"From \" line")
			default:
				if pending != nil {
					add(pending, int64(len(pending)))
					pending = nil
				}
				if isBlank(line) {
					pending = line
				} else {
					q := unquote(line)
					add(q, n-int64(len(line)-len(q)))
				}
			}
			prevBlnk = isBlank(line)
		}
		if err == io.EOF {
			if pending != nil && cur != nil {
				// The last message's final empty line: the one mbox writers
				// add after every message.
				pending = nil
			}
			flush(off)
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// readLine returns the next line with its line end and its length n. A
// line longer than max (if max > 0) is read to its end but only its first
// max+1 bytes are kept, so a hostile line can't fill memory.
func readLine(br *bufio.Reader, max int64) ([]byte, int64, error) {
	line, err := br.ReadSlice('\n')
	n := int64(len(line))
	buf := bytes.Clone(line)
	for err == bufio.ErrBufferFull {
		line, err = br.ReadSlice('\n')
		n += int64(len(line))
		if max <= 0 || int64(len(buf)) <= max {
			buf = append(buf, line...)
		}
	}
	return buf, n, err
}

func isBlank(line []byte) bool {
	return len(line) == 1 && line[0] == '\n' || len(line) == 2 && line[0] == '\r' && line[1] == '\n'
}

// unquote undoes mboxrd quoting: ">From ", ">>From " … lose one ">".
func unquote(line []byte) []byte {
	i := 0
	for i < len(line) && line[i] == '>' {
		i++
	}
	if i > 0 && bytes.HasPrefix(line[i:], []byte("From ")) {
		return line[1:]
	}
	return line
}
