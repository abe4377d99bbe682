#!/usr/bin/env bash
# consul.sh prints the path of the Consul binary the tests run, building it
# from internal/testconsul/consulbin first when the cache lacks it.
#
# Environment:
#   PEERINGGW_CONSUL  path of a consul binary to use instead; nothing is built
#   PEERINGGW_CACHE   cache directory (default ${XDG_CACHE_HOME:-$HOME/.cache}/peeringgw)
#
# The binary is cached as $PEERINGGW_CACHE/consul-1.14.8/consul. Building
# needs only Go and the module proxy and takes a few minutes.
set -euo pipefail

version=1.14.8
# Commit and date of the v1.14.8 tag, as the module proxy reports them.
commit=c9c7d1f4976799e44e9ccaf057b202adac38d62d
date=2023-06-23T23:16:59Z

die() {
	echo "consul.sh: $*" >&2
	exit 1
}

if [ -n "${PEERINGGW_CONSUL:-}" ]; then
	[ -x "$PEERINGGW_CONSUL" ] && [ -f "$PEERINGGW_CONSUL" ] ||
		die "PEERINGGW_CONSUL=$PEERINGGW_CONSUL is not an executable file"
	echo "$PEERINGGW_CONSUL"
	exit 0
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
src=$root/internal/testconsul/consulbin
cache=${PEERINGGW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/peeringgw}
dir=$cache/consul-$version
bin=$dir/consul

if [ -x "$bin" ]; then
	echo "$bin"
	exit 0
fi

command -v go >/dev/null || die "go is not on PATH; it is needed to build Consul $version"
[ -f "$src/go.mod" ] || die "missing $src/go.mod"
mkdir -p "$dir" || die "cannot create $dir"

# Serialise concurrent builds; whoever waited finds the binary in place.
if command -v flock >/dev/null; then
	exec 9>"$dir/.lock"
	flock 9
	[ -x "$bin" ] && { echo "$bin"; exit 0; }
	# Holding the lock, leftovers of interrupted builds are safe to remove.
	rm -f "$dir"/.consul.*
fi

tmp=$(mktemp "$dir/.consul.XXXXXX")
trap 'rm -f "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "consul.sh: building Consul $version into $bin (takes a few minutes)" >&2
ldflags="-s -w"
ldflags+=" -X github.com/hashicorp/consul/version.GitCommit=${commit:0:12}"
ldflags+=" -X github.com/hashicorp/consul/version.BuildDate=$date"
(
	cd "$src"
	GOWORK=off CGO_ENABLED=0 go build -mod=readonly -buildvcs=false -trimpath \
		-ldflags "$ldflags" -o "$tmp" .
) >&2 || die "building Consul $version in $src failed (see the go output above)"

"$tmp" version >/dev/null || die "the freshly built $tmp does not run"
chmod 0755 "$tmp"
mv -f "$tmp" "$bin" || die "cannot move the built binary to $bin"
echo "$bin"
