#!/usr/bin/env bash
# `npm run render-diff -- [--base <ref>] [--stacks a,b] [--format markdown|text] [--out <file>] [--exit-code]`:
# the Kubernetes objects a change alters, per stack (see scripts/render-diff.ts). Puts Node 22 and the pinned
# helm on PATH first, as `npm test` does.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/node.sh
source "$root/scripts/lib/node.sh"
use_node22
PATH="$("$root/scripts/tools.sh"):$PATH"
export PATH
exec node -r ts-node/register/transpile-only "$root/scripts/render-diff.ts" "$@"
