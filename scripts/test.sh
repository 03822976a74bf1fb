#!/usr/bin/env bash
# The project's one test command (`npm test`): installs what the suites need, then runs every suite.
# Works on a fresh clone. Under CI=true, suites that need Docker fail instead of skipping.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
source scripts/lib/node.sh

# npm dependencies, exactly as locked; reinstalled only when the lockfile changes.
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f node_modules/.lock-hash || "$(cat node_modules/.lock-hash)" != "$lock_hash" ]]; then
  # --ignore-scripts: @pulumi/kubernetes' install script only fetches a provider plugin through the Pulumi CLI.
  npm ci --ignore-scripts --no-audit --no-fund
  echo "$lock_hash" > node_modules/.lock-hash
fi
use_node22

# Pinned tools (helm, kube-score, ...), built once into .tools/.
PATH="$(scripts/tools.sh):$PATH"
export PATH

suite() { printf '\n=== %s\n' "$1"; }

suite "Go service: vet and tests (race detector)"
(cd app && go vet ./... && go test -race -count=1 ./...)

suite "TypeScript: type check"
npx tsc --noEmit -p .

suite "mocha: settings, program, chart, image, monitoring, policy, workflows"
npx mocha 'test/**/*.test.ts'
