#!/usr/bin/env python3
"""standin's benchmark: one command, bounded in time, 127.0.0.1 only.

    python3 bench/run.py            # full run (about 2 minutes)
    python3 bench/run.py --quick    # a few seconds per workload, for CI

It builds standin in release mode, then measures, on this machine:
  * queries at scale: a seeded collection of 100,000 posts; GET one item, a
    page of 20, a filtered + sorted page, a full-text search, POST and PATCH,
    each with wrk (2 threads, 32 connections) for a fixed duration, and
    the filtered page and the search also with a single connection (latency);
  * start-up: exec to first 200 with 100,000 generated records;
  * reset: POST /_standin/reset with 10,000 seeded records;
  * reload latency: a spec of 20 resources rewritten, until the change is served;
  * peak RSS of each server.
and prints a markdown table (also written to --out). Every process it starts
is stopped before it exits.
"""

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "standin")


def build():
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)


def posts_spec(count, extra_resources=0):
    lines = [
        "standin: 1",
        "seed: 7",
        "page_size: 20",
        "resources:",
        "  authors:",
        "    fields:",
        "      name: { type: string, required: true }",
        "    count: 100",
        "  posts:",
        "    fields:",
        "      title: { type: string, required: true, fake: title }",
        "      body: { type: string, minLength: 200, maxLength: 200 }",
        "      status: { type: string, enum: [draft, published, archived] }",
        "      views: { type: integer, minimum: 0, maximum: 100000 }",
        "      author: { ref: authors, required: true }",
        "    search: [title]",
        f"    count: {count}",
    ]
    for index in range(extra_resources):
        lines += [f"  extra{index}:", "    fields:", "      name: string", "    count: 10"]
    return "\n".join(lines) + "\n"


class Standin:
    """A release standin process on a free port."""

    def __init__(self, spec_path, *arguments):
        self.ready = spec_path + ".url"
        if os.path.exists(self.ready):
            os.remove(self.ready)
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [BINARY, "serve", spec_path, "--port", "0", "--workers", "2", "--ready-file", self.ready, *arguments],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "STANDIN_LOG": "warn"},
        )
        deadline = time.monotonic() + 120
        while not (os.path.exists(self.ready) and open(self.ready).read().endswith("\n")):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"standin did not start for {spec_path}")
            time.sleep(0.005)
        self.url = open(self.ready).read().strip()
        get(self.url + "/_standin/health")
        self.start_seconds = time.monotonic() - self.started

    def peak_rss_mib(self):
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def get(url, method="GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("accept", "application/json")
    if data is not None:
        request.add_header("content-type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read()


WRK_SCRIPTS = {
    "POST": 'wrk.method = "POST"\nwrk.body = \'{"title": "Benchmark post", "body": "%s", "author": 7}\'\n'
    'wrk.headers["Content-Type"] = "application/json"\n' % ("x" * 200),
    "PATCH": 'wrk.method = "PATCH"\nwrk.body = \'{"views": 42}\'\n'
    'wrk.headers["Content-Type"] = "application/merge-patch+json"\n',
}


def wrk(url, seconds, method="GET", connections=32):
    """Requests/s, p50 and p99 (ms), and the number of non-2xx answers."""
    threads = min(2, connections)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-H", "Accept: application/json"]
    script = None
    if method in WRK_SCRIPTS:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        script.write(WRK_SCRIPTS[method])
        script.close()
        command += ["-s", script.name]
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    if script:
        os.remove(script.name)

    def duration_ms(text):
        match = re.match(r"([\d.]+)(us|ms|s|m)$", text)
        if match is None:
            raise SystemExit(f"cannot read wrk's output:\n{output}")
        number, unit = match.groups()
        return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]

    p50 = duration_ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))
    p99 = duration_ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return rate, p50, p99, int(errors.group(1)) if errors else 0


