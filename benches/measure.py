#!/usr/bin/env python3
"""Run one command and report its wall time and peak memory as JSON.

    measure.py [--log FILE] CMD [ARGS...]

Runs CMD with subprocess (stdin closed, stdout captured, stderr to FILE or
inherited), then prints one JSON line:

    {"cmd": [...], "exit_code": 0, "seconds": 1.234, "peak_mb": 56.7,
     "user_s": 1.1, "sys_s": 0.1, "stdout": "..."}

peak_mb is resource.getrusage(RUSAGE_CHILDREN).ru_maxrss: the largest resident
set of any waited-for descendant, which is CMD here since this script starts
nothing else. Exits with CMD's exit code (after printing the JSON).
"""

import json
import resource
import subprocess
import sys
import time


def main() -> int:
    args = sys.argv[1:]
    log = None
    if len(args) >= 2 and args[0] == "--log":
        log, args = args[1], args[2:]
    if not args or args[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2

    err = open(log, "wb") if log else None
    try:
        t0 = time.perf_counter()
        proc = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
        seconds = time.perf_counter() - t0
    finally:
        if err:
            err.close()

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    # Linux reports kilobytes, macOS bytes.
    peak_mb = ru.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    print(json.dumps({
        "cmd": args,
        "exit_code": proc.returncode,
        "seconds": round(seconds, 3),
        "peak_mb": round(peak_mb, 1),
        "user_s": round(ru.ru_utime, 3),
        "sys_s": round(ru.ru_stime, 3),
        "stdout": proc.stdout.decode("utf-8", "replace"),
    }, ensure_ascii=False))
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
