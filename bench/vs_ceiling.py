#!/usr/bin/env python3
"""standin's uncached item and page against the ceiling, in alternating rounds.

    python3 bench/vs_ceiling.py ROUNDS [-- STANDIN ARGUMENTS]
    python3 bench/vs_ceiling.py 6                      # --no-read-cache by default
    python3 bench/vs_ceiling.py 6 -- --db /tmp/c.db    # other arguments instead

The ceiling (bench/ceiling: actix-web answering standin's own bytes from
memory) moves by a fifth from one 3-second run to the next on a shared
2-core machine, so the ratio of one run of bench/run.py says little about a
target set near it. This serves the benchmark's dataset (bench/run.py: 100
authors, 10,000 posts) with standin and the ceiling side by side, then for
each of GET /posts/5000 and GET a page of 20 runs wrk (-t2 -c32, 3 s) on
standin and on the ceiling in turn, ROUNDS times, and prints each round's
ratio and their median and range. It builds both in release mode first.
127.0.0.1 only; every server it starts is stopped before it exits.
"""

import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the benchmark: its dataset, servers and wrk)

READS = [("item", "/posts/5000", "/item"), ("page of 20", "/posts?page=50&per_page=20", "/page")]


def main():
    arguments = sys.argv[1:]
    extra = ["--no-read-cache"]
    if "--" in arguments:
        extra = arguments[arguments.index("--") + 1:]
        arguments = arguments[:arguments.index("--")]
    if len(arguments) != 1:
        raise SystemExit(__doc__)
    rounds = int(arguments[0])
    run.build(ceiling=True)
    with tempfile.TemporaryDirectory() as directory:
        _db_json, spec, _posts = run.dataset(directory)
        server = run.standin(spec, *extra)
        ceiling = None
        try:
            answers = []
            for kind, path, _ in READS:
                answer = os.path.join(directory, kind.split()[0] + ".json")
                open(answer, "wb").write(run.get(server.url + path)[1])
                answers.append(answer)
            port = run.free_port()
            ceiling = run.Process([run.CEILING, str(port), *answers], url=f"http://127.0.0.1:{port}", health="/item")
            for kind, path, ceiling_path in READS:
                ratios = []
                for number in range(rounds):
                    rate = run.wrk(server.url + path, 3)[0]
                    ceiling_rate = run.wrk(ceiling.url + ceiling_path, 3)[0]
                    ratios.append(rate / ceiling_rate)
                    print(f"{kind}, round {number + 1}: standin {rate:,.0f} req/s, ceiling {ceiling_rate:,.0f}, "
                          f"{rate / ceiling_rate:.0%}", flush=True)
                print(f"{kind}: median {statistics.median(ratios):.0%} of the ceiling "
                      f"({min(ratios):.0%} to {max(ratios):.0%})", flush=True)
        finally:
            server.stop()
            if ceiling is not None:
                ceiling.stop()


if __name__ == "__main__":
    main()
