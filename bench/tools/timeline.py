#!/usr/bin/env python3
"""Where a wave benchmark's time goes, from a kept run's debug log (issue 21).

Usage: bench/tools/timeline.py DIR [IN_FLIGHT]
  DIR        a run's temp directory kept by a benchmark (KEEP_TMP=1) that ran sorad with
             BENCH_LOG_LEVEL=debug, e.g. PEER=0 RUNS=b KEEP_TMP=1 BENCH_LOG_LEVEL=debug
             bench/detect.sh (bench/lib.sh prints "kept DIR")
  IN_FLIGHT  max_in_flight of the run (default 256): the size of the first wave

Prints, in seconds from the first claim: when the first wave's creates were answered
(the ramp); for the later waves, the wait from a job's "submitting" (its intent staged,
at the moment a slot freed) to its create answered (the intent's commit, the loop's
delay and the request); and the tail from the last completion seen to the last set
done. Times are the log's (wall clock, milliseconds), on the daemon's side only.
"""
import glob
import re
import sys
from datetime import datetime


def stamp(line):
    return datetime.strptime(line[:23], "%Y-%m-%dT%H:%M:%S.%f").timestamp()


def pct(v, p):
    return v[min(len(v) - 1, int(len(v) * p))]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    wave = int(sys.argv[2]) if len(sys.argv) > 2 else 256
    sub, ans, claims, seen, done = {}, {}, [], [], []
    for path in sorted(glob.glob(sys.argv[1] + "/logs/*.log")):
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.startswith("20"):
                    continue
                t = stamp(line)
                if " claimed " in line and "from the inbox" in line:
                    claims.append(t)
                m = re.search(r"\[job=([^ \]]+)", line)
                if not m:
                    continue
                job = m.group(1)
                if "→ submitting" in line:
                    sub[job] = t
                elif "POST /videos: HTTP 200" in line:
                    ans[job] = t
                elif "running → downloading" in line:
                    seen.append(t)
                elif "downloading → done" in line:
                    done.append(t)
    if not claims or len(ans) <= wave or not done:
        sys.exit("not enough in the log: was it a debug-level run of more than one wave?")
    t0 = min(claims)
    order = sorted(ans, key=ans.get)
    later = sorted(ans[j] - sub[j] for j in order[wave:] if j in sub)
    print("jobs %d; claims: the %dth at %.3f s, the last at %.3f s"
          % (len(ans), wave, sorted(claims)[min(wave, len(claims)) - 1] - t0, max(claims) - t0))
    print("first wave's creates answered: the first at %.3f s, the %dth at %.3f s"
          % (ans[order[0]] - t0, wave, ans[order[wave - 1]] - t0))
    print("later waves, submitting -> create answered: p10 %.3f p50 %.3f p90 %.3f max %.3f s"
          % (pct(later, 0.1), pct(later, 0.5), pct(later, 0.9), later[-1]))
    print("last completion seen at %.3f s, last set done at %.3f s (tail %.3f s)"
          % (max(seen) - t0, max(done) - t0, max(done) - max(seen)))


if __name__ == "__main__":
    main()
