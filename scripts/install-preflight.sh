#!/usr/bin/env bash
# Put a preflight binary at "$DEST/bin/preflight": download the release binary for REF when
# one is published (checked against its .sha256), else build this checkout with cargo.
# Used by the GitHub Action (action.yml) and the `preflight-release` pre-commit hook.
# Exit status 3: no release binary and no cargo (the caller may install a toolchain).
#
# Environment:
#   PREFLIGHT_SRC       the preflight checkout to build from (required)
#   PREFLIGHT_DEST      where bin/preflight goes (required)
#   PREFLIGHT_REF       the pinned ref (a tag such as v0.2.0; empty or a commit: no release)
#   PREFLIGHT_REPO      owner/name on GitHub that publishes the releases
#   PREFLIGHT_FEATURES  cargo features to build with ("aws" or empty)
#   PREFLIGHT_RELEASE_BASE_URL  where releases are downloaded from
#                       (default https://github.com/$PREFLIGHT_REPO/releases/download)
set -euo pipefail
: "${PREFLIGHT_SRC:?PREFLIGHT_SRC must name the preflight checkout}"
: "${PREFLIGHT_DEST:?PREFLIGHT_DEST must name the install folder}"
ref="${PREFLIGHT_REF:-}"
repo="${PREFLIGHT_REPO:-}"
features="${PREFLIGHT_FEATURES:-}"
bin="$PREFLIGHT_DEST/bin/preflight"

has_features() {
  # The binary must have every requested feature (`preflight --version` lists them).
  local v
  v="$("$1" --version 2>/dev/null)" || return 1
  for f in $features; do
    case "$v" in *"features: "*"$f"*) ;; *) return 1 ;; esac
  done
}

if [ -x "$bin" ] && has_features "$bin"; then
  echo "preflight: using $("$bin" --version)"
  exit 0
fi

target() {
  local os arch
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=macos ;;
    *) return 1 ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=x86_64 ;;
    arm64 | aarch64) arch=aarch64 ;;
    *) return 1 ;;
  esac
  echo "preflight-$os-$arch"
}

download() {
  # Releases are tagged v*; a branch or commit has none.
  case "$ref" in v[0-9]*) ;; *) return 1 ;; esac
  local name base tmp
  name="$(target)" || return 1
  if [ -n "${PREFLIGHT_RELEASE_BASE_URL:-}" ]; then
    base="$PREFLIGHT_RELEASE_BASE_URL"
  elif [ -n "$repo" ]; then
    base="https://github.com/$repo/releases/download"
  else
    return 1
  fi
  command -v curl >/dev/null || return 1
  tmp="$(mktemp -d)"
  if ! curl -fsSL --retry 2 -o "$tmp/$name.tar.gz" "$base/$ref/$name.tar.gz" ||
    ! curl -fsSL --retry 2 -o "$tmp/$name.tar.gz.sha256" "$base/$ref/$name.tar.gz.sha256"; then
    rm -rf "$tmp"
    return 1
  fi
  local want got
  want="$(cut -d' ' -f1 <"$tmp/$name.tar.gz.sha256")"
  if command -v sha256sum >/dev/null; then
    got="$(sha256sum "$tmp/$name.tar.gz" | cut -d' ' -f1)"
  else
    got="$(shasum -a 256 "$tmp/$name.tar.gz" | cut -d' ' -f1)"
  fi
  if [ "$want" != "$got" ]; then
    echo "preflight: $name.tar.gz of $ref does not match its .sha256; building instead" >&2
    rm -rf "$tmp"
    return 1
  fi
  mkdir -p "$PREFLIGHT_DEST/bin"
  tar -xzf "$tmp/$name.tar.gz" -C "$tmp"
  install -m 0755 "$tmp/$name/preflight" "$bin"
  rm -rf "$tmp"
  has_features "$bin"
}

if download; then
  echo "preflight: downloaded the $ref release: $("$bin" --version)"
  exit 0
fi

command -v cargo >/dev/null || {
  echo "preflight: no release binary for ref '${ref:-none}' and no cargo to build one" >&2
  exit 3
}
args=(install --locked --path "$PREFLIGHT_SRC" --root "$PREFLIGHT_DEST" --force)
[ -n "$features" ] && args+=(--features "$features")
echo "preflight: building from source (cargo ${args[*]})"
cargo "${args[@]}"
"$bin" --version
