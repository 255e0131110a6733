//go:build !unix

package batch

import "os"

const openFlags = os.O_RDONLY
