"""The strict style's extension file: one section per CA and per distinct set of leaf extensions."""

from __future__ import annotations

from pathlib import Path

from ..recipe.entries import Leaf
from ..recipe.fleet import templates
from ..recipe.model import Recipe


def leaf_extensions(leaf: Leaf) -> tuple[str, str, tuple[str, ...]]:
    """(keyUsage, extendedKeyUsage, SANs) of a server or client certificate."""
    return (
        "digitalSignature, keyEncipherment" if leaf.key.type == "rsa" else "digitalSignature",
        "serverAuth" if leaf.role == "server" else "clientAuth",
        tuple(str(san) for san in leaf.sans),
    )


def leaf_sections(recipe: Recipe) -> dict[str, str]:
    """Each leaf's section in the extension file, by its name (a fleet kept whole: by its template's
    name). Leaves with the same extensions share one section, named after the first of them: a fleet
    without per-device SANs needs one section, not a thousand (each signature parses the whole file:
    7.8 ms with 1000 sections against 5.0 ms with a few)."""
    first: dict[tuple[str, str, tuple[str, ...]], str] = {}
    return {name: first.setdefault(leaf_extensions(leaf), section_name(leaf.name)) for name, leaf in templates(recipe.leaves)}


def extension_file(recipe: Recipe, sections: dict[str, str], templates_dir: Path | None = None) -> str:
    """The extension file: written here, extension by extension (below); from a user's own copy of
    templates/openssl-extensions.cnf.j2 when `templates_dir` holds one (rendered by Jinja2)."""
    context = {
        "recipe_name": recipe.path.name,
        "ca": {"section": section_name(recipe.ca.name)},
        "intermediate": {"section": section_name(recipe.intermediate.name)} if recipe.intermediate else None,
        "leaves": [
            _leaf_context(leaf, sections[name])
            for name, leaf in templates(recipe.leaves)
            if sections[name] == section_name(leaf.name)
        ],
    }
    if templates_dir is not None and (not templates_dir.is_dir() or (templates_dir / TEMPLATE).exists()):
        from ..render.jinja import render  # (says what is wrong with a --templates folder that is not one)

        return render(TEMPLATE, context, templates_dir)
    return written(context)


def _leaf_context(leaf: Leaf, section: str) -> dict[str, object]:
    key_usage, extended_key_usage, sans = leaf_extensions(leaf)
    return {"section": section, "key_usage": key_usage, "extended_key_usage": extended_key_usage, "sans": list(sans)}


# -- the extension file, spelled out ----------------------------------------------------------------------
# The sets measured to pass `openssl verify -x509_strict`, Python 3.13's default context, Go, mosquitto
# and mbedTLS 2.28: one line per extension, its criticality first, to hold against RFC 5280. Written in
# Python rather than rendered: Jinja2's import alone is ~50 ms of `plan`'s and `build`'s start-up
# (measured), and a build writes this file every time. templates/openssl-extensions.cnf.j2 writes the same
# file, the starting point for a `--templates` copy (tests hold the two equal).

TEMPLATE = "openssl-extensions.cnf.j2"
KEY_IDENTIFIERS = (("subjectKeyIdentifier", "hash"), ("authorityKeyIdentifier", "keyid:always"))
ROOT_CA = (("basicConstraints", "critical, CA:TRUE"), ("keyUsage", "critical, keyCertSign, cRLSign"), *KEY_IDENTIFIERS)
INTERMEDIATE_CA = (
    ("basicConstraints", "critical, CA:TRUE, pathlen:0"),  # it signs leaves only
    ("keyUsage", "critical, keyCertSign, cRLSign"),
    *KEY_IDENTIFIERS,
)
HEADER = (
    "# X.509 v3 extensions for the certificates of {recipe_name}.\n"
    "# Written by openssl-recipes before each build; edit the recipe (or a copy of this template), not this file.\n"
    "# The sets are those measured to pass `openssl verify -x509_strict`, Python 3.13 and Go.\n"
    "\n[ req ]\ndistinguished_name = req_distinguished_name\nstring_mask = utf8only\nutf8 = yes\n"
    "\n[ req_distinguished_name ]\n"
)


def leaf_lines(leaf: dict) -> tuple[tuple[str, str], ...]:
    """A server's or client's extensions (`leaf`: its context: key usage, extended key usage, SANs)."""
    sans = (("subjectAltName", ", ".join(leaf["sans"])),) if leaf["sans"] else ()
    return (
        ("basicConstraints", "critical, CA:FALSE"),
        ("keyUsage", f"critical, {leaf['key_usage']}"),
        ("extendedKeyUsage", leaf["extended_key_usage"]),
        *sans,
        *KEY_IDENTIFIERS,
    )


def written(context: dict) -> str:
    """The file templates/openssl-extensions.cnf.j2 renders for `context`, written without Jinja2."""
    sections = [(context["ca"]["section"], ROOT_CA)]
    if context["intermediate"]:
        sections.append((context["intermediate"]["section"], INTERMEDIATE_CA))
    sections += [(leaf["section"], leaf_lines(leaf)) for leaf in context["leaves"]]
    out = [HEADER.format(recipe_name=context["recipe_name"])]
    for name, lines in sections:
        out.append(f"\n[ {name} ]\n" + "".join(f"{key} = {value}\n" for key, value in lines))
    return "".join(out)


def section_name(entry_name: str) -> str:
    return f"{entry_name}_ext"
