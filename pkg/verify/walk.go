package verify

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/smimectl/smimectl/internal/cms"
	"github.com/smimectl/smimectl/internal/mime"
)

// The layer walker (issue #17 item 2): the one loop that reads a message
// layer by layer, for Verify, Open, Inspect and UnwrapSigned. It reads each
// entity, tells what kind of layer it is, reads a signed layer's content
// into a spool (an enveloped layer is left to the caller, who decrypts,
// describes or copies it), and descends into the content as the next
// entity, without recursion, up to MaxDepth layers. What a caller does
// with each layer — check it, decrypt it, describe it — and when it stops
// is its layerVisitor: the policy.

// layerVisitor is what one caller does with the entities the walker reads.
type layerVisitor interface {
	// top is called with the outermost entity before anything else; the
	// walk ends there if it returns stop or an error.
	top(ent entity) (stop bool, err error)
	// content is called for the entity inside the layers (depth > 1), or
	// for an outermost entity that is not a layer (depth 1), and ends the
	// walk. ent.e is nil for content without a MIME header (issue #15 item
	// 4).
	content(depth int, ent entity) error
	// layer is called for each layer as it was read into next (see
	// readLayer; read is nil and err set when it could not be read); the
	// walk descends into next unless it returns stop or an error.
	layer(depth int, ent entity, read *layerRead, err error, next *mime.Spool) (stop bool, lerr error)
	// unreadable is called for an entity that can't be read, with the
	// error; what it returns ends the walk.
	unreadable(depth int, err error) error
}

// entity is an entity the walker read, with its media type, smime-type
// parameter and kind ("" for one that is not a layer).
type entity struct {
	e      *mime.Entity
	kind   LayerKind
	mt, st string
}

// walker reads the layers of one message for a visitor.
type walker struct {
	spoolDir  string
	threshold int64
	batch     *BatchCache // nil shares nothing
	// content is the content of the last layer read, which the walker
	// keeps until the next one is read and the caller until it is done.
	content *mime.Spool
	// drop: the content goes nowhere (see peelPolicy.discard), so a
	// layer's content that is no further layer is kept only as far as the
	// walk reads it; dropping lists the spools that may have dropped
	// bytes.
	drop     bool
	dropping []*mime.Spool
	// dropAfter, if not zero, stands for the const dropAfter (tests).
	dropAfter int
}

// dropAfter is how much of a layer's content a dropping walker keeps: the
// longest header (MaxHeaderBytes) and what a reader of it buffers past it.
const dropAfter = mime.MaxHeaderBytes + 64<<10

// errHeadEnds stands for the end of the kept head in onlyContent: a header
// cut there is not read as complete.
var errHeadEnds = errors.New("the header goes on past the kept bytes")

// onlyContent is a dropping spool's Drop: it says yes only for content
// whose header is complete in head and names no layer, the content the
// walk reads no further than its header (peeler.content, readProtection).
// Anything else — a nested signed or enveloped layer (the triple wrap), a
// header that can't be read or goes on — is kept whole. A wrong yes costs
// time, not a verdict: a reader that reaches the dropped bytes makes Open
// read the message again with nothing dropped (walker.missed).
func onlyContent(head []byte) bool {
	br := bufio.NewReader(io.MultiReader(bytes.NewReader(head), failReader{errHeadEnds}))
	if !mime.StartsEntity(head) {
		return false
	}
	h, err := mime.ReadHeader(br)
	if err != nil {
		return false
	}
	kind, _, _, err := layerKind(&mime.Entity{Header: h})
	return err == nil && kind == ""
}

// failReader fails every Read with its error.
type failReader struct{ err error }

func (f failReader) Read([]byte) (int, error) { return 0, f.err }

// dropOutcome is what a dropping walk did: dropped bytes of a layer's
// content, and let a reader reach them (missed).
type dropOutcome struct{ dropped, missed bool }

func (w *walker) dropOutcome() dropOutcome {
	return dropOutcome{dropped: slices.ContainsFunc(w.dropping, (*mime.Spool).Dropped),
		missed: slices.ContainsFunc(w.dropping, (*mime.Spool).Missed)}
}

func (w *walker) close() {
	if w.content != nil {
		w.content.Close()
		w.content = nil
	}
}

// walk reads the message from r, layer after layer, until v stops it or
// the content is reached.
func (w *walker) walk(r io.Reader, v layerVisitor) error {
	for depth := 1; ; depth++ {
		if depth > 1 {
			br := bufio.NewReaderSize(r, mime.MaxFirstLine)
			if head, _ := br.Peek(mime.MaxFirstLine); !mime.StartsEntity(head) {
				// Content without a MIME header: a body with RFC 2045's
				// defaults, no further layer (issue #15 item 4).
				return v.content(depth, entity{})
			}
			r = br
		}
		e, err := mime.ReadEntity(r)
		if err != nil {
			return v.unreadable(depth, malformed(err))
		}
		kind, mt, st, err := layerKind(e)
		if err != nil {
			return v.unreadable(depth, err)
		}
		ent := entity{e: e, kind: kind, mt: mt, st: st}
		if depth == 1 {
			if stop, err := v.top(ent); stop || err != nil {
				return err
			}
		}
		if kind == "" {
			return v.content(depth, ent)
		}
		if depth > MaxDepth {
			return &DepthError{Max: MaxDepth}
		}
		next := &mime.Spool{Dir: w.spoolDir, Threshold: w.threshold}
		if w.drop {
			next.Drop, next.DropAfter = onlyContent, cmp.Or(w.dropAfter, dropAfter)
			w.dropping = append(w.dropping, next)
		}
		read, err := readLayer(e, mt, st, next, w.batch)
		stop, err := v.layer(depth, ent, read, err, next)
		w.close()
		w.content = next
		if err != nil || stop {
			return err
		}
		if r, err = next.Open(); err != nil {
			return fmt.Errorf("verify: reading the spooled content: %w", err)
		}
	}
}

