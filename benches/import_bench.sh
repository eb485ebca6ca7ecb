#!/usr/bin/env bash
# Import benchmark: hailer vs the same work done the Python way (pandas + sqlite3).
#
#   benches/import_bench.sh
#
# Steps:
#   1. cargo build --release (skip with BENCH_NO_BUILD=1, or point HAILER_BIN at a binary);
#   2. a venv in target/bench-venv with pandas + openpyxl (installed once);
#   3. a deterministic 100k-row prospects file as CSV and XLSX in target/bench-data/
#      (generated once, reused);
#   4. for CSV, then XLSX: `hailer --data-dir FRESH_DIR import prospects FILE` and
#      `python_import.py FILE FRESH_DB`, each timed (wall seconds) with its peak RSS,
#      by benches/measure.py;
#   5. a table: format, tool, seconds, rows/s, peak MB, stored rows, hailer's speed-up,
#      and whether the targets are met (XLSX >= 5x, CSV >= 3x, hailer peak < 200 MB).
#
# Environment: BENCH_ROWS (default 100000), BENCH_RUNS (default 1; with more, the
# median time and the largest peak are reported), HAILER_BIN, BENCH_NO_BUILD=1,
# PYTHON (the interpreter that makes the venv; default python3).
# Exits non-zero on errors (a failed build, install or import), never on a missed target.
# Results also go to target/bench-results/import-<timestamp>.json.
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

ROWS="${BENCH_ROWS:-100000}"
RUNS="${BENCH_RUNS:-1}"
PYTHON="${PYTHON:-python3}"
VENV="$ROOT/target/bench-venv"
DATA="$ROOT/target/bench-data"
RESULTS_DIR="$ROOT/target/bench-results"
BENCH="$ROOT/benches"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# 1. hailer
if [[ -n "${HAILER_BIN:-}" ]]; then
    HAILER="$HAILER_BIN"
else
    HAILER="$ROOT/target/release/hailer"
    if [[ "${BENCH_NO_BUILD:-0}" != 1 ]]; then
        log "cargo build --release"
        cargo build --release || die "cargo build --release failed"
    fi
fi
[[ -x "$HAILER" ]] || die "no hailer binary at $HAILER"

# 2. Python venv
VPY="$VENV/bin/python"
if ! "$VPY" -c 'import pandas, openpyxl' >/dev/null 2>&1; then
    log "creating $VENV (pandas, openpyxl)"
    "$PYTHON" -m venv "$VENV" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
    "$VPY" -m pip install --quiet --disable-pip-version-check pandas openpyxl || die "pip install failed"
fi
PY_VERSIONS="$("$VPY" -c 'import sys, pandas, openpyxl; print(f"python {sys.version.split()[0]}, pandas {pandas.__version__}, openpyxl {openpyxl.__version__}")')"

# 3. data
CSV="$DATA/prospects-$ROWS.csv"
XLSX="$DATA/prospects-$ROWS.xlsx"
if [[ ! -s "$CSV" || ! -s "$XLSX" ]]; then
    log "generating $ROWS rows into $DATA"
    "$VPY" "$BENCH/gen_prospects.py" --rows "$ROWS" --out "$DATA" || die "gen_prospects.py failed"
fi

# 4. runs
mkdir -p "$RESULTS_DIR"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/hailer-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
RUNLOG="$WORK/runs.jsonl"
: >"$RUNLOG"

run_one() { # format tool run-number cmd...
    local fmt="$1" tool="$2" n="$3"; shift 3
    local errlog="$WORK/$fmt-$tool-$n.stderr" out
    log "$fmt / $tool (run $n): $*"
    if ! out="$("$VPY" "$BENCH/measure.py" --log "$errlog" "$@")"; then
        printf '%s\n' "$out" >&2
        tail -n 20 "$errlog" >&2 || true
        die "$tool failed on $fmt"
    fi
    printf '{"format": "%s", "tool": "%s", "run": %s, "data_dir": "%s", "m": %s}\n' \
        "$fmt" "$tool" "$n" "$WORK/$fmt-$tool-$n" "$out" >>"$RUNLOG"
}

