"""handshake: live strict TLS on 127.0.0.1 — the expected refusals are as much the point as the successes."""

from __future__ import annotations

import shutil

from ..helpers import DEFAULT_RECIPE, SMALL_RECIPE, cli, foreign_pki, write_recipe


def test_default_pki_two_way_by_name_and_address(default_pki):
    result = cli("handshake", "--recipe", str(default_pki.recipe))
    assert result.code == 0, result
    lines = result.stdout.splitlines()
    assert "✔ client → server as localhost: accepted" in lines[0]
    assert "✔ client → server as 127.0.0.1: accepted" in lines[1]
    assert lines[2].startswith("✔ no certificate → server as localhost: refused")
    assert lines[3].startswith("✔ foreign CA → server as localhost: refused")
    assert lines[-1] == "4 of 4 cases as expected"


def test_a_server_certificate_from_another_ca_fails(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    assert cli("build", "--recipe", str(recipe)).code == 0
    foreign = foreign_pki(tmp_path)
    for name in ("server.pem", "server.key"):
        shutil.copy(foreign / name, tmp_path / "certs" / name)
    result = cli("handshake", "--recipe", str(recipe))
    assert result.code == 1, result
    assert "✘ client → server as localhost: server not trusted (expected: accepted)" in result.stdout
    assert "unable to get local issuer certificate" in result.stdout
    # our client refusing the server is not the server refusing a client without a certificate
    assert "✘ no certificate → server as localhost: server not trusted (expected: refused)" in result.stdout


def test_one_way_recipe_lets_a_client_without_certificate_in(tmp_path):
    text = SMALL_RECIPE.split("clients:")[0]
    recipe = write_recipe(tmp_path, text)
    assert cli("build", "--recipe", str(recipe)).code == 0
    result = cli("handshake", "--recipe", str(recipe))
    assert result.code == 0, result
    assert "✔ no certificate (one-way) → server as localhost: accepted" in result.stdout
    assert "✔ no certificate (one-way) → server as 127.0.0.1: accepted" in result.stdout


def test_ec_keys_and_encrypted_keys_handshake(tmp_path):
    text = (
        DEFAULT_RECIPE.read_text()
        .replace("key_type: rsa", "key_type: ec")
        .replace("    subject:\n      CN: client\n", "    subject:\n      CN: client\n    password: {env: CLIENT_PASS}\n")
    )
    recipe = write_recipe(tmp_path, text)
    env = {"CLIENT_PASS": "s3cret"}
    assert (built := cli("build", "--recipe", str(recipe), env=env)).code == 0, built
    result = cli("handshake", "--recipe", str(recipe), env=env)
    assert result.code == 0, result
    assert "s3cret" not in result.output


def test_handshake_before_build_is_a_clear_error(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    result = cli("handshake", "--recipe", str(recipe))
    assert result.code == 2 and "run `openssl-recipes build` first" in result.stderr, result
