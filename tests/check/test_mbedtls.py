"""mbedTLS 2.28 itself (python-mbedtls, NanoMQ's TLS library) on every key type and encrypted-key form
the recipe can produce, and `verify`'s nanomq column built on it."""

from __future__ import annotations

import json

import pytest

from openssl_recipes.check import mbedtls as mbedtls_check
from openssl_recipes.check.mbedtls import Identity

from ..helpers import IN_CI, SMALL_RECIPE, cli, write_recipe

PASSWORD = 'p"a$s# w{r}d ${HOME}'


@pytest.fixture(autouse=True)
def _mbedtls():
    if mbedtls_check.available() is None:
        if IN_CI:
            pytest.fail("python-mbedtls is not installed (CI=true: `make` installs the [nanomq] extra)")
        pytest.skip("python-mbedtls is not installed: pip install 'openssl-recipes[nanomq]'")


# (key type, encrypted, nanomq: the form the recipe writes) → does mbedTLS 2.28 open it?
FORMS = [
    ("rsa", False, True, True),
    ("rsa", True, True, True),  # PKCS#1 with DEK-Info (-traditional)
    ("rsa", True, False, False),  # OpenSSL 3's default: PKCS#8 PBES2 AES-256
    ("ec", False, True, True),
    ("ec", True, True, True),  # PKCS#8 PBES2 3DES
    ("ec", True, False, False),  # PKCS#8 PBES2 AES-256
    ("ed25519", False, False, False),
]


@pytest.mark.parametrize("key_type, encrypted, nanomq, opens", FORMS, ids=lambda v: str(v))
def test_every_key_form_the_recipe_writes_is_judged_by_mbedtls(tmp_path, key_type, encrypted, nanomq, opens):
    entry = f"    key_type: {key_type}\n    nanomq: {str(nanomq).lower()}\n" + (
        "    password: {env: CLIENT_PASS}\n" if encrypted else ""
    )
    recipe = write_recipe(tmp_path, SMALL_RECIPE + entry)
    env = {"CLIENT_PASS": PASSWORD}
    assert (built := cli("build", "--recipe", str(recipe), env=env)).code == 0, built
    certs = tmp_path / "certs"
    client = Identity(certs / "client.pem", certs / "client.key", key_type, PASSWORD if encrypted else None)
    _key, problem = mbedtls_check.open_key(client)
    assert (problem is None) == opens, problem
    if opens:
        assert mbedtls_check.handshake(None, client, certs / "ca.pem", "probe", verify_server=False) is None
        if encrypted:  # the wrong password is refused by mbedTLS too
            _key, wrong = mbedtls_check.open_key(Identity(client.chain, client.key, key_type, "wrong"))
            assert wrong and "mbedTLS cannot open client.key" in wrong
    elif key_type != "ed25519":
        assert "mbedTLS cannot open client.key: PK - " in problem


def verify_json(recipe, env=None) -> dict[str, dict]:
    result = cli("verify", "--recipe", str(recipe), "--json", env=env)
    return result.code, {row["name"]: row["checks"]["nanomq"] for row in json.loads(result.stdout)["certificates"]}


def test_verify_asks_mbedtls_by_every_name_a_nanomq_client_dials(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE + "nanomq: {bridge: {host: broker.example.com}}\n")
    assert cli("build", "--recipe", str(recipe)).code == 0
    code, nanomq = verify_json(recipe)
    assert code == 0 and nanomq["server"] == {"status": "pass", "reason": "asked of mbedTLS 2.28.8"}, nanomq
    assert nanomq["client"]["status"] == "pass"


def test_a_server_without_the_dns_twin_of_its_ip_fails_for_mbedtls(tmp_path):
    """nanomq: false on the server leaves out DNS:127.0.0.1; NanoMQ's listener serves it (nanomq section)."""
    text = SMALL_RECIPE.replace("    san: [localhost, 127.0.0.1]\n", "    san: [localhost, 127.0.0.1]\n    nanomq: false\n")
    recipe = write_recipe(tmp_path, text + "nanomq: {listener: {bind: '0.0.0.0:8883'}}\n")
    assert cli("build", "--recipe", str(recipe)).code == 0
    recipe.write_text(recipe.read_text().replace("    nanomq: false\n", ""))  # now NanoMQ will use it
    code, nanomq = verify_json(recipe)
    assert code == 1 and nanomq["server"]["status"] == "fail", nanomq
    reason = nanomq["server"]["reason"]
    assert "an mbedTLS client refuses it as 127.0.0.1" in reason and "localhost" not in reason.split("refuses it as")[1]


def test_an_intermediate_chain_verifies_in_mbedtls_and_a_foreign_one_does_not(tmp_path):
    text = SMALL_RECIPE.replace(
        "ca:\n  subject: {CN: Test CA}\n", "ca:\n  subject: {CN: Test CA}\nintermediate: {subject: {CN: Issuing}}\n"
    )
    recipe = write_recipe(tmp_path, text)
    assert (built := cli("build", "--recipe", str(recipe))).code == 0, built
    certs = tmp_path / "certs"
    server = Identity(certs / "server-chain.pem", certs / "server.key", "rsa")
    client = Identity(certs / "client-chain.pem", certs / "client.key", "rsa")
    assert mbedtls_check.handshake(server, client, certs / "ca.pem", "localhost", verify_server=True) is None
    # the leaf alone (no intermediate sent) does not lead to the root
    alone = mbedtls_check.handshake(
        Identity(certs / "server.pem", certs / "server.key", "rsa"), None, certs / "ca.pem", "localhost", True
    )
    assert alone and alone.startswith("the client (localhost): X509 - Certificate verification failed"), alone
    # trusted by another root: the server refuses the client
    other = tmp_path / "other"
    other.mkdir()
    other_recipe = write_recipe(other, SMALL_RECIPE.replace("Test CA", "Other CA"))
    assert cli("build", "--recipe", str(other_recipe)).code == 0
    refused = mbedtls_check.handshake(server, client, other / "certs" / "ca.pem", "localhost", verify_server=False)
    assert refused and "the server: X509 - Certificate verification failed" in refused, refused
