#!/usr/bin/env bash
# The project's pinned command-line tools, built from the Go module proxy (zizmor: installed from PyPI), once per
# machine, into a cache outside the clone: fresh clones on the same machine reuse every build. Each build is keyed by
# its version, link flags and wrapper module, so changing a pin here builds the new version beside the old.
#
# Usage: scripts/tools.sh [GROUP...]     builds what is missing, prints the bin directory to put on PATH
#   test   helm, kube-score, actionlint, zizmor, buildkitd (and Docker's buildx plugin where the Docker CLI lacks it)
#          (the default group)
#   e2e    the real-engine tier: Pulumi CLI, Kubernetes provider, etcd, kube-apiserver, kube-controller-manager,
#          kube-scheduler, kubectl, kwok with its stages, Prometheus with Kubernetes discovery, the Prometheus
#          Operator CRDs
#   dev    npm run dev: kind and kubectl
#
# The cache: $HELLO_TOOLS_CACHE, else $XDG_CACHE_HOME/hello-service/tools, else ~/.cache/hello-service/tools.
# The clone's .tools/ (ignored by git) only links into it: .tools/bin, .tools/share, .tools/docker-cli-plugins.
# Go modules that `go install` refuses are built through small wrapper modules in scripts/tools/<name>/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${HELLO_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hello-service/tools}
links="$root/.tools"
wrappers="$root/scripts/tools"

command -v go >/dev/null || { echo "tools.sh: Go is required to build the pinned tools (https://go.dev/dl/)" >&2; exit 1; }
mkdir -p "$cache" "$links/bin" "$links/share"
export CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false"

# The directory of one build: NAME/VERSION-<hash of everything that shapes it (flags, wrapper module files)>.
build_dir() {
  local name=$1 version=$2; shift 2
  local key
  key=$( { printf '%s\n' "$@"; } | sha256sum | cut -c1-10)
  echo "$cache/$name/$version-$key"
}

# once NAME VERSION MINUTES DIR COMMAND...: runs COMMAND (which fills $out) unless DIR is complete; one build at a
# time per tool across clones (flock), announced with how long a cold build took on a 2-core machine.
once() {
  local name=$1 version=$2 minutes=$3 dir=$4; shift 4
  [[ -f "$dir/.complete" ]] && return 0
  mkdir -p "$cache/.locks"
  exec {lock}>"$cache/.locks/$name"
  flock "$lock"
  if [[ ! -f "$dir/.complete" ]]; then
    echo "tools.sh: building $name $version (once per machine, ~$minutes min cold; cached in $dir)" >&2
    local started=$SECONDS
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    out="$dir.tmp" "$@"
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
    touch "$dir/.complete"
    echo "tools.sh: built $name $version in $((SECONDS - started)) s" >&2
  fi
  flock -u "$lock"
}

# link DIR NAME...: puts each built binary on the clone's bin directory.
link() {
  local dir=$1; shift
  for bin in "$@"; do ln -sfn "$dir/$bin" "$links/bin/$bin"; done
}

