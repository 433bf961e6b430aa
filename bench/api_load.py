#!/usr/bin/env python3
"""API load benchmark: commands per second and case-read latency of `vorgang serve`.

Usage:
  cargo build --release
  python3 bench/api_load.py --backend postgres --pg postgres://postgres@127.0.0.1:5432/postgres
  python3 bench/api_load.py --backend sqlite --pg postgres://postgres@127.0.0.1:5432/postgres

Needs `wrk` (Debian package `wrk`) and, for the yardstick, `pgbench` and `psql`.

What it does, against a server it starts itself on 127.0.0.1 (loopback only):
1. Commands: --clients connections (wrk, one thread per connection, script
   bench/wrk_commands.lua), each driving its own cases through `ki-antrag` as far as the API
   reaches without partners: create the case, fill the draft (PATCH), start the Beteiligung
   (action: invites the two partner bodies of `beteiligte`, which the setup inserts, and queues
   their mails), next case. Every accepted request is one command, i.e. one database
   transaction.
   Runs for --seconds; reports commands per second. Any refused command fails the run.
   Each connection acts as the coordinator of its own applicant (one of the 31 seeded Kreise, one
   user each; with more clients than Kreise, connections share them in turn).
   That is the realistic setting: the Kreise work on their applications independently. The
   Aktenzeichen is numbered gaplessly per applicant and year, so creations for one applicant
   queue on its counter row until commit; with every client acting for the same applicant
   (--one-applicant) the benchmark measures that queue instead of the server.
   The server then delivers the mails those commands queued (to files, the default); the script
   waits until the outbox is empty and reports how long that took, so the read phase measures
   reads rather than the delivery of a backlog.
2. Reads: the database is filled to --cases cases (copies of a case row of the first applicant,
   inserted with SQL so seeding takes seconds), then --clients connections read random copies
   with GET /api/v1/cases/{id} for --seconds as that applicant's coordinator
   (bench/wrk_reads.lua); reports p50/p99 latency and requests per second.
3. `pgbench -N` (simple-update transactions) with the same number of clients against the
   PostgreSQL given by --pg (for both backends, when --pg is given), as the yardstick for "one
   command is about one transaction": prints the ratio and whether the goals are met
   (commands/s >= 50 % of pgbench tps, read p99 < 20 ms).

CPU accounting: where PostgreSQL runs on this machine (the postmaster's PID is readable), the
command phase and pgbench are also measured in CPU time per command or transaction, split into
the server, PostgreSQL (postmaster, its live backends and those it reaped) and the load generator
(wrk or pgbench, the script's children). Together with the machine's busy share this says where
the time goes and what PostgreSQL's own share per command allows at best.

The load generator is wrk (C, epoll) rather than Python threads: on a small machine a Python
client spends as much CPU per request as the server and competes with it for the same cores,
so the figures measured the client. All phases are bounded in time.
"""

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "vorgang")
PASSWORD = "bench-passwort-0123456789"

# The Kreis Soest's complete application, shared with the tests.
with open(os.path.join(ROOT, "tests", "fixtures", "antrag-kreis-soest.json"), encoding="utf-8") as fixture:
    APPLICATION = json.load(fixture)


def psql(url, sql, capture=False):
    result = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-tA", url, "-c", sql],
                            check=True, capture_output=True, text=True)
    return result.stdout.strip() if capture else None


