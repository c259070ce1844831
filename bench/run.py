#!/usr/bin/env python3
"""Benchmark: openssl-recipes against what a careful user would script, each target beside its figure.

Paired and alternating in one run (A then B, B then A, …), whole-process wall time, medians (and the
median of the per-round ratios for the paired cases). Not a test: nothing here asserts a timing.

  default recipe  `build` vs the document's eight commands with the three key generations started at
                  once (target ≤ 1.35×); also vs the same commands in sequence, and the floor: the
                  three `genrsa 2048` alone, at once, on this machine's cores
  plan            `plan` of the default recipe (target ≤ 0.15 s)
  --help, Tab     `--help`, and one completion request (a command name; an entry name, which reads
                  the recipe) (target ≤ 0.10 s); beside them `python -c pass` and `import typer`
  fleet           CA + server + 1000 EC P-256 clients: `build` vs the document's three commands per
                  device through `xargs -P2` (target ≤ 0.6×) and vs the floor, one bare
                  `req -new -x509 -CA` per device through `xargs -P2` (target ≤ 1.3×); peak RSS of
                  the tool (target ≤ 60 MiB); `build` again with every file kept (target ≤ 1.5 s);
                  `verify` of the whole fleet, once (target ≤ 5 s)
  100 000         `plan` of a recipe with `count: 100000` (targets ≤ 1.5 s, ≤ 150 MiB)
  sites           `bundle` of 10 000 sites after their build (targets ≤ 20 s, ≤ 100 MiB), and again
                  with nothing changed (target ≤ 5 s)

    python bench/run.py            # the full run (about ten minutes on 2 cores)
    python bench/run.py --quick    # fewer rounds, a 200-client fleet: a smoke run, not the figures
    python bench/run.py --devices 10000   # the fleet's and the signing rows at 10 000 devices, the targets
                                          # of 1000 scaled (and the peak RSS against 1.5× the peak at 1000)
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOL = [sys.executable, "-m", "openssl_recipes"]
SUBJ = "/C=CN/O=EMQ"


def recipe_text(clients: int, key_type: str) -> str:
    """The `init fleet` shape: CA, a server, `clients` devices (one openssl a device: the default)."""
    fleet = (
        f"  - {{name: 'client-{{n:06d}}', count: {clients}, subject: {{CN: 'client {{n}}'}}}}\n"
        if clients > 1
        else "  - {name: client, key_file: client-key.pem, subject: {CN: client}}\n"
    )
    return (
        textwrap.dedent(f"""\
        output: certs
        defaults: {{key_type: {key_type}, subject: {{C: CN, O: EMQ}}}}
        ca: {{subject: {{CN: Bench CA}}}}
        servers:
          - {{name: server, subject: {{CN: localhost}}, san: [localhost, 127.0.0.1]}}
        clients:
        """)
        + fleet
    )


def genkey(out: str, key_type: str) -> str:
    if key_type == "rsa":
        return f"openssl genrsa -out {out} 2048"
    return f"openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out {out}"


def head(key_type: str, serial_file: bool = True) -> list[str]:
    serial = " -CAcreateserial" if serial_file else ""
    return [
        "set -e",
        "mkdir -p certs && cd certs",
        genkey("ca.key", key_type),
        f"openssl req -x509 -new -nodes -key ca.key -sha256 -days 3650 -out ca.pem -subj '{SUBJ}/CN=Bench CA'",
        genkey("server.key", key_type),
        f"openssl req -new -key ./server.key -out server.csr -subj '{SUBJ}/CN=localhost'",
        f"openssl x509 -req -in ./server.csr -CA ca.pem -CAkey ca.key{serial} -out server.pem -days 3650 -sha256",
    ]


def sequential_script() -> str:
    """The document's eight commands, one after another."""
    return "\n".join(
        [
            *head("rsa"),
            genkey("client-key.pem", "rsa"),
            f"openssl req -new -key client-key.pem -out client.csr -subj '{SUBJ}/CN=client'",
            "openssl x509 -req -days 3650 -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem",
        ]
    )


