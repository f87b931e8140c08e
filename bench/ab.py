#!/usr/bin/env python3
"""A/B of two standin binaries: does a change make any workload slower?

    git worktree add /tmp/before <commit> && (cd /tmp/before && cargo build --release)
    cargo build --release
    python3 bench/ab.py /tmp/before/target/release/standin target/release/standin
    python3 bench/ab.py BEFORE AFTER --rounds 9 --seconds 3 --out /tmp/ab.md
    python3 bench/ab.py BEFORE AFTER --writes
    python3 bench/ab.py B B --writes --env-after STANDIN_READERS=0   # one binary, two settings

On a shared machine one run of a workload differs from the next by 10-20%,
more than most changes move it, so the two binaries serve the benchmark's
dataset (bench/run.py: 100 authors, 10,000 posts) side by side, both
started once, and each round measures every read workload on both, the
binary going first alternating between rounds. Noise that lasts longer than
a few seconds (another build, a throttled core) then weighs on both sides
alike. For each workload it prints the median of the rounds' after/before
ratios and their spread; a ratio is a fall only when the whole spread is
below 100%.

Both run with and without their read cache. Reads are measured unless
`--writes` says to measure POST, PATCH and the mixed workload instead: a
write workload changes the data the next round reads, so the two are not
measured on one pair of servers (both sides still receive the same writes).
127.0.0.1 only; every process it starts is stopped before it exits.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the benchmark: its dataset, servers and workloads)


def serve(binary, spec, *arguments, env=None):
    """One binary serving `spec`, as the benchmark starts standin, with `env` added to its environment."""
    ready = spec + f".{os.getpid()}.{time.monotonic_ns()}.url"
    command = [binary, "serve", spec, "--port", "0", "--workers", "2", "--no-watch", "--ready-file", ready, *arguments]
    server = run.Process(command, ready_file=ready, health="/_standin/health", env={"STANDIN_LOG": "warn", **(env or {})})
    os.remove(ready)
    return server


def workloads(writes):
    """(name, path or Traffic, method) for each of the benchmark's read
    workloads in standin's dialect, or with `writes` its write and mixed ones."""
    return [
        (name, path, method)
        for name, path, _json_server, _ceiling, _prism, _openapi, method in run.WORKLOADS
        if path is not None and (method != "GET") == writes
    ]


def measure(url, path, method, seconds):
    if isinstance(path, run.Traffic):
        return run.wrk(url + "/", seconds, traffic=path)[0]
    return run.wrk(url + path, seconds, method=method)[0]


def environment(assignments):
    """The variables of `NAME=VALUE` arguments."""
    pairs = [assignment.partition("=") for assignment in assignments]
    for name, equals, _value in pairs:
        if not equals:
            raise SystemExit(f"{name!r} is not NAME=VALUE")
    return {name: value for name, _equals, value in pairs}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", help="the standin binary before the change")
    parser.add_argument("after", help="the standin binary after the change")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of every workload on both (default 5)")
    parser.add_argument("--seconds", type=int, default=2, help="seconds of each wrk run (default 2)")
    parser.add_argument("--out", default=None, help="also write the table to this markdown file")
    parser.add_argument("--writes", action="store_true",
                        help="measure the write workloads (POST, PATCH) and the mixed one instead of the reads")
    parser.add_argument("--env-before", action="append", default=[], metavar="NAME=VALUE",
                        help="an environment variable of the before binary (repeatable)")
    parser.add_argument("--env-after", action="append", default=[], metavar="NAME=VALUE",
                        help="an environment variable of the after binary (repeatable)")
    options = parser.parse_args()
    environments = {"before": environment(options.env_before), "after": environment(options.env_after)}
    binaries = {"before": os.path.abspath(options.before), "after": os.path.abspath(options.after)}
    for binary in binaries.values():
        if not os.access(binary, os.X_OK):
            raise SystemExit(f"{binary} is not an executable")
    measured_workloads = workloads(options.writes)
    ratios = {}
    rates = {}
    with tempfile.TemporaryDirectory() as directory:
        _db_json, spec, _posts = run.dataset(directory)
        for cache, arguments in [("cached", []), ("no read cache", ["--no-read-cache"])]:
            servers = {}
            try:
                for side, binary in binaries.items():
                    servers[side] = serve(binary, spec, *arguments, env=environments[side])
                for round_ in range(options.rounds):
                    order = ["before", "after"] if round_ % 2 == 0 else ["after", "before"]
                    for name, path, method in measured_workloads:
                        measured = {side: measure(servers[side].url, path, method, options.seconds) for side in order}
                        for side, rate in measured.items():
                            rates.setdefault((name, cache, side), []).append(rate)
                        ratios.setdefault((name, cache), []).append(measured["after"] / measured["before"])
                    print(f"{cache}: round {round_ + 1} of {options.rounds} done", file=sys.stderr)
            finally:
                for server in servers.values():
                    server.stop()
    lines = [
        f"A/B, {options.rounds} rounds of {options.seconds} s per workload and side, wrk -t2 -c32:",
        f"before = {binaries['before']} {environments['before'] or ''}, "
        f"after = {binaries['after']} {environments['after'] or ''}",
        "",
        "| workload | read cache | before req/s (median) | after req/s (median) | after / before (median) | spread | fell? |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for (name, cache), values in ratios.items():
        before = statistics.median(rates[(name, cache, "before")])
        after = statistics.median(rates[(name, cache, "after")])
        fell = "yes" if max(values) < 1 else "no"
        lines.append(
            f"| {name} | {cache} | {before:,.0f} | {after:,.0f} | {statistics.median(values):.0%} "
            f"| {min(values):.0%}–{max(values):.0%} | {fell} |"
        )
    table = "\n".join(lines) + "\n"
    print(table)
    if options.out:
        with open(options.out, "w") as file:
            file.write(table)


if __name__ == "__main__":
    main()
