#!/usr/bin/env python3
"""Backup benchmark: how long `vorgang backup` takes for a large installation while the server
runs, how long `vorgang restore` and `vorgang audit documents` take, and whether the result is
whole.

Usage:
  cargo build --release
  python3 bench/backup.py [--backend sqlite|postgres] [--pg URL] [--cases 100000]
                          [--documents 200] [--megabytes 5] [--while-writing]

Against a server it starts itself (loopback only; SQLite in a temporary directory, or a
database of its own on the PostgreSQL of --pg): one case of the Kreis Soest with --documents PDF
documents of --megabytes MB (random content) uploaded through the API, and --cases cases in all
(copies of that case's row made with SQL, as bench/api_load.py seeds its reads). Then
`vorgang backup` runs next to the server; with --while-writing a client creates cases through
the API the whole time. The backup is checked with `sha256sum -c`, restored into a fresh
installation, and that installation is checked with `vorgang audit verify` and `vorgang audit
documents`. Reports the time and rate of each step and the backup's size.
"""

import argparse
import os
import shutil
import subprocess
import tempfile
import threading
import time

import api_load  # server start and seeding shared with the API benchmark (same directory)
import case_file_export as export  # HTTP helpers

ROOT = api_load.ROOT
PASSWORD = api_load.PASSWORD


def run(binary, args, cwd, env, check=True):
    full = {k: v for k, v in os.environ.items() if not k.startswith("VORGANG_")}
    full.update(env)
    started = time.monotonic()
    result = subprocess.run([binary] + args, cwd=cwd, env=full, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if check and result.returncode != 0:
        raise SystemExit(f"vorgang {' '.join(args)} failed ({result.returncode}):\n{result.stderr}{result.stdout}")
    return elapsed, result


def tree_size(path):
    total = 0
    for base, _, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(base, name))
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg", default=os.environ.get("VORGANG_TEST_PG_URL"),
                        help="admin URL of a PostgreSQL where databases may be created")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--megabytes", type=float, default=5.0)
    parser.add_argument("--while-writing", action="store_true",
                        help="create cases through the API during the backup")
    parser.add_argument("--binary", default=api_load.BINARY)
    args = parser.parse_args()
    api_load.BINARY = args.binary
    if args.backend == "postgres" and not args.pg:
        raise SystemExit("--backend postgres needs --pg (or VORGANG_TEST_PG_URL)")

    workdir = tempfile.mkdtemp(prefix="vorgang-backup-bench-")
    shutil.copytree(os.path.join(ROOT, "workflows"), os.path.join(workdir, "workflows"))
    names = [f"vorgang_backup_bench_{os.getpid()}_{n}" for n in ("a", "b")]
    if args.backend == "postgres":
        urls = [api_load.with_db(args.pg, name) for name in names]
        for name in names:
            api_load.psql(args.pg, f"CREATE DATABASE {name}")
    else:
        urls = [f"sqlite://{workdir}/a/vorgang.db", f"sqlite://{workdir}/b/vorgang.db"]
    source = {"VORGANG_DATA_DIR": os.path.join(workdir, "a"), "VORGANG_DATABASE_URL": urls[0],
              "VORGANG_DOCUMENT_MAX_MB": str(max(20, int(args.megabytes) + 1))}
    target = {"VORGANG_DATA_DIR": os.path.join(workdir, "b"), "VORGANG_DATABASE_URL": urls[1]}
    backup = os.path.join(workdir, "sicherung")
    server = None
    try:
        run(args.binary, ["migrate"], workdir, source)
        user = ["user", "add", "--email", "bench@example.org", "--name", "Bench", "--org", "05974",
                "--role", "koordination"]
        full = {k: v for k, v in os.environ.items() if not k.startswith("VORGANG_")}
        full.update(source)
        subprocess.run([args.binary] + user, cwd=workdir, env=full, input=PASSWORD + "\n", text=True,
                       check=True, capture_output=True)
        server, address = api_load.start_server(source, workdir)
        status, body = export.call_json(address, "POST", "/api/v1/auth/token",
                                        payload={"email": "bench@example.org", "password": PASSWORD})
        token = body["token"]
        status, case = export.call_json(address, "POST", "/api/v1/cases", token, {"workflow": "ki-antrag", "data": {}})
        if status != 201:
            raise SystemExit(f"case not created: {status} {case}")
        size = int(args.megabytes * 1024 * 1024)
        for n in range(args.documents):
            export.upload(address, token, case["id"], f"Anlage {n + 1:03}.pdf", b"%PDF-1.7\n" + os.urandom(size - 9))
        sqlite_path = os.path.join(workdir, "a", "vorgang.db")
        api_load.seed(args.backend, urls[0], sqlite_path, args.cases, "05974")

        stop = threading.Event()
        written = [0]

        def write():
            while not stop.is_set():
                status, _ = export.call_json(address, "POST", "/api/v1/cases", token, {"workflow": "ki-antrag"})
                if status != 201:
                    raise SystemExit(f"case not created during the backup: {status}")
                written[0] += 1

        writer = threading.Thread(target=write) if args.while_writing else None
        if writer:
            writer.start()
            time.sleep(1)
        seconds, result = run(args.binary, ["backup", backup], workdir, source)
        during = written[0]
        if writer:
            stop.set()
            writer.join()
        backed_up = tree_size(backup)
        print(f"backup: {result.stdout.strip()}")
        print(f"backup: {backed_up / 1e6:.0f} MB in {seconds:.2f} s ({backed_up / 1e6 / seconds:.0f} MB/s)"
              + (f", {during} cases created through the API meanwhile" if writer else ""))
        started = time.monotonic()
        subprocess.run(["sha256sum", "-c", "--quiet", "pruefsummen.sha256"], cwd=backup, check=True)
        print(f"backup: sha256sum -c passed in {time.monotonic() - started:.2f} s")

        seconds, result = run(args.binary, ["restore", backup], workdir, target)
        print(f"restore: {result.stdout.splitlines()[0]}")
        print(f"restore: {seconds:.2f} s ({backed_up / 1e6 / seconds:.0f} MB/s)")
        seconds, result = run(args.binary, ["audit", "verify"], workdir, target)
        print(f"audit verify: {result.stdout.strip()} ({seconds:.2f} s)")
        seconds, result = run(args.binary, ["audit", "documents"], workdir, target)
        print(f"audit documents: {result.stdout.strip()} ({seconds:.2f} s)")
    finally:
        if server:
            server.terminate()
            server.wait(timeout=30)
        if args.backend == "postgres":
            for name in names:
                api_load.psql(args.pg, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
