#!/usr/bin/env python3
"""Writes COUNT finished jobs into a sorad state directory, byte for byte as sorad
leaves a job that ended well (src/store.c: STATE/jobs/NAME.json in cJSON_Print's
layout, claim gone) and its usage line (src/usage.c: the create's latest line,
"created"), for bench/history.sh: make_history.py STATE_DIR COUNT.

Job i (0-based) is hist-NNNNNNN, finished 30 s after job i-1 (SPACING_S in the
environment: another gap), the newest an hour ago;
prompts, video ids and dup_keys differ per job (the dup_key is a 64-bit value unique
per i, not the FNV hash of the prompt: only its uniqueness matters to sorad). No
outbox files are written: nothing in sorad reads a finished job's outputs except on
request for that one job. The usage log holds one line per create, as a log holds
after compaction (sorad appends "sent" then "created"; the latest line of a key wins,
so both say the same). Files are not fsynced; the caller syncs once."""
import os
import sys
import time

state, count = sys.argv[1], int(sys.argv[2])
jobs = os.path.join(state, "jobs")
for d in ("jobs", "inputs", "corrupt"):
    os.makedirs(os.path.join(state, d), mode=0o700, exist_ok=True)

RECORD = """{
\t"version":\t1,
\t"name":\t"%(name)s",
\t"state":\t"done",
\t"source":\t"%(claim)s/%(name)s.txt",
\t"claim_jobs":\t1,
\t"prompt":\t"%(prompt)s",
\t"model":\t"sora-2",
\t"size":\t"1280x720",
\t"seconds":\t4,
\t"video_id":\t"%(vid)s",
\t"status":\t"completed",
\t"progress":\t100,
\t"video_created_at":\t%(created)d,
\t"video_completed_at":\t%(completed)d,
\t"video_expires_at":\t%(expires)d,
\t"claimed_at":\t%(claimed)d,
\t"submit_at":\t%(claimed)d,
\t"finished_at":\t%(finished)d,
\t"next_at_ms":\t0,
\t"dl_window_s":\t3599,
\t"dl_seen_at":\t%(seen)d,
\t"attempts":\t0,
\t"creates":\t1,
\t"creates_allowed":\t1,
\t"dup_key":\t"%(dup)s",
\t"cost_usd":\t0.4
}"""
USAGE = ('{"at":%(claimed)d,"name":"%(name)s","claim":"%(claim)s","create":1,'
         '"state":"created","video_id":"%(vid)s","model":"sora-2","size":"1280x720",'
         '"seconds":4,"cost_usd":0.4}\n')
SCENES = ("a slow aerial shot over a misty pine forest at dawn",
          "a lighthouse on a cliff in a storm, waves breaking on the rocks",
          "a cat asleep on a windowsill while rain runs down the glass",
          "a night market in the old town, lanterns swaying in the wind")

newest = int(time.time()) - 3600
spacing = int(os.environ.get("SPACING_S", "30"))
flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
usage = []
for i in range(count):
    finished = newest - (count - 1 - i) * spacing
    claimed = finished - 70
    f = {"name": "hist-%07d" % i, "claim": "%d-4242-%d" % (claimed * 1000, i + 1),
         "prompt": "History job %d: %s, soft light, the camera drifting left" % (i, SCENES[i % 4]),
         "vid": "video_%032x" % (0xB1570000000000000000000000000000 + i),
         "created": claimed + 1, "completed": claimed + 61, "expires": claimed + 3601,
         "claimed": claimed, "finished": finished, "seen": claimed + 62,
         "dup": "%016x" % ((i + 1) * 0x9E3779B97F4A7C15 & 0xFFFFFFFFFFFFFFFF)}
    fd = os.open(os.path.join(jobs, f["name"] + ".json"), flags, 0o600)
    os.write(fd, (RECORD % f).encode())
    os.close(fd)
    usage.append(USAGE % f)
    if len(usage) >= 10000:
        with open(os.path.join(state, "usage.jsonl"), "a") as u:
            u.writelines(usage)
        usage = []
with open(os.path.join(state, "usage.jsonl"), "a") as u:
    u.writelines(usage)
