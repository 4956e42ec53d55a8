#!/usr/bin/env python3
"""Monotonic-clock timing for bench/history.sh (CLOCK_MONOTONIC, ns):

  mono.py exec STAMP CMD...        writes the clock to STAMP, and the CPU time this
                                   process used so far (s) to STAMP.cpu: the kernel
                                   counts it in CMD's; then execs CMD (same pid: the
                                   caller's $! is CMD's)
  mono.py ready SOCK OUT DEADLINE  binds the datagram socket SOCK (a NOTIFY_SOCKET, as
                                   systemd's), waits at most DEADLINE s for a message
                                   with the line READY=1, writes the clock at its
                                   arrival to OUT; exit 1 on the deadline
  mono.py time OUT CMD...          runs CMD (stdio inherited), writes its wall time in
                                   ms to OUT, exits with CMD's status"""
import os
import socket
import subprocess
import sys
import time


def now():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def write(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text + "\n")
    os.rename(path + ".tmp", path)


mode = sys.argv[1]
if mode == "exec":
    write(sys.argv[2] + ".cpu", "%.3f" % time.process_time())
    write(sys.argv[2], str(now()))
    os.execv(sys.argv[3], sys.argv[3:])
elif mode == "ready":
    path, out, deadline = sys.argv[2], sys.argv[3], now() + float(sys.argv[4]) * 1e9
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    while True:
        left = (deadline - now()) / 1e9
        if left <= 0:
            sys.exit(1)
        s.settimeout(left)
        try:
            msg = s.recv(4096)
        except socket.timeout:
            sys.exit(1)
        t = now()
        if b"READY=1" in msg.split(b"\n"):
            write(out, str(t))
            sys.exit(0)
elif mode == "time":
    t0 = now()
    rc = subprocess.call(sys.argv[3:])
    write(sys.argv[2], "%.1f" % ((now() - t0) / 1e6))
    sys.exit(rc)
else:
    sys.exit("mono.py: unknown mode " + mode)
