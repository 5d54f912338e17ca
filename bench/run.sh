#!/usr/bin/env bash
# Benchmarks of `preflight check` (release build, every rule on) against the floor of
# listing and reading the same files (examples/walk-read.rs).
#
#   bench/run.sh                 # scales 1, 10 and 100, plus the two shape cases
#   SCALES="1 10" bench/run.sh   # a quicker subset
#
# Needs python3 only. Each command is timed as a whole process: wall clock, and user + sys
# CPU and peak RSS from the kernel's accounting of the finished child (`wait4`). Check and
# floor alternate run by run after one warm-up of each, so that a drift of the machine's
# speed hits both; medians are reported. Generated repositories go to /tmp/preflight-bench/
# (BENCH_DIR to change), never into the repository. Prints a Markdown report and writes it
# to $BENCH_DIR/results.md.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# Outside any git work tree: inside one, discovery would list through git, which ignores
# target/ and would see no files.
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/preflight-bench}
SCALES=${SCALES:-"1 10 100"}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$CARGO_TARGET_DIR/release
mkdir -p "$BENCH_DIR"

command -v python3 >/dev/null || { echo "missing: python3" >&2; exit 2; }

(cd "$ROOT" && cargo build --release --quiet --bin preflight --example gen-monorepo --example walk-read)

runs_for() { # fewer runs for bigger inputs
    case "$1" in 1) echo 20 ;; 10) echo 10 ;; *) echo 3 ;; esac
}

# One warm-up of each, then RUNS pairs (check, floor). Prints the medians: wall of check and
# floor, CPU (user + sys) of check and floor, peak RSS (MB) of check and floor.
pair() { # runs dir
    python3 - "$1" "$BIN/preflight" "$BIN/examples/walk-read" "$2" <<'EOF'
import os, statistics, subprocess, sys, time
runs, check, floor, d = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
def once(argv):
    t = time.perf_counter()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    _, _, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    p.returncode = 0  # reaped by wait4 above
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024
a, b = [check, "check", d], [floor, d]
once(a)
once(b)
ra, rb = [], []
for _ in range(runs):
    ra.append(once(a))
    rb.append(once(b))
med = lambda rs, i: statistics.median(r[i] for r in rs)
print(" ".join(f"{x:.6f}" for x in (
    med(ra, 0), med(rb, 0), med(ra, 1), med(rb, 1), med(ra, 2), med(rb, 2))))
EOF
}

