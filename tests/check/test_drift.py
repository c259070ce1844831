"""A changed recipe is noticed: each kept file the recipe no longer describes, with the narrowest command,
and the command works."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ..helpers import SMALL_RECIPE, cli, load_cert, load_key, tree, write_recipe


def test_a_key_the_recipe_now_encrypts_is_reported_by_build_and_failed_by_verify(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    assert cli("build", "--recipe", str(recipe)).code == 0
    recipe.write_text(recipe.read_text() + "    password: {env: CLIENT_PASS}\n")  # the operator edits the recipe
    env = {"CLIENT_PASS": "now-encrypted"}
    again = cli("build", "--recipe", str(recipe), env=env)
    assert again.code == 0 and "made 0" in again.stdout, again
    assert "client.pem no longer matches the recipe's client: client.key is not encrypted" in again.stderr, again
    assert "run `openssl-recipes renew client --rekey`" in again.stderr
    checked = cli("verify", "--recipe", str(recipe), env=env)
    assert checked.code == 1 and "client.key is not encrypted, but the recipe gives it a password" in checked.stdout, checked
    fixed = cli("renew", "client", "--rekey", "--recipe", str(recipe), env=env)  # the advice works as given
    assert fixed.code == 0 and "with a new key" in fixed.stdout, fixed
    assert load_key(tmp_path / "certs" / "client.key", b"now-encrypted")
    assert cli("verify", "--recipe", str(recipe), env=env).code == 0


def test_a_san_added_to_the_recipe_gets_the_narrowest_advice_and_it_works(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    assert cli("build", "--recipe", str(recipe)).code == 0
    client_before = (tmp_path / "certs" / "client.pem").read_bytes()
    recipe.write_text(
        recipe.read_text().replace("san: [localhost, 127.0.0.1]", "san: [localhost, 127.0.0.1, broker.example.com]")
    )
    checked = cli("verify", "--recipe", str(recipe))
    assert checked.code == 1 and "not valid for broker.example.com" in checked.stdout, checked
    assert "`openssl-recipes renew server` re-issues it, same key" in checked.stdout and "--force" not in checked.stdout
    key_before = (tmp_path / "certs" / "server.key").read_bytes()
    assert (renewed := cli("renew", "server", "--recipe", str(recipe))).code == 0, renewed
    assert cli("verify", "--recipe", str(recipe)).code == 0
    assert (tmp_path / "certs" / "server.key").read_bytes() == key_before  # same key
    assert (tmp_path / "certs" / "client.pem").read_bytes() == client_before  # nothing wider than asked


def test_a_changed_recipe_is_reported_entry_by_entry_with_the_narrowest_command_and_the_commands_work(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE)
    assert cli("build", "--recipe", str(recipe)).code == 0
    certs = tmp_path / "certs"
    edited = (
        SMALL_RECIPE.replace("{CN: Test CA}", "{CN: Test CA 2}")
        .replace("san: [localhost, 127.0.0.1]", "san: [localhost, broker.example.com]")
        .replace("subject: {CN: client}", "subject: {CN: client-2}\n    key_type: ec\n    days: 90")
    )
    recipe.write_text(edited)
    pki = lambda: {name: data for name, data in tree(certs).items() if name.endswith((".key", ".pem"))}  # noqa: E731
    before = pki()
    again = cli("build", "--recipe", str(recipe))
    assert again.code == 0 and "made 0" in again.stdout, again
    assert pki() == before  # reported; no key or certificate changed behind the user's back
    lines = {line.split(" no longer matches", 1)[0]: line for line in again.stderr.splitlines() if "no longer matches" in line}
    assert set(lines) == {"warning: ca.pem", "warning: server.pem", "warning: client.pem"}, again.stderr
    assert "subject C=DE, O=Test, CN=Test CA (recipe: C=DE, O=Test, CN=Test CA 2)" in lines["warning: ca.pem"]
    assert "only with `openssl-recipes build --new-ca`" in lines["warning: ca.pem"]
    server = lines["warning: server.pem"]
    assert "SANs: lacks DNS:broker.example.com and has DNS:127.0.0.1, IP:127.0.0.1 no longer listed" in server
    assert server.endswith("run `openssl-recipes renew server`"), server  # same key: the narrowest command
    client = lines["warning: client.pem"]
    assert "subject C=DE, O=Test, CN=client (recipe: C=DE, O=Test, CN=client-2)" in client
    assert "valid for 3650 days (recipe: 90)" in client and "key RSA 2048 (recipe: EC P-256)" in client
    assert client.endswith("run `openssl-recipes renew client --rekey`"), client

    # the advice, as given, brings the leaves in line (checked independently)
    assert (done := cli("renew", "server", "--recipe", str(recipe))).code == 0, done
    assert (done := cli("renew", "client", "--rekey", "--recipe", str(recipe))).code == 0, done
    server_cert, client_cert = load_cert(certs / "server.pem"), load_cert(certs / "client.pem")
    names = server_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost", "broker.example.com"]
    assert client_cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "client-2"
    assert isinstance(client_cert.public_key(), ec.EllipticCurvePublicKey)
    assert (client_cert.not_valid_after_utc - client_cert.not_valid_before_utc).days == 90
    final = cli("build", "--recipe", str(recipe))
    assert final.code == 0 and final.stderr.count("no longer matches") == 1 and "ca.pem" in final.stderr, final