for fmt in csv xlsx; do
    file="$CSV"; [[ "$fmt" == xlsx ]] && file="$XLSX"
    for n in $(seq 1 "$RUNS"); do
        dir="$WORK/$fmt-hailer-$n"; mkdir -p "$dir"
        run_one "$fmt" hailer "$n" "$HAILER" --data-dir "$dir" import prospects "$file"
        dir="$WORK/$fmt-python-$n"; mkdir -p "$dir"
        run_one "$fmt" python "$n" "$VPY" "$BENCH/python_import.py" "$file" "$dir/prospects.db"
    done
done

# 5. report
"$VPY" - "$RUNLOG" "$ROWS" "$RESULTS_DIR" "$PY_VERSIONS" <<'EOF'
import glob, json, os, sqlite3, statistics, sys, time

runlog, rows, results_dir, versions = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
runs = [json.loads(line) for line in open(runlog, encoding="utf-8")]
TARGET = {"csv": 3.0, "xlsx": 5.0}
PEAK_LIMIT_MB = 200.0


def stored(run):
    """Rows in the prospects table the run left behind (None if not found)."""
    if run["tool"] == "python":
        try:
            return json.loads(run["m"]["stdout"].strip().splitlines()[-1])["rows"]
        except (ValueError, IndexError, KeyError):
            return None
    for path in sorted(glob.glob(os.path.join(run["data_dir"], "**", "*"), recursive=True)):
        try:
            with open(path, "rb") as f:
                if f.read(16) != b"SQLite format 3\x00":
                    continue
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            n = con.execute("SELECT count(*) FROM prospects").fetchone()[0]
            con.close()
            return n
        except (OSError, sqlite3.Error):
            continue
    return None


summary = {}
for run in runs:
    key = (run["format"], run["tool"])
    s = summary.setdefault(key, {"seconds": [], "peak_mb": [], "stored": None})
    s["seconds"].append(run["m"]["seconds"])
    s["peak_mb"].append(run["m"]["peak_mb"])
    s["stored"] = stored(run)

print()
print(f"Import benchmark: {rows} rows; {versions}")
print(f"{'format':6}  {'tool':6}  {'seconds':>8}  {'rows/s':>9}  {'peak MB':>8}  {'stored':>7}  {'speed-up':>8}")
report = {"rows": rows, "versions": versions, "results": [], "targets": []}
verdicts = []
for fmt in ("csv", "xlsx"):
    h, p = summary.get((fmt, "hailer")), summary.get((fmt, "python"))
    for tool, s in (("hailer", h), ("python", p)):
        if not s:
            continue
        sec = statistics.median(s["seconds"])
        peak = max(s["peak_mb"])
        s["sec"], s["peak"] = sec, peak
        ratio = ""
        if tool == "hailer" and p:
            ratio = f"{statistics.median(p['seconds']) / sec:.1f}x"
        st = "?" if s["stored"] is None else str(s["stored"])
        print(f"{fmt:6}  {tool:6}  {sec:8.2f}  {rows / sec:9.0f}  {peak:8.1f}  {st:>7}  {ratio:>8}")
        report["results"].append({"format": fmt, "tool": tool, "seconds": sec,
                                  "rows_per_s": rows / sec, "peak_mb": peak,
                                  "stored": s["stored"], "runs": len(s["seconds"])})
    if h and p:
        speedup = p["sec"] / h["sec"]
        verdicts.append((f"{fmt.upper()} import >= {TARGET[fmt]:.0f}x the Python path",
                         speedup >= TARGET[fmt], f"{speedup:.1f}x"))
        verdicts.append((f"{fmt.upper()} hailer peak memory < {PEAK_LIMIT_MB:.0f} MB",
                         h["peak"] < PEAK_LIMIT_MB, f"{h['peak']:.1f} MB"))
        if h["stored"] is not None and p["stored"] is not None and h["stored"] != p["stored"]:
            print(f"warning: {fmt}: hailer stored {h['stored']} rows, the Python path {p['stored']}")

print()
for what, ok, got in verdicts:
    print(f"  [{'met' if ok else 'MISSED'}] {what}: {got}")
    report["targets"].append({"target": what, "met": ok, "value": got})

out = os.path.join(results_dir, time.strftime("import-%Y%m%dT%H%M%S.json"))
with open(out, "w", encoding="utf-8") as f:
    json.dump(report, f, indent=2)
print(f"\nresults: {out}")
EOF
