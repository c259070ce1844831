"""Life after day one: show, export, issue, renew, revoke + CRL — real openssl, checked with cryptography."""

from __future__ import annotations

import ssl
import subprocess

from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12

from openssl_recipes.check.handshake import EchoServer, connect, strict_context

from ..helpers import SMALL_RECIPE, TWO_CLIENTS, cert_public_bytes, cli, load_cert, tree


def built(copy_pki, text=TWO_CLIENTS):
    """The recipe's PKI, built once for the session, this test's own copy: (recipe, certs folder)."""
    pki = copy_pki(text)
    return pki.recipe, pki.folder


def test_show_summarises_each_certificate(tmp_path, copy_pki):
    recipe, _ = built(copy_pki)
    result = cli("show", "server", "short", "--recipe", str(recipe))
    assert result.code == 0, result
    assert "server.pem (server server)" in result.stdout
    assert "SANs      DNS:localhost, IP Address:127.0.0.1, DNS:127.0.0.1" in result.stdout
    assert "key       RSA 2048 bits (server.key)" in result.stdout
    assert "(9 days left)" in result.stdout or "(10 days left)" in result.stdout
    assert "subject   C=DE, O=Test, CN=short" in result.stdout


def test_export_p12_and_fullchain(tmp_path, copy_pki):
    recipe, folder = built(copy_pki)
    result = cli(
        "export",
        "client",
        "--fullchain",
        "--password-env",
        "P12_PASS",
        "--recipe",
        str(recipe),
        env={"P12_PASS": "bundle secret"},
    )
    assert result.code == 0, result
    assert result.stdout == "wrote client.p12 (0600: it holds the key) and client-fullchain.pem\n", result
    key, cert, extra = pkcs12.load_key_and_certificates((folder / "client.p12").read_bytes(), b"bundle secret")
    assert cert == load_cert(folder / "client.pem")
    assert extra == [load_cert(folder / "ca.pem")]
    assert (
        cert_public_bytes(cert) == cert_public_bytes(x509.load_pem_x509_certificate((folder / "client.pem").read_bytes()))
        and key is not None
    )
    assert (folder / "client.p12").stat().st_mode & 0o077 == 0
    assert (folder / "client-fullchain.pem").read_bytes() == (folder / "client.pem").read_bytes() + (
        folder / "ca.pem"
    ).read_bytes()
    dry = cli("export", "client", "--password-env", "P12_PASS", "--recipe", str(recipe), "--dry-run")
    assert (
        dry.stdout.startswith("openssl pkcs12 -export -inkey client.key -in client.pem -certfile ca.pem")
        and "env:P12_PASS" in dry.stdout
    )


def test_export_without_a_password_is_bad_input(tmp_path, copy_pki):
    recipe, _ = built(copy_pki)
    result = cli("export", "client", "--recipe", str(recipe))
    assert result.code == 2 and "--password-env" in result.stderr, result


def test_issue_signs_one_new_device_and_touches_nothing_else(tmp_path, copy_pki):
    recipe, folder = built(copy_pki)
    before = tree(folder)
    recipe.write_text(recipe.read_text() + "  - {name: device9, subject: {CN: device9}}\n")
    result = cli("issue", "client", "device9", "--recipe", str(recipe))
    assert result.code == 0 and "issued device9.pem" in result.stdout, result
    after = tree(folder)
    assert {name: data for name, data in after.items() if name in before and name != "openssl-recipes.cnf"} == {
        name: data for name, data in before.items() if name != "openssl-recipes.cnf"
    }
    assert set(after) - set(before) == {"device9.key", "device9.csr", "device9.pem"}
    load_cert(folder / "device9.pem").verify_directly_issued_by(load_cert(folder / "ca.pem"))
    unknown = cli("issue", "client", "nobody", "--recipe", str(recipe))
    assert unknown.code == 2 and "add it under clients:" in unknown.stderr, unknown


def test_renew_reissues_only_what_expires_keeping_the_key(tmp_path, copy_pki):
    recipe, folder = built(copy_pki)
    old_short, old_client = load_cert(folder / "short.pem"), (folder / "client.pem").read_bytes()
    dry = cli("renew", "--within", "30", "--recipe", str(recipe), "--dry-run")
    assert dry.code == 0 and "short.pem" in dry.stdout and "client.pem" not in dry.stdout.replace("# ", ""), dry
    result = cli("renew", "--within", "30", "--recipe", str(recipe))
    assert result.code == 0 and "renewed short.pem" in result.stdout and "client.pem" not in result.stdout, result
    new_short = load_cert(folder / "short.pem")
    assert new_short.serial_number != old_short.serial_number
    assert cert_public_bytes(new_short) == cert_public_bytes(old_short)  # same key
    assert (folder / "client.pem").read_bytes() == old_client
    assert len(list(folder.glob("short.pem.*.bak"))) == 1
    rekeyed = cli("renew", "short", "--within", "30", "--rekey", "--recipe", str(recipe))
    assert rekeyed.code == 0 and "with a new key" in rekeyed.stdout, rekeyed
    assert cert_public_bytes(load_cert(folder / "short.pem")) != cert_public_bytes(new_short)
    assert cli("verify", "--recipe", str(recipe)).code == 0
    nothing = cli("renew", "--within", "5", "--recipe", str(recipe))
    assert "nothing to renew" in nothing.stdout, nothing  # short has 10 days, client years
    named = cli("renew", "client", "--recipe", str(recipe))  # naming an entry renews it, whatever its expiry
    assert named.code == 0 and "renewed client.pem" in named.stdout, named
    assert (folder / "client.pem").read_bytes() != old_client


