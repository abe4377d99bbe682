// Command consul is a Consul v1.14.8 agent limited to the agent and version
// subcommands. The tests of github.com/peeringgw/peeringgw start it through
// package testconsul; scripts/consul.sh builds and caches it.
package main

import (
	"fmt"
	"io"
	"log"
	"os"

	"github.com/hashicorp/consul/command/agent"
	"github.com/hashicorp/consul/command/cli"
	"github.com/hashicorp/consul/command/version"
	mcli "github.com/mitchellh/cli"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run dispatches args to the agent or version command and returns the exit
// code.
func run(args []string) int {
	// Consul's dependencies log through the standard logger; the agent has
	// its own logger.
	log.SetOutput(io.Discard)

	ui := &cli.BasicUI{BasicUi: mcli.BasicUi{Writer: os.Stdout, ErrorWriter: os.Stderr}}
	commands := map[string]mcli.CommandFactory{
		"agent":   func() (mcli.Command, error) { return agent.New(ui), nil },
		"version": func() (mcli.Command, error) { return version.New(ui), nil },
	}
	c := &mcli.CLI{
		Name:        "consul",
		Args:        args,
		Commands:    commands,
		HelpFunc:    mcli.BasicHelpFunc("consul"),
		HelpWriter:  os.Stdout,
		ErrorWriter: os.Stderr,
	}
	if c.IsVersion() {
		return version.New(ui).Run(nil)
	}
	code, err := c.Run()
	if err != nil {
		fmt.Fprintf(os.Stderr, "consul: %v\n", err)
		return 1
	}
	return code
}
