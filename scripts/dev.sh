#!/usr/bin/env bash
# The dev stack on your machine: `npm run dev` (up) and `npm run dev:down` (down).
#
#   up      checks the prerequisites (building the pinned kind and kubectl where missing), creates the kind cluster
#           "hello" with a registry on localhost:5001 if there is none, selects (or creates) the `dev` stack in a
#           local file backend and runs `pulumi up --refresh`.
#           Extra arguments go to `pulumi up`, e.g. `npm run dev -- --yes`.
#   down    destroys the dev stack, deletes the cluster and the registry.
#   config DIR
#           only writes the kind and registry configuration `up` uses into DIR (for review and the tests).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cluster=hello
registry=kind-registry
registry_port=5001
# Images by digest, as kind v0.29.0's release notes list them. The node image sets the Kubernetes version:
# the chart needs >= 1.30 (the preStop sleep action).
node_image=${KIND_NODE_IMAGE:-kindest/node:v1.33.1@sha256:050072256b9a903bd914c0b2866828150cb229cea0efe5892e2b644d5dd3b34f}
registry_image=registry:2.8.3@sha256:a3d8aaa63ed8681a604f1dea0aa03f100d5895b6a58ace528858a7b332415373

# The local file backend lives in the repository (ignored by git), not in your global Pulumi login.
export PULUMI_BACKEND_URL="file://$root/.pulumi"
# The dev stack holds no secret of value (Grafana's password is generated); an empty passphrase is enough.
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Reports every missing prerequisite at once, with where to get it. kind and kubectl are not prerequisites: a missing
# one is built at the project's pinned version into the tool cache (scripts/tools.sh dev), which needs Go.
check_prerequisites() {
  local missing=()
  command -v docker >/dev/null 2>&1 ||
    missing+=("docker: not found. Install Docker Engine or Docker Desktop: https://docs.docker.com/engine/install/")
  if command -v docker >/dev/null 2>&1 && ! docker info >/dev/null 2>&1; then
    missing+=("docker: installed, but the daemon does not answer (docker info failed). Start Docker, or add yourself to the docker group.")
  fi
  if ! command -v kind >/dev/null 2>&1 || ! command -v kubectl >/dev/null 2>&1; then
    command -v go >/dev/null 2>&1 ||
      missing+=("go: not found, and kind or kubectl is missing: install Go 1.26 (https://go.dev/dl/) and npm run dev builds the pinned kind and kubectl, or install them yourself (kind v0.29.0, kubectl v1.34)")
  fi
  # A Pulumi CLI built from the Go module proxy lacks the Node.js language host that `pulumi up` of this folder needs.
  command -v pulumi >/dev/null 2>&1 ||
    missing+=("pulumi: not found. Install the Pulumi CLI: curl -fsSL https://get.pulumi.com | sh (https://www.pulumi.com/docs/install/)")
  if (( ${#missing[@]} )); then
    echo "npm run dev needs ${#missing[@]} more thing(s):" >&2
    printf '  - %s\n' "${missing[@]}" >&2
    return 1
  fi
}

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

up() {
  check_prerequisites
  ensure_cluster_tools
  ensure_dependencies
  local dir="$root/.dev"
  write_config "$dir"
  ensure_registry
  ensure_cluster "$dir"
  mkdir -p "$root/.pulumi"
  say "stack dev in $PULUMI_BACKEND_URL"
  pulumi stack select dev --create --secrets-provider passphrase
  # --refresh: a Helm release is compared with what Pulumi recorded, not with the cluster; refreshing first is what
  # makes an up after `helm rollback` (or any change by hand) put the cluster back to what the code says.
  pulumi up --refresh --stack dev "$@"
}

down() {
  check_prerequisites
  ensure_cluster_tools
  ensure_dependencies
  if pulumi stack select dev >/dev/null 2>&1; then
    say "destroying the dev stack"
    pulumi destroy --stack dev --yes || say "destroy failed; the cluster is deleted next anyway"
    pulumi stack rm dev --yes --force --preserve-config
  fi
  kind delete cluster --name "$cluster" || true
  docker rm -f "$registry" >/dev/null 2>&1 || true
}

case "${1:-up}" in
  up) shift || true; up "$@" ;;
  down) down ;;
  config) write_config "${2:?usage: scripts/dev.sh config DIR}" ;;
  *) echo "usage: scripts/dev.sh [up [pulumi up args] | down | config DIR]" >&2; exit 2 ;;
esac
