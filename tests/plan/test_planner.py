"""Recipe → Plan → text: the document's commands, the strict style's additions, the script."""

from __future__ import annotations

import shlex
import subprocess
import sys

import pytest

from openssl_recipes.core.openssl import ASSUMED, Openssl
from openssl_recipes.plan.planner import build_plan, with_kept_key
from openssl_recipes.plan.script import plan_script
from openssl_recipes.recipe.load import load_recipe, parse_recipe

from ..helpers import DEFAULT_RECIPE, cli, require, write_recipe

# The seed document's eight commands, copied character for character.
DOCUMENT_COMMANDS = [
    "openssl genrsa -out ca.key 2048",
    "openssl req -x509 -new -nodes -key ca.key -sha256 -days 3650 -out ca.pem",
    "openssl genrsa -out server.key 2048",
    "openssl req -new -key ./server.key -out server.csr",
    "openssl x509 -req -in ./server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 3650 -sha256",
    "openssl genrsa -out client-key.pem 2048",
    "openssl req -new -key client-key.pem -out client.csr",
    "openssl x509 -req -days 3650 -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem",
]


def document_plan(tmp_path):
    text = DEFAULT_RECIPE.read_text().replace("style: strict", "style: document")
    return build_plan(parse_recipe(text, tmp_path / "recipes.yaml"), ASSUMED)


def without_subj(argv: tuple[str, ...]) -> str:
    args = list(argv)
    if "-subj" in args:
        i = args.index("-subj")
        del args[i : i + 2]
    return " ".join(args)


def test_document_style_is_the_document_character_for_character(tmp_path):
    plan = document_plan(tmp_path)
    assert [without_subj(step.argv) for step in plan.steps] == DOCUMENT_COMMANDS
    assert plan.files == {}
    # only -subj is added, and only to the three `req` commands
    assert [("-subj" in step.argv) for step in plan.steps] == [False, True, False, True, False, False, True, False]


def test_strict_style_adds_the_extension_file_and_nothing_shared(tmp_path):
    plan = build_plan(load_recipe(DEFAULT_RECIPE), ASSUMED)
    ca_cert, server_sign, client_sign = plan.steps[1], plan.steps[4], plan.steps[7]
    assert ca_cert.argv[-4:] == ("-config", "openssl-recipes.cnf", "-extensions", "ca_ext")
    assert server_sign.argv[-4:] == ("-extfile", "openssl-recipes.cnf", "-extensions", "server_ext")
    assert client_sign.argv[-4:] == ("-extfile", "openssl-recipes.cnf", "-extensions", "client_ext")
    assert not any("-CAcreateserial" in step.argv for step in plan.steps)  # random serials: signings are independent
    cnf = plan.files["openssl-recipes.cnf"]
    assert "subjectAltName = DNS:localhost, IP:127.0.0.1, DNS:127.0.0.1" in cnf
    assert "keyUsage = critical, keyCertSign, cRLSign" in cnf


def test_openssl_111_falls_back_to_a_shared_serial(tmp_path):
    plan = build_plan(load_recipe(DEFAULT_RECIPE), Openssl("openssl", "OpenSSL", (1, 1, 1), "OpenSSL 1.1.1w"))
    signs = [s for s in plan.steps if s.kind == "cert" and not s.is_ca]
    assert [s.entry for s in signs] == ["server", "client"]
    assert all("-CAcreateserial" in s.argv and "ca.srl" in s.outputs for s in signs)


def test_ec_and_ed25519_keys_and_encrypted_keys_for_nanomq(tmp_path):
    recipe = parse_recipe(
        """
        ca: {subject: {CN: R}, key_type: ec, curve: P-384}
        clients:
          - {name: a, subject: {CN: a}, password: {env: A_PASS}}
          - {name: b, subject: {CN: b}, password: {env: B_PASS}, nanomq: false}
          - {name: c, subject: {CN: c}, key_type: ed25519}
          - {name: d, subject: {CN: d}, key_type: ec, password: {env: D_PASS}}
        """,
        tmp_path / "r.yaml",
    )
    plan = build_plan(recipe, ASSUMED)
    keys = {s.entry: " ".join(s.argv) for s in plan.steps if s.kind == "key"}
    assert keys["ca"] == "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out ca.key"
    assert keys["a"] == "openssl genrsa -traditional -aes256 -passout env:A_PASS -out a.key 2048"
    assert keys["b"] == "openssl genrsa -aes256 -passout env:B_PASS -out b.key 2048"
    assert keys["c"] == "openssl genpkey -algorithm ED25519 -out c.key"
    assert keys["d"] == "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -des3 -pass env:D_PASS -out d.key"
    cnf = plan.files["openssl-recipes.cnf"]
    assert "[ c_ext ]\nbasicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\n" in cnf
    requests = {s.entry: s.argv for s in plan.steps if s.kind == "csr"}
    assert "-sha256" not in requests["c"] and "-sha256" in requests["a"]  # an Ed25519 key signs without a digest


def test_plan_prints_pasteable_commands_and_no_secret(tmp_path):
    recipe = write_recipe(
        tmp_path,
        DEFAULT_RECIPE.read_text().replace(
            "    subject:\n      CN: client\n", "    subject:\n      CN: client\n    password: {env: CLIENT_PASS}\n"
        ),
    )
    result = cli("plan", "--recipe", str(recipe), env={"CLIENT_PASS": "s3cret-value"})
    assert result.code == 0, result
    assert "s3cret-value" not in result.output
    assert "# needs CLIENT_PASS set to the key password" in result.stdout
    assert "openssl genrsa -traditional -aes256 -passout env:CLIENT_PASS -out client-key.pem 2048" in result.stdout
    assert "pass:" not in result.stdout
    for line in result.stdout.splitlines():
        if line.startswith("openssl "):
            assert shlex.split(line)[0] == "openssl"