def parallel_script() -> str:
    """The same commands, the three key generations started at once (as a careful user would)."""
    return "\n".join(
        [
            "set -e",
            "mkdir -p certs && cd certs",
            *(f"{genkey(name, 'rsa')} 2>/dev/null &" for name in ("ca.key", "server.key", "client-key.pem")),
            "wait",
            f"openssl req -x509 -new -nodes -key ca.key -sha256 -days 3650 -out ca.pem -subj '{SUBJ}/CN=Bench CA'",
            f"openssl req -new -key ./server.key -out server.csr -subj '{SUBJ}/CN=localhost'",
            "openssl x509 -req -in ./server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 3650 -sha256",
            f"openssl req -new -key client-key.pem -out client.csr -subj '{SUBJ}/CN=client'",
            "openssl x509 -req -days 3650 -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem",
        ]
    )


def keys_only_script() -> str:
    """The floor: the three RSA-2048 key generations, at once, nothing else."""
    return "\n".join(
        ["set -e", "mkdir -p certs && cd certs", *(f"{genkey(f'k{i}.key', 'rsa')} 2>/dev/null &" for i in range(3)), "wait"]
    )


def device_script() -> str:
    """One device's three commands (its name in $1), for `xargs`."""
    return "\n".join(
        [
            "set -e",
            genkey('"$1.key"', "ec"),
            f'openssl req -new -key "$1.key" -out "$1.csr" -subj "{SUBJ}/CN=$1"',
            'openssl x509 -req -days 3650 -in "$1.csr" -CA ca.pem -CAkey ca.key -out "$1.pem" 2>/dev/null',
        ]
    )


def floor_device_script() -> str:
    """The floor of a fleet: one bare openssl process per device, key and signed certificate at once
    (`req -new -newkey … -x509 -CA`, OpenSSL 3), for `xargs`."""
    return "\n".join(
        [
            "set -e",
            'openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -x509 -CA ca.pem'
            f' -CAkey ca.key -days 3650 -subj "{SUBJ}/CN=$1" -out "$1.pem" 2>/dev/null',
        ]
    )


def floor_script(clients: int) -> str:
    return "\n".join([*head("ec", serial_file=False), f"seq -f 'client-%06g' 1 {clients} | xargs -P2 -n1 sh ../floor-device.sh"])


def xargs_script(clients: int) -> str:
    """CA and server, then each device's three commands, two devices at a time (`xargs -P2`). No
    serial file at all: two signatures at once would race on ca.srl; OpenSSL 3 picks random serials."""
    return "\n".join([*head("ec", serial_file=False), f"seq -f 'client-%06g' 1 {clients} | xargs -P2 -n1 sh ../device.sh"])


def cfssl_device_script() -> str:
    """cfssl's build of one device (its name in $1): key, request and signature in one `gencert`, then
    cfssljson writes the files, for `xargs`."""
    return (
        'echo \'{"CN": "\'"$1"\'", "names": [{"C": "CN", "O": "EMQ"}], "key": {"algo": "ecdsa", "size": 256}}\' '
        '| cfssl gencert -ca ca.pem -ca-key ca.key - 2>/dev/null | cfssljson -bare "$1"'
    )


def cfssl_script(clients: int) -> str:
    return "\n".join([*head("ec", serial_file=False), f"seq -f 'client-%06g' 1 {clients} | xargs -P2 -n1 sh ../cfssl-device.sh"])


def requests_script(clients: int) -> str:
    """The devices' own keys and requests, made once before the signing rounds (not timed)."""
    return "\n".join(
        [
            "set -e",
            "mkdir -p requests && cd requests",
            f"seq -f 'dev-%06g' 1 {clients} | xargs -P2 -I{{}} openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256"
            f" -nodes -keyout {{}}.key -out {{}}.csr -subj '{SUBJ}/CN={{}}' 2>/dev/null",
        ]
    )


