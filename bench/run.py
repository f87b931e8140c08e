#!/usr/bin/env python3
"""standin's benchmark: one command, bounded in time, 127.0.0.1 only.

    python3 bench/run.py            # full run (about 25 minutes, every system)
    python3 bench/run.py --quick    # a few seconds per workload (CI)
    python3 bench/run.py --out docs/benchmark-latest.md
    python3 bench/run.py --openapi  # only standin and the OpenAPI document

On this machine and in one run it:
  1. installs json-server 0.17.4 and Prism's CLI from npm into a scratch
     folder (Prism, stateless, mocks the GET item and page cases from the
     OpenAPI document standin exports; it is left out where it does not
     install), and builds standin and the framework's ceiling (bench/ceiling:
     actix-web answering standin's own bytes from memory) in release mode;
     wrk is the load generator (apt-get install wrk);
  2. generates one dataset (100 authors, 10,000 posts with a 200-character
     body) as a json-server db.json and as a standin spec with `records`,
     with identical content;
  3. runs each workload against json-server, Prism, standin in memory,
     standin with --db, standin serving the db.json, standin serving an
     OpenAPI document of the same posts (loaded with the same 10,000 through
     its API) and the ceiling, alternating, each for a fixed time with
     wrk -t2 -c32: GET one item, GET a page of 20, a filtered + sorted page,
     a full-text search, POST, PATCH; then distinct URLs drawn at random
     (items, pages, filtered pages, searches with varied words) and a mix of
     them with 10% writes (POST and PATCH), in each system's dialect; and
     each kind of random read with 10% writes, POSTs and PATCHes, and with
     10% PATCHes alone (as issue 15 measured them), against the same reads
     alone;
  4. measures start-up (20 resources x 10,000 generated records), start-up
     (median of 3) and peak RSS with 1,000,000 records (memory and --db),
     reset of 10,000 records, reload
     latency, and the filtered page and search at 100,000 records;
  5. prints markdown tables with requests/s, p50, p99, peak RSS and the
     ratios standin/json-server, standin OpenAPI/standin and standin/ceiling.
Every process it starts is stopped before it exits.
"""

import argparse
import glob
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STANDIN = os.path.join(ROOT, "target", "release", "standin")
CEILING = os.path.join(ROOT, "target", "release", "standin-ceiling")
JSON_SERVER_VERSION = "0.17.4"
PRISM_PACKAGE = "@stoplight/prism-cli@5"
WORDS = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore "
    "et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip "
    "ex ea commodo consequat duis aute irure in reprehenderit voluptate velit esse cillum fugiat nulla"
).split()


def build(ceiling=True):
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    if not ceiling:
        return
    subprocess.run(
        ["cargo", "build", "--release", "--quiet"],
        cwd=os.path.join(ROOT, "bench", "ceiling"),
        env={**os.environ, "CARGO_TARGET_DIR": os.path.join(ROOT, "target")},
        check=True,
    )


