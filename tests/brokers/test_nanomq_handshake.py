"""`handshake --nanomq`: the user's NanoMQ with the recipe's exact blocks, and what it catches."""

from __future__ import annotations

import shutil

from ..helpers import SMALL_RECIPE, cli, foreign_pki, require, write_recipe
from ..peers import nanomq_binary

BRIDGE = """\
nanomq:
  cert_dir: {certs}
  bridge:
    host: emqx.example.com
    forwards: [{{remote_topic: cloud/up, local_topic: edge/up}}]
    subscription: [{{remote_topic: cloud/down, local_topic: edge/down}}]
"""
PASSWORD = 'p"a$s# w{r}d ${HOME}'


def recipe_with_bridge(tmp_path, client_extra: str = ""):
    text = SMALL_RECIPE + client_extra + BRIDGE.format(certs=tmp_path / "certs")
    return write_recipe(tmp_path, text)


def test_a_good_recipe_passes_every_case_in_a_real_nanomq(tmp_path):
    binary = nanomq_binary()
    require("mosquitto")  # the far end of the bridge when the server key is not encrypted
    recipe = recipe_with_bridge(tmp_path, "    password: {env: CLIENT_PASS}\n")
    env = {"CLIENT_PASS": PASSWORD}
    assert (built := cli("build", "--recipe", str(recipe), env=env)).code == 0, built
    result = cli("handshake", "--recipe", str(recipe), "--nanomq", binary, env=env)
    assert result.code == 0, result
    out = result.stdout
    assert "✔ NanoMQ bridge emqx1 → a far-end mosquitto as mutual TLS: accepted — connected" in out
    assert "✔ NanoMQ bridge emqx1 → a far-end mosquitto as forward edge/up → cloud/up: accepted — the message arrived" in out
    assert (
        "✔ NanoMQ bridge emqx1 → a far-end mosquitto as subscription cloud/down → edge/down: accepted — the message arrived"
        in out
    )
    for name in ("localhost", "127.0.0.1"):
        assert f"✔ client → NanoMQ listener (server) as {name}: accepted — TLSv1.2" in out  # CONNACK, or its race
    assert "✔ no certificate → NanoMQ listener (server) as localhost: refused — NanoMQ refused" in out
    assert "✔ foreign CA → NanoMQ listener (server) as localhost: refused — NanoMQ refused" in out
    assert "✘" not in out and PASSWORD not in result.output


def test_with_an_encrypted_server_key_the_far_end_is_a_second_nanomq(tmp_path):
    binary = nanomq_binary()
    text = SMALL_RECIPE.replace(
        "    san: [localhost, 127.0.0.1]\n", "    san: [localhost, 127.0.0.1]\n    password: {env: SERVER_PASS}\n"
    )
    recipe = write_recipe(tmp_path, text + BRIDGE.format(certs=tmp_path / "certs"))
    env = {"SERVER_PASS": PASSWORD}
    assert (built := cli("build", "--recipe", str(recipe), env=env)).code == 0, built
    result = cli("handshake", "--recipe", str(recipe), "--nanomq", binary, env=env)
    assert result.code == 0, result
    assert (
        "✔ NanoMQ bridge emqx1 → a far-end NanoMQ as forward edge/up → cloud/up: accepted — the message arrived" in result.stdout
    )


def test_nanomq_is_found_through_the_environment_or_refused_clearly(tmp_path):
    binary = nanomq_binary()
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    assert cli("build", "--recipe", str(recipe)).code == 0
    missing = cli("handshake", "--recipe", str(recipe), "--nanomq", str(tmp_path / "no-nanomq"))
    assert missing.code == 2 and "--nanomq: no NanoMQ found at" in missing.stderr, missing
    found = cli("handshake", "--recipe", str(recipe), "--nanomq", env={"NANOMQ": binary})
    assert found.code == 0 and "NanoMQ listener (server)" in found.stdout, found


