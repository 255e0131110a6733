package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// rootIntro is the start of smimectl's long help, shared by --help and smimectl(1).
const rootIntro = `smimectl signs, encrypts, decrypts and verifies S/MIME mail (RFC 8551) from a
shell, following the steps of the S/MIME guide with today's algorithms.

Every command reads a message from a FILE argument, --in or standard input and
writes its result to --out or standard output; with --out, the file appears only
when the command succeeds. Data goes to standard output. Errors, hints and warnings go to standard
error, one per line, starting "smimectl: error:", "smimectl: hint:" or
"smimectl: warning:". Set SMIMECTL_DEBUG=1 to see the whole chain of an error.`

// helpTemplate is Cobra's help template without the blank line after a help topic.
const helpTemplate = `{{with (or .Long .Short)}}{{. | trimTrailingWhitespaces}}
{{end}}{{if or .Runnable .HasSubCommands}}
{{.UsageString}}{{end}}`

// usageTemplate is Cobra's usage template without command groups and aliases, with
// help topics listed as "help <topic>", the way they are run.
const usageTemplate = `Usage:
  {{.UseLine}}{{if .HasExample}}

Examples:
{{.Example}}{{end}}{{if .HasAvailableSubCommands}}

Commands:{{range .Commands}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

Flags:
{{flagUsages .LocalFlags | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableInheritedFlags}}

Global flags:
{{flagUsages .InheritedFlags | trimTrailingWhitespaces}}{{end}}{{if .HasHelpSubCommands}}

Help topics:{{range .Commands}}{{if .IsAdditionalHelpTopicCommand}}
  {{rpad (print "help " .Name) .CommandPathPadding}} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableSubCommands}}

Run "{{.CommandPath}} help <command>" for more about a command.{{end}}
`

// newRootCmd returns the smimectl command tree, acting in e.
//
// To add a command (STYLE rule 2): write x.go with xOptions (embedding the flag groups
// of flags.go it needs), newXCmd(e, runF) (flags -> options; Use, Short, Long, Example,
// a long text in help/x.txt; Args from noArgs/exactArgs/maxArgs) and runX(opts)
// (openInput, one library call, openOutput and commit); add it to commandTable; teach exit.go
// (classify) and report.go (describers) the library's error types; add
// testdata/x_*.txtar; regenerate doc/ with go test ./cmd/smimectl -run TestManPages
// -update. Enum flags and file flags complete without more work.
func newRootCmd(e *env) *cobra.Command {
	return newRootCmdFor(e, nil)
}

// newRootCmdFor returns the command tree for running args: when args[0] names a
// command that needs no other (see commandTable), a root with that command
// alone, else the whole tree. Building every command's flags, help and
// completion annotations was a tenth of the CPU time of verifying one small
// message (issue #13, start-up time); a run uses one command. What the one
// command does, prints and exits with is what it does in the whole tree
// (TestRootForOneCommand).
func newRootCmdFor(e *env, args []string) *cobra.Command {
	root := &cobra.Command{
		Use:   "smimectl <command>",
		Short: "Sign, encrypt, decrypt and verify S/MIME mail",
		Long:  rootIntro + "\n\nEXIT STATUS\n" + exitStatusTable("  "),
		Example: `  smimectl version
  smimectl help exit-codes
  source <(smimectl completion bash)`,
		Version:           versionString(),
		Args:              cobra.ArbitraryArgs,
		RunE:              runRoot,
		SilenceErrors:     true,
		SilenceUsage:      true,
		ValidArgsFunction: cobra.NoFileCompletions,
		// The man pages carry a fixed date; see docs.go.
		DisableAutoGenTag:          true,
		SuggestionsMinimumDistance: 2,
	}
	root.SetIn(e.Stdin)
	root.SetOut(e.Stdout)
	root.SetErr(e.Stderr)
	root.SetVersionTemplate("{{.Version}}")
	root.InitDefaultVersionFlag()
	root.SetUsageTemplate(usageTemplate)
	root.SetHelpTemplate(helpTemplate)
	root.SetFlagErrorFunc(flagError)
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetHelpCommand(newHelpCmd(root))

	for _, c := range commandTable(e) {
		if len(args) == 0 || args[0] != c.name || c.tree {
			continue
		}
		root.AddCommand(c.build())
		addConfig(root, e) // issue #16 item 3
		addTopicPointers(root)
		if err := completeEnums(root); err != nil {
			panic(err)
		}
		return root
	}
	for _, c := range commandTable(e) {
		root.AddCommand(c.build())
	}
	addConfig(root, e)
	addTopicPointers(root)
	if err := completeEnums(root); err != nil {
		// Only a programming error (an annotation on a missing flag) gets here.
		panic(err)
	}
	return root
}

// lazyCommand is a command of the tree, built only when needed.
type lazyCommand struct {
	name  string
	build func() *cobra.Command
	tree  bool // it needs the whole tree (completion scripts and config show describe every command)
}