def cfssl_sign_script() -> str:
    """cfssl signing the devices' requests, one `cfssl sign | cfssljson` each through `xargs -P2`."""
    return "\n".join(
        [
            "set -e",
            "mkdir -p cfssl-signed",
            'ls requests/*.csr | xargs -P2 -I{} sh -c \'cfssl sign -ca certs/ca.pem -ca-key certs/ca.key "$1" 2>/dev/null'
            ' | cfssljson -bare "cfssl-signed/$(basename "$1" .csr)"\' _ {}',
        ]
    )


def timed(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


def fresh(work: Path) -> Path:
    shutil.rmtree(work / "certs", ignore_errors=True)
    return work


@dataclass
class Row:
    case: str
    figure: str
    target: str = ""
    verdict: str = ""


def paired(
    label: str, rounds: int, a: list[str], b: list[str], work: Path, reset: Callable[[Path], Path] = fresh
) -> tuple[float, float, float]:
    """(median of a, median of b, median of the per-round ratios a/b), alternating which runs first;
    `reset` before each run (default: no certs folder)."""
    times_a, times_b, ratios = [], [], []
    for round_ in range(rounds):
        order = ((a, times_a), (b, times_b)) if round_ % 2 == 0 else ((b, times_b), (a, times_a))
        for argv, times in order:
            times.append(timed(argv, reset(work)))
        ratios.append(times_a[-1] / times_b[-1])
        print(f"  {label} {round_ + 1}/{rounds}: {times_a[-1]:.3f} s vs {times_b[-1]:.3f} s", file=sys.stderr)
    return statistics.median(times_a), statistics.median(times_b), statistics.median(ratios)


def median_time(argv: list[str], rounds: int, cwd: Path, env: dict[str, str] | None = None) -> float:
    return statistics.median(timed(argv, cwd, env) for _ in range(rounds))


def peak_rss_mib(argv: list[str], work: Path, keep: bool = False) -> float:
    """Max RSS of the tool's own Python process (not of its openssl children); `keep`: in the folder as
    it is (else the certificates are made again)."""
    code = (
        "import resource, sys\nfrom openssl_recipes.entry import main\n"
        f"code = main({argv!r})\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\nsys.exit(code)\n"
    )
    folder = work if keep else fresh(work)
    # its output is not kept here: a child's ru_maxrss starts from this process's size (Linux carries the
    # high-water mark through fork and exec), and 100 000 devices' plan held here made every later
    # figure at least 119 MiB
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True
    )
    return int(out.stderr.strip().splitlines()[-1]) / 1024


def unsigned(work: Path) -> Path:
    """The signing workspace as before a round: its CA kept, no device signed yet (by either tool)."""
    for path in [*(work / "certs").glob("dev-*.pem"), work / "certs" / ".openssl-recipes.signed"]:
        path.unlink(missing_ok=True)
    shutil.rmtree(work / "cfssl-signed", ignore_errors=True)
    return work


