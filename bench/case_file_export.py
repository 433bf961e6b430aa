#!/usr/bin/env python3
"""Case file export benchmark: how fast `GET /api/v1/cases/{id}/export` streams a large Akte,
and how much memory the server needs for it.

Usage:
  cargo build --release
  python3 bench/case_file_export.py [--documents 50] [--megabytes 5] [--clients 1]

Against a server it starts itself (SQLite in a temporary directory, loopback only): one case of
the Kreis Soest with --documents PDF documents of --megabytes MB each (random content behind a
PDF header, so nothing compresses), uploaded through the API. Then --clients clients download
the case file at the same time, each reading it to the end. Reports, per download, the time to
the first byte and to the last, the archive's size and the rate, checks every archive with
Python's zipfile (sizes, CRCs and the SHA-256 list), and reports the server's peak resident
memory (VmHWM) before and after the downloads: the archive is streamed, so the peak should not
grow with the size of the Akte.
"""

import argparse
import hashlib
import http.client
import io
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import zipfile

import api_load  # the server start shared with the API benchmark (same directory)

ROOT = api_load.ROOT
PASSWORD = api_load.PASSWORD


def peak_memory_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def request(address, method, path, token=None, body=None, headers=None):
    host, port = address.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=600)
    all_headers = dict(headers or {})
    if token:
        all_headers["Authorization"] = "Bearer " + token
    conn.request(method, path, body=body, headers=all_headers)
    return conn, conn.getresponse()


def call_json(address, method, path, token=None, payload=None):
    conn, response = request(address, method, path, token, json.dumps(payload) if payload is not None else None,
                             {"Content-Type": "application/json"})
    body = response.read()
    conn.close()
    return response.status, json.loads(body) if body else None


def upload(address, token, case, name, content):
    boundary = "benchgrenze"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    conn, response = request(address, "POST", f"/api/v1/cases/{case}/documents", token, body,
                             {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    answer = response.read()
    conn.close()
    if response.status != 201:
        raise SystemExit(f"upload failed: {response.status} {answer[:300]}")


def download(address, token, case, results, index):
    started = time.monotonic()
    conn, response = request(address, "GET", f"/api/v1/cases/{case}/export", token)
    first = None
    chunks = []
    while True:
        chunk = response.read(1 << 20)
        if first is None:
            first = time.monotonic() - started
        if not chunk:
            break
        chunks.append(chunk)
    conn.close()
    results[index] = (response.status, first, time.monotonic() - started, b"".join(chunks))


def check(archive_bytes, documents):
    with zipfile.ZipFile(io.BytesIO(archive_bytes)) as archive:
        bad = archive.testzip()
        if bad:
            raise SystemExit(f"CRC error in {bad}")
        names = archive.namelist()
        folder = names[0].split("/")[0]
        sums = archive.read(f"{folder}/pruefsummen.sha256").decode()
        for line in sums.splitlines():
            digest, path = line.split("  ", 1)
            if hashlib.sha256(archive.read(f"{folder}/{path}")).hexdigest() != digest:
                raise SystemExit(f"checksum differs for {path}")
        found = [n for n in names if "/dokumente/" in n]
        if len(found) != documents:
            raise SystemExit(f"{len(found)} documents in the archive, expected {documents}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=50)
    parser.add_argument("--megabytes", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--binary", default=api_load.BINARY)
    args = parser.parse_args()
    api_load.BINARY = args.binary

    workdir = tempfile.mkdtemp(prefix="vorgang-export-bench-")
    shutil.copytree(os.path.join(ROOT, "workflows"), os.path.join(workdir, "workflows"))
    env = {"VORGANG_DATA_DIR": os.path.join(workdir, "data"),
           "VORGANG_DOCUMENT_MAX_MB": str(max(20, int(args.megabytes) + 1))}
    user_env = {k: v for k, v in os.environ.items() if not k.startswith("VORGANG_")}
    user_env.update(env)
    server = None
    try:
        subprocess.run([args.binary, "user", "add", "--email", "bench@example.org", "--name", "Bench", "--org", "05974",
                        "--role", "koordination"], cwd=workdir, env=user_env, input=PASSWORD + "\n", text=True,
                       check=True, capture_output=True)
        server, address = api_load.start_server(env, workdir)
        status, body = call_json(address, "POST", "/api/v1/auth/token",
                                 payload={"email": "bench@example.org", "password": PASSWORD})
        if status != 200:
            raise SystemExit(f"login failed: {status} {body}")
        token = body["token"]
        status, case = call_json(address, "POST", "/api/v1/cases", token, {"workflow": "ki-antrag", "data": {}})
        if status != 201:
            raise SystemExit(f"case not created: {status} {case}")
        size = int(args.megabytes * 1024 * 1024)
        for n in range(args.documents):
            upload(address, token, case["id"], f"Anlage {n + 1:03}.pdf", b"%PDF-1.7\n" + os.urandom(size - 9))
        before = peak_memory_kib(server.pid)

        results = [None] * args.clients
        threads = [threading.Thread(target=download, args=(address, token, case["id"], results, i))
                   for i in range(args.clients)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.monotonic() - started
        after = peak_memory_kib(server.pid)

        total = 0
        for status, first, duration, archive in results:
            if status != 200:
                raise SystemExit(f"export failed: {status} {archive[:300]}")
            check(archive, args.documents)
            total += len(archive)
            print(f"export: {len(archive) / 1e6:.0f} MB in {duration:.2f} s ({len(archive) / 1e6 / duration:.0f} MB/s), "
                  f"first byte after {first * 1000:.0f} ms; archive checked (zipfile CRCs, SHA-256 list)")
        print(f"export: {args.clients} client(s), {args.documents} documents of {args.megabytes} MB each: "
              f"{total / 1e6 / wall:.0f} MB/s together")
        print(f"export: server peak memory (VmHWM) {before / 1024:.0f} MiB before the downloads, "
              f"{after / 1024:.0f} MiB after")
    finally:
        if server:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
