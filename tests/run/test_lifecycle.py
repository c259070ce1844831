"""renew: a renewal that cannot sign leaves the live certificate in place."""

from __future__ import annotations

from ..helpers import SMALL_RECIPE, cli, load_cert, write_recipe


def test_a_renew_that_cannot_sign_leaves_the_live_certificate_in_place(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE.replace("ca:\n", "ca:\n  password: {env: CA_PASS}\n"))
    assert cli("build", "--recipe", str(recipe), env={"CA_PASS": "right-ca-password"}).code == 0
    live = tmp_path / "certs" / "client.pem"
    before = live.read_bytes()
    result = cli("renew", "client", "--within", "36500", "--recipe", str(recipe), env={"CA_PASS": "wrong-ca-password"})
    assert result.code == 1, result
    assert "renew failed: client.pem put back as before, unchanged" in result.stderr
    assert live.read_bytes() == before and load_cert(live)
    assert not list(live.parent.glob("client.pem.*.bak"))


def test_renewing_an_entry_that_has_no_certificate_yet_says_so_and_fails(small_pki):
    (small_pki / "client.pem").unlink()
    result = cli("renew", "client", "--recipe", str(small_pki.recipe))
    assert result.code == 1 and "client.pem has no certificate yet to renew: `openssl-recipes build` makes it" in result.stderr