def test_a_key_form_nanomq_cannot_read_is_caught(tmp_path):
    """OpenSSL 3's default encrypted key (PKCS#8 AES): Python reads it, NanoMQ's mbedTLS does not."""
    binary = nanomq_binary()
    recipe = recipe_with_bridge(tmp_path, "    password: {env: CLIENT_PASS}\n    nanomq: false\n")
    env = {"CLIENT_PASS": "plain-password"}
    assert cli("build", "--recipe", str(recipe), env=env).code == 0
    recipe.write_text(recipe.read_text().replace("    nanomq: false\n", ""))
    result = cli("handshake", "--recipe", str(recipe), "--nanomq", binary, env=env)
    assert result.code == 1, result
    assert "✘ NanoMQ bridge emqx1 → a far-end mosquitto as mutual TLS: refused (expected: accepted)" in result.stdout
    assert "mbedtls_pk_parse_key" in result.stdout and "init_dialer_tls failed" in result.stdout
    assert "✔ client → NanoMQ listener (server) as localhost: accepted" in result.stdout  # Python reads it: only NanoMQ fails


def test_a_wrong_password_and_a_certificate_that_does_not_match_its_key_are_caught(tmp_path):
    binary = nanomq_binary()
    recipe = recipe_with_bridge(tmp_path, "    password: {env: CLIENT_PASS}\n")
    assert cli("build", "--recipe", str(recipe), env={"CLIENT_PASS": "right-password"}).code == 0
    wrong = cli("handshake", "--recipe", str(recipe), "--nanomq", binary, env={"CLIENT_PASS": "wrong-password"})
    assert wrong.code == 1 and "rv: -15232: the key password is wrong" in wrong.stdout, wrong
    assert "client.key does not open with its password" in wrong.stdout

    foreign = foreign_pki(tmp_path)
    shutil.copy(foreign / "client.pem", tmp_path / "certs" / "client.pem")  # another key's certificate
    mismatch = cli("handshake", "--recipe", str(recipe), "--nanomq", binary, env={"CLIENT_PASS": "right-password"})
    assert mismatch.code == 1 and "client.pem does not match client.key" in mismatch.stdout, mismatch
    assert "✘ NanoMQ bridge emqx1 → a far-end mosquitto as mutual TLS: refused (expected: accepted)" in mismatch.stdout


def test_a_chain_that_does_not_lead_to_the_configured_ca_is_caught(tmp_path):
    binary = nanomq_binary()
    recipe = write_recipe(tmp_path, SMALL_RECIPE + "nanomq: {listener: {bind: '0.0.0.0:8883'}}\n")
    assert cli("build", "--recipe", str(recipe)).code == 0
    foreign = foreign_pki(tmp_path)
    for name in ("server.pem", "server.key"):
        shutil.copy(foreign / name, tmp_path / "certs" / name)
    result = cli("handshake", "--recipe", str(recipe), "--nanomq", binary)
    assert result.code == 1, result
    # our client refuses NanoMQ's certificate: reported as that, never as a refusal by NanoMQ
    assert "✘ client → NanoMQ listener (server) as localhost: server not trusted (expected: accepted)" in result.stdout
    assert "foreign CA → NanoMQ listener (server) as localhost: server not trusted (expected: refused)" in result.stdout


def test_servers_with_only_a_wildcard_or_only_email_sans_get_real_cases_or_a_reason(tmp_path):
    text = SMALL_RECIPE.replace("san: [localhost, 127.0.0.1]", "san: ['*.example.com']")
    recipe = write_recipe(tmp_path, text)
    assert (built := cli("build", "--recipe", str(recipe))).code == 0, built
    wildcard = cli("handshake", "--recipe", str(recipe))
    assert wildcard.code == 0 and "✔ client → server as check.example.com: accepted" in wildcard.stdout, wildcard
    other = tmp_path / "email"
    other.mkdir()
    recipe = write_recipe(other, SMALL_RECIPE.replace("san: [localhost, 127.0.0.1]", "san: ['email:ops@example.com']"))
    assert (built := cli("build", "--recipe", str(recipe))).code == 0, built
    email = cli("handshake", "--recipe", str(recipe))
    assert email.code == 1 and "cannot be checked: its SANs hold no DNS name or IP address a client could dial" in email.stdout, (
        email
    )
