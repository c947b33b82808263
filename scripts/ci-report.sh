#!/bin/sh
# The real-kernel CI jobs' report step (.github/workflows/ci.yml): builds the
# `kqseed` command and runs `kqseed report` on 1,000,000 samples, writing
#   report.json    the report (its top-level "verdict" is "ok" when every
#                  credit holds),
#   report.svg     the plots,
#   report.status  the command's exit status.
# It exits 0 even when the report fails, so that the VM jobs copy the files
# back to the runner for upload; scripts/ci-verdict.sh then decides.
#
# POSIX sh: it runs inside the BSD VMs too. Arguments go to `cargo run`
# (e.g. --target x86_64-apple-darwin); KQSEED_REPORT_SAMPLES overrides the
# sample count.
set -u
cd "$(dirname "$0")/.."
rm -f report.json report.svg report.status
status=0
cargo run --release --features cli --bin kqseed "$@" -- \
    report -n "${KQSEED_REPORT_SAMPLES:-1000000}" --json --plot report.svg >report.json || status=$?
echo "$status" >report.status
echo "ci-report: kqseed report exited $status"
exit 0
