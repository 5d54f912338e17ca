#!/usr/bin/env bash
# Benchmarks of `preflight check` (release build, every rule on) against the floor of
# listing and reading the same files (examples/walk-read.rs).
#
#   bench/run.sh                 # scales 1, 10 and 100, plus the two shape cases
#   SCALES="1 10" bench/run.sh   # a quicker subset
#
# Needs hyperfine (apt-get install -y hyperfine), GNU time (/usr/bin/time, package `time`)
# and python3. Generated repositories go to /tmp/preflight-bench/ (BENCH_DIR to change), never
# into the repository. Prints a Markdown report and writes it to $BENCH_DIR/results.md.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# Outside any git work tree: inside one, discovery would list through git, which ignores
# target/ and would see no files.
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/preflight-bench}
SCALES=${SCALES:-"1 10 100"}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$CARGO_TARGET_DIR/release
mkdir -p "$BENCH_DIR"

for tool in hyperfine /usr/bin/time python3; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done

(cd "$ROOT" && cargo build --release --quiet --bin preflight --example gen-monorepo --example walk-read)

runs_for() { # fewer runs for bigger inputs
    case "$1" in 1) echo 30 ;; 10) echo 10 ;; *) echo 3 ;; esac
}

# median wall seconds of a command (hyperfine; a non-zero exit, i.e. findings, is fine)
median() {
    local runs=$1; shift
    local json
    json=$(mktemp)
    hyperfine -N -i --warmup 1 --runs "$runs" --export-json "$json" "$*" >/dev/null 2>&1
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' "$json"
    rm -f "$json"
}

# peak RSS in MB (GNU time)
peak_rss() {
    /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}'
}

# MB of every file, and MB of the files preflight reads (from walk-read's summary)
repo_mb() { find "$1" -type f ! -name .complete -printf '%s\n' | awk '{s += $1} END {printf "%.1f", s/1e6}'; }
read_mb() { "$BIN/examples/walk-read" "$1" | sed -E 's/.* ([0-9]+) bytes$/\1/' | awk '{printf "%.1f", $1/1e6}'; }
nfiles() { find "$1" -type f ! -name .complete | wc -l; }

rows=()
measure() { # name dir runs
    local name=$1 dir=$2 runs=$3
    local check floor rss_check rss_floor mb rmb n
    check=$(median "$runs" "$BIN/preflight" check "$dir")
    floor=$(median "$runs" "$BIN/examples/walk-read" "$dir")
    rss_check=$(peak_rss "$BIN/preflight" check "$dir")
    rss_floor=$(peak_rss "$BIN/examples/walk-read" "$dir")
    mb=$(repo_mb "$dir")
    rmb=$(read_mb "$dir")
    n=$(nfiles "$dir")
    rows+=("$(python3 - "$name" "$n" "$mb" "$rmb" "$check" "$floor" "$rss_check" "$rss_floor" <<'EOF'
import sys
name, n, mb, rmb, check, floor, rss, rssf = sys.argv[1:]
n, mb, rmb, check, floor = int(n), float(mb), float(rmb), float(check), float(floor)
ms = lambda s: f"{s*1000:.0f} ms" if s < 10 else f"{s:.1f} s"
print(f"| {name} | {n:,} | {mb:.1f} | {rmb:.1f} | {ms(check)} | {ms(floor)} | "
      f"{check/floor:.1f}x | {check*1000/max(mb,0.001):.0f} ms | {check*1000/max(rmb,0.001):.0f} ms | "
      f"{rss} MB | {rssf} MB |")
EOF
)")
    echo "measured $name" >&2
}

for s in $SCALES; do
    dir=$BENCH_DIR/scale-$s
    if [ ! -f "$dir/.complete" ]; then
        "$BIN/examples/gen-monorepo" --scale "$s" "$dir"
        touch "$dir/.complete"
    fi
    measure "scale $s" "$dir" "$(runs_for "$s")"
done

# Shape cases: many tiny files, and one large Terraform file.
small=$BENCH_DIR/small-files
if [ ! -f "$small/.complete" ]; then
    rm -rf "$small"
    python3 - "$small" <<'EOF'
import os, sys
root = sys.argv[1]
open(os.path.join(os.makedirs(root, exist_ok=True) or root, "preflight.toml"), "w").close()
for i in range(10_000):
    d = os.path.join(root, f"stacks/s{i // 100:03d}")
    os.makedirs(d, exist_ok=True)
    kind = i % 3
    name = ["main.tf", "app.yaml", "policy.json"][kind]
    with open(os.path.join(d, f"{i % 100:02d}-{name}"), "w") as f:
        if kind == 0:
            f.write(f'locals {{\n  id_{i} = "{i}"\n}}\n')
        elif kind == 1:
            f.write(f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\ndata:\n  k: v\n")
        else:
            f.write('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}\n')
EOF
    touch "$small/.complete"
fi
measure "10,000 small files" "$small" 10

big=$BENCH_DIR/big-main-tf
if [ ! -f "$big/.complete" ]; then
    rm -rf "$big"
    python3 - "$big" <<'EOF'
import os, sys
root = sys.argv[1]
os.makedirs(os.path.join(root, "envs/dev"), exist_ok=True)
open(os.path.join(root, "preflight.toml"), "w").close()
with open(os.path.join(root, "envs/dev/main.tf"), "w") as f:
    f.write('variable "enable_k8s_resources" {\n  type    = bool\n  default = false\n}\n\n')
    i = 0
    while f.tell() < 5 * 1024 * 1024:
        f.write(f'''resource "aws_s3_bucket" "b{i}" {{
  count  = var.enable_k8s_resources ? 1 : 0
  bucket = "bucket-{i}-${{terraform.workspace}}"
  tags = {{
    Name  = "b{i}"
    Index = "{i}"
  }}
}}

''')
        i += 1
EOF
    touch "$big/.complete"
fi
measure "one 5 MB main.tf" "$big" 10

load=$(cut -d' ' -f1-3 /proc/loadavg)
report=$(cat <<EOF
Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo), $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); load average before/after: $load.

| input | files | MB | MB read | check (median) | floor (median) | check / floor | per MB | per MB read | peak RSS check | peak RSS floor |
|---|---|---|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${rows[@]}")
EOF
)
echo "$report" | tee "$BENCH_DIR/results.md"
