#!/usr/bin/env python3
"""Drops COUNT prompt files into INBOX one at a time, GAP_MS apart, each written and
closed in place (the watcher sees close-after-write), and prints one line per file:
"<CLOCK_REALTIME ns right after close()> <prompt>". Used by bench/latency.sh."""
import os
import sys
import time

inbox, count, gap_ms, tag = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
for i in range(count):
    prompt = f"{tag}-{i}"
    fd = os.open(os.path.join(inbox, f"{tag}-{i}.txt"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, prompt.encode())
    os.close(fd)
    print(time.clock_gettime_ns(time.CLOCK_REALTIME), prompt, flush=True)
    time.sleep(gap_ms / 1000)
