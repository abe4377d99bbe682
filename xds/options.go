package xds

// BuildOption configures generation: [Build], [Resolve], [NewBuilder] and, through
// [NewLoop], the Builder of every gateway of a Loop.
type BuildOption interface{ applyBuild(*buildOptions) }

type buildOptions struct {
	version    ConsulVersion
	versionSet bool
}

func newBuildOptions(opts []BuildOption) buildOptions {
	var o buildOptions
	for _, opt := range opts {
		if opt != nil {
			opt.applyBuild(&o)
		}
	}
	return o
}

// VersionOption is the option [WithConsulVersion] returns. It is both a [BuildOption]
// and a [LoopOption].
type VersionOption struct{ v ConsulVersion }

var (
	_ BuildOption = VersionOption{}
	_ LoopOption  = VersionOption{}
)

func (o VersionOption) applyBuild(b *buildOptions) { b.version, b.versionSet = o.v, true }

func (o VersionOption) apply(l *loopOptions) { l.build = append(l.build, o) }

// WithConsulVersion makes generation produce what Consul version v would. It wins over
// the version of the State's agent (State.Agent.Version), which wins over
// [DefaultConsulVersion]. A version outside 1.14 to 1.22 is reported as a diagnostic
// and the default is used.
func WithConsulVersion(v ConsulVersion) VersionOption { return VersionOption{v: v} }
