#!/usr/bin/env python3
"""The 1,000,000-record start-up of one or more standin binaries, run in
turn (so that a busy spell of a shared machine falls on all of them).

usage: python3 bench/startup.py RUNS BINARY [BINARY...] [-- standin args]
       e.g. python3 bench/startup.py 5 /tmp/standin-before target/release/standin
            python3 bench/startup.py 3 target/release/standin -- --db FILE

For each run: the time from exec to the first answer of /_standin/health,
the CPU time of the busiest thread (the critical path: less noisy than wall
time on a shared machine) and the peak RSS (VmHWM). A `--db FILE` is
deleted before each run, so that each seeds a new file. The spec is
`run.generated_spec(1_000_000)`, the benchmark's own.
"""

import glob
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402


def start_once(binary, spec, extra):
    """Wall seconds to the first answer, busiest thread's CPU seconds, peak RSS in MiB."""
    if "--db" in extra:
        for stale in glob.glob(extra[extra.index("--db") + 1] + "*"):
            os.remove(stale)
    with tempfile.TemporaryDirectory() as directory:
        ready = os.path.join(directory, "url")
        started = time.perf_counter()
        process = subprocess.Popen(
            [binary, "serve", spec, "--port", "0", "--no-watch", "--ready-file", ready, *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "STANDIN_LOG": "warn"})
        try:
            while True:
                url = open(ready).read().strip() if os.path.exists(ready) else ""
                if url:
                    try:
                        urllib.request.urlopen(url.rstrip("/") + "/_standin/health").read()
                        break
                    except OSError:
                        pass
                if process.poll() is not None:
                    raise SystemExit(f"{binary} stopped while starting")
                time.sleep(0.01)
            wall = time.perf_counter() - started
            tick = os.sysconf("SC_CLK_TCK")
            busiest = 0.0
            for thread in os.listdir(f"/proc/{process.pid}/task"):
                fields = open(f"/proc/{process.pid}/task/{thread}/stat").read().rsplit(")", 1)[1].split()
                busiest = max(busiest, (int(fields[11]) + int(fields[12])) / tick)
            peak = next(line for line in open(f"/proc/{process.pid}/status") if line.startswith("VmHWM"))
            return wall, busiest, int(peak.split()[1]) // 1024
        finally:
            process.terminate()
            process.wait()


def main():
    arguments = sys.argv[1:]
    extra = arguments[arguments.index("--") + 1:] if "--" in arguments else []
    arguments = arguments[:arguments.index("--")] if "--" in arguments else arguments
    if len(arguments) < 2:
        raise SystemExit(__doc__)
    runs, binaries = int(arguments[0]), arguments[1:]
    with tempfile.TemporaryDirectory() as directory:
        spec = os.path.join(directory, "million.yaml")
        open(spec, "w").write(run.generated_spec(1_000_000))
        figures = {binary: [] for binary in binaries}
        for _ in range(runs):
            for binary in binaries:
                wall, busiest, peak = start_once(binary, spec, extra)
                figures[binary].append((wall, busiest, peak))
                print(f"{binary}: {wall:.2f} s, busiest thread {busiest:.2f} s, peak {peak} MiB", flush=True)
    for binary, taken in figures.items():
        walls, busiest, peaks = zip(*taken)
        print(f"{binary}: median {statistics.median(walls):.2f} s, busiest thread "
              f"{statistics.median(busiest):.2f} s, peak RSS up to {max(peaks)} MiB")


if __name__ == "__main__":
    main()
