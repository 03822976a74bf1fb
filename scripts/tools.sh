#!/usr/bin/env bash
# Installs the pinned command-line tools the test suites need into .tools/ (ignored by git),
# built from source with `go install`, so that every machine runs the same versions.
# A tool is built once per version and reused on the next run; change a version here to upgrade it.
#
# Usage: scripts/tools.sh            installs everything, prints the bin directory to put on PATH
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools="$root/.tools"

# name  module/path@version
pinned=(
  # helm v3: the line the Pulumi Kubernetes provider embeds for helm.v3.Release.
  "helm helm.sh/helm/v3/cmd/helm@v3.19.5"
  # kube-score: Kubernetes object linter. kube-linter cannot be fetched here (its module host,
  # golang.stackrox.io, is not on this network's Go module allowlist); see charts/go-service/README.md.
  "kube-score github.com/zegl/kube-score/cmd/kube-score@v1.20.0"
)

command -v go >/dev/null || { echo "tools.sh: Go is required to build the pinned tools (https://go.dev/dl/)" >&2; exit 1; }

mkdir -p "$tools/bin"
for entry in "${pinned[@]}"; do
  read -r name spec <<<"$entry"
  version=${spec##*@}
  dir="$tools/$name/$version"
  if [[ ! -x "$dir/$name" ]]; then
    echo "tools.sh: building $name $version (once; cached in .tools/)" >&2
    mkdir -p "$dir"
    GOBIN="$dir" GOFLAGS=-trimpath go install "$spec"
    built=$(basename "${spec%@*}")
    [[ "$built" == "$name" ]] || mv "$dir/$built" "$dir/$name"
  fi
  ln -sfn "$dir/$name" "$tools/bin/$name"
done

# BuildKit: the image test builds with `docker build`, which needs the buildx plugin on Docker CLIs >= 23.
# Where the machine's Docker CLI lacks it, a pinned plugin is built; the tests point DOCKER_CONFIG at it.
if command -v docker >/dev/null && ! docker buildx version >/dev/null 2>&1; then
  spec="github.com/docker/buildx/cmd/buildx@v0.19.3"
  version=${spec##*@}
  dir="$tools/docker-buildx/$version"
  if [[ ! -x "$dir/docker-buildx" ]]; then
    echo "tools.sh: building docker-buildx $version (once; cached in .tools/)" >&2
    mkdir -p "$dir"
    GOBIN="$dir" GOFLAGS=-trimpath go install "$spec"
    mv "$dir/buildx" "$dir/docker-buildx"
  fi
  mkdir -p "$tools/docker-cli-plugins"
  ln -sfn "$dir/docker-buildx" "$tools/docker-cli-plugins/docker-buildx"
fi

echo "$tools/bin"
