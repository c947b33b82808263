# Sourced by the measurement scripts: one way to build the `kqseed` command
# and find it, wherever CARGO_TARGET_DIR points.

# Builds the `kqseed` command in release mode, with any further cargo target
# arguments (e.g. `--example seed`), and sets target_dir (absolute) and
# kqseed (the command's path). Run from the repository's top directory.
#   build_kqseed [CARGO TARGET ARGS...]
build_kqseed() {
  cargo build --release --quiet --features cli --bin kqseed "$@"
  target_dir=${CARGO_TARGET_DIR:-target}
  [[ $target_dir == /* ]] || target_dir=$PWD/$target_dir
  kqseed=$target_dir/release/kqseed
}
