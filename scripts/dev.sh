#!/usr/bin/env bash
# The dev stack on your machine: `npm run dev` (up) and `npm run dev:down` (down).
#
#   up [--yes] [--cluster kind|local]
#           checks Pulumi.dev.yaml as `npm run check-config` does, picks the cluster (kind where kind, Docker and kind's
#           node image are there; else, on Linux as root, the project's own local cluster with a real node, kept running
#           in the background) and the engine (the Pulumi CLI where it has its Node.js language host; else the
#           Automation API with the pinned CLI), says which and why, brings the cluster up and updates the dev stack
#           with refresh. It ends with how to reach the service and Grafana. --yes: ask nothing.
#   down    destroys the dev stack, removes the cluster, the registry and everything they left.
#   config DIR
#           only writes the kind and registry configuration the kind path uses into DIR (for review and the tests).
#   node-image | kind-up | kind-down | kind-exists
#           the kind path's steps, run by scripts/dev/main.ts.
#
# Everything but the kind path's steps is in scripts/dev/ (TypeScript); this script makes sure it can run (npm
# dependencies, Node.js 22).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cluster=hello
registry=kind-registry
registry_port=5001
# Images by digest, as kind v0.29.0's release notes list them. The node image sets the Kubernetes version:
# the chart needs >= 1.30 (the preStop sleep action).
node_image=${KIND_NODE_IMAGE:-kindest/node:v1.33.1@sha256:050072256b9a903bd914c0b2866828150cb229cea0efe5892e2b644d5dd3b34f}
registry_image=registry:2.8.3@sha256:a3d8aaa63ed8681a604f1dea0aa03f100d5895b6a58ace528858a7b332415373

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# kind and kubectl: the machine's own, else the pinned builds from the tool cache.
ensure_cluster_tools() {
  if ! command -v kind >/dev/null 2>&1 || ! command -v kubectl >/dev/null 2>&1; then
    say "building the pinned kind and kubectl (once per machine; scripts/tools.sh dev)"
    PATH="$PATH:$("$root/scripts/tools.sh" dev)"
    export PATH
  fi
}

# kind cluster config: containerd reads per-registry hosts.toml files from certs.d.
# https://kind.sigs.k8s.io/docs/user/local-registry/
write_kind_config() {
  cat >"$1/kind-config.yaml" <<EOF
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
name: $cluster
nodes:
  - role: control-plane
    image: $node_image
containerdConfigPatches:
  - |-
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "/etc/containerd/certs.d"
EOF
}

# Inside a node, localhost is the node itself: send localhost:5001 to the registry container by name.
write_registry_hosts() {
  cat >"$1/hosts.toml" <<EOF
[host."http://$registry:5000"]
EOF
}

# Tells tools where the cluster's local registry is (KEP-1755).
write_registry_configmap() {
  cat >"$1/local-registry-hosting.yaml" <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  name: local-registry-hosting
  namespace: kube-public
data:
  localRegistryHosting.v1: |
    host: "localhost:$registry_port"
    help: "https://kind.sigs.k8s.io/docs/user/local-registry/"
EOF
}

write_config() {
  mkdir -p "$1"
  write_kind_config "$1"
  write_registry_hosts "$1"
  write_registry_configmap "$1"
}

ensure_registry() {
  if [[ "$(docker inspect -f '{{.State.Running}}' "$registry" 2>/dev/null || true)" != true ]]; then
    say "starting the registry $registry on localhost:$registry_port"
    docker run -d --restart=always -p "127.0.0.1:$registry_port:5000" --network bridge --name "$registry" "$registry_image" >/dev/null
  fi
}

ensure_cluster() {
  local dir=$1
  if ! kind get clusters 2>/dev/null | grep -qx "$cluster"; then
    say "creating the kind cluster $cluster ($node_image)"
    kind create cluster --config "$dir/kind-config.yaml"
  fi
  for node in $(kind get nodes --name "$cluster"); do
    docker exec "$node" mkdir -p "/etc/containerd/certs.d/localhost:$registry_port"
    docker cp "$dir/hosts.toml" "$node:/etc/containerd/certs.d/localhost:$registry_port/hosts.toml"
  done
  if [[ "$(docker inspect -f '{{json .NetworkSettings.Networks.kind}}' "$registry")" == null ]]; then
    docker network connect kind "$registry"
  fi
  kubectl --context "kind-$cluster" apply -f "$dir/local-registry-hosting.yaml" >/dev/null
}

ensure_dependencies() {
  cd "$root"
  source scripts/lib/node.sh
  if [[ ! -d node_modules ]]; then npm ci --ignore-scripts --no-audit --no-fund; fi
  use_node22
}

kind_up() {
  ensure_cluster_tools
  local dir="$root/.dev"
  write_config "$dir"
  ensure_registry
  ensure_cluster "$dir"
}

kind_down() {
  if command -v kind >/dev/null 2>&1 || [[ -x "$root/.tools/bin/kind" ]]; then
    PATH="$PATH:$root/.tools/bin" kind delete cluster --name "$cluster" || true
  fi
  docker rm -f "$registry" >/dev/null 2>&1 || true
}

case "${1:-up}" in
  up | down)
    ensure_dependencies
    exec node -r ts-node/register/transpile-only "$root/scripts/dev/main.ts" "$@" ;;
  config) write_config "${2:?usage: scripts/dev.sh config DIR}" ;;
  node-image) echo "$node_image" ;;
  kind-up) kind_up ;;
  kind-down) kind_down ;;
  kind-exists) PATH="$PATH:$root/.tools/bin" kind get clusters 2>/dev/null | grep -qx "$cluster" ;;
  *) echo "usage: scripts/dev.sh [up [--yes] [--cluster kind|local] | down | config DIR]" >&2; exit 2 ;;
esac