// layerKind tells what kind of S/MIME layer e is: "signed", "enveloped"
// (either encrypted kind; readLayer tells which) or "" for content.
func layerKind(e *mime.Entity) (kind LayerKind, mt, st string, err error) {
	if err := mime.CheckEntityHeader(e.Header); err != nil {
		return "", "", "", &AmbiguousError{Err: err}
	}
	mt, params, err := e.Header.MediaType()
	if err != nil {
		return "", "", "", malformed(err)
	}
	st = params["smime-type"]
	switch mt {
	case "multipart/signed":
		return KindSigned, mt, st, nil
	case "application/pkcs7-mime", "application/x-pkcs7-mime":
		switch strings.ToLower(st) {
		case "enveloped-data", "authenveloped-data":
			return KindEnveloped, mt, st, nil
		case "certs-only":
			return "", mt, st, nil
		}
		// signed-data, or no smime-type: readLayer looks at the OID.
		return KindSigned, mt, st, nil
	}
	return "", mt, st, nil
}

// layerRead is one layer as readLayer read it.
type layerRead struct {
	l  *Layer
	sd *cms.SignedData // a signed layer's
	// digests are those of a clear-signed layer's content, taken while it
	// was spooled under the algorithms micalg named (micalgHashes).
	digests map[crypto.Hash][]byte
	// refused is not nil for a layer that could be read but that verify
	// must refuse: a multipart/signed whose signature part can't be read as
	// CMS (l then has no signers, and the signed part is spooled all the
	// same) or carries content of its own, or an application/pkcs7-mime
	// signature without content (a detached signature, l.Detached; nothing
	// is spooled). Inspect describes it (issue #15 item 7); Verify and Open
	// fail with it.
	refused error
}

// readLayer reads the layer e: a signed layer's content goes to spool and
// its SignedData is parsed, its certificates through batch (which may be
// nil); of an enveloped layer only the kind ("enveloped" or
// "authEnveloped"), media type and encoding are read, and its body is left
// unread. The error is for a layer that can't be read at all.
func readLayer(e *mime.Entity, mt, st string, spool *mime.Spool, batch *BatchCache) (*layerRead, error) {
	l := &Layer{MediaType: mt, SMIMEType: st}
	if mt == "multipart/signed" {
		parts, err := mime.ReadSignedInto(e, spool, micalgHashes(e.Header))
		if err != nil {
			return nil, malformed(err)
		}
		l.Kind, l.Encoding = KindSigned, encodingName(cms.Indefinite(parts.Signature))
		sd, err := cms.ReadSignedDataWith(bytes.NewReader(parts.Signature), nil, batch.parser())
		if err != nil {
			return &layerRead{l: l, refused: malformed(fmt.Errorf("reading the signature part: %w", err))}, nil
		}
		describeSigned(l, sd)
		rd := &layerRead{l: l, sd: sd, digests: parts.Digests}
		if !sd.Detached {
			rd.refused = &MalformedError{Err: errors.New("the signature part of a multipart/signed message carries content of its own")}
		}
		return rd, nil
	}
	head, err := mime.PeekBody(e, 4096)
	if err != nil {
		return nil, malformed(err)
	}
	oid, indefinite, err := cms.PeekContentType(head)
	if err != nil {
		return nil, malformed(err)
	}
	l.Encoding = encodingName(indefinite)
	switch {
	case oid.Equal(cms.OIDEnvelopedData):
		l.Kind = KindEnveloped
		return &layerRead{l: l}, nil
	case oid.Equal(cms.OIDAuthEnvelopedData):
		l.Kind = KindAuthEnveloped
		return &layerRead{l: l}, nil
	case !oid.Equal(cms.OIDSignedData):
		return nil, &MalformedError{Err: fmt.Errorf("unsupported CMS content type %s", cms.ContentTypeName(oid))}
	}
	l.Kind = KindSigned
	body, err := mime.DecodeBody(e)
	if err != nil {
		return nil, malformed(err)
	}
	sd, err := cms.ReadSignedDataWith(body, spool, batch.parser())
	if err != nil {
		return nil, malformed(err)
	}
	describeSigned(l, sd)
	rd := &layerRead{l: l, sd: sd}
	if sd.Detached {
		rd.refused = &MalformedError{Err: ErrDetachedSignature}
	}
	return rd, nil
}

// ErrDetachedSignature is the cause, inside a *MalformedError, of an
// application/pkcs7-mime signature without content given as a message: a
// detached signature (a saved .p7s) on its own, whose content is elsewhere
// ([VerifyDetached] checks it over its content).
var ErrDetachedSignature = errors.New("an application/pkcs7-mime signed layer without content")

// encodingName is a Layer's Encoding: "ber" for a ContentInfo that starts
// with an indefinite length, else "der".
func encodingName(indefinite bool) string {
	if indefinite {
		return "ber"
	}
	return "der"
}