def with_db(url, name):
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def start_server(env, cwd):
    """Starts `vorgang serve`; its log goes to a file (a pipe would need a reader on the client's
    cores). Returns the process and the bound address."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("VORGANG_")}
    full.update(env)
    full.update({"VORGANG_LISTEN": "127.0.0.1:0", "VORGANG_LOG": "json", "RUST_LOG": "warn,vorgang=info"})
    log_path = os.path.join(cwd, "server.log")
    with open(log_path, "w") as log:
        proc = subprocess.Popen([BINARY, "serve"], cwd=cwd, env=full, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        with open(log_path) as log:
            for line in log:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if event.get("message") == "vorgang listening":
                    return proc, event["address"]
        time.sleep(0.1)
    proc.kill()
    with open(log_path) as log:
        raise SystemExit("server did not start:\n" + log.read()[-2000:])


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


def run_wrk(script, address, clients, seconds, env):
    """Runs wrk with one connection per thread; returns the script's RESULT object."""
    full = dict(os.environ)
    full.update(env)
    command = ["wrk", "-t", str(clients), "-c", str(clients), "-d", f"{seconds}s", "--timeout", "30s",
               "-s", os.path.join(ROOT, "bench", script), f"http://{address}"]
    run = subprocess.run(command, capture_output=True, text=True, env=full)
    if run.returncode != 0:
        raise SystemExit(f"wrk failed ({run.returncode}):\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
    out = run.stdout
    for line in out.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise SystemExit(f"wrk printed no result:\n{out}")



TICKS = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid, with_children=False):
    """CPU seconds of a process (user + system), and of its reaped children if asked."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # Fields after "(comm)": state is [0]; utime [11], stime [12], cutime [13], cstime [14].
    ticks = int(fields[11]) + int(fields[12])
    if with_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICKS


def children_of(pid):
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def postmaster_pid(admin_url):
    """The local PostgreSQL's postmaster PID, or None where it cannot be read (another host)."""
    if not admin_url:
        return None
    try:
        data_dir = psql(admin_url, "SHOW data_directory", capture=True)
        with open(os.path.join(data_dir, "postmaster.pid")) as f:
            pid = int(f.readline())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError, subprocess.CalledProcessError):
        return None


class CpuMeter:
    """CPU seconds spent by the server, PostgreSQL and this script's children (the load
    generator) between start() and stop(), and the machine's busy share."""

    def __init__(self, server_pid, postmaster):
        self.server_pid, self.postmaster = server_pid, postmaster

    def sample(self):
        pg = 0.0
        if self.postmaster:
            pg = proc_cpu(self.postmaster, with_children=True)
            pg += sum(proc_cpu(child) for child in children_of(self.postmaster))
        server = proc_cpu(self.server_pid) if self.server_pid else 0.0
        times = os.times()
        with open("/proc/stat") as f:
            cpu = [int(x) for x in f.readline().split()[1:]]
        idle, total = cpu[3] + cpu[4], sum(cpu[:8])
        return server, pg, times.children_user + times.children_system, idle, total

    def start(self):
        self.before = self.sample()

    def stop(self):
        after = self.sample()
        server, pg, load = (after[i] - self.before[i] for i in range(3))
        idle, total = after[3] - self.before[3], after[4] - self.before[4]
        busy = 100 * (1 - idle / total) if total else 0.0
        return {"server": server, "postgres": pg, "load": load, "busy": busy}


