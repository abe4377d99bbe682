// Command peergw is the operator's tool for routing Consul cluster-peering control-plane
// traffic through mesh gateways, and a reference control plane for those gateways. It is
// built only from the public packages of peeringgw.
//
// Usage:
//
//	peergw render gateway|acl|mesh [flags]   the configuration to register and apply
//	peergw capture [flags]                   a live gateway's State as a capture file
//	peergw xds [flags]                       a gateway's Envoy resources
//	peergw token inspect [flags] TOKEN|-     what a peering token holds, never its secret
//	peergw doctor [flags]                    a preflight check of a cluster and its peer
//	peergw serve [flags]                     serve gateways their Envoy configuration over xDS
//	peergw bootstrap [flags]                 the Envoy bootstrap that points a gateway at serve
//
// The commands that talk to Consul read CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN,
// CONSUL_HTTP_TOKEN_FILE and the CONSUL_CACERT family like the consul CLI, and take the
// same -http-addr, -token and -token-file flags. Output goes to stdout, errors to stderr.
// The exit status is 0 on success, 1 on failure or findings, 2 on a usage error; see
// README.md for the rule.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// cli is what every command reads and writes.
type cli struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// command is one subcommand: its name as typed ("render gateway"), what it does, and
// its implementation.
type command struct {
	name    string
	summary string
	run     func(c *cli, args []string) error
}

// commands lists the subcommands in the order the usage shows them.
func commands() []command {
	return []command{
		{"render gateway", "print a mesh gateway service definition (HCL or JSON)", runRenderGateway},
		{"render acl", "print the gateway token's ACL policy (HCL or JSON)", runRenderACL},
		{"render mesh", "print the mesh config entry (HCL, JSON or YAML)", runRenderMesh},
		{"capture", "print a live gateway's State as a capture file", runCapture},
		{"xds", "print a gateway's Envoy resources, from a capture or live", runXDS},
		{"token inspect", "decode a peering token, never printing its secret", runTokenInspect},
		{"doctor", "check a cluster, and optionally its peer, for peering through mesh gateways", runDoctor},
		{"serve", "serve gateways their Envoy configuration over xDS, watching Consul", runServe},
		{"bootstrap", "print the Envoy bootstrap that points a gateway at serve", runBootstrap},
	}
}

// run runs the command line args and returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		topUsage(stderr)
		return exitUsage
	}
	if isHelpFlag(args[0]) || args[0] == "help" {
		topUsage(stderr)
		return exitOK
	}
	cmd, rest, ok := lookup(args)
	if ok {
		return report(stderr, cmd.name, cmd.run(c, rest))
	}
	if group := groupCommands(args[0]); len(group) > 0 {
		if len(args) > 1 && isHelpFlag(args[1]) {
			groupUsage(stderr, args[0], group)
			return exitOK
		}
		fmt.Fprintf(stderr, "peergw %s: want a subcommand\n\n", args[0])
		groupUsage(stderr, args[0], group)
		return exitUsage
	}
	fmt.Fprintf(stderr, "peergw: unknown command %q\n\n", args[0])
	topUsage(stderr)
	return exitUsage
}

func isHelpFlag(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "--h":
		return true
	}
	return false
}

// groupCommands returns the commands whose name starts with the word group followed by a
// subcommand ("render gateway" for "render").
func groupCommands(group string) []command {
	var out []command
	for _, cmd := range commands() {
		if strings.HasPrefix(cmd.name, group+" ") {
			out = append(out, cmd)
		}
	}
	return out
}

func groupUsage(w io.Writer, group string, cmds []command) {
	fmt.Fprintf(w, "Usage: peergw %s <subcommand> [flags] [args]\n\nSubcommands:\n", group)
	for _, cmd := range cmds {
		fmt.Fprintf(w, "  %-16s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintf(w, "\nRun \"peergw %s <subcommand> -h\" for its flags.\n", group)
}

// lookup finds the command args start with: a one-word command, or a group ("render",
// "token") followed by its subcommand.
func lookup(args []string) (command, []string, bool) {
	for _, cmd := range commands() {
		words := strings.Fields(cmd.name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == cmd.name {
			return cmd, args[len(words):], true
		}
	}
	return command{}, nil, false
}

func topUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: peergw <command> [flags] [args]

peergw renders the configuration that routes Consul cluster-peering control-plane
traffic through mesh gateways, inspects peering tokens and live clusters, and serves the
gateways their Envoy configuration over xDS.

Commands:
`)
	for _, cmd := range commands() {
		fmt.Fprintf(w, "  %-16s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprint(w, `
Run "peergw <command> -h" for the flags of a command.

Commands that talk to Consul read CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN,
CONSUL_HTTP_TOKEN_FILE, CONSUL_CACERT, CONSUL_CAPATH, CONSUL_CLIENT_CERT,
CONSUL_CLIENT_KEY, CONSUL_TLS_SERVER_NAME and CONSUL_HTTP_SSL like the consul CLI;
their flags override the environment.

Exit status: 0 success, 1 failure or findings, 2 usage error.
`)
}

// errHelp is returned when -h was asked for: the usage is printed, and the exit status is 0.
var errHelp = errors.New("help requested")

// errFindings is returned when a command printed findings that fail it (exit status 1);
// there is nothing more to say.
var errFindings = errors.New("findings reported")

// usageError is a command-line mistake: its message, then the command's usage, go to
// stderr and the exit status is 2. A nil fs means the flag package already printed both.
type usageError struct {
	fs  *flag.FlagSet
	err error
}

func (e *usageError) Error() string { return e.err.Error() }

func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usageError for fs.
func usagef(fs *flag.FlagSet, format string, a ...any) error {
	return &usageError{fs: fs, err: fmt.Errorf(format, a...)}
}

// report prints err for command name and returns the exit status.
func report(stderr io.Writer, name string, err error) int {
	if err == nil || errors.Is(err, errHelp) {
		return exitOK
	}
	if errors.Is(err, errFindings) {
		return exitFailure
	}
	if ue, ok := errors.AsType[*usageError](err); ok {
		if ue.fs != nil {
			fmt.Fprintf(stderr, "peergw %s: %v\n", name, ue.err)
			ue.fs.Usage()
		}
		return exitUsage
	}
	msg := strings.ReplaceAll(err.Error(), "\n", "\n  ")
	fmt.Fprintf(stderr, "peergw %s: %s\n", name, msg)
	return exitFailure
}

// newFlagSet returns the flag set of command name, whose usage line shows args and
// then desc.
func (c *cli) newFlagSet(name, args, desc string) *flag.FlagSet {
	fs := flag.NewFlagSet("peergw "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: peergw %s %s\n\n%s\n\nFlags:\n", name, args, strings.TrimSpace(desc))
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args with fs. The flag package prints its own errors and the usage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return &usageError{err: err}
	}
	return nil
}

// noArgs parses args with fs and refuses positional arguments.
func noArgs(fs *flag.FlagSet, args []string) error {
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef(fs, "unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// isSet reports whether flag name was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

// oneOf checks that flag name's value is one of allowed.
func oneOf(fs *flag.FlagSet, name, value string, allowed ...string) error {
	for _, a := range allowed {
		if value == a {
			return nil
		}
	}
	return usagef(fs, "-%s must be %s, not %q", name, orList(allowed), value)
}

// orList returns "a, b or c".
func orList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// writeOut writes b to stdout, adding a final newline when b lacks one.
func (c *cli) writeOut(b []byte) error {
	if len(b) > 0 && b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	_, err := c.stdout.Write(b)
	return err
}
