#!/usr/bin/env bash
# Benchmark of `hailer verify` against the mail rig, in a network namespace of its own.
#
#   benches/verify_bench.sh [--addresses N] [--lines N] [--concurrency N] [--reacher] [--keep]
#
# As root (network namespace, the rig's Postfix/Dovecot). What it does:
#   1. builds hailer in release mode (unless $HAILER names a binary);
#   2. creates a network namespace with loopback up and /etc/netns/NS/resolv.conf naming
#      127.0.0.1, starts a rig inside it (scripts/mailrig, default ports: the namespace is ours)
#      and a second dnsmasq on port 53 serving the rig's zone plus 43 more domains
#      (dNN.test, MX at the rig's Postfix, which refuses to relay for them: 554 5.7.1);
#   3. run A: N addresses (default 10,000) spread over 50 domains (the rig's 7 + 43), rate
#      limit off, streamed through `hailer verify --input --output`: addresses/s, peak RSS,
#      verdict counts;
#   4. run B: L input lines (default 1,000,000), most failing fast (garbage, empty, non-UTF-8,
#      10k-character lines, NXDOMAIN and null-MX domains, a few real SMTP probes): lines/s,
#      peak RSS, and RSS sampled every half second (it must stay flat, under 50 MB); plus the
#      same at a tenth of the size, to show the peak does not grow with the input;
#   5. with --reacher, the same addresses as run A through Reacher's check-if-email-exists
#      (benches/reacher, a bench-only binary outside the main build; it reads /etc/resolv.conf,
#      hence port 53 in the namespace): throughput ratio and where verdicts disagree.
# Everything it starts is stopped on exit (the rig with `mailrig down`, by pid).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ADDRESSES=10000
LINES=1000000
CONCURRENCY=32
REACHER=0
KEEP=0
while [ $# -gt 0 ]; do
  case $1 in
    --addresses) ADDRESSES=$2; shift 2 ;;
    --lines) LINES=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --reacher) REACHER=1; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

[ "$(id -u)" = 0 ] || { echo "verify_bench: run as root (network namespace, mail rig)" >&2; exit 1; }
MAILRIG=${MAILRIG:-$ROOT/scripts/mailrig}
[ -x "$MAILRIG" ] || { echo "verify_bench: no mail rig script at $MAILRIG (set MAILRIG)" >&2; exit 1; }
for tool in ip dnsmasq python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "verify_bench: $tool is missing" >&2; exit 1; }
done

if [ -z "${HAILER:-}" ]; then
  (cd "$ROOT" && cargo build --release --quiet)
  HAILER=${CARGO_TARGET_DIR:-$ROOT/target}/release/hailer
fi
[ -x "$HAILER" ] || { echo "verify_bench: $HAILER is not executable" >&2; exit 1; }

DIR=${BENCH_DIR:-$(mktemp -d /tmp/vbench.XXXXXX)}
mkdir -p "$DIR"
chmod 755 "$DIR"
RIG=$DIR/rig
NS=hailer-bench-$$
REPORT=$DIR/report.txt
say() { echo "$*" | tee -a "$REPORT"; }
in_ns() { ip netns exec "$NS" "$@"; }

cleanup() {
  set +e
  [ -e "$RIG/rig.env" ] && "$MAILRIG" down "$RIG" >/dev/null 2>&1
  [ -f "$DIR/dns53.pid" ] && kill "$(cat "$DIR/dns53.pid")" 2>/dev/null
  ip netns del "$NS" 2>/dev/null
  rm -rf "/etc/netns/$NS"
  if [ "$KEEP" = 0 ]; then rm -rf "$DIR/in-"* "$DIR/out-"* "$DIR/data-"*; fi
}
trap cleanup EXIT

# --- namespace, rig, DNS on port 53 ------------------------------------------------------
ip netns add "$NS"
in_ns ip link set lo up
mkdir -p "/etc/netns/$NS"
echo "nameserver 127.0.0.1" >"/etc/netns/$NS/resolv.conf"

RIG_DNS_PORT=5353 in_ns "$MAILRIG" up "$RIG" >"$DIR/rig-up.log" 2>&1 \
  || { cat "$DIR/rig-up.log" >&2; exit 1; }
# shellcheck disable=SC1091
. "$RIG/rig.env"

{
  sed -e "s/^port=.*/port=53/" -e "s|^pid-file=.*|pid-file=$DIR/dns53.pid|" \
      -e "s|^log-facility=.*|log-facility=$DIR/dns53.log|" -e "/^log-queries/d" \
      "$RIG/dnsmasq/dnsmasq.conf"
  echo "# 43 more domains whose MX is the rig's Postfix (it refuses to relay for them)"
  for i in $(seq -w 1 43); do
    echo "host-record=mx.d$i.test,$RIG_MX_IP"
    echo "mx-host=d$i.test,mx.d$i.test,10"
  done
} >"$DIR/dns53.conf"
in_ns dnsmasq --conf-file="$DIR/dns53.conf"
for _ in $(seq 50); do [ -s "$DIR/dns53.pid" ] && break; sleep 0.1; done

