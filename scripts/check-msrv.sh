#!/usr/bin/env bash
# What can be checked of the declared MSRV (`rust-version`, 1.88) on a
# machine whose only toolchains are stable and nightly (the 1.88 toolchain
# itself runs in the GitHub workflow's `msrv` job):
#
# 1. both crates declare the same rust-version;
# 2. every package the library and the command build with (normal and build
#    dependencies, all features, any platform) declares a rust-version no
#    newer than it, so a dependency bump that needs a newer compiler fails
#    here rather than in a user's build.
#
# clippy's `incompatible_msrv` lint (on by default, and .ci/run denies
# warnings) covers the third part: std APIs stabilised after rust-version.
# Language features newer than 1.88 are the workflow job's to catch.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 - <<'PY'
import json, subprocess, sys

meta = json.loads(subprocess.run(
    ["cargo", "metadata", "--format-version", "1", "--all-features", "--locked"],
    check=True, capture_output=True, text=True).stdout)
packages = {p["id"]: p for p in meta["packages"]}
nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
members = meta["workspace_members"]


def version(v):
    parts = [int(x) for x in v.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


declared = {packages[m]["name"]: packages[m].get("rust_version") for m in members}
msrvs = set(declared.values())
if len(msrvs) != 1 or None in msrvs:
    sys.exit(f"check-msrv: the workspace members declare {declared}")
msrv = msrvs.pop()

seen, todo = set(), list(members)
while todo:
    node = todo.pop()
    if node in seen:
        continue
    seen.add(node)
    for dep in nodes[node]["deps"]:
        if any(k["kind"] in (None, "build") for k in dep["dep_kinds"]):
            todo.append(dep["pkg"])

newer = sorted(
    "{name} {version} needs Rust {rust_version}".format(**packages[p])
    for p in seen
    if packages[p].get("rust_version")
    and version(packages[p]["rust_version"]) > version(msrv)
)
if newer:
    sys.exit(f"check-msrv: dependencies newer than rust-version {msrv}:\n  " + "\n  ".join(newer))
print(f"check-msrv: rust-version {msrv} in both crates; {len(seen) - len(members)} "
      "dependencies (all features), none declares a newer one")
PY
