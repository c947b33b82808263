# Sourced by the scripts that type-check foreign targets (check-targets.sh,
# check-estimators.sh): Debian's rustc-web toolchain, which builds std from
# source for any target (`-Zbuild-std`, allowed through RUSTC_BOOTSTRAP).
#
# debian_rust installs it if missing (as root, with apt), names its tools in
# DEB_RUSTC, DEB_CARGO and DEB_CLIPPY (rustup's cargo comes first on PATH),
# and sets the environment a reproducible -Zbuild-std run needs. It returns
# 2 when the toolchain is missing and cannot be installed.
debian_rust() {
  DEB_RUSTC=/usr/bin/rustc
  DEB_CARGO=/usr/bin/cargo
  DEB_CLIPPY=/usr/bin/cargo-clippy
  if [ ! -x "$DEB_RUSTC" ] || [ ! -x "$DEB_CARGO" ] || [ ! -x "$DEB_CLIPPY" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "installing Debian's rustc-web toolchain"
      apt-get update -q
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        rustc-web cargo-web rust-web-src rust-web-clippy
    else
      echo "needs Debian's rustc-web toolchain; as root run:" >&2
      echo "  apt-get update && apt-get install -y rustc-web cargo-web rust-web-src rust-web-clippy" >&2
      return 2
    fi
  fi
  echo "$("$DEB_RUSTC" --version), $("$DEB_CARGO" --version)"
  # -Zbuild-std on a stable toolchain. RUSTFLAGS from the caller would apply
  # to std too; keep the run reproducible.
  export RUSTC_BOOTSTRAP=1
  export RUSTC=$DEB_RUSTC
  export CARGO=$DEB_CARGO
  unset RUSTFLAGS RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER
}
