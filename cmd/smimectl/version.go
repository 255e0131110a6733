package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3"; when it is
// empty, versionText falls back to the module version in the build information.
var version string

type versionOptions struct {
	Out     io.Writer
	Verbose bool // -v: the modules it was built with too (issue #16 item 7)
}

func newVersionCmd(e *env, runF func(*versionOptions) error) *cobra.Command {
	opts := &versionOptions{Out: e.Stdout}
	cmd := &cobra.Command{
		Use:   "version [-v]",
		Short: "Print the version of smimectl",
		Long: `Print the version of smimectl, the same as "smimectl --version": the release it
was built from (or "(devel)"), then, when the binary records them, the version
control revision it was built from (", modified" if the checkout had changes)
and that revision's time, and last the Go version it was built with. -v adds
the module of every library it was built with and its version. Quote all of it
in a bug report.`,
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
	cmd.Flags().BoolVarP(&opts.Verbose, "verbose", "v", false, "list the modules smimectl was built with, and their versions")
	return cmd
}

func runVersion(opts *versionOptions) error {
	s := versionString()
	if opts.Verbose {
		if bi, ok := debug.ReadBuildInfo(); ok {
			s += modulesText(bi)
		}
	}
	_, err := io.WriteString(opts.Out, s)
	return err
}

// modulesText renders the modules of bi's dependencies, one a line:
// "module: path version", with "=> path version" for a replaced one.
func modulesText(bi *debug.BuildInfo) string {
	var b strings.Builder
	for _, d := range bi.Deps {
		fmt.Fprintf(&b, "module: %s %s", d.Path, d.Version)
		if r := d.Replace; r != nil {
			fmt.Fprintf(&b, " => %s %s", r.Path, r.Version)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// versionString is what version and --version print, from this binary's build
// information (issue #16 item 17).
func versionString() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return versionText(version, bi)
}

// versionText renders the version lines: the release (ldflags, else the main
// module's version, else "(devel)"), the VCS revision and its time when bi has
// them, and the Go version (bi's, else the running one). bi may be nil.
func versionText(ldflags string, bi *debug.BuildInfo) string {
	var b strings.Builder
	rel, goVersion := ldflags, runtime.Version()
	if bi != nil {
		if rel == "" && bi.Main.Version != "" {
			rel = bi.Main.Version
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
	}
	if rel == "" {
		rel = "(devel)"
	}
	fmt.Fprintf(&b, "smimectl %s\n", rel)
	if bi != nil {
		var rev, at, modified string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = ", modified"
				}
			}
		}
		if rev != "" {
			fmt.Fprintf(&b, "revision: %s%s\n", rev, modified)
		}
		if at != "" {
			fmt.Fprintf(&b, "revision time: %s\n", at)
		}
	}
	fmt.Fprintf(&b, "go: %s\n", goVersion)
	return b.String()
}