def seed(backend, db_url, sqlite_path, total, applicant):
    """Copies the most advanced case of `applicant` until `total` cases exist (unique Aktenzeichen,
    same state); returns the id range of the copies (all of `applicant`, so its coordinator may
    read every one; the cases of the command phase belong to many applicants)."""
    insert = ("INSERT INTO cases (aktenzeichen, definition_id, workflow_key, applicant_id, status, outcome, "
              "state, version, submitted_at, current_steps, stand_rank, next_deadline, created_at, updated_at) "
              "SELECT 'BENCH-' || n, c.definition_id, c.workflow_key, c.applicant_id, c.status, c.outcome, "
              "c.state, c.version, c.submitted_at, c.current_steps, c.stand_rank, c.next_deadline, c.created_at, "
              "c.updated_at "
              "FROM cases c, {series} "
              "WHERE c.id = (SELECT cases.id FROM cases JOIN organisations o ON o.id = cases.applicant_id "
              f"WHERE o.key = '{applicant}' ORDER BY cases.version DESC, cases.id DESC LIMIT 1)")
    def enough(have):
        if have >= total:
            raise SystemExit(f"--cases {total} is not more than the {have} cases the command phase left; "
                             "the read phase reads copies made on top of them, so ask for more")

    if backend == "postgres":
        have = int(psql(db_url, "SELECT count(*) FROM cases", capture=True))
        enough(have)
        series = f"generate_series(1, {max(total - have, 0)}) AS n"
        psql(db_url, insert.format(series=series))
        # Settle what the command phase and the bulk insert left behind before reads are timed
        # (autovacuum of the tables the commands and the mail worker changed, analyze of 100,000
        # new cases, a checkpoint of their WAL), as pgbench vacuums its tables before each run.
        psql(db_url, "VACUUM ANALYZE")
        psql(db_url, "CHECKPOINT")
        low, high = psql(db_url, "SELECT min(id) || ' ' || max(id) FROM cases WHERE aktenzeichen LIKE 'BENCH-%'",
                         capture=True).split()
        return int(low), int(high)
    import sqlite3
    db = sqlite3.connect(sqlite_path, timeout=30)
    have = db.execute("SELECT count(*) FROM cases").fetchone()[0]
    enough(have)
    series = (f"(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {max(total - have, 0)}) "
              "SELECT n FROM s)")
    if total > have:
        db.execute(insert.format(series=series))
        db.commit()
        db.execute("ANALYZE")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    low, high = db.execute("SELECT min(id), max(id) FROM cases WHERE aktenzeichen LIKE 'BENCH-%'").fetchone()
    db.close()
    return low, high


PARTNERS = [("SCHULAMT-SO", "Schulamt für den Kreis Soest", "schulamt@kreis-soest.example"),
            ("05974-JA", "Jugendamt des Kreises Soest", "jugendamt@kreis-soest.example")]


def sql_run(backend, db_url, sqlite_path, sql, fetch=False):
    """Runs one statement on the benchmark database; the rows' first column when `fetch`."""
    if backend == "postgres":
        out = psql(db_url, sql, capture=True)
        return out.split() if fetch else None
    import sqlite3
    db = sqlite3.connect(sqlite_path, timeout=30)
    rows = [row[0] for row in db.execute(sql)]
    db.commit()
    db.close()
    return rows if fetch else None


def add_partners(backend, db_url, sqlite_path):
    """The partner bodies `beteiligte` names (the Beteiligung invites them and mails their
    mailboxes); there is no command for organisations, so they are inserted with SQL."""
    for key, name, mailbox in PARTNERS:
        sql_run(backend, db_url, sqlite_path,
                "INSERT INTO organisations (key, name, kind, mailbox, created_at, updated_at) "
                f"VALUES ('{key}', '{name}', 'partner', '{mailbox}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")


def drain_outbox(backend, db_url, sqlite_path, limit):
    """Waits until the server has delivered the mails the commands queued, so the read phase
    measures reads and not the delivery of a backlog; returns the seconds waited and the mails.
    A backlog still pending after `limit` seconds fails the run."""
    started = time.monotonic()
    while True:
        pending, total = (int(sql_run(backend, db_url, sqlite_path, sql, fetch=True)[0]) for sql in (
            "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')", "SELECT count(*) FROM outbox"))
        waited = time.monotonic() - started
        if pending == 0:
            return waited, total
        if waited > limit:
            raise SystemExit(f"{pending} of {total} mails still pending after {limit} s")
        time.sleep(0.5)


def commits(backend, db_url, settle=0.0):
    """PostgreSQL's count of committed transactions in the benchmark database (None on SQLite):
    every statement outside a transaction counts as one, reads included. Other sessions report
    theirs within about a second: `settle` waits for that; without it the count lags by up to a
    second's commits (about 5 % of a 20-second phase)."""
    if backend != "postgres":
        return None
    time.sleep(settle)
    return int(psql(db_url, "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()",
                    capture=True))


