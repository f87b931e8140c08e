#!/usr/bin/env python3
"""How standin's uncached reads and the mixed workload grow with cores.

    python3 bench/cores.py            # 4 s per run, median of 3
    python3 bench/cores.py 2 1        # SECONDS ROUNDS

On a 2-core machine there is one step to measure: standin pinned to one core
(`taskset -c 0`, one worker, one reading connection), wrk pinned to the
other, against standin on both cores (two workers, two reading connections)
sharing them with wrk. Every run is of distinct URLs with the read cache off
(`--no-read-cache`), on the benchmark's dataset (bench/run.py), reset to it
before each run. wrk's own share of the two cores weighs on the second
configuration only, so the ratios are lower bounds. Needs taskset
(util-linux) and wrk; talks only to 127.0.0.1.
"""
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402

WORKLOADS = {
    "uncached item (random)": dict(item=100),
    "uncached page of 20 (random)": dict(page=100),
    "uncached filtered + sorted page (random)": dict(filtered=100),
    "uncached search (random)": dict(search=100),
    "mixed, 10% writes": dict(item=30, page=25, filtered=20, search=15, post=5, patch=5),
}


def pinned_wrk(url, seconds, traffic, cpus):
    """run.wrk, with wrk pinned to `cpus` (None: not pinned)."""
    if cpus is None:
        return run.wrk(url, seconds, traffic=traffic)
    original = subprocess.run

    def pinned(command, *arguments, **options):
        return original(["taskset", "-c", cpus, *command], *arguments, **options)

    subprocess.run = pinned
    try:
        return run.wrk(url, seconds, traffic=traffic)
    finally:
        subprocess.run = original


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    run.build(ceiling=False)
    results = {}
    configurations = [("1 core", "0", 1, "1"), ("2 cores", "0,1", 2, None)]
    with tempfile.TemporaryDirectory() as directory:
        _, spec_json, _ = run.dataset(directory)
        for label, cpus, workers, wrk_cpus in configurations:
            wrapper = os.path.join(directory, f"standin-on-{workers}")
            with open(wrapper, "w") as file:
                file.write(f'#!/bin/sh\nexec taskset -c {cpus} {run.STANDIN} "$@"\n')
            os.chmod(wrapper, 0o755)
            real, run.STANDIN, run.WORKERS = run.STANDIN, wrapper, workers
            try:
                server = run.standin(spec_json, "--no-read-cache", env={"STANDIN_READERS": str(workers)})
            finally:
                run.STANDIN = real
            try:
                for name, shares in WORKLOADS.items():
                    traffic = run.Traffic("standin", **shares)
                    samples = []
                    for _ in range(rounds):
                        run.get(server.url + "/_standin/reset", method="POST")
                        samples.append(pinned_wrk(server.url + "/", seconds, traffic, wrk_cpus))
                    results[(name, label)] = (
                        statistics.median(sample[0] for sample in samples),
                        max(sample[2] for sample in samples),
                    )
                    rate, p99 = results[(name, label)]
                    print(f"{name}, {label}: {rate:,.0f} req/s, p99 {p99:.2f} ms", file=sys.stderr, flush=True)
            finally:
                server.stop()
    print(f"wrk -t2 -c32, {rounds} runs of {seconds} s each (median req/s, worst p99); standin --no-read-cache.\n")
    print("| workload | 1 core: req/s | p99 | 2 cores: req/s | p99 | 2 cores / 1 core |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in WORKLOADS:
        (one, one_p99), (two, two_p99) = results[(name, "1 core")], results[(name, "2 cores")]
        print(f"| {name} | {one:,.0f} | {one_p99:.2f} ms | {two:,.0f} | {two_p99:.2f} ms | {two / one:.2f}x |")


if __name__ == "__main__":
    main()
