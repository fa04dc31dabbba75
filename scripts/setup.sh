#!/usr/bin/env bash
# Every setup step of the project (scripts/setup/*.sh, in order): what the tests need beyond npm.
# Each step is idempotent and says what it installs or finds present, so `npm test` (its pretest) and
# .ci/run both call this before anything else; a second run takes about a second.
set -euo pipefail
cd "$(dirname "$0")/.."
for step in scripts/setup/*.sh; do
  [ -e "$step" ] || continue
  echo "== setup: $step"
  bash "$step"
done