def statements_reset(admin_url):
    """Empties pg_stat_statements (needs it in shared_preload_libraries and created in the admin
    database); False if it is not there."""
    try:
        psql(admin_url, "SELECT pg_stat_statements_reset()")
        return True
    except subprocess.CalledProcessError:
        return False


def statements_top(admin_url, db_name, limit):
    """The statements of the benchmark database by total time (planning plus execution) since the
    reset, as printable lines."""
    rows = psql(admin_url, f"""
        SELECT s.calls, s.plans, round((s.total_plan_time + s.total_exec_time)::numeric, 0),
               round(((s.total_plan_time + s.total_exec_time) / s.calls * 1000)::numeric, 0),
               round((s.total_plan_time / greatest(s.plans, 1) * 1000)::numeric, 0), s.rows,
               regexp_replace(left(s.query, 150), '\s+', ' ', 'g')
        FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
        WHERE d.datname = '{db_name}'
        ORDER BY s.total_plan_time + s.total_exec_time DESC LIMIT {limit}""", capture=True)
    lines = ["calls | plans | total ms | µs per call | µs per plan | rows | statement"]
    return lines + [line for line in rows.splitlines() if line]


def applicants(backend, db_url, sqlite_path):
    """Keys of the Kreise, sorted (kreisfreie Städte may apply too, but under other rules than
    the Kreis application the benchmark sends)."""
    sql = "SELECT key FROM organisations WHERE kind = 'kreis' ORDER BY key"
    return sql_run(backend, db_url, sqlite_path, sql, fetch=True)