# MB of every file, and MB of the files preflight reads (from walk-read's summary)
repo_mb() { find "$1" -type f ! -name .complete -printf '%s\n' | awk '{s += $1} END {printf "%.1f", s/1e6}'; }
read_mb() { "$BIN/examples/walk-read" "$1" | sed -E 's/.* ([0-9]+) bytes$/\1/' | awk '{printf "%.1f", $1/1e6}'; }
nfiles() { find "$1" -type f ! -name .complete | wc -l; }

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
rows=()
measure() { # name dir runs
    local name=$1 dir=$2 runs=$3
    local figures mb rmb n
    figures=$(pair "$runs" "$dir")
    mb=$(repo_mb "$dir")
    rmb=$(read_mb "$dir")
    n=$(nfiles "$dir")
    # shellcheck disable=SC2086 # six numbers, split on purpose
    rows+=("$(python3 - "$name" "$n" "$mb" "$rmb" "$runs" $figures <<'EOF'
import sys
name, n, mb, rmb, runs = sys.argv[1:6]
wc, wf, cc, cf, rc, rf = map(float, sys.argv[6:12])
n, mb, rmb = int(n), float(mb), float(rmb)
ms = lambda s: f"{s*1000:.0f} ms" if s < 10 else f"{s:.1f} s"
print(f"| {name} | {n:,} | {mb:.1f} | {rmb:.1f} | {runs} | {ms(wc)} | {ms(wf)} | {wc/wf:.1f}x | "
      f"{ms(cc)} | {ms(cf)} | {cc/cf:.1f}x | {cc/wc:.2f} | {cc*1000/max(rmb,0.001):.0f} ms | "
      f"{rc:.0f} MB | {rf:.0f} MB |")
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
measure "one 5 MB main.tf" "$big" 5

# Median wall time of each phase and rule over RUNS checks of DIR, from the check's own
# phase timer (PREFLIGHT_TIMINGS): "ms<TAB>name" lines.
timing_medians() { # dir runs
    python3 - "$BIN/preflight" "$1" "$2" <<'EOF'
import os, statistics, subprocess, sys
binary, d, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
runs = {}
for _ in range(n):
    p = subprocess.run([binary, "check", d], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, env={**os.environ, "PREFLIGHT_TIMINGS": "1"})
    for line in p.stderr.splitlines():
        if line.startswith("timing: "):
            name, ms = line[8:].rsplit(": ", 1)
            runs.setdefault(name, []).append(float(ms.split()[0]))
for name, v in runs.items():
    print(f"{statistics.median(v)}\t{name}")
EOF
}

# Where the time goes: medians of 5 runs at scale 10 (or the first scale measured).
first=$(echo "$SCALES" | tr ' ' '\n' | grep -x 10 || echo "$SCALES" | awk '{print $1}')
phases=$(timing_medians "$BENCH_DIR/scale-$first" 5 | sort -t "$(printf '\t')" -k1,1 -g -r | head -16 |
    awk -F'\t' '{printf "| %s | %.1f ms |\n", $2, $1}')

# What grows faster than the input: each phase's and rule's median wall time (3 runs) at the
# smallest and the largest scale measured, against the growth of the bytes read. A phase
# whose time grows by more than twice the input's growth is listed (a quadratic scan
# shows up here long before it shows in the totals).
lo=$(echo "$SCALES" | tr ' ' '\n' | sort -n | head -1)
hi=$(echo "$SCALES" | tr ' ' '\n' | sort -n | tail -1)
growth="(one scale measured)"
if [ "$lo" != "$hi" ]; then
    timing_medians "$BENCH_DIR/scale-$lo" 3 > "$BENCH_DIR/timings-lo.tsv"
    timing_medians "$BENCH_DIR/scale-$hi" 3 > "$BENCH_DIR/timings-hi.tsv"
    growth=$(python3 - "$BENCH_DIR/timings-lo.tsv" "$BENCH_DIR/timings-hi.tsv" "$(read_mb "$BENCH_DIR/scale-$lo")" "$(read_mb "$BENCH_DIR/scale-$hi")" <<'EOF'
import sys
def medians(path):
    return {name: float(ms) for ms, name in (l.rstrip("\n").split("\t", 1) for l in open(path))}
a, b = medians(sys.argv[1]), medians(sys.argv[2])
input_growth = float(sys.argv[4]) / max(float(sys.argv[3]), 0.001)
rows = [(b[k] / a[k], k) for k in a if k in b and a[k] >= 0.5 and b[k] >= 5]
fast = sorted((r for r in rows if r[0] > 2 * input_growth), reverse=True)
print(f"Input growth (MB read): {input_growth:.1f}x.")
print()
if not fast:
    print("No phase or rule grows more than twice as fast as the input.")
else:
    print("| phase | smallest scale | largest scale | growth |")
    print("|---|---|---|---|")
    for r, k in fast:
        print(f"| {k} | {a[k]:.1f} ms | {b[k]:.1f} ms | {r:.1f}x |")
EOF
)
fi

load=$(cut -d' ' -f1-3 /proc/loadavg)
commit=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
report=$(cat <<EOF
Measured $(date -u +%Y-%m-%dT%H:%MZ) at commit $commit on $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo), $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); load average (1, 5, 15 min) before: $LOAD_BEFORE, after: $load.

| input | files | MB | MB read | runs | check wall | floor wall | wall ratio | check CPU | floor CPU | CPU ratio | check CPU / wall | check CPU per MB read | peak RSS check | peak RSS floor |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${rows[@]}")

Medians over the runs, after one warm-up of each; CPU is user + sys; check and floor alternate run by run.

Phases of the check at scale $first (the wall time of each, from \`PREFLIGHT_TIMINGS=1\`, medians of 5 runs; models and rules overlap on the cores, so they do not add up):

| phase | wall |
|---|---|
$phases

Growth from scale $lo to scale $hi, phase by phase (medians of 3 runs):

$growth
EOF
)
echo "$report" | tee "$BENCH_DIR/results.md"
