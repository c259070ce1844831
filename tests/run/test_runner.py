"""A build decides what to keep: what is damaged and what depends on it is made again, and nothing it
did not make is removed."""

from __future__ import annotations

from openssl_recipes.core.children import child_environment
from openssl_recipes.core.openssl import probe
from openssl_recipes.plan.planner import build_plan
from openssl_recipes.recipe.load import parse_recipe
from openssl_recipes.run.inspect import Inspector
from openssl_recipes.run.runner import BuildOptions, build, decide

from ..helpers import SMALL_RECIPE, cli, require, write_recipe


def test_decide_remakes_exactly_what_is_damaged_and_what_depends_on_it(tmp_path):
    recipe = parse_recipe(
        SMALL_RECIPE.replace("subject: {C: DE, O: Test}", "subject: {C: DE, O: Test}\n  key_type: ec"), tmp_path / "r.yaml"
    )
    plan = build_plan(recipe, probe(require("openssl")))
    build(plan, {}, BuildOptions(jobs=2, quiet=True), say=lambda _line: None)
    folder = recipe.output_dir
    inspector = lambda: Inspector(plan.openssl.command, folder, child_environment())  # noqa: E731 - fresh cache each time
    remade = lambda: {(s.entry, s.kind) for s, run in zip(plan.steps, decide(plan, inspector(), BuildOptions())[0]) if run}  # noqa: E731
    assert remade() == set()
    (folder / "client.pem").write_text((folder / "client.pem").read_text()[:100])  # cut short
    assert remade() == {("client", "csr"), ("client", "cert")}  # the key is sound: kept
    (folder / "server.key").write_text("")
    assert remade() == {("client", "csr"), ("client", "cert"), ("server", "key"), ("server", "csr"), ("server", "cert")}
    forced = {(s.entry, s.kind) for s, run in zip(plan.steps, decide(plan, inspector(), BuildOptions(force=True))[0]) if run}
    assert {entry for entry, _ in forced} == {"server", "client"}  # --force: every leaf, never the CA


FLEET = "ca: {subject: {CN: R}}\nclients:\n  - {name: 'd{n}', count: 3, subject: {CN: 'd{n}'}}\n"


def test_a_device_made_in_one_process_keeps_its_key_when_only_its_certificate_is_remade(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    def public(data: bytes) -> bytes:
        return data.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    recipe = write_recipe(tmp_path, FLEET)
    assert (built := cli("build", "--recipe", str(recipe))).code == 0, built
    certs = tmp_path / "certs"
    assert not list(certs.glob("*.csr"))  # one process a device: no request file
    key = (certs / "d2.key").read_bytes()
    (certs / "d2.pem").write_bytes((certs / "d2.pem").read_bytes()[:90])  # cut short
    again = cli("build", "--recipe", str(recipe))
    assert again.code == 0 and "made d2.pem" in again.stdout and "made d2.key" not in again.stdout, again
    assert (certs / "d2.key").read_bytes() == key  # the key kept, byte for byte
    cert = x509.load_pem_x509_certificate((certs / "d2.pem").read_bytes())
    private = serialization.load_pem_private_key(key, None)
    assert public(cert.public_key()) == public(private.public_key())
    assert oct((certs / "d2.pem").stat().st_mode & 0o777) == "0o644" and oct((certs / "d2.key").stat().st_mode & 0o777) == "0o600"
    (certs / "d3.key").unlink()
    third = cli("build", "--recipe", str(recipe))
    assert third.code == 0 and "made d3.key" in third.stdout and "made d3.pem" in third.stdout, third
    cert = x509.load_pem_x509_certificate((certs / "d3.pem").read_bytes())
    private = serialization.load_pem_private_key((certs / "d3.key").read_bytes(), None)
    assert public(cert.public_key()) == public(private.public_key())


def test_build_removes_no_srl_file_it_did_not_make(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE.replace("ca:\n", "ca:\n  key_file: root-key.srl\n") + "    key_file: dev.srl\n")
    assert (built := cli("build", "--recipe", str(recipe))).code == 0, built
    certs = tmp_path / "certs"
    (certs / "notes.srl").write_text("my notes, not hex\n")
    keys = {name: (certs / name).read_bytes() for name in ("root-key.srl", "dev.srl")}
    for _ in range(2):
        again = cli("build", "--recipe", str(recipe))
        assert again.code == 0 and "made 0" in again.stdout, again
    assert (certs / "notes.srl").read_text() == "my notes, not hex\n"
    assert {name: (certs / name).read_bytes() for name in keys} == keys  # neither key was re-made


def test_the_document_styles_broken_serial_file_is_still_replaced(tmp_path):
    recipe = write_recipe(tmp_path, "style: document\n" + SMALL_RECIPE)
    assert (built := cli("build", "--recipe", str(recipe))).code == 0, built
    serial = tmp_path / "certs" / "ca.srl"
    assert serial.exists()
    serial.write_text("garbage\n")
    (tmp_path / "certs" / "client.pem").unlink()
    assert (rebuilt := cli("build", "--recipe", str(recipe))).code == 0, rebuilt