cat >"$DIR/bench.toml" <<EOF
[dns]
nameservers = ["127.0.0.1:53"]

[verify]
port = $RIG_MX_PORT
helo_name = "verifier.sender.test"
from = "probe@sender.test"
rate_limit = 0.0
concurrency = $CONCURRENCY
allow_special_use = ["test"]
EOF

# --- inputs --------------------------------------------------------------------------------
python3 - "$DIR" "$ADDRESSES" "$LINES" <<'PY'
import random, sys
out, n, lines = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rig = ["acme.test", "catchall.test", "greylist.test", "nomx.test", "nullmx.test",
       "deadmx.test", "fallback.test"]
domains = rig + [f"d{i:02d}.test" for i in range(1, 44)]
known = ["jane.doe", "john.smith", "sales"]
with open(f"{out}/in-a.txt", "w") as f:
    for i in range(n):
        d = domains[i % len(domains)]
        local = known[(i // 50) % 3] if d == "acme.test" and (i // 50) % 2 == 0 else f"user{i}"
        f.write(f"{local}@{d}\n")

def big(path, count):
    r = random.Random(6)
    with open(path, "wb") as f:
        for i in range(count):
            x = r.random()
            if x < 0.30:
                f.write(f"not an address {i}\n".encode())
            elif x < 0.40:
                f.write(f"\"quoted {i}\"@acme.test\n".encode())
            elif x < 0.45:
                f.write(b"\n")
            elif x < 0.50:
                f.write(b"\xff\xfe" + str(i).encode() + b"@acme.test\n")
            elif x < 0.501:
                f.write(b"y" * 10000 + b"@acme.test\n")
            elif x < 0.90:
                f.write(f"u{i}@nx{i % 2000}.test\n".encode())
            elif x < 0.999:
                f.write(f"u{i}@nullmx.test\n".encode())
            else:
                f.write(f"user{i}@acme.test\n".encode())
big(f"{out}/in-b.txt", lines)
big(f"{out}/in-b10.txt", max(lines // 10, 1))
PY

# Run hailer inside the namespace under /usr/bin/time, sampling its RSS. Sets WALL, PEAK_KB,
# RSS_MIN_KB, RSS_MAX_KB (samples after the first second).
run_hailer() {
  local input=$1 output=$2; shift 2
  local timing=$DIR/time.txt samples=$DIR/rss.txt
  : >"$samples"
  # A fresh data directory per run: no verdict cached by an earlier run.
  local data; data=$DIR/data-$(basename "$output" .csv)
  rm -rf "$data"
  in_ns /usr/bin/time -v -o "$timing" "$HAILER" --config "$DIR/bench.toml" --data-dir "$data" \
    verify --input "$input" --output "$output" "$@" >"$DIR/hailer.out" 2>"$DIR/hailer.err" &
  local tpid=$! hpid="" p
  # hailer runs under ip netns exec and time: find it by its own command line.
  for _ in $(seq 100); do
    for p in $(pgrep -x hailer || true); do
      if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "--output $output"; then hpid=$p; fi
    done
    [ -n "$hpid" ] && break
    sleep 0.05
  done
  local t=0
  while [ -n "$hpid" ] && kill -0 "$hpid" 2>/dev/null; do
    if [ "$t" -ge 2 ]; then awk '/^VmRSS/ {print $2}' "/proc/$hpid/status" 2>/dev/null >>"$samples" || true; fi
    sleep 0.5; t=$((t + 1))
  done
  wait "$tpid" || { cat "$DIR/hailer.err" >&2; return 1; }
  WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$timing")
  PEAK_KB=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$timing")
  RSS_MIN_KB=$(sort -n "$samples" | head -1); RSS_MAX_KB=$(sort -n "$samples" | tail -1)
  RSS_N=$(wc -l <"$samples")
}

counts() { tail -n +2 "$1" | python3 -c '
import csv, sys, collections
c = collections.Counter(r[1] for r in csv.reader(sys.stdin))
print(", ".join(f"{k} {v}" for k, v in sorted(c.items(), key=lambda kv: -kv[1])))'; }

say "verify benchmark $(date -u +%FT%TZ) on $(nproc) cores; hailer $("$HAILER" --version | awk '{print $2}')"
say "namespace $NS, rig in $RIG (MX $RIG_MX_IP:$RIG_MX_PORT), DNS 127.0.0.1:53"

# --- run A ---------------------------------------------------------------------------------
run_hailer "$DIR/in-a.txt" "$DIR/out-a.csv" --no-store --rate-limit 0 --concurrency "$CONCURRENCY"
ROWS=$(($(wc -l <"$DIR/out-a.csv") - 1))
HAILER_A_WALL=$WALL
say ""
say "A: $ADDRESSES addresses over 50 domains, rate limit off, concurrency $CONCURRENCY (per MX host 1)"
say "   $ROWS rows in ${WALL} s = $(python3 -c "print(round($ADDRESSES/$WALL, 1))") addresses/s; peak RSS $((PEAK_KB / 1024)) MB"
say "   verdicts: $(counts "$DIR/out-a.csv")"
run_hailer "$DIR/in-a.txt" "$DIR/out-a-plain.csv" --no-store --rate-limit 0 --concurrency "$CONCURRENCY" --no-starttls
HAILER_A_PLAIN_WALL=$WALL
say "   without STARTTLS (--no-starttls, as Reacher): ${WALL} s = $(python3 -c "print(round($ADDRESSES/$WALL, 1))") addresses/s; peak RSS $((PEAK_KB / 1024)) MB"
# Reacher has no per-host limit: the same run with hailer's politeness loosened, for comparison.
run_hailer "$DIR/in-a.txt" "$DIR/out-a-perhost.csv" --no-store --rate-limit 0 --concurrency "$CONCURRENCY" --no-starttls --per-host 8
say "   without STARTTLS and 8 sessions per MX host: ${WALL} s = $(python3 -c "print(round($ADDRESSES/$WALL, 1))") addresses/s; peak RSS $((PEAK_KB / 1024)) MB"

# --- run B ---------------------------------------------------------------------------------
for input in in-b10 in-b; do
  n=$(wc -l <"$DIR/$input.txt")
  run_hailer "$DIR/$input.txt" "$DIR/out-$input.csv" --rate-limit 0 --concurrency "$CONCURRENCY"
  rows=$(python3 -c "import csv,sys; print(sum(1 for _ in csv.reader(open(sys.argv[1], newline=''))) - 1)" "$DIR/out-$input.csv")
  say ""
  say "B: $n input lines (${input}), streamed with the result store on"
  say "   $rows result rows in ${WALL} s = $(python3 -c "print(round($n/$WALL))") lines/s; peak RSS $((PEAK_KB / 1024)) MB"
  say "   RSS sampled every 0.5 s after the first second: $((RSS_MIN_KB / 1024))..$((RSS_MAX_KB / 1024)) MB over $RSS_N samples"
  say "   verdicts: $(counts "$DIR/out-$input.csv")"
  [ "$rows" = "$n" ] || say "   !! row count $rows differs from the line count $n"
  [ "$PEAK_KB" -lt $((50 * 1024)) ] || say "   !! peak RSS above 50 MB"
done

# --- Reacher ---------------------------------------------------------------------------------
if [ "$REACHER" = 1 ]; then
  REACHER_DIR=$ROOT/benches/reacher
  (cd "$REACHER_DIR" && CARGO_TARGET_DIR=${REACHER_TARGET:-$REACHER_DIR/target} cargo build --release --quiet)
  RBIN=${REACHER_TARGET:-$REACHER_DIR/target}/release/reacher-bench
  in_ns /usr/bin/time -v -o "$DIR/time-r.txt" "$RBIN" --input "$DIR/in-a.txt" --output "$DIR/out-r.csv" \
    --smtp-port "$RIG_MX_PORT" --concurrency "$CONCURRENCY" 2>"$DIR/reacher.err" \
    || { tail -20 "$DIR/reacher.err" >&2; exit 1; }
  RWALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$DIR/time-r.txt")
  RPEAK=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$DIR/time-r.txt")
  say ""
  say "Reacher check-if-email-exists, same $ADDRESSES addresses, concurrency $CONCURRENCY"
  say "   ${RWALL} s = $(python3 -c "print(round($ADDRESSES/$RWALL, 1))") addresses/s; peak RSS $((RPEAK / 1024)) MB"
  say "   throughput hailer/Reacher = $(python3 -c "print(round($RWALL/$HAILER_A_WALL, 2))") with STARTTLS, $(python3 -c "print(round($RWALL/$HAILER_A_PLAIN_WALL, 2))") without"
  python3 - "$DIR/out-a.csv" "$DIR/out-r.csv" <<'PY' | tee -a "$REPORT"
import csv, sys, collections
# Both files are in input order (addresses repeat, so compare row by row).
h = [(x["email"], x["status"]) for x in csv.DictReader(open(sys.argv[1], newline=""))]
r = [(x["email"], x["is_reachable"]) for x in csv.DictReader(open(sys.argv[2], newline=""))]
assert [e for e, _ in h] == [e for e, _ in r], "row order differs"
# hailer's classes seen as Reacher's four
as_reacher = {"VALID": "safe", "CATCH_ALL": "risky", "MAILBOX_FULL": "risky", "DISABLED": "invalid",
              "MAILBOX_NOT_FOUND": "invalid", "NO_MX": "invalid", "INVALID_SYNTAX": "invalid"}
pairs = collections.Counter()
for (email, status), (_, reach) in zip(h, r):
    pairs[(status, reach)] += 1
print("   hailer status -> Reacher is_reachable (count); * = disagreement")
for (s, rv), n in sorted(pairs.items(), key=lambda kv: -kv[1]):
    mark = " " if as_reacher.get(s, "unknown") == rv else "*"
    print(f"   {mark} {s:<18} -> {rv:<8} {n}")
PY
fi

say ""
say "report: $REPORT"
