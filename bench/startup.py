#!/usr/bin/env python3
"""Start-up benchmark: time from process start to the first `/readyz` 200, and idle memory.

Usage: cargo build --release && python3 bench/startup.py [--runs N] [--pg postgres://USER@HOST:PORT/ADMIN_DB]

For each backend it starts `target/release/vorgang serve` N times on a free port and polls
`/readyz` every 2 ms. "cold" starts use an empty database (migrations run, the shipped workflows are
deployed); "warm" starts reuse a migrated one. Resident memory (VmRSS) is read from /proc after two idle seconds.
Only loopback addresses are contacted.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "vorgang")


def start(env, cwd):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("VORGANG_")}
    full_env.update(env)
    full_env.update({"VORGANG_LISTEN": "127.0.0.1:0", "VORGANG_LOG": "json"})
    started = time.perf_counter()
    proc = subprocess.Popen([BINARY, "serve"], cwd=cwd, env=full_env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    address = None
    for line in proc.stderr:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("message") == "vorgang listening":
            address = event["address"]
            break
    if address is None:
        raise SystemExit("server did not start")
    while True:
        try:
            with urllib.request.urlopen(f"http://{address}/readyz", timeout=2) as response:
                if response.status == 200:
                    break
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.002)
    elapsed_ms = (time.perf_counter() - started) * 1000
    return proc, elapsed_ms


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def stop(proc):
    proc.terminate()
    proc.wait(timeout=30)


def psql(admin_url, sql):
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", admin_url, "-c", sql], check=True)


def pg_url(admin_url, name):
    parts = urllib.parse.urlsplit(admin_url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def run_backend(name, runs, make_env):
    cold, warm, rss = [], [], []
    for i in range(runs):
        with tempfile.TemporaryDirectory() as cwd:
            # The shipped workflows and templates, as `cargo run -- serve` from the repository sees them.
            for folder in ("workflows", "templates"):
                shutil.copytree(os.path.join(ROOT, folder), os.path.join(cwd, folder))
            env, cleanup = make_env(i)
            try:
                proc, ms = start(env, cwd)
                cold.append(ms)
                stop(proc)
                proc, ms = start(env, cwd)
                warm.append(ms)
                time.sleep(2)
                rss.append(rss_kib(proc.pid) / 1024)
                stop(proc)
            finally:
                cleanup()
    def fmt(values, unit):
        return (f"median {statistics.median(values):.1f} {unit}, "
                f"min {min(values):.1f}, max {max(values):.1f}")
    print(f"{name:8} cold start to /readyz: {fmt(cold, 'ms')}")
    print(f"{name:8} warm start to /readyz: {fmt(warm, 'ms')}")
    print(f"{name:8} idle RSS:              {fmt(rss, 'MiB')}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--pg", default=os.environ.get("VORGANG_TEST_PG_URL"))
    args = parser.parse_args()
    if not os.path.exists(BINARY):
        raise SystemExit("build first: cargo build --release")

    run_backend("sqlite", args.runs, lambda i: ({}, lambda: None))

    if args.pg:
        def pg_env(i):
            db = f"vorgang_bench_{os.getpid()}_{i}"
            psql(args.pg, f"CREATE DATABASE {db}")
            return ({"VORGANG_DATABASE_URL": pg_url(args.pg, db)},
                    lambda: psql(args.pg, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        run_backend("postgres", args.runs, pg_env)
    else:
        print("postgres skipped: pass --pg or set VORGANG_TEST_PG_URL")


if __name__ == "__main__":
    main()
