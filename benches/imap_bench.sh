#!/usr/bin/env bash
# IMAP watcher cost: the first sync of a 10,000-message folder, then an incremental sync after
# 10 new messages arrive, then a sync with nothing new. The incremental cost must follow the
# number of new messages (UIDVALIDITY + last UID kept in SQLite, UIDNEXT checked first, only
# UIDs above the last one searched and fetched).
#
#   HAILER_RIG=/tmp/rig benches/imap_bench.sh
#
# Needs a running mail rig (scripts/mailrig up DIR). Fills a fresh folder of sender@sender.test
# over IMAP APPEND (Python imaplib, TLS against the rig's CA) with BENCH_MESSAGES messages
# (default 10000): the bounce corpus (tests/data/bounces/dev), the rig's Postfix DSNs, replies
# and plain mail, each with its own Message-ID. Then times `hailer bounces sync --json` with a
# fresh data directory watching only that folder. The folder is deleted at the end.
#
# Knobs: BENCH_MESSAGES, BENCH_NEW (default 10), HAILER_BIN (use this binary, no build),
# BENCH_BATCH ([inbox] batch, default 200).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
rig="${HAILER_RIG:?set HAILER_RIG to a running mail rig directory (scripts/mailrig up DIR)}"
messages="${BENCH_MESSAGES:-10000}"
new="${BENCH_NEW:-10}"
batch="${BENCH_BATCH:-200}"
set -a
# shellcheck disable=SC1091
. "$rig/rig.env"
set +a

if [ -n "${HAILER_BIN:-}" ]; then
    hailer="$HAILER_BIN"
else
    echo "== building hailer (release)" >&2
    cargo build --release --quiet --manifest-path "$root/Cargo.toml" --bin hailer
    hailer="$root/target/release/hailer"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/imap-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
folder="hailer-bench-$$"

# Only the sender mailbox, watching only the bench folder.
sed -n '1,/^\[mailboxes.claire\]/p' "$RIG_CONFIG" | grep -v '^\[mailboxes.claire\]' > "$work/config.toml"
cat >> "$work/config.toml" <<EOF
watch_folders = ["$folder"]

[inbox]
batch = $batch
EOF

python3 - "$root" "$folder" "$messages" "$new" "$hailer" "$work" <<'PY'
import glob, imaplib, json, os, re, ssl, subprocess, sys, time

root, folder, total, new, hailer, work = sys.argv[1:7]
total, new = int(total), int(new)
env = os.environ

def connect():
    ctx = ssl.create_default_context(cafile=env["RIG_CA_FILE"])
    m = imaplib.IMAP4_SSL(env.get("RIG_HOST", "127.0.0.1"), int(env["RIG_IMAPS_PORT"]), ssl_context=ctx)
    m.login(env["RIG_SENDER"], env["RIG_PASSWORD"])
    return m

samples = [open(f, "rb").read() for f in sorted(glob.glob(os.path.join(root, "tests/data/bounces/dev/*.eml")))]
samples += [open(f, "rb").read() for f in sorted(glob.glob(os.path.join(root, "tests/data/rig-dsn/*.eml")))]
samples.append(b"From: jane@acme.test\nTo: sender@sender.test\nSubject: Re: hello\nIn-Reply-To: <1.abc@sender.test>\n\nSure, call me.\n")
samples.append(b"From: news@shop.test\nTo: sender@sender.test\nSubject: Deals\n\nBig savings.\n")
mid = re.compile(rb"^message-id:.*\n(?:[ \t].*\n)*", re.I | re.M)

def message(i):
    raw = samples[i % len(samples)].replace(b"\r\n", b"\n")
    head, sep, body = raw.partition(b"\n\n")
    head = mid.sub(b"", head + b"\n").rstrip(b"\n")
    raw = b"Message-ID: <bench.%d@bench.test>\n" % i + head + b"\n\n" + body
    return raw.replace(b"\n", b"\r\n")

def fill(m, start, count):
    for i in range(start, start + count):
        typ, _ = m.append(folder, None, None, message(i))
        if typ != "OK":
            sys.exit(f"APPEND failed at message {i}")

def sync(label):
    t0 = time.perf_counter()
    p = subprocess.run([hailer, "--config", f"{work}/config.toml", "--data-dir", f"{work}/data",
                        "bounces", "sync", "--json"], capture_output=True, text=True)
    secs = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"{label}: hailer exited {p.returncode}\n{p.stdout}\n{p.stderr}")
    s = json.loads(p.stdout)
    read = sum(f["read"] for f in s["folders"])
    kinds = {}
    for f in s["folders"]:
        for k, v in f["kinds"].items():
            kinds[k] = kinds.get(k, 0) + v
    return secs, read, kinds

m = connect()
m.create(folder)
t0 = time.perf_counter()
fill(m, 0, total)
fill_secs = time.perf_counter() - t0
size = sum(len(message(i)) for i in range(total))
print(f"filled {folder}: {total} messages, {size / 1e6:.1f} MB, APPEND in {fill_secs:.1f} s", file=sys.stderr)

rows = []
secs, read, kinds = sync("first sync")
rows.append(("first sync", read, secs))
print(f"first sync kinds: {kinds}", file=sys.stderr)
fill(m, total, new)
secs, read, _ = sync("incremental sync")
rows.append((f"incremental (+{new})", read, secs))
secs, read, _ = sync("nothing new")
rows.append(("nothing new", read, secs))
m.delete(folder)
m.logout()

print(f"{'run':<20} {'read':>7} {'seconds':>9} {'msg/s':>9} {'ms/msg':>8}")
for label, read, secs in rows:
    rate = read / secs if secs > 0 else 0
    per = secs * 1000 / read if read else float("nan")
    print(f"{label:<20} {read:>7} {secs:>9.3f} {rate:>9.0f} {per:>8.2f}")
first, inc, none = rows
print(f"incremental / first: {inc[2] / first[2]:.4f} of the time for {inc[1] / max(first[1], 1):.4f} of the messages; "
      f"incremental - nothing-new = {(inc[2] - none[2]) * 1000:.0f} ms for {inc[1]} messages (process start and login included in both)")
bad = [r for r in rows if r[0] != "nothing new" and r[1] == 0]
if first[1] != total or inc[1] != new or none[1] != 0:
    sys.exit(f"unexpected counts: {rows}")
PY
