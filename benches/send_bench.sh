#!/usr/bin/env bash
# Sending benchmark: messages/s delivered to the mail rig by hailer (one mailbox, four
# mailboxes; delays off; pooled connections) against two references on the same Postfix:
# its own load generator smtp-source (Debian's postfix package; no AUTH, so on the MX port)
# and a plain Python smtplib loop, on the MX port and through submission (STARTTLS + AUTH).
#
#   HAILER_RIG=/tmp/rig benches/send_bench.sh
#
# Needs a running rig (scripts/mailrig up DIR). Environment: BENCH_MESSAGES (default 1000), BENCH_RUNS
# (default 1; more rounds print each round and report medians), BENCH_SETTLE (default 90: seconds
# to wait before each measurement for the rig to deliver the previous one's mail), BENCH_PAIRED=K
# (instead of rounds: K reference/hailer/hailer/reference cycles per target comparison; BENCH_PAIRS
# picks comparisons, e.g. mx1,mx4,sub1,sub4),
# HAILER_BIN (default: target/release/hailer, built unless BENCH_NO_BUILD=1).
# Exits non-zero on errors, never on a missed target. Results also go to
# target/bench-results/send-<timestamp>.json.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
: "${HAILER_RIG:?set HAILER_RIG to a running mail rig directory (scripts/mailrig up DIR)}"
command -v smtp-source >/dev/null || { echo "smtp-source not found (Debian package postfix)" >&2; exit 1; }
if [[ -z "${HAILER_BIN:-}" ]]; then
  [[ "${BENCH_NO_BUILD:-}" == 1 ]] || cargo build --release --quiet
  HAILER_BIN="$ROOT/target/release/hailer"
fi
export HAILER_RIG HAILER_BIN
exec python3 "$ROOT/benches/send_bench.py"
