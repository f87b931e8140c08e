#!/usr/bin/env python3
"""The mixed workload, or any share of the benchmark's random requests, on
one or more standin binaries in turn, each run on the dataset as seeded:

    python3 bench/mixed.py BEFORE AFTER --rounds 2 --seconds 5
    python3 bench/mixed.py target/release/standin --shares filtered=90,post=5,patch=5
    python3 bench/mixed.py B B --args-after=--no-read-cache      # one binary, two settings

Each binary serves the benchmark's dataset (bench/run.py: 100 authors, 10,000
posts) as bench/run.py starts standin; each round runs every binary once, in
turns, the data reset (POST /_standin/reset) before each run, and prints
requests/s, p50 and p99 per run. Shares are percentages of item, page,
filtered, search, post and patch (bench/run.py's Traffic); the default is the
benchmark's mix. 127.0.0.1 only; every process it starts is stopped before it exits.
"""

import argparse
import os
import shlex
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the benchmark: its dataset, servers and traffic)

MIX = "item=30,page=25,filtered=20,search=15,post=5,patch=5"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binaries", nargs="+", help="standin binaries, served in turn")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each binary (default 2)")
    parser.add_argument("--seconds", type=int, default=5, help="seconds of each wrk run (default 5)")
    parser.add_argument("--shares", default=MIX, help=f"percent of each kind of request (default {MIX})")
    parser.add_argument("--args", default="", help="arguments every standin is served with")
    parser.add_argument("--args-after", default="", help="arguments added for the last binary")
    options = parser.parse_args()
    shares = {kind: int(share) for kind, share in (part.split("=") for part in options.shares.split(","))}
    traffic = run.Traffic("standin", **shares)
    with tempfile.TemporaryDirectory() as directory:
        _db_json, spec, _posts = run.dataset(directory)
        for round_ in range(options.rounds):
            for index, binary in enumerate(options.binaries):
                arguments = shlex.split(options.args)
                if index == len(options.binaries) - 1:
                    arguments += shlex.split(options.args_after)
                run.STANDIN = os.path.abspath(binary)
                server = run.standin(spec, *arguments)
                try:
                    run.get(server.url + "/_standin/reset", method="POST")
                    rate, p50, p99, errors = run.wrk(server.url + "/", options.seconds, traffic=traffic)
                finally:
                    server.stop()
                print(f"round {round_ + 1}  {binary} {' '.join(arguments)}: {rate:,.0f} req/s, "
                      f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, non-2xx {errors}", flush=True)


if __name__ == "__main__":
    main()
