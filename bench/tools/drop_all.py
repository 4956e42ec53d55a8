#!/usr/bin/env python3
"""Renames every file of SRC into DST as fast as it can (a drop "at once") and prints
the CLOCK_REALTIME ns just before the first rename. Used by bench/throughput.sh."""
import os
import sys
import time

src, dst = sys.argv[1], sys.argv[2]
names = sorted(os.listdir(src))
print(time.clock_gettime_ns(time.CLOCK_REALTIME), flush=True)
for n in names:
    os.rename(os.path.join(src, n), os.path.join(dst, n))
