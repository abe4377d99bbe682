package main

import (
	"fmt"

	"github.com/peeringgw/peeringgw/gateway"
	"github.com/peeringgw/peeringgw/peering"
)

func runCapture(c *cli, args []string) error {
	fs := c.newFlagSet("capture", "[flags]", `
Print the live State of a mesh gateway registered with the Consul agent, as a capture
file: JSON in the shapes of Consul's HTTP API, with credentials removed. Attach it to a
bug report, or feed it to "peergw xds -state FILE".`)
	var cf consulFlags
	cf.register(fs)
	id := fs.String("gateway-id", gateway.DefaultName, "service instance `ID` of the mesh gateway")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	conn, err := cf.connect()
	if err != nil {
		return err
	}
	src, err := peering.NewConsulSources(conn.cfg, *id)
	if err != nil {
		return err
	}
	state, err := src.Read(c.ctx)
	if err != nil {
		return conn.explain(fmt.Errorf("read the state of gateway %q: %w", *id, err))
	}
	return peering.WriteCapture(c.stdout, state)
}
