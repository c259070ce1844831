"""recipes.yaml → Recipe: defaults, inheritance, fleets, and every bad input with its clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from openssl_recipes.core.errors import RecipeError
from openssl_recipes.recipe.load import load_recipe, parse_recipe

from ..helpers import DEFAULT_RECIPE, SMALL_RECIPE, cli, tree, write_recipe


def parse(text: str, tmp_path: Path):
    return parse_recipe(text, tmp_path / "recipes.yaml")


def error_of(text: str, tmp_path: Path) -> str:
    with pytest.raises(RecipeError) as caught:
        parse(text, tmp_path)
    return "\n".join(caught.value.lines())


def test_default_recipe_is_the_documents_scenario():
    recipe = load_recipe(DEFAULT_RECIPE)
    assert recipe.output_dir == (DEFAULT_RECIPE.parent / "certs").resolve()
    assert (recipe.ca.key_file, recipe.ca.cert_file) == ("ca.key", "ca.pem")
    (server,) = recipe.servers
    (client,) = recipe.clients
    assert (server.key_file, server.csr_file, server.cert_file) == ("server.key", "server.csr", "server.pem")
    assert (client.key_file, client.csr_file, client.cert_file) == ("client-key.pem", "client.csr", "client.pem")
    for entry in (recipe.ca, server, client):
        assert (entry.key.type, entry.key.size, entry.digest, entry.days) == ("rsa", 2048, "sha256", 3650)
    assert recipe.warnings == ()


def test_defaults_are_inherited_and_overridden(tmp_path):
    recipe = parse(
        """
        defaults: {days: 400, key_size: 3072, subject: {C: DE, O: Acme}}
        ca: {subject: {CN: Root}, days: 800}
        clients:
          - {name: a, subject: {CN: a, O: Other}, key_type: ec, curve: P-384}
        """,
        tmp_path,
    )
    (a,) = recipe.clients
    assert recipe.ca.subject == {"C": "DE", "O": "Acme", "CN": "Root"}
    assert a.subject == {"C": "DE", "O": "Other", "CN": "a"}
    assert (a.days, a.key.type, a.key.curve, recipe.ca.key.size) == (400, "ec", "P-384", 3072)
    assert (a.key_file, a.csr_file, a.cert_file) == ("a.key", "a.csr", "a.pem")


def test_server_without_san_gets_its_cn_and_nanomq_twins_for_ip(tmp_path):
    recipe = parse(
        """
        ca: {subject: {CN: Root}}
        servers:
          - {name: s1, subject: {CN: broker.example.com}}
          - {name: s2, subject: {CN: s2}, san: [127.0.0.1, '::1', DNS:edge.local]}
          - {name: s3, subject: {CN: s3}, san: [10.0.0.1], nanomq: false}
        """,
        tmp_path,
    )
    s1, s2, s3 = recipe.servers
    assert [str(s) for s in s1.sans] == ["DNS:broker.example.com"]
    assert [str(s) for s in s2.sans] == ["IP:127.0.0.1", "IP:::1", "DNS:edge.local", "DNS:127.0.0.1"]
    assert [str(s) for s in s3.sans] == ["IP:10.0.0.1"]


def test_fleet_expands_the_pattern_in_names_subjects_and_sans(tmp_path):
    recipe = parse(
        """
        ca: {subject: {CN: Root}}
        clients:
          - {name: 'device-{n:04d}', count: 3, subject: {CN: 'device {n}'}, san: ['dev{n}.local']}
        """,
        tmp_path,
    )
    assert [c.name for c in recipe.clients] == ["device-0001", "device-0002", "device-0003"]
    assert recipe.clients[2].subject["CN"] == "device 3"
    assert recipe.clients[2].cert_file == "device-0003.pem"
    assert [str(s) for s in recipe.clients[1].sans] == ["DNS:dev2.local"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "clients:\n  - {name: a, subject: {CN: a}}\n  - {name: b, subject: {CN: b}, san: [300.1.1.1]}\n",
            "clients[1].san[0]: '300.1.1.1' is not an IP address",
        ),
        ("ca: {key_size: 1024, subject: {CN: x}}\n", "ca.key_size: RSA keys of 1024 bits are refused"),
        ("defaults: {digest: md5}\n", "defaults.digest: md5: MD5 is broken"),
        ("defaults: {digest: sha1}\n", "SHA-1 is broken"),
        ("defaults: {days: 0}\n", "defaults.days: 0 days"),
        ("clients:\n  - {name: a, days: -5, subject: {CN: a}}\n", "clients[0].days: -5 days"),
        (
            "clients:\n  - {name: a, subject: {CN: a}, key_file: ../x.key}\n",
            "clients[0].key_file: '../x.key' must be a plain file name",
        ),
        (
            "clients:\n  - {name: a, subject: {CN: a}, cert_file: /etc/passwd}\n",
            "clients[0].cert_file: '/etc/passwd' must be a plain file name",
        ),
        (
            "clients:\n  - {name: a, subject: {CN: a}, cert_file: ca.pem}\n",
            "clients[0].cert_file: 'ca.pem' is also written by ca.cert_file",
        ),
        (
            "clients:\n  - {name: a, subject: {CN: a}}\n  - {name: a, subject: {CN: b}}\n",
            "clients[1].key_file: 'a.key' is also written by clients[0].key_file",
        ),
        ("clients:\n  - {name: a, subject: {CN: a}, sans: [x]}\n", "clients[0].sans: unknown key 'sans' (did you mean 'san'?)"),
        (
            "clients:\n  - {name: a, subject: {CN: a}, password: hunter2}\n",
            "give the password by reference, never the password itself",
        ),
        ("clients:\n  - {name: a, subject: {CN: a, C: Germany}}\n", "not a two-letter country code"),
        ("clients:\n  - {name: a, subject: {CN: ''}}\n", "clients[0].subject.CN: is empty"),
        (
            "servers:\n  - {name: s, subject: {CN: My Server}}\n",
            "servers[0].san: no SANs given and CN 'My Server' is not a host name",
        ),
        ("clients: {name: a}\n", "clients: Input should be a valid list"),
        ("outptu: x\n", "unknown key 'outptu' (did you mean 'output'?)"),
        ("defaults: {subject: {CN: x}}\n", "defaults.subject.CN: each entry names itself"),
    ],
)
def test_bad_input_names_the_field(tmp_path, text, expected):
    message = error_of("ca: {subject: {CN: Root}}\n" + text if not text.startswith("ca:") else text, tmp_path)
    assert expected in message, message


def test_schema_errors_carry_the_line(tmp_path):
    message = error_of("ca: {subject: {CN: Root}}\nclients:\n  - name: a\n    subject: {CN: a}\n    san: [1.2.3.999]\n", tmp_path)
    assert "clients[0].san[0]: '1.2.3.999' is not an IP address (line 5, column 11)" in message, message


def test_yaml_syntax_error_has_line_and_column(tmp_path):
    message = error_of("ca:\n  subject: {CN: Root\nclients: []\n", tmp_path)
    assert "recipes.yaml:3:8: YAML syntax error" in message, message  # where the parser found the flow unclosed


def test_yaml_aliases_and_duplicate_keys_are_refused(tmp_path):
    bomb = "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"
    assert "anchors and aliases" in error_of(bomb, tmp_path)
    assert "duplicate key 'ca'" in error_of("ca: {}\nca: {}\n", tmp_path)


def test_leaf_that_outlives_its_ca_is_a_warning(tmp_path):
    recipe = parse("ca: {subject: {CN: R}, days: 100}\nclients:\n  - {name: a, subject: {CN: a}, days: 200}\n", tmp_path)
    assert any("longer than its CA" in w for w in recipe.warnings)


def test_password_references(tmp_path):
    recipe = parse(
        """
        ca: {subject: {CN: R}, password: {env: CA_PASS}}
        clients:
          - {name: a, subject: {CN: a}, password: {file: secret.txt}}
          - {name: b, subject: {CN: b}, password: prompt}
        """,
        tmp_path,
    )
    assert (recipe.ca.password.source, recipe.ca.password.env_name) == ("env", "CA_PASS")
    a, b = recipe.clients
    assert a.password.source == "file" and a.password.where == str(tmp_path.resolve() / "secret.txt")
    assert b.password.source == "prompt" and b.password.env_name.startswith("OPENSSL_RECIPES_PASSWORD_")


def test_cli_bad_recipe_exits_2_without_traceback_and_writes_nothing(tmp_path):
    recipe = write_recipe(tmp_path, SMALL_RECIPE.replace("127.0.0.1", "300.1.1.1"))
    before = tree(tmp_path)
    for command in ("plan", "build"):
        result = cli(command, "--recipe", str(recipe))
        assert result.code == 2, result
        assert "servers[0].san[1]: '300.1.1.1' is not an IP address" in result.stderr, result
        assert "Traceback" not in result.output
    assert tree(tmp_path) == before


def test_missing_recipe_is_a_clear_error(tmp_path):
    result = cli("plan", "--recipe", str(tmp_path / "nope.yaml"))
    assert result.code == 2 and "no such recipe file" in result.stderr, result


def test_ed25519_for_nanomq_is_a_warning(tmp_path):
    recipe = parse(
        "ca: {subject: {CN: R}}\nclients:\n  - {name: a, subject: {CN: a}, key_type: ed25519}\n"
        "  - {name: b, subject: {CN: b}, key_type: ed25519, nanomq: false}\n",
        tmp_path,
    )
    assert [w for w in recipe.warnings if "Ed25519" in w] == [
        "clients[0] (a): an Ed25519 key — NanoMQ (mbedTLS 2.28) and some clients cannot use it; set nanomq: false if no NanoMQ uses this entry"
    ]


def test_a_fleet_member_is_validated_like_any_entry_and_reported_once_with_its_place(tmp_path):
    text = "ca: {subject: {CN: R}}\nclients:\n  - {name: 'd-{n}', count: 3, subject: {CN: 'd-{n}'}, san: ['{n}.-bad']}\n"
    with pytest.raises(RecipeError) as caught:
        parse(text, tmp_path)
    details = caught.value.details
    assert len(details) == 1, details  # the same mistake in every member: said once
    assert details[0].startswith("clients[0].san[0]: ") and "(fleet member 'd-1')" in details[0], details
    assert details[0].endswith("(line 3, column 61)"), details  # the SAN itself


def test_an_entry_without_a_cn_takes_its_name_in_the_strict_style(tmp_path):
    """The schema says a leaf's CN is its entry's name: so it is, when the recipe gives none."""
    recipe = parse(
        "defaults: {subject: {O: Acme}}\nca: {subject: {CN: R}}\n"
        "servers:\n  - {name: broker.local}\nclients:\n  - {name: sensor-1, subject: {OU: field}}\n",
        tmp_path,
    )
    server, client = recipe.servers[0], recipe.clients[0]
    assert server.subject == {"O": "Acme", "CN": "broker.local"} and [str(s) for s in server.sans] == ["DNS:broker.local"]
    assert client.subject == {"O": "Acme", "OU": "field", "CN": "sensor-1"}
    refused = error_of("ca: {subject: {CN: R}}\nservers:\n  - {name: broker_1}\n", tmp_path)
    assert "no SANs given and CN 'broker_1' is not a host name" in refused, refused  # never "CN None"
    document = parse("style: document\nca: {subject: {CN: R}}\nclients:\n  - {name: c}\n", tmp_path)
    assert document.clients[0].subject == {}  # the document style leaves it to openssl's prompt


def test_a_fleet_count_of_true_is_not_a_number(tmp_path):
    message = error_of("ca: {subject: {CN: R}}\nclients:\n  - {name: 'd-{n}', count: true}\n", tmp_path)
    assert "clients[0].count: true is not a number" in message, message


def test_field_problems_do_not_hide_the_problems_across_entries(tmp_path):
    """Every problem at once, in the order of the file: an entry with a field problem is set aside and
    the others are still checked against each other and the NanoMQ section."""
    text = (
        "ca: {subject: {CN: R}}\n"
        "servers:\n"
        "  - {name: server, san: [localhost]}\n"
        "  - {name: broker, cert_file: server.pem}\n"  # line 4: written by two entries
        "clients:\n"
        "  - {name: client, sans: [x]}\n"  # line 6: a field problem
        "  - {name: sensor, key_file: ../sensor.key}\n"  # line 7: leaves the folder
        "nanomq:\n"
        "  listener: {server: edge}\n"  # line 9: names nobody
        "  bridge: {client: client}\n"  # the set-aside entry's name still counts
    )
    with pytest.raises(RecipeError) as caught:
        parse(text, tmp_path)
    details = caught.value.details
    lines = [int(detail.rsplit("(line ", 1)[1].split(",")[0]) for detail in details]
    assert lines == sorted(lines) and set(lines) >= {4, 6, 7, 9}, details
    assert any(d.startswith("clients[0].sans: unknown key 'sans'") for d in details), details
    assert any(d.startswith("clients[1].key_file: '../sensor.key'") for d in details), details
    assert any("server.pem" in d for d in details), details
    assert any(
        d.startswith("nanomq.listener.server: 'edge' is not one of the recipe's servers (server, broker)") for d in details
    )
    assert not any(d.startswith("nanomq.bridge") for d in details), details


def test_a_field_problem_outside_the_entries_is_said_alone(tmp_path):
    """A bad CA or defaults changes what every entry means: the field problems are all that is said."""
    details = error_of("ca: {subject: {CN: R}, days: 0}\nclients:\n  - {name: c, key_file: ../c.key}\n", tmp_path)
    assert "ca.days" in details and "key_file" not in details, details