def queries_at_scale(directory, seconds, count, db):
    spec = os.path.join(directory, "posts.yaml")
    with open(spec, "w") as file:
        file.write(posts_spec(count))
    arguments = ["--no-watch"]
    if db:
        arguments += ["--db", os.path.join(directory, "posts.db")]
    server = Standin(spec, *arguments)
    mode = "--db" if db else "memory"
    rows = []
    try:
        workloads = [
            ("GET one item", "/posts/5000", "GET"),
            ("GET a page of 20", "/posts?page=50", "GET"),
            ("filtered + sorted page", "/posts?status=published&sort=-created_at&page=50", "GET"),
            ("full-text search", "/posts?q=dolor&per_page=20", "GET"),
            ("POST a new item", "/posts", "POST"),
            ("PATCH an item", "/posts/4242", "PATCH"),
        ]
        for name, path, method in workloads:
            rate, p50, p99, errors = wrk(server.url + path, seconds, method)
            rows.append((f"{name} ({mode})", rate, p50, p99, errors))
        # Latency of one client at a time: what a user of the API waits.
        for name, path, method in workloads[2:4]:
            rate, p50, p99, errors = wrk(server.url + path, seconds, method, connections=1)
            rows.append((f"{name}, 1 connection ({mode})", rate, p50, p99, errors))
        rss = server.peak_rss_mib()
        start = server.start_seconds
    finally:
        server.stop()
    return rows, start, rss


def reset_time(directory, repeats):
    spec = os.path.join(directory, "reset.yaml")
    with open(spec, "w") as file:
        file.write(posts_spec(10_000))
    server = Standin(spec, "--no-watch")
    try:
        took = []
        for _ in range(repeats):
            get(server.url + "/posts", "POST", {"title": "x", "body": "y" * 200, "author": 1})
            started = time.monotonic()
            get(server.url + "/_standin/reset", "POST")
            took.append((time.monotonic() - started) * 1000)
    finally:
        server.stop()
    return statistics.median(took)


def reload_latency(directory, repeats):
    spec = os.path.join(directory, "reload.yaml")
    base = posts_spec(1_000, extra_resources=18)
    with open(spec, "w") as file:
        file.write(base)
    server = Standin(spec)
    try:
        took = []
        for round in range(repeats):
            resource = f"added{round}"
            temporary = spec + ".tmp"
            with open(temporary, "w") as file:
                file.write(base + f"  {resource}:\n    fields:\n      name: string\n")
            started = time.monotonic()
            os.replace(temporary, spec)
            while True:
                try:
                    get(f"{server.url}/{resource}")
                    break
                except urllib.error.HTTPError:
                    if time.monotonic() - started > 10:
                        raise SystemExit("a reload was not served within 10 s")
                    time.sleep(0.002)
            took.append((time.monotonic() - started) * 1000)
    finally:
        server.stop()
    return statistics.median(took)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a few seconds per workload (CI)")
    parser.add_argument("--out", default=None, help="also write the table to this markdown file")
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    build()
    seconds = 2 if options.quick else 8
    count = 20_000 if options.quick else 100_000
    with tempfile.TemporaryDirectory() as directory:
        memory_rows, start, memory_rss = queries_at_scale(directory, seconds, count, db=False)
        db_rows, db_start, db_rss = queries_at_scale(directory, seconds, count, db=True)
        reset_ms = reset_time(directory, 5 if options.quick else 20)
        reload_ms = reload_latency(directory, 3 if options.quick else 10)

    lines = [
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, {platform.system()} {platform.release()}; "
        f"wrk -t2 -c32 -d{seconds}s unless noted; {count:,} seeded posts.",
        "",
        "| workload | requests/s | p50 | p99 | non-2xx |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, rate, p50, p99, errors in memory_rows + db_rows:
        lines.append(f"| {name} | {rate:,.0f} | {p50:.2f} ms | {p99:.2f} ms | {errors} |")
    lines += [
        "",
        "| figure | value |",
        "|---|---:|",
        f"| start-up, exec to ready, {count:,} generated posts (memory) | {start * 1000:,.0f} ms |",
        f"| start-up, exec to ready, {count:,} generated posts (--db, first run) | {db_start * 1000:,.0f} ms |",
        f"| peak RSS, memory mode | {memory_rss:,.0f} MiB |",
        f"| peak RSS, --db | {db_rss:,.0f} MiB |",
        f"| reset of 10,000 seeded records (median) | {reset_ms:.1f} ms |",
        f"| reload latency, 20 resources, write to served (median) | {reload_ms:.0f} ms |",
    ]
    table = "\n".join(lines)
    print(table)
    if options.out:
        with open(options.out, "w") as file:
            file.write(table + "\n")


if __name__ == "__main__":
    sys.exit(main())
