#!/usr/bin/env bash
# Installs the pinned command-line tools the test suites need into .tools/ (ignored by git),
# built from source with `go install`, so that every machine runs the same versions.
# A tool is built once per version (and link flags) and reused on the next run; change a version here to upgrade it.
#
# Usage: scripts/tools.sh            installs everything, prints the bin directory to put on PATH
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools="$root/.tools"

command -v go >/dev/null || { echo "tools.sh: Go is required to build the pinned tools (https://go.dev/dl/)" >&2; exit 1; }

# install NAME MODULE/PATH@VERSION [LDFLAGS]: builds into .tools/NAME/<version>-<flags hash>/ and links .tools/bin/NAME.
install() {
  local name=$1 spec=$2 ldflags=${3:-}
  local version=${spec##*@}
  local dir="$tools/$name/$version-$(printf '%s' "$ldflags" | sha256sum | cut -c1-8)"
  if [[ ! -x "$dir/$name" ]]; then
    echo "tools.sh: building $name $version (once; cached in .tools/)" >&2
    mkdir -p "$dir.tmp"
    GOBIN="$dir.tmp" GOFLAGS=-trimpath go install -ldflags "$ldflags" "$spec"
    mv "$dir.tmp/$(basename "${spec%@*}")" "$dir.tmp/$name" 2>/dev/null || true
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  mkdir -p "$tools/bin"
  ln -sfn "$dir/$name" "$tools/bin/$name"
}

# helm v3: the line the Pulumi Kubernetes provider embeds for helm.v3.Release. Stamped like a release build
# (its Makefile's flags): otherwise it reports version "v3.19" and assumes Kubernetes 1.20.
helm_version=v3.19.5
install helm "helm.sh/helm/v3/cmd/helm@$helm_version" "-s -w \
  -X helm.sh/helm/v3/internal/version.version=$helm_version \
  -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=34 \
  -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=34"

# kube-score: Kubernetes object linter. kube-linter cannot be fetched here (its module host, golang.stackrox.io,
# is not on this network's Go module allowlist); see charts/go-service/README.md.
install kube-score github.com/zegl/kube-score/cmd/kube-score@v1.20.0 "-s -w -X main.version=v1.20.0"

# actionlint: lints the GitHub Actions workflows with zero findings allowed (test/workflows.test.ts).
install actionlint github.com/rhysd/actionlint/cmd/actionlint@v1.7.12 "-s -w"

# BuildKit: the image test builds with `docker build`, which needs the buildx plugin on Docker CLIs >= 23.
# Where the machine's Docker CLI lacks it, a pinned plugin is built; the tests point DOCKER_CONFIG at it.
if command -v docker >/dev/null && ! docker buildx version >/dev/null 2>&1; then
  install docker-buildx github.com/docker/buildx/cmd/buildx@v0.19.3 "-s -w"
  mkdir -p "$tools/docker-cli-plugins"
  ln -sfn "$tools/bin/docker-buildx" "$tools/docker-cli-plugins/docker-buildx"
fi

echo "$tools/bin"
