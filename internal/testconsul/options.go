package testconsul

// Option configures an agent started by Start.
type Option func(*options)

type options struct {
	datacenter      string
	nodeName        string
	managementToken string
	dataDir         string
	hcl             []string
}

func newOptions(opts []Option) options {
	o := options{datacenter: "dc1"}
	for _, opt := range opts {
		opt(&o)
	}
	if o.nodeName == "" {
		o.nodeName = o.datacenter + "-server"
	}
	return o
}

// WithDatacenter sets the agent's datacenter. The default is "dc1".
func WithDatacenter(dc string) Option {
	return func(o *options) { o.datacenter = dc }
}

// WithNodeName sets the agent's node name. The default is the datacenter
// followed by "-server", such as "dc1-server".
func WithNodeName(name string) Option {
	return func(o *options) { o.nodeName = name }
}

// WithACLs enables ACLs with default_policy "deny" and token as the initial
// management token, which the agent also uses as its own agent token.
// Agent.Client then sends token. By default ACLs are off.
func WithACLs(token string) Option {
	return func(o *options) { o.managementToken = token }
}

// WithDataDir runs a real single server (-server -bootstrap-expect 1) that
// keeps its state in dir, so the state survives Agent.Stop and Agent.Start.
// The default is a -dev agent, whose state lives in memory and is lost when
// it stops. The caller owns dir; t.TempDir suits.
func WithDataDir(dir string) Option {
	return func(o *options) { o.dataDir = dir }
}

// WithHCL adds an HCL configuration fragment, passed with -hcl after all
// other configuration so that it overrides it. Fragments given by several
// WithHCL options apply in order. The default is none.
func WithHCL(hcl string) Option {
	return func(o *options) { o.hcl = append(o.hcl, hcl) }
}