def install_json_server(directory):
    subprocess.run(
        ["npm", "install", "--silent", "--no-audit", "--no-fund", f"json-server@{JSON_SERVER_VERSION}"],
        cwd=directory,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return os.path.join(directory, "node_modules", ".bin", "json-server")


def install_prism(directory):
    """Prism's CLI, or None (with a note) where it does not install."""
    try:
        subprocess.run(
            ["npm", "install", "--silent", "--no-audit", "--no-fund", PRISM_PACKAGE],
            cwd=directory,
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=300,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        print(f"Prism is left out: {PRISM_PACKAGE} did not install ({error})", file=sys.stderr)
        return None
    return os.path.join(directory, "node_modules", ".bin", "prism")


def prism_version(directory):
    with open(os.path.join(directory, "node_modules", "@stoplight", "prism-cli", "package.json")) as file:
        return json.load(file)["version"]


def stamp(index):
    """The timestamps standin gives its index-th seeded record."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(1_735_689_600 + 60 * index))


def dataset(directory):
    """The same data as a json-server db.json and a standin spec with records."""
    rng = random.Random(2024)
    authors = [{"name": f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()}"} for _ in range(100)]
    posts = []
    for _ in range(10_000):
        body = " ".join(rng.choice(WORDS) for _ in range(60))[:200].ljust(200, ".")
        posts.append({
            "title": " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6))),
            "body": body,
            "status": rng.choice(["draft", "published", "archived"]),
            "views": rng.randint(0, 100_000),
            "author": rng.randint(1, 100),
        })
    database = {
        "authors": [{"id": i + 1, **a, "created_at": stamp(i), "updated_at": stamp(i)} for i, a in enumerate(authors)],
        "posts": [{"id": i + 1, **p, "created_at": stamp(i), "updated_at": stamp(i)} for i, p in enumerate(posts)],
    }
    db_json = os.path.join(directory, "db.json")
    with open(db_json, "w") as file:
        json.dump(database, file)
    spec = {
        "standin": 1,
        "title": "Benchmark",
        "page_size": 20,
        "defaults": {"accept": "application/json"},
        "resources": {
            "authors": {"fields": {"name": {"type": "string", "required": True}}, "records": authors},
            "posts": {
                "fields": {
                    "title": {"type": "string", "required": True},
                    "body": "string",
                    "status": {"type": "string", "enum": ["draft", "published", "archived"]},
                    "views": {"type": "integer", "minimum": 0},
                    "author": {"ref": "authors", "required": True},
                },
                "search": ["title"],
                "records": posts,
            },
        },
    }
    spec_json = os.path.join(directory, "bench.json")
    with open(spec_json, "w") as file:
        json.dump(spec, file)
    return db_json, spec_json, database["posts"]


def openapi_document(directory):
    """An OpenAPI 3 document describing the spec's posts as a hand-written
    document would: page/per_page, an equality filter on status, sort (the
    timestamps are the document's createdAt/updatedAt: created_at is
    standin's own name, not a field of a document), no search (standin does
    not infer one from a document)."""
    post = {
        "type": "object",
        "required": ["title", "author"],
        "properties": {
            "id": {"type": "integer", "minimum": 1},
            "title": {"type": "string"},
            "body": {"type": "string"},
            "status": {"type": "string", "enum": ["draft", "published", "archived"]},
            "views": {"type": "integer", "minimum": 0},
            "author": {"type": "integer", "minimum": 1},
            "createdAt": {"type": "string", "format": "date-time"},
            "updatedAt": {"type": "string", "format": "date-time"},
        },
    }
    changes = {key: value for key, value in post.items() if key != "required"}
    problem = {"description": "refused", "content": {"application/problem+json": {"schema": {"type": "object"}}}}
    one = {"description": "a post", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Post"}}}}
    integer = {"type": "integer", "minimum": 1}
    document = {
        "openapi": "3.0.3",
        "info": {"title": "Benchmark", "version": "1"},
        "paths": {
            "/posts": {
                "get": {
                    "operationId": "listPosts",
                    "parameters": [
                        {"name": "page", "in": "query", "schema": integer},
                        {"name": "per_page", "in": "query", "schema": {**integer, "maximum": 100, "default": 20}},
                        {"name": "status", "in": "query", "schema": post["properties"]["status"]},
                        {"name": "sort", "in": "query", "schema": {"type": "string"}},
                    ],
                    "responses": {
                        "200": {
                            "description": "a page of posts",
                            "content": {"application/json": {"schema": {
                                "type": "array", "items": {"$ref": "#/components/schemas/Post"}}}},
                        },
                        "400": problem,
                    },
                },
                "post": {
                    "operationId": "createPost",
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Post"}}}},
                    "responses": {"201": one, "400": problem},
                },
            },
            "/posts/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": integer}],
                "get": {"operationId": "getPost", "responses": {"200": one, "404": problem}},
                "patch": {
                    "operationId": "updatePost",
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/PostChanges"}}}},
                    "responses": {"200": one, "400": problem, "404": problem},
                },
                "delete": {"operationId": "deletePost", "responses": {"204": {"description": "deleted"}, "404": problem}},
            },
        },
        "components": {"schemas": {"Post": post, "PostChanges": changes}},
    }
    path = os.path.join(directory, "posts-openapi.json")
    with open(path, "w") as file:
        json.dump(document, file)
    return path


def load_posts(url, posts):
    """Replaces the document's generated posts with the dataset's, through
    the API itself (its DELETE and POST, on one keep-alive connection)."""
    import http.client

    address = urllib.parse.urlparse(url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
    headers = {"content-type": "application/json", "accept": "application/json"}

    def call(method, path, body=None):
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        text = response.read()
        return response.status, text

    status, text = call("GET", "/posts?per_page=100")
    if status != 200:
        raise SystemExit(f"the OpenAPI document's posts did not list: {status} {text[:300]!r}")
    for record in json.loads(text):
        status, text = call("DELETE", f"/posts/{record['id']}")
        if status != 204:
            raise SystemExit(f"DELETE /posts/{record['id']}: {status} {text[:300]!r}")
    for post in posts:
        body = {key: value for key, value in post.items() if key not in ("created_at", "updated_at")}
        body["createdAt"], body["updatedAt"] = post["created_at"], post["updated_at"]
        status, text = call("POST", "/posts", body)
        if status != 201 or json.loads(text)["id"] != post["id"]:
            raise SystemExit(f"POST /posts (post {post['id']}): {status} {text[:300]!r}")
    connection.close()


def generated_spec(count, resources=1):
    lines = ["standin: 1", "seed: 7", "page_size: 20", "resources:"]
    lines += [
        "  authors:",
        "    fields:",
        "      name: { type: string, required: true }",
        "    count: 100",
    ]
    for index in range(resources):
        name = "posts" if index == 0 else f"posts{index}"
        lines += [
            f"  {name}:",
            "    fields:",
            "      title: { type: string, required: true, fake: title }",
            "      body: { type: string, minLength: 200, maxLength: 200 }",
            "      status: { type: string, enum: [draft, published, archived] }",
            "      views: { type: integer, minimum: 0, maximum: 100000 }",
            "      author: { ref: authors, required: true }",
            "    search: [title]",
            f"    count: {count}",
        ]
    return "\n".join(lines) + "\n"


def get(url, method="GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("accept", "application/json")
    if data is not None:
        request.add_header("content-type", "application/json")
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, response.read()


def free_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Process:
    """A server process; `url` once it answers."""

    def __init__(self, command, url=None, ready_file=None, health="/", env=None, patience=300):
        self.started = time.monotonic()
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            command, stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
        deadline = time.monotonic() + patience
        while True:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"{command[0]} did not start:\n{self.last_words()}")
            if ready_file and os.path.exists(ready_file) and open(ready_file).read().endswith("\n"):
                url = open(ready_file).read().strip()
            if url:
                try:
                    get(url + health)
                    break
                except (urllib.error.URLError, ConnectionError):
                    pass
            time.sleep(0.005)
        self.url = url
        self.start_seconds = time.monotonic() - self.started

    def last_words(self):
        """The end of what the process wrote to stderr."""
        self.log.seek(0)
        return self.log.read()[-2000:].decode(errors="replace")

    def peak_rss_mib(self):
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def exited(self, grace=0.0):
        """Whether the process has ended, waiting up to `grace` seconds for one that is ending."""
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            return False
        return True

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


WORKERS = 2


def standin(spec, *arguments, env=None):
    ready = spec + f".{time.monotonic_ns()}.url"
    command = [STANDIN, "serve", spec, "--port", "0", "--workers", str(WORKERS), "--no-watch", "--ready-file", ready, *arguments]
    server = Process(command, ready_file=ready, health="/_standin/health", env={"STANDIN_LOG": "warn", **(env or {})})
    os.remove(ready)
    return server


WRK_SCRIPTS = {
    "POST": 'wrk.method = "POST"\nwrk.body = \'{"title": "Benchmark post", "body": "%s", "status": "draft", "views": 0, "author": 7}\'\n'
    'wrk.headers["Content-Type"] = "application/json"\n' % ("x" * 200),
    "PATCH": 'wrk.method = "PATCH"\nwrk.body = \'{"views": 42}\'\n'
    'wrk.headers["Content-Type"] = "application/json"\n',
}


class Traffic:
    """Requests to distinct URLs, drawn at random by wrk in one system's
    dialect ("standin", "json-server", or "openapi": the benchmark's OpenAPI
    document's parameters, as standin's but for createdAt): the share of each kind of request
    in percent, out of item (one random post), page (a random page of 20),
    filtered (a filtered, sorted random page), search (a varied word), post
    and patch (of a random post)."""

    def __init__(self, dialect, **shares):
        assert sum(shares.values()) == 100, shares
        self.dialect, self.shares = dialect, shares

    def script(self, base):
        """The wrk Lua script, for an API at the path `base`."""
        standin = self.dialect in ("standin", "openapi")
        page = "page=%d&per_page=20" if standin else "_page=%d&_limit=20"
        sort = {"standin": "sort=-created_at", "openapi": "sort=-createdAt"}.get(
            self.dialect, "_sort=created_at&_order=desc")
        kinds = {
            "item": f'get(base .. "/posts/" .. math.random(10000))',
            "page": f'get(base .. string.format("/posts?{page}", math.random(500)))',
            "filtered": f'get(base .. string.format("/posts?status=%s&{sort}&{page}", '
            'statuses[math.random(3)], math.random(150)))',
            "search": f'get(base .. "/posts?q=" .. words[math.random(#words)] .. "&{"per_page" if standin else "_limit"}=20")',
            "post": 'write("POST", base .. "/posts", post_body)',
            "patch": 'write("PATCH", base .. "/posts/" .. math.random(10000), '
            "string.format('{\"views\": %d}', math.random(100000)))",
        }
        branches, threshold = [], 0
        for kind, share in self.shares.items():
            threshold += share
            branches.append(f"  if draw <= {threshold} then return {kinds[kind]} end")
        words = ", ".join(f'"{word}"' for word in WORDS)
        body = '{"title": "Benchmark post", "body": "%s", "status": "draft", "views": 0, "author": 7}' % ("x" * 200)
        return "\n".join([
            "local threads = 0",
            "function setup(thread) threads = threads + 1; thread:set(\"number\", threads) end",
            "function init(args) math.randomseed(os.time() * 100 + (number or 0)) end",
            f'local base = "{base}"',
            f"local words = {{{words}}}",
            'local statuses = {"draft", "published", "archived"}',
            f"local post_body = '{body}'",
            'local reading = {Accept = "application/json"}',
            'local writing = {Accept = "application/json", ["Content-Type"] = "application/json"}',
            "local function get(path) return wrk.format(\"GET\", path, reading) end",
            "local function write(method, path, body) return wrk.format(method, path, writing, body) end",
            "function request()",
            "  local draw = math.random(100)",
            *branches,
            "end",
            "",
        ])


def wrk(url, seconds, method="GET", connections=32, traffic=None):
    """Requests/s, p50 and p99 (ms), and the number of non-2xx answers, in
    the steady state: one request first warms the server up (for standin,
    the first query of a shape creates the index that serves it). With
    `traffic`, wrk draws each request's URL (and method) as it says."""
    if method == "GET" and traffic is None:
        try:
            get(url)
        except urllib.error.URLError:
            pass
    threads = min(2, connections)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-H", "Accept: application/json"]
    script = None
    text = traffic.script(urllib.parse.urlparse(url).path.rstrip("/")) if traffic else WRK_SCRIPTS.get(method)
    if text:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        script.write(text)
        script.close()
        command += ["-s", script.name]
    finished = subprocess.run(command + [url], capture_output=True, text=True)
    if finished.returncode != 0:
        raise SystemExit(f"wrk failed on {method} {url}:\n{finished.stdout}{finished.stderr}")
    output = finished.stdout
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


# (workload, standin path, json-server path, ceiling path, Prism path,
# OpenAPI document path, method); None where a system has no such request.
WORKLOADS = [
    ("GET one item", "/posts/5000", "/posts/5000", "/item", "/posts/5000", "/posts/5000", "GET"),
    ("GET a page of 20", "/posts?page=50&per_page=20", "/posts?_page=50&_limit=20", "/page",
     "/posts?page=50&per_page=20", "/posts?page=50&per_page=20", "GET"),
    # Deep in the collection: standin reads it from its first id, not by stepping over 7,980 records.
    ("GET page 400 of 20", "/posts?page=400&per_page=20", "/posts?_page=400&_limit=20", None,
     "/posts?page=400&per_page=20", "/posts?page=400&per_page=20", "GET"),
    ("filtered + sorted page", "/posts?status=published&sort=-created_at&page=50&per_page=20",
     "/posts?status=published&_sort=created_at&_order=desc&_page=50&_limit=20", None, None,
     "/posts?status=published&sort=-createdAt&page=50&per_page=20", "GET"),
    # A document declares no search standin serves.
    ("full-text search", "/posts?q=dolor&per_page=20", "/posts?q=dolor&_limit=20", None, None, None, "GET"),
    ("POST a new item", "/posts", "/posts", None, None, "/posts", "POST"),
    ("PATCH an item", "/posts/4242", "/posts/4242", None, None, "/posts/4242", "PATCH"),
    # Distinct URLs, as a test suite or a front end reads: the read cache
    # rarely answers these, and writes empty it.
    ("random items", Traffic("standin", item=100), Traffic("json-server", item=100), None, None,
     Traffic("openapi", item=100), "GET"),
    ("random pages of 20", Traffic("standin", page=100), Traffic("json-server", page=100), None, None,
     Traffic("openapi", page=100), "GET"),
    ("random filtered + sorted pages", Traffic("standin", filtered=100), Traffic("json-server", filtered=100),
     None, None, Traffic("openapi", filtered=100), "GET"),
    ("random searches", Traffic("standin", search=100), Traffic("json-server", search=100), None, None, None, "GET"),
    # Each kind of read with 10% writes (5% POSTs, 5% PATCHes of random
    # posts): against the same reads alone, what writes between reads cost.
    *[
        (f"{name}, 10% writes", Traffic("standin", **{kind: 90, "post": 5, "patch": 5}),
         Traffic("json-server", **{kind: 90, "post": 5, "patch": 5}), None, None, None, "MIXED")
        for name, kind in [("random items", "item"), ("random pages of 20", "page"),
                           ("random filtered + sorted pages", "filtered"), ("random searches", "search")]
    ],
    # The same with the writes issue 15 measured "with 10% writes" by:
    # PATCHes of random posts, no POSTs (a POST makes a draft, first in
    # every drafts' page sorted by -created_at, so every such page moves).
    *[
        (f"{name}, 10% PATCHes", Traffic("standin", **{kind: 90, "patch": 10}),
         Traffic("json-server", **{kind: 90, "patch": 10}), None, None, None, "MIXED")
        for name, kind in [("random items", "item"), ("random pages of 20", "page"),
                           ("random filtered + sorted pages", "filtered"), ("random searches", "search")]
    ],
    # Its searches leave the OpenAPI document out of the mix.
    ("mixed: random reads, 10% writes",
     Traffic("standin", item=30, page=25, filtered=20, search=15, post=5, patch=5),
     Traffic("json-server", item=30, page=25, filtered=20, search=15, post=5, patch=5), None, None, None, "MIXED"),
]


def reset_to_dataset(systems):
    """Puts every standin system back to the dataset before a workload, so
    that each workload reads the same 10,000 posts whatever the writes of the
    workloads before it added (POST adds tens of thousands). The OpenAPI
    system is left as it is (its reset would bring back the document's
    generated records, not the dataset loaded through its API); json-server
    has no reset, and its writes before the mix add a few hundred posts."""
    for system, server in systems.items():
        if system.startswith("standin") and system != "standin, OpenAPI" or "no read" in system:
            try:
                get(server.url + "/_standin/reset", method="POST")
            except (urllib.error.URLError, ConnectionError) as failure:
                print(f"{system}: reset failed: {failure}", file=sys.stderr)


def comparison(directory, seconds, json_server_bin, prism_bin, only=None):
    db_json, spec_json, posts = dataset(directory)
    systems = {}
    results = {}
    wanted = lambda system: only is None or system in only
    port = free_port()
    if wanted("json-server"):
        systems["json-server"] = Process(
            [json_server_bin, "--watch", db_json, "--port", str(port), "--quiet"], url=f"http://127.0.0.1:{port}", health="/posts/1"
        )
    if prism_bin and wanted("Prism"):
        openapi = os.path.join(directory, "openapi.json")
        with open(openapi, "w") as file:
            subprocess.run([STANDIN, "openapi", spec_json], stdout=file, check=True)
        port = free_port()
        try:
            systems["Prism"] = Process(
                [prism_bin, "mock", "-h", "127.0.0.1", "-p", str(port), openapi],
                url=f"http://127.0.0.1:{port}",
                health="/posts/1",
                patience=60,
            )
        except SystemExit as failure:
            print(f"Prism is left out: {failure}", file=sys.stderr)
    systems["standin"] = standin(spec_json)
    if wanted("standin --db"):
        systems["standin --db"] = standin(spec_json, "--db", os.path.join(directory, "bench.db"))
    if wanted("standin, no read cache"):
        systems["standin, no read cache"] = standin(spec_json, "--no-read-cache")
    # Every read on the writer's thread, as before reading connections
    # (STANDIN_READERS=0): only when asked for by --systems.
    no_readers = {"STANDIN_READERS": "0"}
    if only is not None and "standin, no readers" in only:
        systems["standin, no readers"] = standin(spec_json, env=no_readers)
    if only is not None and "standin --db, no readers" in only:
        systems["standin --db, no readers"] = standin(
            spec_json, "--db", os.path.join(directory, "bench-no-readers.db"), env=no_readers)
    if only is not None and "no read cache, no readers" in only:
        systems["no read cache, no readers"] = standin(spec_json, "--no-read-cache", env=no_readers)
    # The same db.json json-server serves, served by standin in json-server's
    # dialect (a copy: each writes its changes back to its own file).
    if wanted("standin, db.json"):
        db_json_copy = os.path.join(directory, "standin-db.json")
        shutil.copyfile(db_json, db_json_copy)
        systems["standin, db.json"] = standin(db_json_copy)
    # An OpenAPI document describing the same posts, holding the same 10,000
    # (a document's resources start with 10 generated records: these are
    # deleted and the dataset's created through the API, ids and all).
    if wanted("standin, OpenAPI"):
        systems["standin, OpenAPI"] = standin(openapi_document(directory))
        load_posts(systems["standin, OpenAPI"].url, posts)
    item = get(systems["standin"].url + "/posts/5000")[1]
    page = get(systems["standin"].url + "/posts?page=50&per_page=20")[1]
    item_file, page_file = os.path.join(directory, "item.json"), os.path.join(directory, "page.json")
    open(item_file, "wb").write(item)
    open(page_file, "wb").write(page)
    port = free_port()
    if wanted("ceiling"):
        systems["ceiling"] = Process([CEILING, str(port), item_file, page_file], url=f"http://127.0.0.1:{port}", health="/item")
    if only is not None:
        systems = {name: server for name, server in systems.items() if name in only or server.stop()}
    rss = {}
    exits = []
    try:
        for name, standin_path, json_server_path, ceiling_path, prism_path, openapi_path, method in WORKLOADS:
            reset_to_dataset(systems)
            runs = []
            for system, server in systems.items():
                path = {
                    "json-server": json_server_path,
                    "standin, db.json": json_server_path,
                    "ceiling": ceiling_path,
                    "Prism": prism_path,
                    "standin, OpenAPI": openapi_path,
                }.get(
                    system, standin_path
                )
                if path is None or ("no read cache" in system and method not in ("GET", "MIXED")):
                    continue
                if isinstance(path, Traffic):
                    runs.append((system, server.url + "/", path))
                else:
                    runs.append((system, server.url + path, None))
            # Each system runs twice for half the time, in order and then in
            # reverse, so that a slow spell of the machine weighs on all alike.
            halves = {}
            for system, url, traffic in runs + runs[::-1]:
                server = systems[system]
                if server.exited():
                    continue
                for attempt in range(3):
                    try:
                        halves.setdefault(system, []).append(
                            wrk(url, max(1, seconds // 2), method, traffic=traffic)
                        )
                        break
                    except SystemExit as failure:
                        if server.exited(grace=2.0):
                            exits.append(f"{system} exited (status {server.process.returncode}) during {name}")
                            break
                        # json-server --watch restarts its listener when db.json
                        # changes, refusing connections for a moment.
                        if attempt == 2:
                            raise SystemExit(f"{failure}\n{system} said:\n{server.last_words()}") from None
                        time.sleep(1)
            for system, server in systems.items():
                if not server.exited():
                    rss[system] = max(rss.get(system, 0.0), server.peak_rss_mib())
            for system, measured in halves.items():
                if not measured:
                    continue
                results[(name, system)] = (
                    statistics.mean(rate for rate, *_ in measured),
                    statistics.mean(p50 for _, p50, _, _ in measured),
                    max(p99 for *_, p99, _ in measured),
                    sum(errors for *_, errors in measured),
                )
    finally:
        for server in systems.values():
            server.stop()
    return results, rss, exits


def scale(directory, seconds, quick):
    figures = []
    count = 1_000 if quick else 10_000
    spec = os.path.join(directory, "startup.yaml")
    open(spec, "w").write(generated_spec(count, resources=20))
    took = []
    for _ in range(1 if quick else 5):
        server = standin(spec)
        took.append(server.start_seconds * 1000)
        server.stop()
    figures.append(
        (f"start-up, exec to first 200: 20 resources x {count:,} generated records (median)", f"{statistics.median(took):,.0f} ms")
    )

    records = 100_000 if quick else 1_000_000
    for mode, arguments in [("memory", []), ("--db", ["--db", os.path.join(directory, "million.db")])]:
        spec = os.path.join(directory, f"million-{mode.strip('-')}.yaml")
        open(spec, "w").write(generated_spec(records))
        # A median of three: one run on a shared machine says little.
        took, peaks = [], []
        for _ in range(1 if quick else 3):
            # Each --db run seeds a new file.
            for stale in glob.glob(os.path.join(directory, "million.db*")):
                os.remove(stale)
            server = standin(spec, *arguments)
            took.append(server.start_seconds)
            peaks.append(server.peak_rss_mib())
            server.stop()
        figures.append((f"peak RSS with {records:,} records ({mode}, highest)", f"{max(peaks):,.0f} MiB"))
        figures.append((f"start-up with {records:,} generated records ({mode}, median)", f"{statistics.median(took):,.1f} s"))

    spec = os.path.join(directory, "reset.yaml")
    open(spec, "w").write(generated_spec(10_000))
    server = standin(spec)
    took = []
    try:
        for _ in range(5 if quick else 20):
            get(server.url + "/posts", "POST", {"title": "x", "body": "y" * 200, "author": 1})
            started = time.monotonic()
            get(server.url + "/_standin/reset", "POST")
            took.append((time.monotonic() - started) * 1000)
    finally:
        server.stop()
    figures.append(("reset of 10,000 seeded records (median)", f"{statistics.median(took):.1f} ms"))

    spec = os.path.join(directory, "reload.yaml")
    base = generated_spec(1_000, resources=19)
    open(spec, "w").write(base)
    ready = spec + ".url"
    server = Process([STANDIN, "serve", spec, "--port", "0", "--workers", "2", "--ready-file", ready],
                     ready_file=ready, health="/_standin/health", env={"STANDIN_LOG": "warn"})
    took = []
    try:
        for round in range(3 if quick else 10):
            resource = f"added{round}"
            temporary = spec + ".tmp"
            open(temporary, "w").write(base + f"  {resource}:\n    fields:\n      name: string\n")
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
    figures.append(("reload latency, 20 resources, write to served (median)", f"{statistics.median(took):.0f} ms"))

    big = 20_000 if quick else 100_000
    spec = os.path.join(directory, "big.yaml")
    open(spec, "w").write(generated_spec(big))
    rows = []
    modes = [
        ("memory", []),
        ("--db", ["--db", os.path.join(directory, "big.db")]),
        ("memory, no read cache", ["--no-read-cache"]),
    ]
    for mode, arguments in modes:
        server = standin(spec, *arguments)
        try:
            for name, path in [
                ("filtered + sorted page", "/posts?status=published&sort=-created_at&page=50"),
                ("full-text search", "/posts?q=dolor&per_page=20"),
            ]:
                rate, p50, p99, errors = wrk(server.url + path, seconds)
                rows.append((f"{name}, {big:,} posts ({mode})", rate, p50, p99, errors))
                rate, p50, p99, errors = wrk(server.url + path, seconds, connections=1)
                rows.append((f"{name}, {big:,} posts, 1 connection ({mode})", rate, p50, p99, errors))
        finally:
            server.stop()
    return figures, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a few seconds per workload, smaller data (CI)")
    parser.add_argument("--out", default=None, help="also write the tables to this markdown file")
    parser.add_argument("--workers", type=int, default=2, help="standin's --workers (default 2)")
    parser.add_argument("--systems", default=None,
                        help="only these systems, separated by ';' (e.g. 'standin;standin --db;ceiling'); "
                        "'standin, no readers', 'standin --db, no readers' and 'no read cache, no readers' "
                        "(STANDIN_READERS=0) run only when named here")
    parser.add_argument("--no-scale", action="store_true", help="leave out the figures at scale (start-up, RSS, ...)")
    parser.add_argument(
        "--openapi",
        action="store_true",
        help="short for --systems 'standin;standin, no read cache;standin, OpenAPI' --no-scale",
    )
    options = parser.parse_args()
    if options.openapi:
        options.systems, options.no_scale = "standin;standin, no read cache;standin, OpenAPI", True
    global WORKERS
    WORKERS = options.workers
    only = None if options.systems is None else {name.strip() for name in options.systems.split(";")}
    wanted = lambda system: only is None or system in only
    needs_npm = wanted("json-server") or wanted("Prism")
    for tool in ["wrk", "npm", "cargo"] if needs_npm else ["wrk", "cargo"]:
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed (wrk: apt-get install wrk)")
    started = time.monotonic()
    build(ceiling=wanted("ceiling"))
    seconds = 2 if options.quick else 6
    with tempfile.TemporaryDirectory() as directory:
        json_server_bin = install_json_server(directory) if wanted("json-server") else None
        prism_bin = install_prism(directory) if wanted("Prism") else None
        prism = f"Prism {prism_version(directory)}" if prism_bin else "Prism: not installed"
        results, rss, exits = comparison(directory, seconds, json_server_bin, prism_bin, only)
        figures, rows = ([], []) if options.no_scale else scale(directory, seconds, options.quick)

    systems = [
        "json-server", "Prism", "standin", "standin, no readers", "standin --db", "standin --db, no readers",
        "standin, no read cache", "no read cache, no readers", "standin, db.json", "standin, OpenAPI", "ceiling",
    ]
    lines = [
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, {platform.system()} {platform.release()}; "
        f"wrk -t2 -c32, twice -d{max(1, seconds // 2)}s per system and workload; standin --workers {WORKERS}; json-server {JSON_SERVER_VERSION}; "
        f"{prism}; 10,000 posts, 100 authors.",
        "",
        "| workload | system | requests/s | p50 | p99 | non-2xx |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name, *_ in WORKLOADS:
        for system in systems:
            if (name, system) in results:
                rate, p50, p99, errors = results[(name, system)]
                lines.append(f"| {name} | {system} | {rate:,.0f} | {p50:.2f} ms | {p99:.2f} ms | {errors} |")
    if exits:
        lines += [""] + [f"{exit}; its figures there are from the runs it finished." for exit in exits]
    lines += [
        "",
        "| workload | standin / json-server | standin --db / json-server | no read cache / json-server | standin db.json / json-server | standin OpenAPI / standin | standin OpenAPI / no read cache | standin / Prism | standin / ceiling | no read cache / ceiling |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    def ratio(name, system, over, percent=False):
        mine, theirs = results.get((name, system)), results.get((name, over))
        if not mine or not theirs:
            return "—"
        if not theirs[0]:
            # None of its requests finished in the time (json-server's search
            # over 10,000 posts in --quick's two seconds): no ratio to give.
            return "∞"
        return f"{mine[0] / theirs[0] * 100:.0f}%" if percent else f"{mine[0] / theirs[0]:,.1f}x"

    for name, *_ in WORKLOADS:
        cells = [
            ratio(name, "standin", "json-server"),
            ratio(name, "standin --db", "json-server"),
            ratio(name, "standin, no read cache", "json-server"),
            ratio(name, "standin, db.json", "json-server"),
            ratio(name, "standin, OpenAPI", "standin", percent=True),
            ratio(name, "standin, OpenAPI", "standin, no read cache", percent=True),
            ratio(name, "standin", "Prism"),
            ratio(name, "standin", "ceiling", percent=True),
            ratio(name, "standin, no read cache", "ceiling", percent=True),
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    # What writes between reads cost: each read with 10% writes against the same reads alone.
    names = [name for name, *_ in WORKLOADS]
    for suffix, writes in [(", 10% writes", "10% writes (POSTs and PATCHes)"), (", 10% PATCHes", "10% PATCHes")]:
        pairs = [(name.removesuffix(suffix), name) for name in names
                 if name.endswith(suffix) and name.removesuffix(suffix) in names]
        measured = [system for system in systems
                    if any((name, system) in results and (alone, system) in results for alone, name in pairs)]
        if not measured:
            continue
        lines += [
            "",
            f"| reads: with {writes} / without | " + " | ".join(measured) + " |",
            "|---|" + "---:|" * len(measured),
        ]
        for alone, name in pairs:
            cells = []
            for system in measured:
                mine, theirs = results.get((name, system)), results.get((alone, system))
                cells.append(f"{mine[0] / theirs[0] * 100:.0f}%" if mine and theirs and theirs[0] else "—")
            lines.append(f"| {alone} | " + " | ".join(cells) + " |")
    lines += ["", "| system | peak RSS |", "|---|---:|"]
    lines += [f"| {system} | {rss[system]:,.0f} MiB |" for system in systems if system in rss]
    lines += ["", "| workload at scale | requests/s | p50 | p99 | non-2xx |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {name} | {rate:,.0f} | {p50:.2f} ms | {p99:.2f} ms | {errors} |" for name, rate, p50, p99, errors in rows]
    lines += ["", "| figure | value |", "|---|---:|"]
    lines += [f"| {name} | {value} |" for name, value in figures]
    lines += ["", f"Whole run: {time.monotonic() - started:.0f} s."]
    table = "\n".join(lines)
    print(table)
    if options.out:
        with open(options.out, "w") as file:
            file.write(table + "\n")


if __name__ == "__main__":
    sys.exit(main())