def test_renew_of_a_device_made_in_one_process_re_signs_its_kept_key_as_the_dry_run_says(tmp_path):
    from ..helpers import write_recipe

    recipe = write_recipe(tmp_path, "defaults: {key_type: ec}\nca: {subject: {CN: R}}\nclients:\n  - {name: 'd{n}', count: 3}\n")
    assert (built_ := cli("build", "--recipe", str(recipe))).code == 0, built_
    folder = tmp_path / "certs"
    old = load_cert(folder / "d2.pem")
    dry = cli("renew", "d2", "--recipe", str(recipe), "--dry-run")
    assert dry.code == 0 and "openssl req -new -key d2.key -x509 -subj /CN=d2 -CA ca.pem" in dry.stdout, dry
    assert "-newkey" not in dry.stdout, dry
    renewed = cli("renew", "d2", "--recipe", str(recipe))
    assert renewed.code == 0 and "renewed d2.pem" in renewed.stdout and "new key" not in renewed.stdout, renewed
    new = load_cert(folder / "d2.pem")
    assert new.serial_number != old.serial_number and cert_public_bytes(new) == cert_public_bytes(old)
    rekey_dry = cli("renew", "d2", "--rekey", "--recipe", str(recipe), "--dry-run")
    assert "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout d2.key" in rekey_dry.stdout, rekey_dry
    rekeyed = cli("renew", "d2", "--rekey", "--recipe", str(recipe))
    assert rekeyed.code == 0 and "with a new key" in rekeyed.stdout, rekeyed
    assert cert_public_bytes(load_cert(folder / "d2.pem")) != cert_public_bytes(new)
    assert cli("verify", "--recipe", str(recipe)).code == 0


def test_revoked_client_is_listed_refused_by_a_crl_checking_server_and_flagged_by_verify(tmp_path, copy_pki):
    recipe, folder = built(copy_pki)
    result = cli("revoke", "client", "--reason", "keyCompromise", "--recipe", str(recipe))
    assert result.code == 0, result
    crl = x509.load_pem_x509_crl((folder / "crl.pem").read_bytes())
    revoked = load_cert(folder / "client.pem").serial_number
    assert crl.get_revoked_certificate_by_serial_number(revoked) is not None
    assert crl.get_revoked_certificate_by_serial_number(load_cert(folder / "short.pem").serial_number) is None
    assert crl.is_signature_valid(load_cert(folder / "ca.pem").public_key())

    server_ctx = strict_context(ssl.PROTOCOL_TLS_SERVER, folder / "ca.pem")
    server_ctx.load_cert_chain(folder / "server.pem", folder / "server.key")
    server_ctx.load_verify_locations(folder / "crl.pem")
    server_ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    outcomes = {}
    with EchoServer(server_ctx, 10) as echo:
        for name in ("client", "short"):
            client_ctx = strict_context(ssl.PROTOCOL_TLS_CLIENT, folder / "ca.pem")
            client_ctx.load_cert_chain(folder / f"{name}.pem", folder / f"{name}.key")
            outcomes[name] = connect(echo.port, client_ctx, "localhost", 10)[0]
    assert outcomes == {"client": "refused", "short": "accepted"}

    checked = cli("verify", "--crl", "--recipe", str(recipe))
    assert checked.code == 1 and "✘ client.pem chain: certificate revoked" in checked.stdout, checked
    assert "short.pem chain" not in checked.stdout


def test_ec_and_ed25519_certificates_verify_strictly(tmp_path, copy_pki):
    text = (
        SMALL_RECIPE.replace("defaults:", "defaults:\n  key_type: ec\n  curve: P-384")
        + "  - {name: edge, subject: {CN: edge}, key_type: ed25519}\n"
    )
    recipe, folder = built(copy_pki, text)
    proc = subprocess.run(
        ["openssl", "verify", "-x509_strict", "-CAfile", "ca.pem", "server.pem", "client.pem", "edge.pem"],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ku = load_cert(folder / "client.pem").extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and not ku.key_encipherment  # EC leaves: digitalSignature only
    report = cli("verify", "--recipe", str(recipe))
    assert report.code == 0 and "edge.pem nanomq: an Ed25519 key: NanoMQ's mbedTLS 2.28 cannot use it" in report.stdout, report
    assert cli("handshake", "--recipe", str(recipe)).code == 0
