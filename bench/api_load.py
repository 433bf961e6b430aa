#!/usr/bin/env python3
"""API load benchmark: actions per second and case-read latency of `vorgang serve`.

Usage:
  cargo build --release
  python3 bench/api_load.py --backend postgres --pg postgres://postgres@127.0.0.1:5432/postgres
  python3 bench/api_load.py --backend sqlite

What it does, against a server it starts itself on 127.0.0.1 (loopback only):
1. Actions: N clients (threads with keep-alive connections), each driving its own cases through
   `ki-antrag` as far as the API reaches without partners: create the case, fill the draft
   (PATCH), start the Beteiligung (action). Every accepted request is one command, i.e. one
   database transaction. Reports commands per second.
2. Reads: the database is filled to --cases cases (copies of a real case row, inserted with SQL so
   seeding takes seconds), then 32 clients read random cases with GET /api/v1/cases/{id} for
   --seconds; reports p50/p99 latency and requests per second.
3. For PostgreSQL, `pgbench -N` (simple-update transactions) on the same server, 32 clients, as
   the yardstick for "one action is about one transaction".
All loops are bounded in count and time.
"""

import argparse
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "vorgang")
PASSWORD = "bench-passwort-0123456789"

APPLICATION = {
    "antragsteller": {"dienststelle": "Fachbereich Bildung", "ansprechperson": "Frau Beispiel",
                      "telefon": "02921 30-0", "email": "ki@kreis-soest.de"},
    "zentrum_name": "Kommunales Integrationszentrum Kreis Soest",
    "oeffentliche_bezeichnung": "Kommunales Integrationszentrum Kreis Soest – anerkannt durch das Land NRW als Kommunales Integrationszentrum nach § 8 Teilhabe- und Integrationsgesetz",
    "ausgangslage": "Rund 12 % der Schülerinnen und Schüler sind neu zugewandert.",
    "standorte": [{"bezeichnung": "Kreishaus", "anschrift": "Hoher Weg 1–3, 59494 Soest"}],
    "arbeitsaufnahme": "2026-09-01",
    "integrationskonzept": {"status": "beschlossen", "gremium": "kreistag",
                            "beschluss_datum": "2025-06-26", "fortschreibung": "aktualisiert"},
    "personal": {"lehrkraefte_vze": 2, "fachkraefte_vze": 6, "verwaltungsassistenz_vze": 0.5},
    "leitung": {"name": "Herr Beispiel", "gruppe": "fachkraft",
                "stellvertretung_name": "Frau Muster", "stellvertretung_gruppe": "lehrkraft"},
    "beteiligte": ["SCHULAMT-SO", "05974-JA"],
    "beteiligung_abdeckung": {"untere_schulaufsicht": True, "schulverwaltung": True,
                              "jugendhilfe_oeffentlich": True, "jugendhilfe_frei": True,
                              "wohlfahrtsverbaende": True},
}


def psql(url, sql, capture=False):
    result = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-tA", url, "-c", sql],
                            check=True, capture_output=True, text=True)
    return result.stdout.strip() if capture else None


def with_db(url, name):
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def start_server(env, cwd):
    full = {k: v for k, v in os.environ.items() if not k.startswith("VORGANG_")}
    full.update(env)
    full.update({"VORGANG_LISTEN": "127.0.0.1:0", "VORGANG_LOG": "json", "RUST_LOG": "warn,vorgang=info",
                 "VORGANG_DATABASE_POOL_SIZE": "32"})
    proc = subprocess.Popen([BINARY, "serve"], cwd=cwd, env=full, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("message") == "vorgang listening":
            threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
            return proc, event["address"]
    raise SystemExit("server did not start")


class Client:
    def __init__(self, address, token=None):
        host, port = address.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)
        self.token = token

    def call(self, method, path, body=None):
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        data = json.dumps(body) if body is not None else None
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        payload = response.read()
        return response.status, (json.loads(payload) if payload else None)


def drive_cases(address, token, cases, counts, errors):
    client = Client(address, token)
    for _ in range(cases):
        status, case = client.call("POST", "/api/v1/cases", {"workflow": "ki-antrag"})
        if status != 201:
            errors.append(status)
            return
        counts[0] += 1
        status, case = client.call("PATCH", f"/api/v1/cases/{case['id']}/data",
                                   {"version": case["version"], "data": APPLICATION})
        if status != 200:
            errors.append(status)
            return
        counts[0] += 1
        status, case = client.call("POST", f"/api/v1/cases/{case['id']}/actions/beteiligung_starten",
                                   {"version": case["version"]})
        if status != 200:
            errors.append((status, case))
            return
        counts[0] += 1


def read_cases(address, token, ids, deadline, latencies):
    client = Client(address, token)
    local = []
    while time.perf_counter() < deadline:
        case_id = random.choice(ids)
        started = time.perf_counter()
        status, _ = client.call("GET", f"/api/v1/cases/{case_id}")
        local.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise SystemExit(f"GET /cases/{case_id} answered {status}")
    latencies.extend(local)


