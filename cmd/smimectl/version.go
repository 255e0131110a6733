package main

import (
	"fmt"
	"io"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3"; when it is
// empty, versionString falls back to the module version in the build information.
var version string

type versionOptions struct {
	Out io.Writer
}

func newVersionCmd(e *env, runF func(*versionOptions) error) *cobra.Command {
	opts := &versionOptions{Out: e.Stdout}
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of smimectl",
		Long: `Print the version of smimectl: the release it was built from, or, for a build
from a source checkout, the version control revision when Go recorded one.`,
		Example:           `  smimectl version`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(*cobra.Command, []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runVersion(opts)
		},
	}
}

func runVersion(opts *versionOptions) error {
	_, err := fmt.Fprintf(opts.Out, "smimectl %s\n", versionString())
	return err
}

// versionString returns the version set with -ldflags, else the main module's version
// from the build information, else the VCS revision recorded by go build, else
// "(devel)".
func versionString() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(devel)"
	}
	return buildInfoVersion(bi)
}

// buildInfoVersion picks the version to show from bi.
func buildInfoVersion(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision":
			rev = s.Value
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = "-dirty"
		}
	}
	if rev == "" {
		return "(devel)"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return "(devel) " + rev + dirty
}