# go_install NAME MODULE/PATH@VERSION MINUTES [LDFLAGS]: a tool whose module `go install` accepts.
go_install() {
  local name=$1 spec=$2 minutes=$3 ldflags=${4:-}
  local version=${spec##*@}
  local dir
  dir=$(build_dir "$name" "$version" "$spec" "$ldflags")
  install() {
    GOBIN="$out" go install -ldflags "$ldflags" "$spec"
    local built
    built=$(basename "${spec%@*}")
    [[ "$built" == "$name" ]] || mv "$out/$built" "$out/$name"
  }
  once "$name" "$version" "$minutes" "$dir" install
  link "$dir" "$name"
}

# pip_install NAME VERSION: a tool from PyPI (a binary wheel, no build) in a virtual environment of its own, keyed by
# the interpreter that made it (the tool's entry point is a native binary: the environment survives once's move).
# Where python3 cannot make one (Debian: python3-venv), the tool is left out with a warning: its spec then skips, or
# fails under CI=true.
pip_install() {
  local name=$1 version=$2
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    echo "tools.sh: $name $version left out: python3 with venv and ensurepip is needed (Debian: python3-venv)" >&2
    return 0
  fi
  local dir
  dir=$(build_dir "$name" "$version" "$(python3 -c 'import sys; print(sys.executable, sys.version)')")
  make_venv() {
    python3 -m venv "$out"
    "$out/bin/pip" install --quiet --disable-pip-version-check --no-deps --only-binary=:all: "$name==$version"
  }
  once "$name" "$version" 1 "$dir" make_venv
  link "$dir/bin" "$name"
}

# wrapper_key NAME: the wrapper module's files, which shape its build.
wrapper_key() {
  (cd "$wrappers/$1" && find . -type f | LC_ALL=C sort | xargs sha256sum)
}

# wrapper_build NAME VERSION MINUTES LDFLAGS OUTPUT=PACKAGE...: builds packages of the wrapper module
# scripts/tools/NAME, each to its output name.
wrapper_build() {
  local name=$1 version=$2 minutes=$3 ldflags=$4; shift 4
  local dir
  dir=$(build_dir "$name" "$version" "$ldflags" "$*" "$(wrapper_key "$name")")
  build() {
    local target
    for target in "$@"; do
      (cd "$wrappers/$name" && go build -ldflags "$ldflags" -o "$out/${target%%=*}" "${target#*=}")
    done
  }
  once "$name" "$version" "$minutes" "$dir" build "$@"
  local target bins=()
  for target in "$@"; do bins+=("${target%%=*}"); done
  link "$dir" "${bins[@]}"
}

# module_dir MODULE@VERSION: the module's files in the Go module cache (downloaded if needed).
module_dir() {
  (cd "$wrappers" && go mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
}

# --- test: the tools npm test's suites call ------------------------------------------------------------------------

group_test() {
  # helm v3: the line the Pulumi Kubernetes provider embeds for helm.v3.Release. Stamped like a release build
  # (its Makefile's flags): otherwise it reports version "v3.19" and assumes Kubernetes 1.20.
  local helm_version=v3.19.5
  go_install helm "helm.sh/helm/v3/cmd/helm@$helm_version" 2 "-s -w \
    -X helm.sh/helm/v3/internal/version.version=$helm_version \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=34 \
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=34"

  # kube-score: Kubernetes object linter. kube-linter cannot be fetched here (its module host, golang.stackrox.io,
  # is not on this network's Go module allowlist); see charts/go-service/README.md.
  go_install kube-score github.com/zegl/kube-score/cmd/kube-score@v1.20.0 1 "-s -w -X main.version=v1.20.0"

  # actionlint: lints the GitHub Actions workflows with zero findings allowed (test/workflows.test.ts).
  go_install actionlint github.com/rhysd/actionlint/cmd/actionlint@v1.7.12 1 "-s -w"

  # zizmor: the GitHub Actions security audit, offline, no finding of medium severity or more (test/workflows.test.ts).
  pip_install zizmor 1.32.0

  # buildkitd: the image test's reproducibility specs build on a BuildKit that honours SOURCE_DATE_EPOCH (>= 0.11), as
  # a platform engineer's Docker does; Debian's Docker engine embeds an older one. It runs as root, with runc.
  wrapper_build buildkit v0.30.0 4 "-s -w -X github.com/moby/buildkit/version.Version=v0.30.0" \
    buildkitd=github.com/moby/buildkit/cmd/buildkitd

  # BuildKit: the image test builds with `docker build`, which needs the buildx plugin on Docker CLIs >= 23.
  # Where the machine's Docker CLI lacks it, a pinned plugin is built; the tests point DOCKER_CONFIG at it.
  if command -v docker >/dev/null && ! docker buildx version >/dev/null 2>&1; then
    go_install docker-buildx github.com/docker/buildx/cmd/buildx@v0.19.3 2 "-s -w"
    mkdir -p "$links/docker-cli-plugins"
    ln -sfn "$links/bin/docker-buildx" "$links/docker-cli-plugins/docker-buildx"
  fi
}

# --- e2e: a real Pulumi engine and a real Kubernetes API ------------------------------------------------------------

# kube-apiserver, kube-controller-manager, kube-scheduler and kubectl: one build, shared by the e2e and dev groups.
kubernetes() {
  local v=v1.34.4
  # Stamped as hack/lib/version.sh does: Helm and charts' kubeVersion read the server's version.
  local flags="-s -w" pkg
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    flags+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=34 -X $pkg.gitTreeState=clean"
  done
  wrapper_build kubernetes "$v" 5 "$flags" kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver \
    kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager \
    kube-scheduler=k8s.io/kubernetes/cmd/kube-scheduler kubectl=k8s.io/kubernetes/cmd/kubectl
}

group_e2e() {
  # The Pulumi CLI (the engine). The Node.js language host is not served by the Go module proxy: the tier runs the
  # program inline through the Automation API, where the SDK serves the language runtime itself.
  local pulumi_version=v3.276.0
  wrapper_build pulumi "$pulumi_version" 7 "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$pulumi_version" \
    pulumi=github.com/pulumi/pulumi/pkg/v3/cmd/pulumi

  # The Kubernetes provider, as the engine finds it on PATH (it warns that the SDK asks for another version).
  local provider_module=github.com/pulumi/pulumi-kubernetes/provider/v4@v4.0.0-20260115033456-f47bc2d6f199
  local provider_version=4.25.0-dev.f47bc2d6f199
  local provider_flags="-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$provider_version"
  local dir
  dir=$(build_dir pulumi-resource-kubernetes "$provider_version" "$provider_module" "$provider_flags" "$(wrapper_key pulumi-kubernetes)")
  build_provider() {
    local src work
    src=$(module_dir "$provider_module")/cmd/pulumi-resource-kubernetes
    work=$(mktemp -d)
    cp -R "$wrappers/pulumi-kubernetes/." "$work/"
    (cd "$work" && go run ./embedgen "$src" "$provider_version" . &&
      go build -ldflags "$provider_flags" -o "$out/pulumi-resource-kubernetes" .)
    rm -rf "$work"
  }
  once pulumi-resource-kubernetes "$provider_version" 10 "$dir" build_provider
  link "$dir" pulumi-resource-kubernetes

  wrapper_build etcd v3.6.16 2 "-s -w" etcd=go.etcd.io/etcd/server/v3

  kubernetes

  # kwok: simulated nodes (pods become Running and Ready without containers), with the stages that drive them.
  local kwok_version=v0.8.0
  go_install kwok "sigs.k8s.io/kwok/cmd/kwok@$kwok_version" 3 "-s -w"
  data kwok-stages "$kwok_version" "sigs.k8s.io/kwok@$kwok_version" \
    kustomize/stage/node/fast/node-initialize.yaml kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
    kustomize/stage/pod/fast/pod-ready.yaml \
    kustomize/stage/pod/fast/pod-complete.yaml kustomize/stage/pod/fast/pod-delete.yaml

  # Prometheus with Kubernetes service discovery, which Debian's build leaves out: the tier proves that the
  # ServiceMonitor's selector and port are how Prometheus finds the service. Named prometheus3 beside Debian's.
  go_install prometheus3 github.com/prometheus/prometheus/cmd/prometheus@v0.316.0 6 \
    "-s -w -X github.com/prometheus/common/version.Version=3.16.0"

  # The CRDs of the Prometheus Operator that kube-prometheus-stack 88.x ships (operator v0.93).
  local operator_version=v0.93.0
  data prometheus-operator-crds "$operator_version" "github.com/prometheus-operator/prometheus-operator@$operator_version" \
    example/prometheus-operator-crd/*.yaml
}

# data NAME VERSION MODULE@VERSION FILE...: files from a module, copied to .tools/share/NAME.
data() {
  local name=$1 version=$2 module=$3; shift 3
  local dir
  dir=$(build_dir "$name" "$version" "$module" "$@")
  copy() {
    local src file
    src=$(module_dir "$module")
    for file in "$@"; do
      # shellcheck disable=SC2086
      cp $src/$file "$out/"
    done
  }
  once "$name" "$version" 1 "$dir" copy "$@"
  ln -sfn "$dir" "$links/share/$name"
}

# --- dev: what npm run dev needs besides Docker and the Pulumi CLI ---------------------------------------------------

group_dev() {
  go_install kind sigs.k8s.io/kind@v0.29.0 2 "-s -w"
  kubernetes
}

groups=("$@")
(( ${#groups[@]} )) || groups=(test)
for group in "${groups[@]}"; do
  case "$group" in
    test) group_test ;;
    e2e) group_e2e ;;
    dev) group_dev ;;
    *) echo "tools.sh: unknown group \"$group\"; the groups are test, e2e and dev" >&2; exit 2 ;;
  esac
done
echo "$links/bin"
