#!/bin/sh
# Find benchmark: 1,000 companies against local fixtures (HTTP + DNS on loopback) at
# concurrency 16 (FIND_CONCURRENCY overrides). Built with the bench (release) profile.
set -eu
cd "$(dirname "$0")/.."
cargo bench --bench find --no-run
FIND_CONCURRENCY="${FIND_CONCURRENCY:-16}" cargo bench --bench find