def test_script_reproduces_the_build_without_the_tool(tmp_path):
    require("openssl")
    recipe = write_recipe(tmp_path, DEFAULT_RECIPE.read_text())
    plan = build_plan(load_recipe(recipe), ASSUMED)
    script = tmp_path / "build.sh"
    script.write_text(plan_script(plan))
    proc = subprocess.run(["bash", str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    certs = tmp_path / "certs"
    proc = subprocess.run(
        ["openssl", "verify", "-x509_strict", "-CAfile", "ca.pem", "server.pem", "client.pem"],
        cwd=certs,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_leaves_with_the_same_extensions_share_one_section(tmp_path):
    recipe = parse_recipe(
        """
        ca: {subject: {CN: R}}
        clients:
          - {name: 'd{n}', count: 50, subject: {CN: 'd{n}'}}
          - {name: 'e{n}', count: 2, subject: {CN: 'e{n}'}, san: ['e{n}.local']}
        """,
        tmp_path / "r.yaml",
    )
    plan = build_plan(recipe, ASSUMED)
    signs = {s.entry: s.argv[-1] for s in plan.steps if s.kind in ("cert", "keycert") and not s.is_ca}
    assert {signs[f"d{n}"] for n in range(1, 51)} == {"d1_ext"}
    assert (signs["e1"], signs["e2"]) == ("e1_ext", "e2_ext")  # different SANs: their own sections
    cnf = plan.files["openssl-recipes.cnf"]
    assert cnf.count("[ d") == 1 and "[ e1_ext ]" in cnf and "[ e2_ext ]" in cnf


@pytest.mark.parametrize("one_step", ["", "one_step: true, "])
def test_a_fleets_device_is_one_openssl_process_by_default(tmp_path, one_step):
    recipe = parse_recipe(
        f"defaults: {{{one_step}key_type: ec}}\nca: {{subject: {{CN: R}}}}\nclients:\n  - {{name: 'd{{n}}', count: 2, subject: {{CN: 'd{{n}}'}}}}\n"
        "  - {name: single, subject: {CN: single}}\n",
        tmp_path / "r.yaml",
    )
    plan = build_plan(recipe, ASSUMED)
    kinds = ["key", "cert", "keycert", "keycert"] + (["keycert"] if one_step else ["key", "csr", "cert"])
    assert [s.kind for s in plan.steps] == [*kinds, "bundle"]  # + the trust file; a single entry as the document
    assert " ".join(plan.steps[2].argv) == (
        "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout d1.key -x509 -subj /CN=d1 "
        "-CA ca.pem -CAkey ca.key -out d1.pem -days 3650 -sha256 -config openssl-recipes.cnf -extensions d1_ext"
    )
    assert plan.steps[2].outputs == ("d1.pem", "d1.key") and plan.steps[2].products == ("d1.key", "d1.pem")
    kept = with_kept_key(plan.steps[2])  # what build runs when the key is kept (renew without --rekey)
    assert " ".join(kept.argv) == (
        "openssl req -new -key d1.key -x509 -subj /CN=d1 -CA ca.pem -CAkey ca.key -out d1.pem "
        "-days 3650 -sha256 -config openssl-recipes.cnf -extensions d1_ext"
    )
    assert (kept.kind, kept.inputs, kept.outputs) == ("cert", ("d1.key", "ca.pem", "ca.key"), ("d1.pem",))
    old = build_plan(recipe, Openssl("openssl", "OpenSSL", (1, 1, 1), "OpenSSL 1.1.1w"))
    assert [s.kind for s in old.steps][2:5] == ["key", "csr", "cert"]  # 1.1.1 has no req -CA: three steps


@pytest.mark.parametrize(
    "recipe_text",
    [
        "defaults: {one_step: false}\nca: {subject: {CN: R}}\nclients:\n  - {name: 'd{n}', count: 2}\n",
        "ca: {subject: {CN: R}}\nclients:\n  - {name: 'd{n}', count: 2, password: {env: PW}}\n",
        "ca: {subject: {CN: R}, password: {env: PW}}\nclients:\n  - {name: 'd{n}', count: 2}\n",
        "style: document\nca: {subject: {CN: R}}\nclients:\n  - {name: 'd{n}', count: 2}\n",
    ],
    ids=["said off", "encrypted device keys", "encrypted CA key", "document style"],
)
def test_a_fleet_is_three_steps_a_device_where_one_process_is_not_allowed_or_not_wanted(tmp_path, recipe_text):
    plan = build_plan(parse_recipe(recipe_text, tmp_path / "r.yaml"), ASSUMED)
    assert [s.kind for s in plan.steps if s.entry == "d1"] == ["key", "csr", "cert"]


def test_plan_into_a_reader_that_stops_early_is_quiet_and_succeeds(tmp_path):
    """`openssl-recipes plan | head`: the reader closes the pipe mid-plan; no error, no traceback."""
    write_recipe(tmp_path, "clients:\n  - {name: 'd-{n:05d}', count: 20000, subject: {CN: 'd {n}'}}\nca: {subject: {CN: CA}}\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "openssl_recipes", "plan", "--assume-openssl3"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith(b"# openssl-recipes plan: strict style, 20003 commands")
    proc.stdout.close()
    err = proc.stderr.read()
    assert (proc.wait(timeout=60), err) == (0, b"")