def seed(backend, db_url, sqlite_path, total):
    """Copies the newest case until `total` cases exist (unique Aktenzeichen, same state)."""
    insert = ("INSERT INTO cases (aktenzeichen, definition_id, workflow_key, applicant_id, status, outcome, "
              "state, version, submitted_at, current_steps, created_at, updated_at) "
              "SELECT 'BENCH-' || n, c.definition_id, c.workflow_key, c.applicant_id, c.status, c.outcome, "
              "c.state, c.version, c.submitted_at, c.current_steps, c.created_at, c.updated_at "
              "FROM cases c, {series} WHERE c.id = (SELECT max(id) FROM cases)")
    if backend == "postgres":
        have = int(psql(db_url, "SELECT count(*) FROM cases", capture=True))
        series = f"generate_series(1, {max(total - have, 0)}) AS n"
        psql(db_url, insert.format(series=series))
        return [int(x) for x in psql(db_url, "SELECT id FROM cases", capture=True).split()]
    import sqlite3
    db = sqlite3.connect(sqlite_path, timeout=30)
    have = db.execute("SELECT count(*) FROM cases").fetchone()[0]
    series = (f"(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {max(total - have, 0)}) "
              "SELECT n FROM s)")
    if total > have:
        db.execute(insert.format(series=series))
        db.commit()
    ids = [row[0] for row in db.execute("SELECT id FROM cases")]
    db.close()
    return ids


def pgbench(admin_url, seconds):
    name = f"vorgang_pgbench_{os.getpid()}"
    psql(admin_url, f"CREATE DATABASE {name}")
    try:
        url = with_db(admin_url, name)
        subprocess.run(["pgbench", "-i", "-q", "-s", "10", url], check=True, capture_output=True)
        out = subprocess.run(["pgbench", "-N", "-c", "32", "-j", "2", "-T", str(seconds), url],
                             check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("tps"):
                return float(line.split("=")[1].split()[0])
    finally:
        psql(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg", default=os.environ.get("VORGANG_TEST_PG_URL"))
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--cases-per-client", type=int, default=20)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    if not os.path.exists(BINARY):
        raise SystemExit("build first: cargo build --release")

    workdir = tempfile.mkdtemp(prefix="vorgang-bench-")
    for folder in ("workflows", "templates"):
        shutil.copytree(os.path.join(ROOT, folder), os.path.join(workdir, folder))
    env = {"VORGANG_DATA_DIR": os.path.join(workdir, "data")}
    db_url, sqlite_path, pg_db = None, None, None
    if args.backend == "postgres":
        if not args.pg:
            raise SystemExit("--pg (or VORGANG_TEST_PG_URL) is needed for PostgreSQL")
        pg_db = f"vorgang_bench_{os.getpid()}"
        psql(args.pg, f"CREATE DATABASE {pg_db}")
        db_url = with_db(args.pg, pg_db)
        env["VORGANG_DATABASE_URL"] = db_url
    else:
        sqlite_path = os.path.join(workdir, "data", "vorgang.db")

    server = None
    try:
        user_env = {k: v for k, v in os.environ.items() if not k.startswith("VORGANG_")}
        user_env.update(env)
        subprocess.run([BINARY, "user", "add", "--email", "bench@kreis-soest.de", "--name", "Bench",
                        "--org", "05974", "--role", "koordination"], cwd=workdir, env=user_env,
                       input=PASSWORD + "\n", text=True, check=True, capture_output=True)
        server, address = start_server(env, workdir)
        status, body = Client(address).call("POST", "/api/v1/auth/token",
                                            {"email": "bench@kreis-soest.de", "password": PASSWORD})
        token = body["token"]

        counts, errors = [0], []
        threads = [threading.Thread(target=drive_cases, args=(address, token, args.cases_per_client, counts, errors))
                   for _ in range(args.clients)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        if errors:
            raise SystemExit(f"errors while driving cases: {errors[:3]}")
        actions_per_s = counts[0] / elapsed
        print(f"{args.backend}: {counts[0]} commands from {args.clients} clients in {elapsed:.1f} s "
              f"= {actions_per_s:.0f} commands/s")

        ids = seed(args.backend, db_url, sqlite_path, args.cases)
        latencies = []
        deadline = time.perf_counter() + args.seconds
        readers = [threading.Thread(target=read_cases, args=(address, token, ids, deadline, latencies))
                   for _ in range(32)]
        for t in readers:
            t.start()
        for t in readers:
            t.join()
        latencies.sort()
        p50 = statistics.median(latencies)
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        print(f"{args.backend}: GET /api/v1/cases/{{id}} with {len(ids)} cases, 32 clients: "
              f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, {len(latencies) / args.seconds:.0f} requests/s")

        if args.backend == "postgres":
            tps = pgbench(args.pg, args.seconds)
            print(f"postgres: pgbench -N -c 32: {tps:.0f} tps; API commands/s = "
                  f"{100 * actions_per_s / tps:.0f} % of it")
    finally:
        if server:
            server.terminate()
            server.wait(timeout=30)
        if pg_db:
            psql(args.pg, f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)")
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
