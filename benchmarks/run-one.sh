#!/usr/bin/env bash
# Starts BINARY on a fresh data directory at 127.0.0.1:10000, runs one
# `confab bench` scenario against it (JSON in /tmp/bench/NAME.json), stops it.
# The server's CPU time over the whole run (user + system, from /proc) goes
# to /tmp/bench/NAME.cpu.
# Usage: benchmarks/run-one.sh NAME BINARY SCENARIO ARGS...
set -u
name=$1; bin=$2; shift 2
rm -rf /tmp/bd-$name && mkdir -p /tmp/bd-$name /tmp/bench
CONFAB_ADMIN_SECRET=bench CONFAB_LOG=warn $bin --data-dir /tmp/bd-$name --listen 127.0.0.1:10000 > /tmp/bench/$name.server.log 2>&1 &
pid=$!
for i in $(seq 1 50); do curl -s -o /dev/null http://127.0.0.1:10000/ && break; sleep 0.2; done
CONFAB_ADMIN_SECRET=bench $bin bench "$@" --json /tmp/bench/$name.json > /tmp/bench/$name.out 2>&1
ticks=$(awk '{print $14 + $15}' /proc/$pid/stat)
echo "server_cpu_secs $(echo "scale=2; $ticks / $(getconf CLK_TCK)" | bc)" > /tmp/bench/$name.cpu
kill $pid; wait $pid 2>/dev/null
rm -rf /tmp/bd-$name
