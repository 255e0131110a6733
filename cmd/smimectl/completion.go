package main

import (
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"
)

// completionShells are the shells "smimectl completion" writes scripts for.
var completionShells = []string{"bash", "zsh", "fish", "powershell"}

type completionOptions struct {
	Out   io.Writer
	Root  *cobra.Command
	Shell string
}

func newCompletionCmd(e *env, runF func(*completionOptions) error) *cobra.Command {
	opts := &completionOptions{Out: e.Stdout}
	return &cobra.Command{
		Use:   "completion {bash | zsh | fish | powershell}",
		Short: "Print a shell completion script",
		Long: `Print a script that makes the shell complete smimectl's commands, flags, flag
values and file names. Load it in the current shell, or install it where the shell
reads completions at start-up.

For zsh, completion must be enabled ("autoload -U compinit; compinit") before the
script is loaded.`,
		Example: `  # bash, now and in every new shell
  source <(smimectl completion bash)
  smimectl completion bash > ~/.local/share/bash-completion/completions/smimectl

  # zsh
  smimectl completion zsh > "${fpath[1]}/_smimectl"

  # fish
  smimectl completion fish > ~/.config/fish/completions/smimectl.fish

  # PowerShell
  smimectl completion powershell | Out-String | Invoke-Expression`,
		Args:      exactArgs(1),
		ValidArgs: completionShells,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Root, opts.Shell = cmd.Root(), args[0]
			if !slices.Contains(completionShells, opts.Shell) {
				return &usageError{
					err:   fmt.Errorf("unknown shell %q", opts.Shell),
					usage: cmd.UseLine(),
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return runCompletion(opts)
		},
	}
}

func runCompletion(opts *completionOptions) error {
	switch opts.Shell {
	case "bash":
		return opts.Root.GenBashCompletionV2(opts.Out, true)
	case "zsh":
		return opts.Root.GenZshCompletion(opts.Out)
	case "fish":
		return opts.Root.GenFishCompletion(opts.Out, true)
	default:
		return opts.Root.GenPowerShellCompletionWithDesc(opts.Out)
	}
}
