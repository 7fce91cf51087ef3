#!/usr/bin/env python3
"""Summarises the appender's debug lines (CONFAB_LOG=
"warn,confab_service::appender=debug"): per stage, the batches, their
sizes and the time spent. Usage: benchmarks/appender-stages.py SERVER_LOG"""
import re
import statistics
import sys

stages = {"checked": [], "appended": []}
for line in open(sys.argv[1]):
    m = re.search(r'(checked|appended) a batch messages=(\d+) micros=(\d+)', line)
    if m:
        stages[m.group(1)].append((int(m.group(2)), int(m.group(3))))
for name, rows in stages.items():
    if not rows:
        continue
    sizes = [n for n, _ in rows]
    times = sorted(t for _, t in rows)
    print(f"{name}: {len(rows)} batches, {sum(sizes)} messages, median batch {statistics.median(sizes)}, "
          f"median {statistics.median(times) / 1000:.1f} ms, p90 {times[int(len(times) * .9)] / 1000:.1f} ms, "
          f"{sum(times) / sum(sizes):.1f} µs/message, busy {sum(times) / 1e6:.1f} s")
