#!/usr/bin/env bash
# Runs one `confab bench` scenario with the appender's debug lines on and
# summarises its two stages (benchmarks/appender-stages.py).
# Usage: benchmarks/stages.sh BINARY SCENARIO ARGS...
set -u
bin=$1; shift
rm -rf /tmp/bd-stages && mkdir -p /tmp/bd-stages /tmp/bench
CONFAB_ADMIN_SECRET=bench CONFAB_LOG="warn,confab_service::appender=debug" $bin --data-dir /tmp/bd-stages --listen 127.0.0.1:10000 > /tmp/bench/stages.log 2>&1 &
pid=$!
for i in $(seq 1 50); do curl -s -o /dev/null http://127.0.0.1:10000/ && break; sleep 0.2; done
CONFAB_ADMIN_SECRET=bench $bin bench "$@" --json /tmp/bench/stages.json > /dev/null 2>&1
kill $pid; wait $pid 2>/dev/null
python3 "$(dirname "$0")/appender-stages.py" /tmp/bench/stages.log
grep -o '"delivered_per_sec": [0-9.]*' /tmp/bench/stages.json | head -1
rm -rf /tmp/bd-stages
