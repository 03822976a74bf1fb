#!/usr/bin/env bash
# Usage: .github/scripts/deployed-image.sh <stack> >> "$GITHUB_OUTPUT"
#
# Prints the step output `config-map=...` for pulumi/actions that pins hello-service:prebuiltImage to the image the
# stack runs now (its `imageRef` output: the digest CI built, scanned and signed on the last deploy). A preview or a
# drift check then compares against what is deployed instead of planning a new image build. A stack that was never
# deployed has no such output: `config-map=` (the program then plans to build the image).
# Needs the Pulumi CLI on PATH and the backend's credentials (PULUMI_ACCESS_TOKEN, or PULUMI_BACKEND_URL).
set -euo pipefail
stack=${1:?usage: deployed-image.sh <stack>}

pulumi login ${PULUMI_BACKEND_URL:+"$PULUMI_BACKEND_URL"} >&2
# Whatever the output holds goes to prebuiltImage, which the program accepts only by digest (components/imageReference.ts).
if image=$(pulumi stack output imageRef --stack "$stack" 2>/dev/null) && [[ -n $image ]]; then
  echo "deployed-image.sh: $stack runs $image" >&2
  printf 'config-map={"hello-service:prebuiltImage": {"value": "%s", "secret": false}}\n' "$image"
else
  echo "deployed-image.sh: $stack has no imageRef output yet (never deployed)" >&2
  echo "config-map="
fi
