# Sourced by the scripts that fetch from Debian (nist-tool.sh,
# test-libkqueue.sh, fetch-jitterentropy.sh): the mirror this machine's apt
# already uses, so that no registry host name is written in the repository.
#
# debian_mirror prints the first Debian archive URI of the system's apt
# sources (deb822 `.sources` files first, then the one-line `sources.list`
# format), skipping the security archive; it returns 1 when there is none.
# KQSEED_DEBIAN_MIRROR, when set, wins.
debian_mirror() {
  if [ -n "${KQSEED_DEBIAN_MIRROR:-}" ]; then
    echo "$KQSEED_DEBIAN_MIRROR"
    return 0
  fi
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri=$(awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }' "$f" |
      grep -v -- '-security' | head -n1 || true)
    if [ -n "$uri" ]; then
      echo "$uri"
      return 0
    fi
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    # The URI is the first field with a scheme, after any [options].
    uri=$(awk '$1 == "deb" || $1 == "deb-src" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/ && $i ~ /^[a-z+]+:\/\//) { print $i; break } }' "$f" |
      grep -v -- '-security' | head -n1 || true)
    if [ -n "$uri" ]; then
      echo "$uri"
      return 0
    fi
  done
  return 1
}