def pgbench(admin_url, clients, seconds, meter):
    """pgbench -N's transactions per second, and its CPU per transaction (meter)."""
    name = f"vorgang_pgbench_{os.getpid()}"
    psql(admin_url, f"CREATE DATABASE {name}")
    try:
        url = with_db(admin_url, name)
        subprocess.run(["pgbench", "-i", "-q", "-s", "10", url], check=True, capture_output=True)
        meter.start()
        out = subprocess.run(["pgbench", "-N", "-c", str(clients), "-j", "2", "-T", str(seconds), url],
                             check=True, capture_output=True, text=True).stdout
        cpu = meter.stop()
        transactions = None
        for line in out.splitlines():
            if line.startswith("number of transactions actually processed"):
                transactions = int(line.split(":")[1].split("/")[0])
            if line.startswith("tps"):
                return float(line.split("=")[1].split()[0]), cpu, transactions
    finally:
        psql(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    raise SystemExit("pgbench printed no tps")


def main():
    global BINARY
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg", default=os.environ.get("VORGANG_TEST_PG_URL"),
                        help="admin URL of a PostgreSQL (the postgres backend and the pgbench yardstick)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=20, help="duration of each phase")
    parser.add_argument("--binary", default=BINARY, help="the vorgang binary (to compare builds)")
    parser.add_argument("--no-pgbench", action="store_true", help="skip the yardstick (A/B runs of builds)")
    parser.add_argument("--one-applicant", action="store_true",
                        help="all clients act for the same applicant (creations queue on its counter)")
    parser.add_argument("--pool-size", type=int, default=None,
                        help="VORGANG_DATABASE_POOL_SIZE of the server (default: the server's default)")
    parser.add_argument("--drain-seconds", type=int, default=600,
                        help="how long to wait for the command phase's mails before reading")
    parser.add_argument("--statements", type=int, default=0,
                        help="print the N costliest statements of the command phase (PostgreSQL, "
                             "needs pg_stat_statements)")
    parser.add_argument("--mail-url", default=None,
                        help="VORGANG_MAIL_URL of the server (default: files under the data directory)")
    args = parser.parse_args()
    BINARY = os.path.abspath(args.binary)
    if not os.path.exists(BINARY):
        raise SystemExit("build first: cargo build --release")
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed (Debian: apt-get install wrk)")

    workdir = tempfile.mkdtemp(prefix="vorgang-bench-")
    for folder in ("workflows", "templates"):
        shutil.copytree(os.path.join(ROOT, folder), os.path.join(workdir, folder))
    env = {"VORGANG_DATA_DIR": os.path.join(workdir, "data")}
    if args.pool_size:
        env["VORGANG_DATABASE_POOL_SIZE"] = str(args.pool_size)
    if args.mail_url:
        env["VORGANG_MAIL_URL"] = args.mail_url
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

        def add_user(key):
            subprocess.run([BINARY, "user", "add", "--email", f"bench-{key}@example.org", "--name", "Bench",
                            "--org", key, "--role", "koordination"], cwd=workdir, env=user_env,
                           input=PASSWORD + "\n", text=True, check=True, capture_output=True)

        # The first user creates the database (migrations seed the organisations).
        add_user("05974")
        add_partners(args.backend, db_url, sqlite_path)
        keys = ["05974"]
        if not args.one_applicant:
            others = [k for k in applicants(args.backend, db_url, sqlite_path) if k != "05974"]
            keys += others[:args.clients - 1]
            for key in keys[1:]:
                add_user(key)
        server, address = start_server(env, workdir)
        login = Client(address)
        tokens = []
        for key in keys:
            status, body = login.call("POST", "/api/v1/auth/token",
                                      {"email": f"bench-{key}@example.org", "password": PASSWORD})
            if status != 200:
                raise SystemExit(f"login for {key} failed: {status} {body}")
            tokens.append(body["token"])
        tokens_file = os.path.join(workdir, "tokens.txt")
        with open(tokens_file, "w") as f:
            f.write("\n".join(tokens) + "\n")
        data_file = os.path.join(workdir, "application.json")
        with open(data_file, "w", encoding="utf-8") as f:
            json.dump(APPLICATION, f, ensure_ascii=False, separators=(",", ":"))
        wrk_env = {"VORGANG_BENCH_TOKENS": tokens_file, "VORGANG_BENCH_TOKEN": tokens[0],
                   "VORGANG_BENCH_DATA": data_file}

        postmaster = postmaster_pid(args.pg)
        meter = CpuMeter(server.pid, postmaster)
        commits_before = commits(args.backend, db_url, settle=1.5)
        statements = args.statements and args.backend == "postgres" and statements_reset(args.pg)
        if args.statements and not statements:
            print("postgres: pg_stat_statements is not available; --statements ignored")
        meter.start()
        cmd = run_wrk("wrk_commands.lua", address, args.clients, args.seconds, wrk_env)
        command_cpu = meter.stop()
        commits_during = commits(args.backend, db_url) - commits_before if commits_before is not None else None
        sent_during = int(sql_run(args.backend, db_url, sqlite_path,
                                  "SELECT count(*) FROM outbox WHERE status = 'sent'", fetch=True)[0])
        if cmd["errors"]:
            raise SystemExit(f"{cmd['errors']} commands refused, first: {cmd['first_error']}")
        commands_per_s = cmd["commands"] / cmd["seconds"]
        print(f"{args.backend}: {cmd['commands']} commands from {args.clients} clients "
              f"for {len(keys)} applicant(s) in {cmd['seconds']:.1f} s "
              f"= {commands_per_s:.0f} commands/s (command latency p50 {cmd['p50_ms']:.1f} ms, "
              f"p99 {cmd['p99_ms']:.1f} ms)")
        per_command = {k: 1000 * command_cpu[k] / cmd["commands"] for k in ("server", "postgres", "load")}
        print(f"{args.backend}: CPU per command: server {per_command['server']:.2f} ms, "
              f"PostgreSQL {per_command['postgres']:.2f} ms{'' if postmaster else ' (not measured)'}, "
              f"wrk {per_command['load']:.2f} ms; machine {command_cpu['busy']:.0f} % busy "
              f"({os.cpu_count()} cores)")

        if statements:
            for line in statements_top(args.pg, pg_db, args.statements):
                print(f"postgres: {line}")
        if commits_during is not None:
            print(f"{args.backend}: at least {commits_during / cmd['commands']:.2f} PostgreSQL transactions per "
                  f"command (each statement outside a transaction counts, reads included; also the claims "
                  f"and outcomes of the {sent_during} mails sent meanwhile; the last second may be missing)")
        else:
            print(f"{args.backend}: {sent_during} mails sent during the command phase")
        drained_in, mails = drain_outbox(args.backend, db_url, sqlite_path, args.drain_seconds)
        print(f"{args.backend}: the last of the {mails} mails queued by the commands was delivered "
              f"{drained_in:.1f} s after they ended (to {args.mail_url or 'files'})")

        low, high = seed(args.backend, db_url, sqlite_path, args.cases, keys[0])
        wrk_env.update({"VORGANG_BENCH_MIN_ID": str(low), "VORGANG_BENCH_MAX_ID": str(high)})
        meter.start()
        read = run_wrk("wrk_reads.lua", address, args.clients, args.seconds, wrk_env)
        read_cpu = meter.stop()
        if read["errors"]:
            raise SystemExit(f"{read['errors']} reads failed, first: {read['first_error']}")
        print(f"{args.backend}: GET /api/v1/cases/{{id}} of {high - low + 1} of {args.cases} cases, "
              f"{args.clients} clients: "
              f"p50 {read['p50_ms']:.1f} ms, p90 {read['p90_ms']:.1f} ms, p99 {read['p99_ms']:.1f} ms, "
              f"max {read['max_ms']:.0f} ms, "
              f"{read['requests'] / read['seconds']:.0f} requests/s")
        per_read = {k: 1000 * read_cpu[k] / max(read["requests"], 1) for k in ("server", "postgres", "load")}
        print(f"{args.backend}: CPU per read: server {per_read['server']:.3f} ms, "
              f"PostgreSQL {per_read['postgres']:.3f} ms{'' if postmaster else ' (not measured)'}, "
              f"wrk {per_read['load']:.3f} ms; machine {read_cpu['busy']:.0f} % busy")
        server.terminate()
        server.wait(timeout=30)
        server = None

        if args.pg and not args.no_pgbench:
            tps, bench_cpu, transactions = pgbench(args.pg, args.clients, args.seconds,
                                                   CpuMeter(None, postmaster))
            ratio = 100 * commands_per_s / tps
            print(f"postgres: pgbench -N -c {args.clients}: {tps:.0f} tps; {args.backend} API commands/s "
                  f"= {ratio:.0f} % of it (goal >= 50 %: {'met' if ratio >= 50 else 'missed'})")
            if postmaster and transactions:
                per_txn = {k: 1000 * bench_cpu[k] / transactions for k in ("postgres", "load")}
                print(f"postgres: CPU per pgbench transaction: PostgreSQL {per_txn['postgres']:.2f} ms, "
                      f"pgbench {per_txn['load']:.2f} ms; machine {bench_cpu['busy']:.0f} % busy")
                saturated = command_cpu["busy"] >= 90 and bench_cpu["busy"] >= 90
                if args.backend == "postgres" and per_command["postgres"] > 0 and not saturated:
                    print("postgres: the cores were not saturated in both phases, so rates are not "
                          "bound by CPU alone; no ceiling from CPU time")
                elif args.backend == "postgres" and per_command["postgres"] > 0:
                    # Both CPU-bound on the same cores: rates are inversely proportional to the
                    # CPU per unit. A server costing nothing would leave PostgreSQL's share.
                    ceiling = 100 * (per_txn["postgres"] + per_txn["load"]) / per_command["postgres"]
                    print(f"postgres: with a server and load generator costing no CPU at all, "
                          f"PostgreSQL's CPU per command would allow at most {ceiling:.0f} % of pgbench")
        print(f"{args.backend}: read p99 {read['p99_ms']:.1f} ms (goal < 20 ms: "
              f"{'met' if read['p99_ms'] < 20 else 'missed'})")
    finally:
        if server:
            server.terminate()
            server.wait(timeout=30)
        if pg_db:
            psql(args.pg, f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)")
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
