"""`show --tree`: the PKI as a tree — root → intermediate → servers and clients — each with its file,
key, days left and whether openssl verifies it against its issuer. A fleet is one node unless asked.

Certificates are read by `core.x509` (no openssl per file); the signatures by one `openssl verify` per
issuer (`Inspector.signed_by`, chunked).
"""

from __future__ import annotations

import datetime as dt
from itertools import groupby

from ..core.children import child_environment
from ..core.x509 import CertificateFacts, Unreadable, read_certificate
from ..recipe.entries import CertificateAuthority, Leaf
from ..recipe.model import Recipe
from ..run.inspect import Inspector


def pki_tree(recipe: Recipe, openssl: str, show_all: bool = False, now: dt.datetime | None = None):  # noqa: ANN201 - rich.tree.Tree
    from rich.tree import Tree

    now = now or dt.datetime.now(dt.UTC)
    folder = recipe.output_dir
    inspector = Inspector(openssl, folder, child_environment(recipe.secret_names()))
    unreadable: dict[str, str] = {}
    facts = {entry.cert_file: _read(recipe, entry.cert_file, unreadable) for entry in (*recipe.authorities, *recipe.leaves)}
    issuer = recipe.issuer
    present = [leaf.cert_file for leaf in recipe.leaves if facts[leaf.cert_file] is not None]
    signed = inspector.signed_by(issuer.cert_file, present) if present and facts[issuer.cert_file] else set()
    root = Tree(_authority_label(recipe.ca, facts[recipe.ca.cert_file], now, "root CA", True, unreadable))
    parent = root
    if recipe.intermediate:
        im = recipe.intermediate
        chained = facts[im.cert_file] is not None and bool(inspector.signed_by(recipe.ca.cert_file, [im.cert_file]))
        parent = root.add(_authority_label(im, facts[im.cert_file], now, "intermediate CA", chained, unreadable))
    for role in ("server", "client"):
        leaves = [leaf for leaf in recipe.leaves if leaf.role == role]
        if not leaves:
            continue
        branch = parent.add(f"[bold]{role}s[/bold] ({len(leaves)})")
        for _path, group in groupby(leaves, key=lambda leaf: leaf.path):
            members = list(group)
            if len(members) > 1 and not show_all:
                branch.add(_fleet_label(members, facts, signed, now, unreadable))
            else:
                for leaf in members:
                    branch.add(_leaf_label(leaf, facts[leaf.cert_file], leaf.cert_file in signed, now, unreadable))
    return root


def _read(recipe: Recipe, cert_file: str, unreadable: dict[str, str]) -> CertificateFacts | None:
    """What the certificate says; None when it is missing or cannot be read (then `unreadable` says why:
    a file there is never called missing)."""
    try:
        return read_certificate((recipe.output_dir / cert_file).read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, Unreadable) as exc:
        unreadable[cert_file] = getattr(exc, "strerror", None) or str(exc)
        return None


def _days_left(facts: CertificateFacts, now: dt.datetime) -> str:
    left = (facts.not_after - now).days
    if left < 0:
        return f"[red]EXPIRED {-left} days ago[/red]"
    return f"[yellow]{left} days left[/yellow]" if left < 30 else f"{left} days left"


def _key(facts: CertificateFacts) -> str:
    return facts.key.describe() if facts.key else "?"


def _absent(cert_file: str, who: str, unreadable: dict[str, str]) -> str:
    """The line of a certificate there is nothing to show of: unreadable (and why), or missing."""
    if cert_file in unreadable:
        return f"[red]✘[/red] {cert_file} ({who}): unreadable — {unreadable[cert_file]}"
    return f"[red]✘[/red] {cert_file} ({who}): missing — run `openssl-recipes build`"


def _authority_label(
    ca: CertificateAuthority, facts: CertificateFacts | None, now: dt.datetime, what: str, ok: bool, unreadable: dict[str, str]
) -> str:
    if facts is None:
        return _absent(ca.cert_file, f"{what} {ca.name}", unreadable)
    mark = "[green]✔[/green]" if ok else "[red]✘ not signed by the root[/red]"
    return f"{mark} [bold]{ca.cert_file}[/bold] ({what} {ca.name}, {_key(facts)}, {_days_left(facts, now)})"


def _leaf_label(leaf: Leaf, facts: CertificateFacts | None, ok: bool, now: dt.datetime, unreadable: dict[str, str]) -> str:
    if facts is None:
        return _absent(leaf.cert_file, leaf.name, unreadable)
    mark = "[green]✔[/green]" if ok else "[red]✘ not signed by its CA[/red]"
    return f"{mark} {leaf.cert_file} ({leaf.name}, {_key(facts)}, {_days_left(facts, now)})"


def _fleet_label(
    members: list[Leaf], facts: dict[str, CertificateFacts | None], signed: set[str], now: dt.datetime, unreadable: dict[str, str]
) -> str:
    made = [facts[leaf.cert_file] for leaf in members if facts[leaf.cert_file] is not None]
    first, last = members[0].name, members[-1].name
    if not made and not any(leaf.cert_file in unreadable for leaf in members):
        return f"[red]✘[/red] {first} … {last} ({len(members)} certificates): missing — run `openssl-recipes build`"
    broken = [leaf.name for leaf in members if leaf.cert_file in unreadable]
    missing = [leaf.name for leaf in members if facts[leaf.cert_file] is None and leaf.cert_file not in unreadable]
    unsigned = [leaf.name for leaf in members if facts[leaf.cert_file] is not None and leaf.cert_file not in signed]
    marks = [f"{len(missing)} missing ({_some(missing)})"] if missing else []
    marks += [f"{len(broken)} unreadable ({_some(broken)})"] if broken else []
    marks += [f"{len(unsigned)} not signed by its CA ({_some(unsigned)})"] if unsigned else []
    mark = f"[red]✘ {'; '.join(marks)}[/red]" if marks else "[green]✔[/green]"
    dates = sorted(f.not_after for f in made if f is not None)
    expiry = f", expiries {dates[0]:%Y-%m-%d} … {dates[-1]:%Y-%m-%d}" if dates else ""
    key = _key(made[0]) if made and made[0] is not None else "?"
    return f"{mark} {first} … {last} ({len(members)} certificates, {key}{expiry}; --all lists each)"


def _some(names: list[str], shown: int = 3) -> str:
    """The first few names, and how many more."""
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")
