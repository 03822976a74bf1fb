#!/usr/bin/env bash
# `npm run mutation [folder ...]`: Stryker over components/, stacks/, policy/ and monitoring/ (stryker.config.mjs), one
# run per folder, then each folder's score against the bar (scripts/mutation-score.ts). Reports in
# reports/mutation/<folder>/ (HTML and JSON). Not part of `npm test`: it runs for hours (see the README). A re-run reuses
# the results of mutants whose code and covering spec files are unchanged (Stryker's incremental mode);
# `MUTATION_ARGS=--force` tests everything.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
source scripts/lib/node.sh
use_node22
# The specs' tools (helm, kube-score, promtool, actionlint, ...), pinned, as `npm test` runs them.
PATH="$(scripts/tools.sh test):$PATH"
export PATH

folders=("$@")
[ ${#folders[@]} -gt 0 ] ||
    read -r -a folders <<<"$(node --input-type=module -e 'const { FOLDERS } = await import("./stryker.config.mjs"); console.log(FOLDERS.join(" "))')"
for folder in "${folders[@]}"; do
    echo "mutation: ${folder}/ ($(date +%T))"
    npx ts-node scripts/lib/mutationCache.ts "reports/mutation/${folder}/stryker-incremental.json"
    # shellcheck disable=SC2086 # MUTATION_ARGS is a list of Stryker options
    MUTATION_FOLDER="$folder" npx stryker run ${MUTATION_ARGS:-}
done
npx ts-node scripts/mutation-score.ts "${folders[@]}"
