#!/usr/bin/env bash
# `npm run mutation`: Stryker over components/, stacks/, policy/ and monitoring/ (stryker.config.mjs), then each
# folder's score against the bar (scripts/mutation-score.ts). Reports in reports/mutation/. Not part of `npm test`:
# it runs for hours (see the README). Extra arguments go to Stryker, e.g. `-- --mutate components/serviceRelease.ts`
# (the per-folder check then fails for the folders left out) or `-- --incremental`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
source scripts/lib/node.sh
use_node22
# The specs' tools (helm, kube-score, promtool, actionlint, ...), pinned, as `npm test` runs them.
PATH="$(scripts/tools.sh test):$PATH"
export PATH

npx stryker run "$@"
npx ts-node scripts/mutation-score.ts reports/mutation/mutation.json
