"""The strict style's extension file: one section per CA and per distinct set of leaf extensions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..recipe.entries import Leaf
from ..recipe.fleet import Fleet, parts_of
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
    return {name: first.setdefault(leaf_extensions(leaf), section_name(leaf.name)) for name, leaf in _named_leaves(recipe)}


def _named_leaves(recipe: Recipe) -> Iterator[tuple[str, Leaf]]:
    """(the name its section is kept by, the leaf) for each leaf; once for a fleet kept whole (its
    members' extensions are its first member's: their SANs hold no number)."""
    for part in parts_of(recipe.leaves):
        yield (part.template.name, part.member(1)) if isinstance(part, Fleet) else (part.name, part)


def extension_file(recipe: Recipe, sections: dict[str, str], templates_dir: Path | None = None) -> str:
    def leaf_context(leaf: Leaf, section: str) -> dict[str, object]:
        key_usage, extended_key_usage, sans = leaf_extensions(leaf)
        return {
            "section": section,
            "key_usage": key_usage,
            "extended_key_usage": extended_key_usage,
            "sans": list(sans),
        }

    context = {
        "recipe_name": recipe.path.name,
        "ca": {"section": section_name(recipe.ca.name)},
        "intermediate": {"section": section_name(recipe.intermediate.name)} if recipe.intermediate else None,
        "leaves": [
            leaf_context(leaf, sections[name])
            for name, leaf in _named_leaves(recipe)
            if sections[name] == section_name(leaf.name)
        ],
    }
    if _builtin_template_in_use(templates_dir):
        return compiled_template(context)
    from ..render.jinja import render

    return render(TEMPLATE, context, templates_dir)


# -- the built-in template, compiled ------------------------------------------------------------------
# `build` and `plan` write the extension file on every run; Jinja2's import alone is ~50 ms of a
# ~0.5 s start-up (measured). So the built-in template's output is also produced here, in Python,
# for the exact template text it was written for (its CRC-32): a `--templates` copy, or any edit of
# the shipped template, is rendered by Jinja2 as before. tests/test_units.py holds both to the same output.

TEMPLATE = "openssl-extensions.cnf.j2"
COMPILED_FROM = 0xCFCA53BB  # zlib.crc32 of templates/openssl-extensions.cnf.j2


def _builtin_template_in_use(templates_dir: Path | None) -> bool:
    import zlib

    from ..render.jinja import builtin_templates_dir

    if templates_dir is not None and (not templates_dir.is_dir() or (templates_dir / TEMPLATE).exists()):
        return False
    try:
        return zlib.crc32((builtin_templates_dir() / TEMPLATE).read_bytes()) == COMPILED_FROM
    except OSError:
        return False


def compiled_template(context: dict) -> str:
    """What templates/openssl-extensions.cnf.j2 renders (trim_blocks, lstrip_blocks) for `context`."""
    out = [
        f"# X.509 v3 extensions for the certificates of {context['recipe_name']}.\n"
        "# Written by openssl-recipes before each build; edit the recipe (or a copy of this template), not this file.\n"
        "# The sets are those measured to pass `openssl verify -x509_strict`, Python 3.13 and Go.\n"
        "\n[ req ]\ndistinguished_name = req_distinguished_name\nstring_mask = utf8only\nutf8 = yes\n"
        "\n[ req_distinguished_name ]\n"
        f"\n[ {context['ca']['section']} ]\n"
        "basicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign\n"
        "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid:always\n"
    ]
    if context["intermediate"]:
        out.append(
            f"\n[ {context['intermediate']['section']} ]\n"
            "basicConstraints = critical, CA:TRUE, pathlen:0\nkeyUsage = critical, keyCertSign, cRLSign\n"
            "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid:always\n"
        )
    for leaf in context["leaves"]:
        out.append(
            f"\n[ {leaf['section']} ]\nbasicConstraints = critical, CA:FALSE\nkeyUsage = critical, {leaf['key_usage']}\n"
            f"extendedKeyUsage = {leaf['extended_key_usage']}\n"
        )
        if leaf["sans"]:
            out.append(f"subjectAltName = {', '.join(leaf['sans'])}\n")
        out.append("subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid:always\n")
    return "".join(out)


def section_name(entry_name: str) -> str:
    return f"{entry_name}_ext"