def signing_rows(base: Path, clients: int, rounds: int) -> list[Row]:
    """Signing the devices' own requests: `sign --csr-dir`, and `build` of a recipe of `csr:` entries,
    each against cfssl signing the same requests one process each through `xargs -P2` (target ≤ 0.3×)."""
    recipe = "output: certs\ndefaults: {key_type: ec, subject: {C: CN, O: EMQ}}\nca: {subject: {CN: Bench CA}}\n"
    work = workspace(base, "signing", recipe, {"requests.sh": requests_script(clients), "cfssl-sign.sh": cfssl_sign_script()})
    subprocess.run(["bash", "requests.sh"], cwd=work, check=True)
    subprocess.run([*TOOL, "build", "--quiet"], cwd=work, check=True, stdout=subprocess.DEVNULL)
    sign = [*TOOL, "sign", "--csr-dir", "requests", "--as", "client"]
    tool, cfssl, ratio = paired(f"sign --csr-dir of {clients} vs cfssl", rounds, sign, ["bash", "cfssl-sign.sh"], work, unsigned)
    rows = [
        Row(
            f"sign --csr-dir, {clients} requests, vs cfssl sign per request, xargs -P2",
            f"{tool:.2f} s vs {cfssl:.2f} s",
            "≤ 0.3×",
            f"{ratio:.2f}× {'✔' if ratio <= 0.3 else '✘'}",
        )
    ]
    devices = recipe + f"clients:\n  - {{name: 'dev-{{n:06d}}', count: {clients}, csr: 'requests/dev-{{n:06d}}.csr'}}\n"
    fleet = workspace(base, "csr-recipe", devices, {"cfssl-sign.sh": cfssl_sign_script()})
    (fleet / "requests").symlink_to(work / "requests")
    subprocess.run([*TOOL, "build", "--quiet"], cwd=fleet, check=True, stdout=subprocess.DEVNULL)  # the CA cfssl signs with

    tool, cfssl, ratio = paired(
        f"build of {clients} csr: entries vs cfssl",
        rounds,
        [*TOOL, "build", "--quiet"],
        ["bash", "cfssl-sign.sh"],
        fleet,
        unsigned,
    )
    rows.append(
        Row(
            f"build of a recipe of {clients} `csr:` entries, vs cfssl sign per request",
            f"{tool:.2f} s vs {cfssl:.2f} s",
            "≤ 0.3×",
            f"{ratio:.2f}× {'✔' if ratio <= 0.3 else '✘'}",
        )
    )
    return rows


def sites_recipe(count: int) -> str:
    """`count` NanoMQ sites bridging to one cloud (the fast shape: EC keys, one openssl req a site)."""
    return (
        "output: certs\ndefaults: {key_type: ec, one_step: true}\nca: {subject: {CN: Edge CA}}\n"
        "servers:\n  - {name: cloud, san: [localhost]}\n"
        f"clients:\n  - {{name: 'site-{{n:05d}}', count: {count}}}\n  - {{name: cloud-app}}\n"
        "nanomq:\n  cert_dir: /etc/nanomq/certs\n  bridge:\n    client: 'site-{n:05d}'\n    host: cloud.example.com\n"
        "    forwards: [{remote_topic: 'sites/{name}/up', local_topic: up}]\n"
        "    subscription: [{remote_topic: 'sites/{name}/down', local_topic: down}]\n"
    )


def verdict(value: float, target: float) -> str:
    return f"{'✔' if value <= target else '✘'} {value / target:.2f} of the target"


def machine() -> str:
    openssl = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {openssl}, "
        f"load average {os.getloadavg()[0]:.2f} at start"
    )


def workspace(base: Path, name: str, recipe: str, scripts: dict[str, str]) -> Path:
    work = base / name
    work.mkdir()
    (work / "recipes.yaml").write_text(recipe)
    for file_name, text in scripts.items():
        (work / file_name).write_text(text + "\n")
    return work


