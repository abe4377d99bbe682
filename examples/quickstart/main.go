// Command quickstart walks through routing cluster-peering control-plane traffic through
// mesh gateways for two clusters, dc1 accepting and dc2 dialing, and prints what to
// apply at each step: the gateway registrations, the gateway token's ACL rules, the mesh
// config entry, the order of operations, and the Envoy configuration each gateway gets.
// It needs no Consul.
//
// Usage:
//
//	go run ./examples/quickstart [-edition ce|enterprise|both] [-format hcl|json] [-scenario file.json]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/peeringgw/peeringgw/acl"
	"github.com/peeringgw/peeringgw/gateway/servicedef"
	"github.com/peeringgw/peeringgw/meshconfig"
	"github.com/peeringgw/peeringgw/xds"
)

// errUsage marks a command-line mistake (exit status 2).
var errUsage = errors.New("usage")

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type config struct {
	edition acl.Edition
	json    bool
	sc      *scenario
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	edition := fs.String("edition", "ce", "Consul edition for the ACL policy: ce, enterprise or both")
	format := fs.String("format", "hcl", "format of registrations, policies and the mesh entry: hcl or json")
	file := fs.String("scenario", "", "JSON file describing the two clusters (default: the built-in dc1/dc2 scenario)")
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	c := &config{}
	switch *edition {
	case "ce":
		c.edition = acl.EditionCE
	case "enterprise":
		c.edition = acl.EditionEnterprise
	case "both":
		c.edition = acl.EditionBoth
	default:
		return nil, fmt.Errorf("%w: -edition must be ce, enterprise or both, not %q", errUsage, *edition)
	}
	switch *format {
	case "hcl":
	case "json":
		c.json = true
	default:
		return nil, fmt.Errorf("%w: -format must be hcl or json, not %q", errUsage, *format)
	}
	data := defaultScenario
	if *file != "" {
		var err error
		if data, err = os.ReadFile(*file); err != nil {
			return nil, err
		}
	}
	sc, err := parseScenario(data)
	if err != nil {
		return nil, err
	}
	c.sc = sc
	return c, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	p := &printer{w: stdout}
	steps := []func(*printer, *config) error{
		stepRegister, stepACL, stepMeshEntry, stepOrder, stepToken, stepEnvoy,
	}
	for _, step := range steps {
		if err := step(p, c); err != nil {
			return err
		}
	}
	p.printf("\nNext: examples/peergw does these steps against live clusters (render, doctor, serve);\n" +
		"see examples/peergw/README.md.\n")
	return p.err
}

// printer writes the walkthrough and remembers the first write error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, a ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, a...)
	}
}

func (p *printer) heading(title string) { p.printf("\n== %s\n\n", title) }

func (p *printer) block(label string, body []byte) {
	p.printf("-- %s\n%s", label, body)
	if n := len(body); n == 0 || body[n-1] != '\n' {
		p.printf("\n")
	}
}

func stepRegister(p *printer, c *config) error {
	p.heading("Step 1. Register a mesh gateway in each cluster (consul services register <file>)")
	for _, cl := range []*cluster{&c.sc.Accepting, &c.sc.Dialing} {
		reg := cl.registration()
		render := servicedef.RenderHCL
		if c.json {
			render = servicedef.RenderJSON
		}
		out, err := render(reg)
		if err != nil {
			return err
		}
		p.block(fmt.Sprintf("%s gateway", cl.Datacenter), out)
	}
	return nil
}

func stepACL(p *printer, c *config) error {
	p.heading("Step 2. Let the gateway token read all peerings (peering:read)")
	for _, e := range []acl.Edition{acl.EditionCE, acl.EditionEnterprise} {
		pol, err := acl.PeeringRead(e)
		if err != nil {
			return err
		}
		hcl, err := pol.RenderCompactHCL()
		if err != nil {
			return err
		}
		js, err := pol.RenderCompactJSON()
		if err != nil {
			return err
		}
		p.block(fmt.Sprintf("%s, HCL", e), hcl)
		p.block(fmt.Sprintf("%s, JSON", e), js)
	}
	pol, err := acl.MeshGateway(c.edition)
	if err != nil {
		return err
	}
	render := pol.RenderHCL
	if c.json {
		render = pol.RenderJSON
	}
	out, err := render()
	if err != nil {
		return err
	}
	p.block(fmt.Sprintf("complete mesh gateway policy (%s)", c.edition), out)
	return nil
}

func stepMeshEntry(p *printer, c *config) error {
	p.heading("Step 3. The mesh config entry, in both clusters (consul config write <file>)")
	entry := meshconfig.New(true)
	if c.json {
		out, err := meshconfig.RenderJSON(entry)
		if err != nil {
			return err
		}
		p.block("JSON", out)
		return nil
	}
	hcl, err := meshconfig.RenderHCL(entry)
	if err != nil {
		return err
	}
	yaml, err := meshconfig.RenderYAML(entry)
	if err != nil {
		return err
	}
	p.block("HCL", hcl)
	p.block("YAML", yaml)
	return nil
}

func stepOrder(p *printer, c *config) error {
	p.heading("Step 4. Apply in this order")
	enabled := meshconfig.New(true)
	acc, dial := c.sc.Accepting.Datacenter, c.sc.Dialing.Datacenter
	p.printf("1. %s (accepting): %s\n", acc, meshconfig.NextStep(meshconfig.RoleAccepting, meshconfig.StageBefore, nil))
	p.printf("2. %s (accepting): %s\n", acc, meshconfig.NextStep(meshconfig.RoleAccepting, meshconfig.StageBefore, enabled))
	p.printf("3. %s (dialing): %s\n", dial, meshconfig.NextStep(meshconfig.RoleDialing, meshconfig.StageBefore, nil))
	p.printf("4. %s (dialing): %s\n", dial, meshconfig.NextStep(meshconfig.RoleDialing, meshconfig.StageBefore, enabled))
	p.printf("Note: %s.\n", meshconfig.BothClusters)
	return nil
}

func stepToken(p *printer, c *config) error {
	p.heading("Step 5. What the peering token tells the dialing cluster")
	acc := &c.sc.Accepting
	p.printf("server name (SNI): %s\n", acc.serverName())
	p.printf("server addresses:  %v (the %s gateway's WAN address)\n", acc.tokenAddresses(), acc.Datacenter)
	return nil
}

func stepEnvoy(p *printer, c *config) error {
	p.heading("Step 6. The Envoy configuration each gateway gets (clusters, endpoints, listeners)")
	sides := []struct {
		self, peer *cluster
		dialing    bool
	}{
		{&c.sc.Accepting, &c.sc.Dialing, false},
		{&c.sc.Dialing, &c.sc.Accepting, true},
	}
	for _, side := range sides {
		state, err := side.self.state(side.peer, side.dialing)
		if err != nil {
			return err
		}
		res, diags := xds.Build(state)
		for _, d := range diags {
			p.printf("diagnostic: %v\n", d)
		}
		out, err := res.MarshalJSON()
		if err != nil {
			return err
		}
		p.block(fmt.Sprintf("%s gateway", side.self.Datacenter), out)
	}
	return nil
}
