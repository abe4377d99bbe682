package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/peeringgw/peeringgw/gateway"
	"github.com/peeringgw/peeringgw/peering"
	"github.com/peeringgw/peeringgw/xds"
)

func runXDS(c *cli, args []string) error {
	fs := c.newFlagSet("xds", "[flags]", `
Print a mesh gateway's Envoy resources for peering control-plane traffic as a resource
dump: {"clusters": [...], "endpoints": [...], "listeners": [...]}, each resource in its
protojson form. The State comes from a capture file (-state) or, by default, from the
Consul agent the gateway is registered with. Every input the generation skipped or
defaulted is reported on stderr as a diagnostic; with -strict, diagnostics make the exit
status 1.`)
	var cf consulFlags
	cf.register(fs)
	statePath := fs.String("state", "", "capture `file` to read the State from, - for stdin, instead of Consul")
	id := fs.String("gateway-id", gateway.DefaultName, "service instance `ID` of the mesh gateway (live)")
	strict := fs.Bool("strict", false, "exit with status 1 when there are diagnostics")
	var version consulVersion
	version.register(fs)
	if err := noArgs(fs, args); err != nil {
		return err
	}
	state, err := c.xdsState(fs, &cf, *statePath, *id)
	if err != nil {
		return err
	}
	var opts []xds.BuildOption
	if o := version.option(); o != nil {
		opts = append(opts, *o)
	}
	res, diags := xds.Build(state, opts...)
	if err := res.Validate(); err != nil {
		return fmt.Errorf("generated resources Envoy would reject:\n%w", err)
	}
	out, err := res.MarshalJSON()
	if err != nil {
		return err
	}
	if err := c.writeOut(out); err != nil {
		return err
	}
	for _, d := range diags {
		fmt.Fprintf(c.stderr, "peergw xds: diagnostic: %v\n", d)
	}
	if *strict && len(diags) > 0 {
		fmt.Fprintf(c.stderr, "peergw xds: %d diagnostic(s) with -strict\n", len(diags))
		return errFindings
	}
	return nil
}

// xdsState reads the State from the capture file path, or else from Consul.
func (c *cli) xdsState(fs *flag.FlagSet, cf *consulFlags, path, id string) (*peering.State, error) {
	if path == "" {
		conn, err := cf.connect()
		if err != nil {
			return nil, err
		}
		src, err := peering.NewConsulSources(conn.cfg, id)
		if err != nil {
			return nil, err
		}
		state, err := src.Read(c.ctx)
		if err != nil {
			return nil, conn.explain(fmt.Errorf("read the state of gateway %q: %w", id, err))
		}
		return state, nil
	}
	for _, name := range append(cf.names(), "gateway-id") {
		if isSet(fs, name) {
			return nil, usagef(fs, "-%s does not apply to -state", name)
		}
	}
	var r io.Reader = c.stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	state, err := peering.DecodeState(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return state, nil
}
