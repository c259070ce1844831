"""Sites in the recipe: a fleet of clients named by nanomq.bridge.client, a fleet of servers paired by
number, the site's name and number filled in its bridge's fields, and each mistake named."""

from __future__ import annotations

from pathlib import Path

import pytest

from openssl_recipes.core.errors import RecipeError
from openssl_recipes.recipe.load import parse_recipe
from openssl_recipes.recipe.sites import fill, lone_brace

SITES = """\
output: certs
ca: {subject: {CN: Edge CA}}
servers:
  - {name: cloud, san: [localhost]}
  - {name: 'gw-{n:03d}', count: 12, san: [localhost]}
clients:
  - {name: 'site-{n:03d}', count: 12}
nanomq:
  cert_dir: /etc/nanomq/certs
  listener: {server: 'gw-{n:03d}'}
  bridge:
    client: 'site-{n:03d}'
    host: cloud.example.com
    forwards: [{remote_topic: 'sites/{name}/up', local_topic: 'up/{{raw}}'}]
    subscription: [{remote_topic: 'cmd/{n:04d}', local_topic: down}]
"""


def parse(text: str, tmp_path: Path):
    return parse_recipe(text, tmp_path / "recipes.yaml")


def problems(text: str, tmp_path: Path) -> str:
    with pytest.raises(RecipeError) as caught:
        parse(text, tmp_path)
    return "\n".join(caught.value.lines())


def test_each_member_of_the_clients_fleet_is_a_site_paired_with_its_server(tmp_path):
    recipe = parse(SITES, tmp_path)
    sites = list(recipe.sites())
    assert [(s.n, s.name, s.server.name) for s in sites[:2]] == [(1, "site-001", "gw-001"), (2, "site-002", "gw-002")]
    assert sites[-1].name == "site-012" and sites[-1].server.name == "gw-012"
    assert recipe.site("site-007").client.subject["CN"] == "site-007"  # the cloud's rules follow the CN


def test_the_sites_name_and_number_are_filled_and_doubled_braces_write_one():
    assert fill("sites/{name}/up/{n}/{n:04d}/{{x}}", "site-007", 7) == "sites/site-007/up/7/0007/{x}"
    assert lone_brace("a/{b}") and lone_brace("a}") and not lone_brace("{name}/{{x}}")


def test_conf_renders_the_chosen_sites_topics_and_client_id(tmp_path):
    from openssl_recipes.render.conf import context

    recipe = parse(SITES, tmp_path)
    bridge = context(recipe, ("bridge",), None, "nanomq", recipe.site("site-011"))["bridge"]
    assert bridge["clientid"] == "site-011"
    assert bridge["forwards"][0]["remote_topic"] == "sites/site-011/up" and bridge["forwards"][0]["local_topic"] == "up/{raw}"
    assert bridge["subscription"][0]["remote_topic"] == "cmd/0011"
    assert bridge["keyfile"] == "/etc/nanomq/certs/site-011.key"


def test_without_sites_a_topic_is_taken_as_written_and_a_named_client_id_is_an_error(tmp_path):
    from openssl_recipes.render.conf import context

    one = SITES.replace("client: 'site-{n:03d}'", "client: solo").replace("listener: {server: 'gw-{n:03d}'}", "listener: {}")
    one = one.replace("clients:\n", "clients:\n  - {name: solo}\n")
    recipe = parse(one, tmp_path)
    assert recipe.site_entries is None
    bridge = context(recipe, ("bridge",), None)["bridge"]
    assert bridge["forwards"][0]["remote_topic"] == "sites/{name}/up" and bridge["clientid"] == "bridge_client"
    said = problems(one.replace("host: cloud", "clientid: 'gw-{name}'\n    host: cloud"), tmp_path)
    assert "nanomq.bridge.clientid" in said and "filled only when nanomq.bridge.client names a fleet" in said


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("count: 12, san", "count: 11, san"), "has 11 servers and the sites ('site-{n:03d}') are 12"),
        (("listener: {server: 'gw-{n:03d}'}", "listener: {server: cloud}"), "is one server: every site would carry its key"),
        (("'sites/{name}/up'", "'sites/{site}/up'"), "write {{ or }} for a brace"),
        (("client: 'site-{n:03d}'", "client: 'site-{n:02d}'"), "is not one of the recipe's clients"),
    ],
    ids=["counts differ", "one server for all", "lone brace", "unknown fleet"],
)
def test_each_mistake_in_the_sites_is_named_with_its_field(tmp_path, change, expected):
    said = problems(SITES.replace(*change), tmp_path)
    assert expected in said, said
    assert "nanomq." in said  # the field path, with its line and column


def test_a_fleet_with_a_password_file_per_member_gives_each_its_own_secret(tmp_path):
    (tmp_path / "secrets").mkdir()
    text = SITES.replace("count: 12}", "count: 12, password: {file: 'secrets/{n}.pass'}}")
    recipe = parse(text, tmp_path)
    secrets = [site.client.password for site in recipe.sites()]
    assert len({s.env_name for s in secrets}) == 12
    assert secrets[4].where == str(tmp_path / "secrets" / "5.pass")


def test_the_cloud_side_for_emqx_reads_back_as_hocon_and_erlang_terms(tmp_path):
    """EMQX cannot run here: its files are rendered and read back (HOCON by pyhocon, acl.conf's terms)."""
    import re

    from pyhocon import ConfigFactory

    from openssl_recipes.render.acl import render_acl
    from openssl_recipes.render.conf import render_conf

    recipe = parse(
        SITES.replace("  - {name: 'site-{n:03d}', count: 12}\n", "  - {name: 'site-{n:03d}', count: 12}\n  - {name: ops}\n"),
        tmp_path,
    )
    conf = ConfigFactory.parse_string(render_conf(recipe, "emqx", ("listener",), None, acl_file="/etc/emqx/acl.conf"))
    assert conf["mqtt.peer_cert_as_username"] == "cn"
    assert conf["listeners.ssl.default.ssl_options.certfile"].endswith("/cloud.pem")  # the cloud's, not a site's
    assert conf["authorization.sources"][0]["path"] == "/etc/emqx/acl.conf" and conf["authorization.no_match"] == "deny"
    acl = render_acl(recipe, "emqx")
    terms = [line for line in acl.splitlines() if line and not line.startswith("%%")]
    assert all(re.fullmatch(r"\{(allow|deny), .*\}\.", term) for term in terms), terms
    assert '{allow, {username, "ops"}, all, ["#"]}.' in terms and terms[-1] == "{deny, all}."
    # {n} in a topic: no one rule serves every site, so each site gets its own
    assert '{allow, {username, "site-011"}, subscribe, ["cmd/0011"]}.' in terms
