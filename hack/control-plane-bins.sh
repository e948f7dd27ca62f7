#!/usr/bin/env bash
# Builds the real kube-apiserver and etcd that tests/kubeapi runs (and the
# kubectl of the same Kubernetes release, which tests use to apply the install
# manifests), once, into a cache directory keyed by their versions, and prints
# that directory:
#
#   export FAIRWAY_CONTROL_PLANE_BINS=$(hack/control-plane-bins.sh)
#
# Why build from source: the tests need a real API server (RBAC, watch,
# resourceVersion semantics a fake clientset does not have), the only tool the
# repository may assume is Go, and distribution etcd packages are too old.
# The versions come from hack/tools/*/go.mod, so bumping one there changes the
# cache key and the next run rebuilds. A cold build takes minutes and ~2.5 GB
# of memory; a warm run only checks the binaries exist.
#
# stdout carries ONLY the directory; progress goes to stderr.
# FAIRWAY_TOOLS_DIR overrides the cache root (default ~/.cache/fairway).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/hack/tools"

# modversion FILE MODULE prints MODULE's required version in go.mod FILE,
# whether the require is a single line or inside a block.
modversion() {
	awk -v m="$2" '$1 == "require" { $1 = "" ; $0 = substr($0, 2) } $1 == m { print $2; exit }' "$1"
}

k8s_version="$(modversion "$tools/kube-apiserver/go.mod" k8s.io/kubernetes)"
etcd_version="$(modversion "$tools/etcd/go.mod" go.etcd.io/etcd/server/v3)"
if [ -z "$k8s_version" ] || [ -z "$etcd_version" ]; then
	echo "control-plane-bins: cannot read versions from $tools/*/go.mod" >&2
	exit 1
fi

cache="${FAIRWAY_TOOLS_DIR:-${HOME:?HOME or FAIRWAY_TOOLS_DIR must be set}/.cache/fairway}"
target="$cache/control-plane-k8s-$k8s_version-etcd-$etcd_version"

complete() { [ -x "$1/kube-apiserver" ] && [ -x "$1/kubectl" ] && [ -x "$1/etcd" ]; }

if complete "$target"; then
	echo "$target"
	exit 0
fi

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH="/usr/local/go/bin:$PATH"
fi

mkdir -p "$cache"
# Build next to the target so the final mv is a rename on one filesystem: a
# reader sees either no directory or a complete one, never half a build.
tmp="$(mktemp -d "$cache/.control-plane-build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp" # mktemp makes it private; the cache is not secret

# Static binaries (no cgo, so no C toolchain needed), isolated from any
# go.work a developer may have above the repository; -mod=readonly makes a
# stale go.sum fail loudly instead of silently resolving something else.
export CGO_ENABLED=0 GOWORK=off GOFLAGS="${GOFLAGS:-} -mod=readonly"

# kube-apiserver reports (and derives its compatibility version from) the
# version stamped by ldflags, as Kubernetes' own hack/lib/version.sh does;
# kubectl's version skew warning compares the same stamp.
major="${k8s_version#v}"
major="${major%%.*}"
minor="${k8s_version#v*.}"
minor="${minor%%.*}"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
	ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

start=$SECONDS
echo "control-plane-bins: building kube-apiserver $k8s_version (cold build: a few minutes)..." >&2
(cd "$tools/kube-apiserver" &&
	go build -trimpath -ldflags "$ldflags" -o "$tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver &&
	echo "control-plane-bins: building kubectl $k8s_version..." >&2 &&
	go build -trimpath -ldflags "$ldflags" -o "$tmp/kubectl" k8s.io/kubernetes/cmd/kubectl) >&2
echo "control-plane-bins: building etcd $etcd_version..." >&2
(cd "$tools/etcd" && go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" .) >&2

"$tmp/kube-apiserver" --version >&2
"$tmp/kubectl" version --client >&2
"$tmp/etcd" --version >&2

# An incomplete directory (an interrupted older layout) would make mv nest the
# build inside it; clear it first. If a concurrent run wins the rename race,
# mv nests our copy inside the winner's complete directory: remove that copy.
if [ -e "$target" ] && ! complete "$target"; then
	rm -rf "$target"
fi
mv "$tmp" "$target"
rm -rf "$target/$(basename "$tmp")"
trap - EXIT
complete "$target" || { echo "control-plane-bins: $target is incomplete" >&2; exit 1; }
echo "control-plane-bins: built in $((SECONDS - start))s: $target" >&2
echo "$target"