// commandTable lists every command of the tree, in the order help shows
// them, by the name they are run with; newRootCmdFor builds one alone
// unless it needs the whole tree. TestCommandTable checks that the table
// and the tree agree.
func commandTable(e *env) []lazyCommand {
	return []lazyCommand{
		{name: "sign", build: func() *cobra.Command { return newSignCmd(e, nil) }},
		{name: "clear-sign", build: func() *cobra.Command { return newClearSignCmd(e, nil) }},
		{name: "opaque-sign", build: func() *cobra.Command { return newOpaqueSignCmd(e, nil) }},
		{name: "verify", build: func() *cobra.Command { return newVerifyCmd(e, nil) }},
		{name: "cert-match", build: func() *cobra.Command { return newCertMatchCmd(e, nil) }},
		{name: "cert-verify", build: func() *cobra.Command { return newCertVerifyCmd(e, nil) }},
		{name: "encrypt", build: func() *cobra.Command { return newEncryptCmd(e, nil) }},
		{name: "triple-wrap", build: func() *cobra.Command { return newTripleWrapCmd(e, nil) }},
		{name: "decrypt", build: func() *cobra.Command { return newDecryptCmd(e, nil) }},
		{name: "inspect", build: func() *cobra.Command { return newInspectCmd(e, nil) }},
		{name: "directory", build: func() *cobra.Command { return newDirectoryCmd(e) }},
		{name: "certs-only", build: func() *cobra.Command { return newCertsOnlyCmd(e, nil) }},
		{name: "lab", build: func() *cobra.Command { return newLabCmd(e) }},
		{name: "crl", build: func() *cobra.Command { return newCRLCmd(e) }},
		{name: "version", build: func() *cobra.Command { return newVersionCmd(e, nil) }},
		{name: "config", tree: true, build: func() *cobra.Command { return newConfigCmd(e) }}, // config show reads the other commands
		{name: "completion", tree: true, build: func() *cobra.Command { return newCompletionCmd(e, nil) }},
		{name: "exit-codes", tree: true, build: newExitCodesTopic},
		{name: "ldap", tree: true, build: newLDAPTopic},
		{name: "revocation", tree: true, build: newRevocationTopic},
		{name: "keys", tree: true, build: newKeysTopic},
	}
}

// runRoot runs when no subcommand matched: with no arguments it shows help; anything
// else is an unknown command.
func runRoot(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	hints := []string{`run "smimectl --help" for the list of commands`}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		hints = []string{fmt.Sprintf("did you mean %q?", strings.Join(s, `" or "`))}
	}
	return usagef(hints, "unknown command %q", args[0])
}

// flagError wraps pflag's parse errors as *usageError with the command's usage line.
// On the root command, a word before the bad flag was an unknown command
// ("smimectl verfy --trust x"): that is the error to report, with its suggestion
// (issue #16 item 9), not the flag that only the intended command knows.
func flagError(cmd *cobra.Command, err error) error {
	if !cmd.HasParent() && len(cmd.Flags().Args()) > 0 {
		return runRoot(cmd, cmd.Flags().Args())
	}
	return &usageError{err: err, usage: cmd.UseLine()}
}

// newHelpCmd replaces Cobra's help command so that an unknown topic is a usage error
// (exit 2) rather than help text with status 0.
func newHelpCmd(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "help [<command> | <topic>]",
		Short: "Show help for a command or topic",
		Long: `Show help for smimectl, one of its commands, or one of the help topics listed
under "Additional help topics" in "smimectl --help".`,
		Example: `  smimectl help
  smimectl help version
  smimectl help exit-codes`,
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			var names []cobra.Completion
			for _, c := range root.Commands() {
				if c.IsAvailableCommand() || c.IsAdditionalHelpTopicCommand() {
					names = append(names, c.Name())
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			target, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 || (target == root && len(args) > 0) || target.Hidden {
				return &usageError{
					err:   fmt.Errorf("unknown help topic %q", strings.Join(args, " ")),
					hints: []string{`run "smimectl --help" for the list of commands and topics`},
				}
			}
			return target.Help()
		},
	}
}

// newExitCodesTopic returns the "smimectl help exit-codes" topic, rendered from the
// exit constants in exit.go.
func newExitCodesTopic() *cobra.Command {
	return &cobra.Command{
		Use:   "exit-codes",
		Short: "Exit status of smimectl commands",
		Long: "smimectl exits with one of these statuses, the same for every command:\n\n" +
			exitStatusTable("  ") + `
A command that writes --out leaves no file behind unless it exits 0. Mail filters
can pass a message through unchanged on any status but 0, and retry it later on 75.

Only 1 is a verdict on the message. A fault of this machine, met wherever it is
(a missing or read-only TMPDIR or output directory: 2; a full disk or quota, too
many open files, an I/O error: 75), never gives 1, so a filter does not reject
or quarantine good mail because of it.

A run stopped by a signal removes its temporary files and exits with 128 plus the
signal's number: 130 (SIGINT), 143 (SIGTERM, as timeout sends), 129 (SIGHUP),
141 (SIGPIPE: standard output closed by its reader).

With --annotate (verify and decrypt in filter mode) the message is always written,
with the verdict in an Authentication-Results header field, and the status is 0
whenever it was; a non-zero status (2, 3, 75) means nothing was written. With
--tempfail-exit, a temporary failure (smime=temperror) writes nothing and exits
75, for a mail system that retries the message later.`,
		Example: `  smimectl version >/dev/null; echo $?`,
	}
}
