#!/usr/bin/env python3
"""Benchmark: `openssl-recipes build` against a plain bash script of the document's commands.

Paired and alternating in one run (A then B, B then A, …), whole-process wall time, medians and the
median of the per-round ratios. Cases:
  (a) the default recipe (CA, server, client; RSA 2048) vs the document's eight commands in sequence;
  (b) CA + server + 100 RSA-2048 clients vs the same commands in sequence;
  (c) CA + server + 1000 EC P-256 clients vs the same commands in sequence;
  (d) `plan` of the default recipe vs `python -c pass`, and `openssl-recipes --help`.
Also the peak RSS of the tool's own process on (c). Not a test: nothing here asserts a timing.

    python bench/run.py            # the full run (several minutes on 2 cores)
    python bench/run.py --quick    # fewer rounds, (c) with 200 clients
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOL = [sys.executable, "-m", "openssl_recipes"]


def recipe_text(clients: int, key_type: str, one_step: bool = False) -> str:
    fleet = (
        f"  - {{name: 'client-{{n:04d}}', count: {clients}, subject: {{CN: 'client {{n}}'}}}}\n"
        if clients > 1
        else "  - {name: client, key_file: client-key.pem, subject: {CN: client}}\n"
    )
    return (
        textwrap.dedent(f"""\
        output: certs
        defaults: {{key_type: {key_type}, one_step: {str(one_step).lower()}, subject: {{C: CN, O: EMQ}}}}
        ca: {{subject: {{CN: Bench CA}}}}
        servers:
          - {{name: server, subject: {{CN: localhost}}, san: [localhost, 127.0.0.1]}}
        clients:
        """)
        + fleet
    )


def bash_script(clients: int, key_type: str) -> str:
    """The document's commands, one after another, as a user would script them."""

    def genkey(out: str) -> str:
        if key_type == "rsa":
            return f"openssl genrsa -out {out} 2048"
        return f"openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out {out}"

    lines = [
        "set -e",
        "mkdir -p certs && cd certs",
        genkey("ca.key"),
        "openssl req -x509 -new -nodes -key ca.key -sha256 -days 3650 -out ca.pem -subj '/C=CN/O=EMQ/CN=Bench CA'",
        genkey("server.key"),
        "openssl req -new -key ./server.key -out server.csr -subj '/C=CN/O=EMQ/CN=localhost'",
        "openssl x509 -req -in ./server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 3650 -sha256",
    ]
    names = ["client"] if clients == 1 else [f"client-{n:04d}" for n in range(1, clients + 1)]
    for name in names:
        key = "client-key.pem" if clients == 1 else f"{name}.key"
        lines += [
            genkey(key),
            f"openssl req -new -key {key} -out {name}.csr -subj '/C=CN/O=EMQ/CN={name}'",
            f"openssl x509 -req -days 3650 -in {name}.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out {name}.pem",
        ]
    return "\n".join(lines) + "\n" + ("exit 0\n" if clients else "")


def timed(argv: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def fresh(work: Path) -> Path:
    shutil.rmtree(work / "certs", ignore_errors=True)
    return work


def paired(label: str, rounds: int, a: tuple[str, list[str]], b: tuple[str, list[str]], work: Path) -> dict[str, object]:
    times: dict[str, list[float]] = {a[0]: [], b[0]: []}
    ratios = []
    for round_ in range(rounds):
        order = (a, b) if round_ % 2 == 0 else (b, a)
        got = {}
        for name, argv in order:
            got[name] = timed(argv, fresh(work))
            times[name].append(got[name])
        ratios.append(got[a[0]] / got[b[0]])
        print(f"  {label} round {round_ + 1}/{rounds}: {a[0]} {got[a[0]]:.3f} s, {b[0]} {got[b[0]]:.3f} s", file=sys.stderr)
    med_a, med_b = statistics.median(times[a[0]]), statistics.median(times[b[0]])
    return {"case": label, "a": a[0], "b": b[0], "a_s": med_a, "b_s": med_b, "ratio": statistics.median(ratios), "rounds": rounds}


def peak_rss_mib(recipe: Path, work: Path) -> float:
    """Max RSS of the tool's own Python process (not of its openssl children) for one build."""
    code = (
        "import resource, sys\nfrom openssl_recipes.cli import main\n"
        f"code = main(['build', '--recipe', {str(recipe)!r}, '--quiet'])\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\nsys.exit(code)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=fresh(work), capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def machine() -> str:
    openssl = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    load = os.getloadavg()[0]
    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {openssl}, "
        f"load average {load:.2f} at start"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer rounds; case (c) with 200 clients")
    args = parser.parse_args()
    rounds = (5, 3, 1, 9) if args.quick else (9, 5, 3, 15)
    fleet = 200 if args.quick else 1000
    print(f"machine: {machine()}")
    results = []
    with tempfile.TemporaryDirectory(prefix="openssl-recipes-bench-") as scratch:
        base = Path(scratch)
        cases = [
            ("default recipe", 1, "rsa", rounds[0], False),
            ("100 RSA clients", 100, "rsa", rounds[1], False),
            (f"{fleet} EC P-256 clients", fleet, "ec", rounds[2], False),
            (f"{fleet} EC P-256 clients one_step", fleet, "ec", rounds[2], True),
        ]
        for label, clients, key_type, n, one_step in cases:
            work = base / label.replace(" ", "-")
            work.mkdir()
            (work / "recipes.yaml").write_text(recipe_text(clients, key_type, one_step))
            (work / "document.sh").write_text(bash_script(clients, key_type))
            results.append(paired(label, n, ("build", [*TOOL, "build", "--quiet"]), ("bash", ["bash", "document.sh"]), work))
        work = base / "default-recipe"
        results.append(
            paired("plan", rounds[3], ("plan", [*TOOL, "plan"]), ("python -c pass", [sys.executable, "-c", "pass"]), work)
        )
        help_times = sorted(timed([*TOOL, "--help"], work) for _ in range(rounds[3]))
        rss = peak_rss_mib(base / cases[2][0].replace(" ", "-") / "recipes.yaml", base / cases[2][0].replace(" ", "-"))
    print()
    print(f"| case | {'tool':>8} | {'other':>8} | ratio (median of paired) |")
    print("|---|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['case']}: {r['a']} vs {r['b']} ({r['rounds']} rounds) | {r['a_s']:.3f} s | {r['b_s']:.3f} s | {r['ratio']:.2f}× |"
        )
    print(f"| openssl-recipes --help | {statistics.median(help_times):.3f} s | | |")
    print(f"| peak RSS of the tool's process, {cases[2][0]} | {rss:.1f} MiB | | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