def default_rows(base: Path, rounds: int) -> list[Row]:
    """The default recipe against the document's commands; plan, --help and a Tab."""
    rows: list[Row] = []
    one = workspace(
        base,
        "default",
        (ROOT / "recipes.yaml").read_text(),
        {"parallel.sh": parallel_script(), "sequential.sh": sequential_script(), "keys.sh": keys_only_script()},
    )
    build = [*TOOL, "build", "--quiet"]
    tool, bash, ratio = paired("default: build vs parallel bash", rounds, build, ["bash", "parallel.sh"], one)
    rows.append(
        Row(
            "default recipe: build vs bash, keys at once",
            f"{tool:.3f} s vs {bash:.3f} s",
            "≤ 1.35×",
            f"{ratio:.2f}× {'✔' if ratio <= 1.35 else '✘'}",
        )
    )
    tool, bash, ratio = paired("default: build vs sequential bash", max(5, rounds // 2), build, ["bash", "sequential.sh"], one)
    rows.append(Row("default recipe: build vs bash, in sequence", f"{tool:.3f} s vs {bash:.3f} s", "", f"{ratio:.2f}×"))
    floor = median_time(["bash", "keys.sh"], rounds, fresh(one))
    rows.append(Row("floor: three genrsa 2048 at once, nothing else", f"{floor:.3f} s"))

    plan = median_time([*TOOL, "plan"], rounds, one)
    rows.append(Row("plan, default recipe", f"{plan:.3f} s", "≤ 0.15 s", verdict(plan, 0.15)))
    help_ = median_time([*TOOL, "--help"], rounds, one)
    rows.append(Row("--help", f"{help_:.3f} s", "≤ 0.10 s", verdict(help_, 0.10)))
    for what, words in (("a command name", "openssl-recipes b"), ("an entry name", "openssl-recipes show s")):
        env = {
            **os.environ,
            "_OPENSSL_RECIPES_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": "2" if " show " in words else "1",
        }
        tab = median_time(TOOL, rounds, one, env)
        rows.append(Row(f"one completion request, {what}", f"{tab:.3f} s", "≤ 0.10 s", verdict(tab, 0.10)))
    python = median_time([sys.executable, "-c", "pass"], rounds, one)
    typer = median_time([sys.executable, "-c", "import typer"], rounds, one)
    rows.append(Row("beside them: python -c pass; python -c 'import typer'", f"{python:.3f} s; {typer:.3f} s"))

    return rows


def large_rows(base: Path, quick: bool) -> list[Row]:
    """`plan` of 100 000 devices; `bundle` of 10 000 sites."""
    rows: list[Row] = []
    huge = workspace(base, "huge", recipe_text(100_000, "ec"), {})
    seconds = median_time([*TOOL, "plan", "--assume-openssl3"], 1 if quick else 3, huge)
    rows.append(Row("plan of 100 000 devices", f"{seconds:.2f} s", "≤ 1.5 s", verdict(seconds, 1.5)))
    rss = peak_rss_mib(["plan", "--assume-openssl3"], huge)
    rows.append(Row("peak RSS, plan of 100 000 devices", f"{rss:.0f} MiB", "≤ 150 MiB", verdict(rss, 150)))

    count = 500 if quick else 10_000
    edge = workspace(base, "sites", sites_recipe(count), {})
    print(f"  building {count} sites for bundle …", file=sys.stderr)
    subprocess.run([*TOOL, "build", "--quiet"], cwd=edge, check=True, stdout=subprocess.DEVNULL)
    started = time.perf_counter()
    rss = peak_rss_mib(["bundle"], edge, keep=True)  # the first run: every site written
    first = time.perf_counter() - started
    rows.append(Row(f"bundle of {count} sites after their build", f"{first:.1f} s", "≤ 20 s", verdict(first, 20)))
    rows.append(Row(f"peak RSS, bundle of {count} sites", f"{rss:.0f} MiB", "≤ 100 MiB", verdict(rss, 100)))
    again = median_time([*TOOL, "bundle"], 1 if quick else 3, edge)
    rows.append(Row(f"bundle again, {count} sites unchanged", f"{again:.1f} s", "≤ 5 s", verdict(again, 5)))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer rounds and a 200-client fleet (a smoke run)")
    parser.add_argument("--devices", type=int, help="only the fleet's and the signing rows, for this many devices, once each")
    args = parser.parse_args()
    rounds, fleet_rounds, fleet = (5, 1, 200) if args.quick else (21, 3, 1000)
    if args.devices:
        fleet_rounds, fleet = 1, args.devices
    print(f"machine: {machine()}")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="openssl-recipes-bench-") as scratch:
        base = Path(scratch)
        if not args.devices:
            rows += default_rows(base, rounds)
        build = [*TOOL, "build", "--quiet"]
        scripts = {"xargs.sh": xargs_script(fleet), "device.sh": device_script()}
        scripts |= {"floor.sh": floor_script(fleet), "floor-device.sh": floor_device_script()}
        many = workspace(base, "fleet", recipe_text(fleet, "ec"), scripts)
        tool, bash, ratio = paired(f"fleet of {fleet}", fleet_rounds, build, ["bash", "xargs.sh"], many)
        rows.append(
            Row(
                f"CA + server + {fleet} EC clients: build vs xargs -P2",
                f"{tool:.3f} s vs {bash:.3f} s",
                "≤ 0.6×",
                f"{ratio:.2f}× {'✔' if ratio <= 0.6 else '✘'}",
            )
        )
        tool, floor, ratio = paired(f"fleet of {fleet} vs the floor", fleet_rounds, build, ["bash", "floor.sh"], many)
        rows.append(
            Row(
                "the same build vs the floor: one `req -new -x509 -CA` per device, xargs -P2",
                f"{tool:.3f} s vs {floor:.3f} s",
                "≤ 1.3×",
                f"{ratio:.2f}× {'✔' if ratio <= 1.3 else '✘'}",
            )
        )
        if shutil.which("cfssl") and shutil.which("cfssljson"):
            scripts = {"cfssl.sh": cfssl_script(fleet), "cfssl-device.sh": cfssl_device_script()}
            for name, text in scripts.items():
                (many / name).write_text(text + "\n")
            tool, peer, ratio = paired(f"fleet of {fleet} vs cfssl", fleet_rounds, build, ["bash", "cfssl.sh"], many)
            rows.append(
                Row(
                    "the same build vs cfssl: `gencert | cfssljson` per device, xargs -P2",
                    f"{tool:.3f} s vs {peer:.3f} s",
                    "≤ 1.0×",
                    f"{ratio:.2f}× {'✔' if ratio <= 1.0 else '✘'}",
                )
            )
            rows += signing_rows(base, fleet, fleet_rounds)
        else:
            rows.append(Row("cfssl (Debian golang-cfssl): not installed, its rows not measured", ""))
        rss = peak_rss_mib(["build", "--quiet"], many)
        if fleet > 1000:  # another size: its peak against 1.5× the peak at 1000, measured here too
            small = workspace(base, "fleet-1000", recipe_text(1000, "ec"), {})
            at_1000 = peak_rss_mib(["build", "--quiet"], small)
            rows.append(Row("peak RSS of the tool, 1000 clients", f"{at_1000:.1f} MiB", "≤ 60 MiB", verdict(at_1000, 60)))
            limit = 1.5 * at_1000
            rows.append(
                Row(
                    f"peak RSS of the tool, {fleet} clients",
                    f"{rss:.1f} MiB",
                    f"≤ 1.5× the peak at 1000 ({limit:.1f} MiB)",
                    verdict(rss, limit),
                )
            )
        else:
            rows.append(Row(f"peak RSS of the tool, {fleet} clients", f"{rss:.1f} MiB", "≤ 60 MiB", verdict(rss, 60)))
        scale = fleet / 1000  # the targets of 1000 devices, scaled to this many
        kept = median_time([*TOOL, "build", "--quiet"], fleet_rounds, many)  # (the PKI peak_rss_mib built)
        target = 1.5 * scale
        rows.append(
            Row(f"build again, every file of {fleet} clients kept", f"{kept:.2f} s", f"≤ {target:g} s", verdict(kept, target))
        )
        started = time.perf_counter()
        subprocess.run([*TOOL, "verify"], cwd=many, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # (its verdict aside)
        checked = time.perf_counter() - started
        target = 5 * scale
        rows.append(
            Row(
                f"verify of {fleet} clients (unencrypted keys), once",
                f"{checked:.1f} s",
                f"≤ {target:g} s",
                verdict(checked, target),
            )
        )

        if not args.devices:
            rows += large_rows(base, args.quick)
    print()
    print("| case | figure | target | ratio / verdict |")
    print("|---|---:|---:|---|")
    for row in rows:
        print(f"| {row.case} | {row.figure} | {row.target} | {row.verdict} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
