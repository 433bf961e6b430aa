#!/usr/bin/env python3
"""Side-by-side engine benchmark: vorgang's engine against SpiffWorkflow and bpmn-engine.

Usage: python3 bench/engines.py [--repeat 3] [--spiff-instances 300] [--node-instances 1000]

All three run the same reference process in memory, completing every user task one by one: start,
Entwurf, a 6-way parallel of Stellungnahmen, join, Kreistag, a decision on case data, Bewilligung,
end (9 tasks). vorgang runs `bench/ki_antrag_bench.yaml` through `cargo bench --bench engine`
(criterion, release build); the peers run `bench/peers/ki_antrag.*.bpmn` (the two files differ
only in the condition syntax) with the scripts next to them.

The peers are installed at pinned versions (`bench/peers/requirements.txt`, `package.json`) under
~/.cache/vorgang-bench, never into the project: a Python virtual environment for SpiffWorkflow and
an npm folder for bpmn-engine. Needs python3 with venv, node and npm. Each peer runs `--repeat`
times; the median is reported. Nothing is timed but the execution of instances (bpmn-engine parses
its model once beforehand, SpiffWorkflow parses its spec once).
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = os.path.join(ROOT, "bench", "peers")
CACHE = os.path.join(os.path.expanduser("~"), ".cache", "vorgang-bench")
TASKS = 9

UNITS = {"": 1.0, "K": 1e3, "M": 1e6, "G": 1e9}


def run(command, cwd=None):
    """Runs `command`, returns its stdout; stops with its stderr when it fails."""
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"failed: {' '.join(command)}")
    return done.stdout


def vorgang_instances_per_second():
    """Criterion's throughput estimate (the middle of its interval), in instances per second."""
    out = run(["cargo", "bench", "--bench", "engine", "--", "--noplot"], cwd=ROOT)
    match = re.search(r"thrpt:\s*\[\S+ \S+ ([0-9.]+) ([KMG]?)elem/s", out)
    if not match:
        sys.stderr.write(out)
        raise SystemExit("no throughput in the output of cargo bench --bench engine")
    return float(match.group(1)) * UNITS[match.group(2)]


def spiff_python():
    """The virtual environment's python with the pinned SpiffWorkflow, created on first use."""
    venv = os.path.join(CACHE, "spiffworkflow-3.2.0")
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        run([sys.executable, "-m", "venv", venv])
        run([python, "-m", "pip", "install", "--quiet", "-r",
             os.path.join(PEERS, "requirements.txt")])
    return python


def node_folder():
    """A folder with the pinned bpmn-engine and the benchmark script, installed on first use."""
    folder = os.path.join(CACHE, "bpmn-engine-25.0.1")
    for name in ["package.json", "package-lock.json", "bpmn_engine_bench.mjs",
                 "ki_antrag.node.bpmn"]:
        os.makedirs(folder, exist_ok=True)
        shutil.copyfile(os.path.join(PEERS, name), os.path.join(folder, name))
    if not os.path.isdir(os.path.join(folder, "node_modules", "bpmn-engine")):
        run(["npm", "ci", "--no-audit", "--no-fund"], cwd=folder)
    return folder


def peer_instances_per_second(command, cwd):
    out = run(command, cwd=cwd)
    match = re.search(r"instances_per_s=([0-9.]+)", out)
    if not match:
        raise SystemExit(f"no instances_per_s in: {out}")
    return float(match.group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per peer (median reported)")
    parser.add_argument("--spiff-instances", type=int, default=300)
    parser.add_argument("--node-instances", type=int, default=1000)
    args = parser.parse_args()

    python = spiff_python()
    folder = node_folder()
    results = [("vorgang (benches/engine.rs)", vorgang_instances_per_second())]
    spiff = [peer_instances_per_second(
        [python, os.path.join(PEERS, "spiff_bench.py"), str(args.spiff_instances),
         os.path.join(PEERS, "ki_antrag.spiff.bpmn")], PEERS) for _ in range(args.repeat)]
    results.append(("SpiffWorkflow 3.2.0", statistics.median(spiff)))
    node = [peer_instances_per_second(
        ["node", "bpmn_engine_bench.mjs", str(args.node_instances), "ki_antrag.node.bpmn"],
        folder) for _ in range(args.repeat)]
    results.append(("bpmn-engine 25.0.1", statistics.median(node)))

    ours = results[0][1]
    print(f"{'engine':<28} {'instances/s':>12} {'tasks/s':>12} {'vorgang is':>12}")
    for name, per_second in results:
        factor = "" if name.startswith("vorgang") else f"{ours / per_second:,.0f}x"
        print(f"{name:<28} {per_second:>12,.0f} {per_second * TASKS:>12,.0f} {factor:>12}")


if __name__ == "__main__":
    main()
