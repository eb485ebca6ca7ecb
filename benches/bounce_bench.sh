#!/usr/bin/env bash
# Bounce parse throughput: hailer's parser against GNU Mailman's flufl.bounce (scan_message) on
# the same files, with recipient agreement of both against the corpus labels.
#
#   benches/bounce_bench.sh [CORPUS_DIR]      (default: tests/data/bounces/dev)
#
# Builds hailer in release mode, creates a venv under target/ with flufl.bounce from PyPI, then
# prints messages/s for both (files are read into memory first; each tool parses them
# repeatedly for at least BENCH_SECONDS, default 3) and, for both, the share of labelled failed
# recipients found and the share of reported recipients that are wrong. Target: hailer >= 5x.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
corpus="${1:-$root/tests/data/bounces/dev}"
seconds="${BENCH_SECONDS:-3}"
venv="$root/target/bounce-bench-venv"
work="$root/target/bounce-bench"
mkdir -p "$work"

echo "== building hailer (release)" >&2
cargo build --release --quiet --manifest-path "$root/Cargo.toml" --bin hailer
hailer="$root/target/release/hailer"

if [ ! -x "$venv/bin/python" ]; then
    echo "== creating $venv" >&2
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import flufl.bounce' 2>/dev/null; then
    echo "== pip install flufl.bounce" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check flufl.bounce
fi
flufl_version="$("$venv/bin/python" -c 'from importlib.metadata import version; print(version("flufl.bounce"))')"

echo "== hailer: throughput" >&2
hailer_rate="$("$hailer" bounces parse --bench "$corpus" | tee "$work/hailer-bench.txt")"
# The hidden --bench flag loops for about a second; repeat to cover BENCH_SECONDS.
runs=$(( seconds > 1 ? seconds : 1 ))
for _ in $(seq 2 "$runs"); do "$hailer" bounces parse --bench "$corpus" >> "$work/hailer-bench.txt"; done
"$hailer" bounces parse "$corpus" > "$work/hailer.csv"

echo "== flufl.bounce $flufl_version: throughput and recipients" >&2
"$venv/bin/python" - "$corpus" "$seconds" "$work/hailer.csv" "$work/hailer-bench.txt" "$flufl_version" <<'PY'
import csv, email, os, sys, time, warnings
from email import policy
from flufl.bounce import scan_message

corpus, seconds, hailer_csv, hailer_bench, flufl_version = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
warnings.simplefilter("ignore")
files = sorted(f for f in os.listdir(corpus) if f.endswith(".eml"))
data = [open(os.path.join(corpus, f), "rb").read() for f in files]

def flufl(raw):
    try:
        msg = email.message_from_bytes(raw, policy=policy.compat32)
        found = scan_message(msg)
    except Exception:
        return set()
    out = set()
    for a in found:
        if isinstance(a, bytes):
            a = a.decode("utf-8", "replace")
        out.add((str(a).strip().strip("<>").lower(),))
    return out

# Throughput: parse + scan every file, repeatedly, for at least `seconds`.
n, t0 = 0, time.perf_counter()
while True:
    for raw in data:
        flufl(raw)
        n += 1
    if time.perf_counter() - t0 >= seconds:
        break
flufl_rate = n / (time.perf_counter() - t0)

rates = []
for line in open(hailer_bench):
    kv = dict(p.split("=", 1) for p in line.split())
    rates.append(float(kv["messages_per_sec"]))
hailer_rate = sum(rates) / len(rates)

# Recipient agreement against labels.csv (rows whose hard_or_soft is hard/soft are bounces).
labels = {}
for row in csv.DictReader(open(os.path.join(corpus, "labels.csv"))):
    labels.setdefault(row["file"], []).append(row)
bounce_kinds = set()
hailer_found = {}
for row in csv.DictReader(open(hailer_csv)):
    f = os.path.basename(row["file"])
    hailer_found.setdefault(f, set())
    if row["reason"] not in ("reply", "autoreply", "feedback", "other") and row["recipient"]:
        # A record names the address written to (`recipient`, the Original-Recipient when the
        # report gives one) and the one that failed (`final_recipient`): either is the labelled
        # recipient, as in tests/bounce_corpus.rs.
        hailer_found[f].add((row["recipient"].lower(), row.get("final_recipient", "").lower()))

def agreement(found_for):
    rows = hit = reported = wrong = false_bounce = 0
    for f, rs in labels.items():
        got = found_for(f)
        bounce_rows = [r for r in rs if r["hard_or_soft"] in ("hard", "soft")]
        if not bounce_rows:
            false_bounce += 1 if got else 0
            continue
        known = {a.lower() for r in bounce_rows for a in (r["expected_recipient"], r["original_recipient"]) if a}
        # A found record is a tuple of the addresses it names (one for flufl.bounce).
        addresses = [set(a for a in rec if a) for rec in got]
        for r in bounce_rows:
            rows += 1
            wanted = {r["expected_recipient"].lower(), r["original_recipient"].lower()} - {""}
            if any(wanted & a for a in addresses):
                hit += 1
        reported += len(addresses)
        wrong += sum(1 for a in addresses if not a & known)
    return rows, hit, reported, wrong, false_bounce

flufl_found = {f: flufl(raw) for f, raw in zip(files, data)}
h = agreement(lambda f: hailer_found.get(f, set()))
g = agreement(lambda f: flufl_found.get(f, set()))

def line(name, rate, a):
    rows, hit, reported, wrong, fb = a
    return (f"{name:<22} {rate:>10.1f} msg/s   recipients found {100*hit/rows:6.2f}% ({hit}/{rows})   "
            f"wrong {100*wrong/max(reported,1):5.2f}% ({wrong}/{reported})   non-bounces with recipients {fb}")

print(f"corpus: {corpus} ({len(files)} messages)")
print(line("hailer", hailer_rate, h))
print(line(f"flufl.bounce {flufl_version}", flufl_rate, g))
print(f"speed-up: {hailer_rate / flufl_rate:.1f}x (target >= 5x)")
PY
