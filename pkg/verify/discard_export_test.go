package verify

import (
	"context"
	"io"
)

// OpenOnceDiscarding reads r once as Open (layered) or Verify does when
// the content goes to io.Discard (issue #13): what the first reading of
// the fast path gives, before any second one, and whether it dropped
// content and whether a reader wanted it (missed).
// keep, if not zero, is how much of a layer's content is kept.
func OpenOnceDiscarding(ctx context.Context, r io.Reader, opts Options, layered bool, keep int) (res *Result, dropped, missed bool, err error) {
	res, drop, err := openOnce(ctx, io.Discard, r, opts, peelPolicy{layered: layered, discard: true, dropAfter: keep})
	return res, drop.dropped, drop.missed, err
}
