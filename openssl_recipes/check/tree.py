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
from .rotation import phase


def pki_tree(recipe: Recipe, openssl: str, show_all: bool = False, now: dt.datetime | None = None):  # noqa: ANN201 - rich renderable
    """The tree; while a CA rotation is under way, the new CA's and the old one's, each with the leaves
    it signed, then the phase."""
    now = now or dt.datetime.now(dt.UTC)
    folder = recipe.output_dir
    inspector = Inspector(openssl, folder, child_environment(recipe.secret_names()))
    unreadable: dict[str, str] = {}
    retiring = recipe.rotation.retiring if recipe.rotation else ()
    entries = (*recipe.authorities, *retiring, *recipe.leaves)
    facts = {entry.cert_file: _read(recipe, entry.cert_file, unreadable) for entry in entries}
    present = [leaf.cert_file for leaf in recipe.leaves if facts[leaf.cert_file] is not None]
    issuer = recipe.issuer
    signed = inspector.signed_by(issuer.cert_file, present) if present and facts[issuer.cert_file] else set()
    tree = _Drawn(inspector, facts, unreadable, now, show_all)
    if recipe.rotation is None:
        return tree.draw(recipe.authorities, list(recipe.leaves), signed)
    from rich.console import Group

    old_issuer = recipe.rotation.issuer
    rest = [name for name in present if name not in signed]
    old = inspector.signed_by(old_issuer.cert_file, rest) if rest and facts[old_issuer.cert_file] else set()
    new_leaves = [leaf for leaf in recipe.leaves if leaf.cert_file not in old]
    old_leaves = [leaf for leaf in recipe.leaves if leaf.cert_file in old]
    tree.shared = set(recipe.chain) & set(recipe.rotation.chain)
    trees = [tree.draw(recipe.authorities, new_leaves, signed, "new "), tree.draw(retiring, old_leaves, old, "old ")]
    return Group(*trees, *phase(recipe, old))


class _Drawn:
    def __init__(self, inspector: Inspector, facts: dict, unreadable: dict[str, str], now: dt.datetime, show_all: bool) -> None:
        self.inspector, self.facts, self.unreadable, self.now, self.show_all = inspector, facts, unreadable, now, show_all
        self.shared: set[str] = set()  # certificates in both chains

    def draw(self, chain: tuple[CertificateAuthority, ...], leaves: list[Leaf], signed: set[str], age: str = ""):  # noqa: ANN201
        """`chain`: root first; `signed`: the leaves its issuer signed."""
        from rich.tree import Tree

        facts, now, unreadable = self.facts, self.now, self.unreadable
        root_ca = chain[0]
        shared = self.shared

        def what(ca: CertificateAuthority, kind: str) -> str:
            return kind if ca.cert_file in shared else f"{age}{kind}"  # (the root of an intermediate's rotation is one)

        root = Tree(_authority_label(root_ca, facts[root_ca.cert_file], now, what(root_ca, "root CA"), True, unreadable))
        parent = root
        for im in chain[1:]:
            chained = facts[im.cert_file] is not None and bool(self.inspector.signed_by(root_ca.cert_file, [im.cert_file]))
            parent = root.add(_authority_label(im, facts[im.cert_file], now, what(im, "intermediate CA"), chained, unreadable))
        for role in ("server", "client"):
            of_role = [leaf for leaf in leaves if leaf.role == role]
            if not of_role:
                continue
            branch = parent.add(f"[bold]{role}s[/bold] ({len(of_role)})")
            for _path, group in groupby(of_role, key=lambda leaf: leaf.path):
                members = list(group)
                if len(members) > 1 and not self.show_all:
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
