#!/usr/bin/env bash
# Fails a real-kernel CI job unless `kqseed report` (scripts/ci-report.sh)
# exited 0 and its JSON's top-level "verdict" is "ok".
#
# Usage: scripts/ci-verdict.sh [EXPECTED_CLOCK_SUBSTRING]
#   With an argument, the report's clock name must contain it (the Rosetta
#   job checks that the translated clock path was the one measured).
# Reads report.json and report.status in the repository root. Uses jq, or
# python3 where jq is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
expect_clock=${1:-}

fail() { echo "ci-verdict: FAILED: $*" >&2; exit 1; }

[ -s report.status ] || fail "report.status is missing: the report step did not run"
status=$(cat report.status)
[ -s report.json ] || fail "report.json is missing or empty (kqseed report exited $status)"

field() {
    if command -v jq >/dev/null; then
        jq -r "$1 // \"\"" report.json
    else
        python3 - "$1" <<'EOF'
import json, sys
doc = json.load(open("report.json"))
for key in sys.argv[1].lstrip(".").split("."):
    doc = doc.get(key, "") if isinstance(doc, dict) else ""
print(doc)
EOF
    fi
}

verdict=$(field .verdict) || fail "report.json is not valid JSON"
message=$(field .verdict_message)
clock=$(field .clock.name)
echo "ci-verdict: kqseed report exited $status; verdict \"$verdict\"; clock \"$clock\""
[ -n "$message" ] && echo "ci-verdict: $message"
[ "$status" = 0 ] || fail "kqseed report exited $status"
[ "$verdict" = ok ] || fail "the verdict is \"$verdict\", not \"ok\""
if [ -n "$expect_clock" ]; then
    case $clock in
    *"$expect_clock"*) ;;
    *) fail "the clock is \"$clock\", expected one naming \"$expect_clock\"" ;;
    esac
fi
echo "ci-verdict: ok"
