#!/usr/bin/env python3
"""Transfer benchmark: how long `vorgang transfer` takes to move a large installation from
SQLite to PostgreSQL and back.

Usage:
  cargo build --release
  python3 bench/transfer.py --pg postgres://postgres@127.0.0.1:5432/postgres [--cases 100000]

The demo data is loaded into a new SQLite database; then the most advanced case of the Kreis
Coesfeld is copied with SQL until --cases cases exist, each copy with a copy of that case's
journal (the copies' hashes do not verify: they measure volume, not the chain). That database
is transferred into a new database on the PostgreSQL of --pg, and from there into a new SQLite
file. Reports rows, time and rows per second of each direction, and checks that every table
holds as many rows at the end as at the start.
"""

import argparse
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time

import api_load  # psql and URL helpers shared with the API benchmark (same directory)

ROOT = api_load.ROOT


def run(binary, args, cwd, env):
    full = {k: v for k, v in os.environ.items() if not k.startswith("VORGANG_")}
    full.update(env)
    started = time.monotonic()
    result = subprocess.run([binary] + args, cwd=cwd, env=full, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"vorgang {' '.join(args)} failed ({result.returncode}):\n{result.stderr}{result.stdout}")
    return elapsed, result.stdout


def table_counts(path):
    db = sqlite3.connect(path)
    tables = [r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' "
        "AND name <> '__diesel_schema_migrations' ORDER BY name")]
    counts = {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    db.close()
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", default=os.environ.get("VORGANG_TEST_PG_URL"),
                        help="admin URL of a PostgreSQL where a database may be created")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--binary", default=api_load.BINARY)
    args = parser.parse_args()
    if not args.pg:
        raise SystemExit("--pg (or VORGANG_TEST_PG_URL) is needed")

    workdir = tempfile.mkdtemp(prefix="vorgang-transfer-bench-")
    name = f"vorgang_transfer_bench_{os.getpid()}"
    pg_url = api_load.with_db(args.pg, name)
    source_path = os.path.join(workdir, "a", "vorgang.db")
    back_path = os.path.join(workdir, "c", "vorgang.db")
    env = {"VORGANG_DATA_DIR": os.path.join(workdir, "a"),
           "VORGANG_WORKFLOWS_DIR": os.path.join(ROOT, "workflows")}
    api_load.psql(args.pg, f"CREATE DATABASE {name}")
    try:
        run(args.binary, ["demo"], workdir, {**env, "VORGANG_DATABASE_URL": f"sqlite://{source_path}"})
        api_load.seed("sqlite", None, source_path, args.cases, "05558")
        db = sqlite3.connect(source_path)
        template = db.execute("SELECT id FROM cases WHERE aktenzeichen NOT LIKE 'BENCH-%' "
                              "ORDER BY journal_seq DESC LIMIT 1").fetchone()[0]
        db.execute("INSERT INTO case_events (case_id, seq, at, actor, kind, payload, prev_hash, hash) "
                   "SELECT c.id, e.seq, e.at, e.actor, e.kind, e.payload, e.prev_hash, e.hash "
                   "FROM cases c, case_events e WHERE c.aktenzeichen LIKE 'BENCH-%' AND e.case_id = ?",
                   (template,))
        db.commit()
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        before = table_counts(source_path)
        rows = sum(before.values())
        size = os.path.getsize(source_path)
        print(f"source: {before['cases']} cases, {before['case_events']} journal entries, "
              f"{rows} rows in {len(before)} tables, {size / 1e6:.0f} MB (SQLite)")

        seconds, out = run(args.binary, ["transfer", "--from", f"sqlite://{source_path}"], workdir,
                           {**env, "VORGANG_DATABASE_URL": pg_url})
        print(f"SQLite -> PostgreSQL: {seconds:.1f} s, {rows / seconds:,.0f} rows/s")
        print("  " + out.splitlines()[0])
        seconds, out = run(args.binary, ["transfer", "--from", pg_url], workdir,
                           {**env, "VORGANG_DATABASE_URL": f"sqlite://{back_path}"})
        print(f"PostgreSQL -> SQLite: {seconds:.1f} s, {rows / seconds:,.0f} rows/s")
        print("  " + out.splitlines()[0])
        after = table_counts(back_path)
        if after != before:
            raise SystemExit(f"row counts differ after the round trip: {before} != {after}")
        print("round trip: every table holds as many rows as at the start")
    finally:
        api_load.psql(args.pg, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
