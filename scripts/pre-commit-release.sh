#!/usr/bin/env bash
# The `preflight-release` pre-commit hook: run the release binary of the pinned tag
# (downloaded once into pre-commit's clone of this repository), or a build of it when that
# tag has no release. Arguments are the staged files, as for the `preflight` hook.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
ref="$(git -C "$here" describe --tags --exact-match 2>/dev/null || true)"
repo="$(git -C "$here" config --get remote.origin.url 2>/dev/null | sed -E 's#^(https://|git@)github\.com[:/]##; s#\.git$##' || true)"
PREFLIGHT_SRC="$here" PREFLIGHT_DEST="$here/.preflight-bin" PREFLIGHT_REF="$ref" PREFLIGHT_REPO="$repo" \
  "$here/scripts/install-preflight.sh" >&2
exec "$here/.preflight-bin/bin/preflight" check "$@"
