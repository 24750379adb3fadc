package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Command is one subcommand of an [App].
type Command struct {
	Name    string
	Summary string // its lines in the usage, after "PROG "
	Order   int    // its position in the usage
	Run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// App is a program of subcommands: it prints their usage and dispatches to
// them. Each command registers itself, so adding one touches no other file.
type App struct {
	Name   string // "putonly"
	Title  string // the usage's first line
	Footer string // the usage's text after the commands
	cmds   map[string]*Command
}

// Register adds c to the app.
func (a *App) Register(c *Command) {
	if a.cmds == nil {
		a.cmds = map[string]*Command{}
	}
	a.cmds[c.Name] = c
}

// Usage is the app's usage: its title, the commands in their order, 'help'
// and the footer.
func (a *App) Usage() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\nUsage:\n", a.Title)
	list := make([]*Command, 0, len(a.cmds))
	for _, c := range a.cmds {
		list = append(list, c)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Order != list[j].Order {
			return list[i].Order < list[j].Order
		}
		return list[i].Name < list[j].Name
	})
	for _, c := range list {
		fmt.Fprintf(&b, "  %s %s\n", a.Name, c.Summary)
	}
	fmt.Fprintf(&b, "  %s help [command]\n%s", a.Name, a.Footer)
	return b.String()
}

// Run runs the command args[0] with the rest of args. No command, an
// unknown one or 'help UNKNOWN' print the usage on stderr and are a
// [UsageError]; 'help', -h, -help and --help print it on stdout; 'help CMD' is 'CMD
// --help' ('help help' is the usage itself, not a recursion); --version is
// the command "version".
func (a *App) Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, a.Usage())
		return &UsageError{}
	}
	switch args[0] {
	case "help", "-h", "-help", "--help": // -help: what Go's flag package takes after a command
		if len(args) > 1 && !IsHelp(args[1]) {
			if _, ok := a.cmds[args[1]]; !ok {
				fmt.Fprint(stderr, a.Usage())
				return Usage(fmt.Errorf("help: unknown command %q", args[1]))
			}
			return a.Run(ctx, []string{args[1], "--help"}, stdout, stderr)
		}
		fmt.Fprint(stdout, a.Usage())
		return nil
	case "--version":
		args = []string{"version"}
	}
	if c, ok := a.cmds[args[0]]; ok {
		return c.Run(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprint(stderr, a.Usage())
	return Usage(fmt.Errorf("unknown command %q", args[0]))
}

// IsHelp says s asks for help: help, -h, -help or --help.
func IsHelp(s string) bool { return s == "help" || s == "-h" || s == "--help" || s == "-help" }
