#!/usr/bin/env python3
"""Writes COUNT finished jobs straight into a sorad state directory and outbox, as
sorad itself leaves them (records per include/store.h and job.h, usage.jsonl lines, tiny output files),
for the start-up and memory benchmarks: make_state.py STATE_DIR OUTBOX COUNT."""
import json
import os
import sys
import time

state, outbox, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
for d in ("jobs", "inputs", "corrupt"):
    os.makedirs(os.path.join(state, d), mode=0o700, exist_ok=True)
os.makedirs(os.path.join(outbox, "failed"), exist_ok=True)
now = int(time.time()) - 86400
usage = open(os.path.join(state, "usage.jsonl"), "w")
for i in range(count):
    name = f"old-{i:05d}"
    vid = f"video_{i:032x}"
    prompt = (f"A slow aerial shot over a misty pine forest at dawn, number {i}; soft light, "
              "birds crossing the frame, the camera drifting toward a lake")
    rec = {"version": 1, "name": name, "state": "done", "source": f"{now}-1-{i}/{name}.txt",
           "prompt": prompt, "model": "sora-2", "size": "1280x720", "seconds": 4,
           "video_id": vid, "status": "completed", "progress": 100,
           "video_created_at": now + i, "video_completed_at": now + i + 60,
           "video_expires_at": now + i + 3660, "claimed_at": now + i, "submit_at": now + i,
           "finished_at": now + i + 62, "next_at_ms": 0, "attempts": 0, "cost_usd": 0.4}
    with open(os.path.join(state, "jobs", name + ".json"), "w") as f:
        json.dump(rec, f, indent="\t")
    for ext in ("mp4", "thumbnail.webp", "spritesheet.jpg"):
        with open(os.path.join(outbox, f"{name}.{ext}"), "wb") as f:
            f.write(b"\0" * 64)
    meta = {"name": name, "video": {"id": vid, "object": "video", "status": "completed"},
            "prompt": prompt, "model": "sora-2", "size": "1280x720", "seconds": 4}
    with open(os.path.join(outbox, name + ".json"), "w") as f:
        json.dump(meta, f)
    usage.write(json.dumps({"at": now + i, "name": name, "video_id": vid, "model": "sora-2",
                            "size": "1280x720", "seconds": 4, "cost_usd": 0.4},
                           separators=(",", ":")) + "\n")
usage.close()
