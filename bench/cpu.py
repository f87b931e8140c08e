#!/usr/bin/env python3
"""Server CPU per request: what one URL costs each of several standin binaries.

    python3 bench/cpu.py ROUNDS PATH BINARY... [-- STANDIN ARGUMENTS]
    python3 bench/cpu.py 5 /posts/5000 /tmp/before target/release/standin -- --no-read-cache
    python3 bench/cpu.py 5 mix:filtered=90,post=5,patch=5 /tmp/before target/release/standin

Throughput on a 2-core machine shared with wrk moves with everything else
the machine does; the CPU time the server's threads spent per request
moves less, and it is what a change to the request path changes. Each
binary serves the benchmark's dataset (bench/run.py: 100 authors, 10,000
posts); each round starts every binary in turn, warms it with 1 s of wrk
on PATH, then reads its threads' CPU time (/proc/PID/task/*/stat, user and
system) around 3 s more. Instead of a PATH, `mix:` and shares in percent
(bench/run.py's `Traffic`: item, page, filtered, search, post, patch)
draws each request at random, as the benchmark's mixed workloads do.
Prints each round, then the median per binary.
127.0.0.1 only; every server it starts is stopped before it exits.
"""

import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the benchmark: its dataset, servers and wrk)


def cpu_seconds(pid):
    """User and system CPU time of every thread of process `pid`."""
    total = 0
    for thread in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{thread}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def main():
    arguments = sys.argv[1:]
    extra = []
    if "--" in arguments:
        extra = arguments[arguments.index("--") + 1:]
        arguments = arguments[:arguments.index("--")]
    if len(arguments) < 3:
        raise SystemExit(__doc__)
    rounds, path, binaries = int(arguments[0]), arguments[1], arguments[2:]
    traffic = None
    if path.startswith("mix:"):
        shares = dict(share.split("=") for share in path[len("mix:"):].split(","))
        traffic = run.Traffic("standin", **{kind: int(percent) for kind, percent in shares.items()})
        path = "/"
    results = {binary: [] for binary in binaries}
    with tempfile.TemporaryDirectory() as directory:
        _db_json, spec, _posts = run.dataset(directory)
        for number in range(rounds):
            for binary in binaries:
                run.STANDIN = binary
                server = run.standin(spec, *extra)
                try:
                    pid = server.process.pid
                    run.wrk(server.url + path, 1, traffic=traffic)
                    before = cpu_seconds(pid)
                    rate = run.wrk(server.url + path, 3, traffic=traffic)[0]
                    micros = (cpu_seconds(pid) - before) / (rate * 3) * 1e6
                finally:
                    server.stop()
                results[binary].append((micros, rate))
                print(f"round {number + 1}, {binary}: {rate:,.0f} req/s, {micros:.1f} µs/request", flush=True)
    for binary, figures in results.items():
        micros = statistics.median(figure[0] for figure in figures)
        rate = statistics.median(figure[1] for figure in figures)
        print(f"{binary}: median {micros:.1f} µs/request, {rate:,.0f} req/s")


if __name__ == "__main__":
    main()
