#!/usr/bin/env bash
# Runs the real pre-commit hook (`pre-commit try-repo` against this checkout) in throwaway
# git repositories made from a failing and a passing fixture; the hook must fail on the
# first and pass on the second.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
broken="$1"
fixed="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PRE_COMMIT_HOME="${PRE_COMMIT_HOME:-$repo/target/pre-commit-home}"

run_hook() {
  local fixture="$1" dir="$work/$(basename "$1")-$RANDOM"
  cp -r "$repo/$fixture" "$dir"
  git -C "$dir" init -q -b main
  git -C "$dir" add -A
  git -C "$dir" -c user.name=ci -c user.email=ci@example.invalid -c commit.gpgsign=false commit -qm fixture
  (cd "$dir" && pre-commit try-repo "$repo" preflight --all-files --verbose)
}

if run_hook "$broken" >"$work/broken.log" 2>&1; then
  cat "$work/broken.log"
  echo "pre-commit hook passed on $broken; it must fail" >&2
  exit 1
fi
grep -q "parse-error\|error\[" "$work/broken.log" || grep -q "error" "$work/broken.log"
echo "pre-commit hook fails on $broken as it must"
if ! run_hook "$fixed" >"$work/fixed.log" 2>&1; then
  cat "$work/fixed.log"
  echo "pre-commit hook failed on $fixed; it must pass" >&2
  exit 1
fi
echo "pre-commit hook passes on $fixed as it must"
