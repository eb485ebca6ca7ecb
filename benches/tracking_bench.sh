#!/usr/bin/env bash
# Pixel endpoint throughput: wrk (Debian package) against `hailer serve` on loopback for 20 s,
# then a clean shutdown and a count of stored OPEN events, which must equal the requests
# wrk completed (batched writes, nothing lost). Target: >= 20,000 requests/s on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${BENCH_DURATION:-20s}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
PORT=${BENCH_PORT:-18080}

if ! command -v wrk >/dev/null; then
    [ "$(id -u)" = 0 ] || { echo "install wrk (apt-get install wrk)" >&2; exit 1; }
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
[ "${BENCH_NO_BUILD:-}" = 1 ] || cargo build --release --quiet
bin=${HAILER_BIN:-target/release/hailer}

work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
cat > "$work/config.toml" <<TOML
[tracking]
base_url = "http://127.0.0.1:$PORT"
secret_env = "HAILER_BENCH_SECRET"
TOML
export HAILER_BENCH_SECRET="bench-secret-0123456789abcdef"
data="$work/data"
"$bin" --config "$work/config.toml" --data-dir "$data" config check >/dev/null
# Opens count only for a row that was sent: outbox row 1, SENT, for the pixel's token.
"$bin" --config "$work/config.toml" --data-dir "$data" suppress list >/dev/null
python3 - "$data/hailer.db" <<'SQL'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("""
INSERT INTO companies (key, name, updated_at) VALUES ('acme', 'Acme', 0);
INSERT INTO prospects (id, firstname, lastname, company, company_key, person_key, created_at)
  VALUES (1, 'Ada', 'Bench', 'Acme', 'acme', 'ada|bench|acme', 0);
INSERT INTO outbox (id, prospect_id, email, company_key, status, sent_at, created_at, updated_at)
  VALUES (1, 1, 'ada@acme.test', 'acme', 'SENT', 0, 0, 0);
""")
db.commit()
SQL
path=$("$bin" --config "$work/config.toml" --data-dir "$data" serve --print-open-token 1)
"$bin" --config "$work/config.toml" --data-dir "$data" serve --listen "127.0.0.1:$PORT" &
server=$!
for _ in $(seq 50); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT$path" 2>/dev/null && break; sleep 0.1; done

echo "wrk -t2 -c$CONNECTIONS -d$DURATION --latency http://127.0.0.1:$PORT/o/…gif"
out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$PORT$path")
echo "$out"
kill -TERM "$server"; wait "$server" || true
requests=$(echo "$out" | awk '/requests in/ {print $1}')
stored=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"select count(*) from tracking_events where kind='OPEN'\").fetchone()[0])" "$data/hailer.db")
echo
echo "requests completed by wrk: $requests (+1 warm-up); OPEN events stored: $stored"
# wrk counts only responses it read before its deadline; requests in flight at that moment
# (at most one per connection) were served and stored too. Fewer stored than counted is a loss.
expected=$((requests + 1))
if [ "$stored" -lt "$expected" ]; then
    echo "LOST EVENTS: $((expected - stored)) fewer stored than requests completed" >&2
    status=1
elif [ "$stored" -gt $((expected + CONNECTIONS)) ]; then
    echo "UNEXPECTED: $((stored - expected)) more events than requests (more than $CONNECTIONS in flight)" >&2
    status=1
else
    echo "nothing lost: $((stored - expected)) extra events = requests in flight when wrk stopped (<= $CONNECTIONS)"
    status=0
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
p99=$(echo "$out" | awk '$1=="99%" {print $2}')
echo "requests/s: $rps   p99 latency: $p99   target >= 20000 requests/s"
exit "$status"
