"""`openssl-recipes bundle`: one folder per edge site, laid out as the site's file system from its root
(copying `<site>/` onto `/` installs it), or one `<site>.tar.gz` each: the site's key, certificate and
CA file in nanomq.cert_dir, and its whole nanomq.conf naming exactly those files.

Every site is made in memory and compared with what is there: an unchanged one is not written, a
changed one is written again whole through `whole.WholeEntries` (its earlier version kept as
`<site>.<time>.bak`), then read back. The bundles folder's list (`.openssl-recipes.bundles`) is what
this command owns there: it replaces nothing else. A site receives its own key and password only.
"""

from __future__ import annotations

import gzip
import io
import posixpath
import tarfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import RunError, UsageError
from ..core.names import RESERVED_PREFIX
from ..core.reading import TooLarge, read_bounded
from ..recipe.broker import path_problem
from ..recipe.model import Recipe
from ..recipe.secrets import resolve
from ..recipe.selection import select
from ..recipe.sites import Site
from ..render.conf import insert_blocks, render_conf
from ..render.jinja import render
from . import whole, workspace
from .conf import read_marked

BUNDLES_LIST = f"{RESERVED_PREFIX}.bundles"  # what `bundle` wrote in its folder, one name a line
DEFAULT_CONF_PATH = "/etc/nanomq.conf"
MAX_SOURCE_BYTES = 1024 * 1024  # a key, a certificate, a chain
ARCHIVE_SUFFIX = ".tar.gz"
VERIFICATION_NOTE = (
    "note: a site's bridge does not check the cloud's certificate (NanoMQ 0.25 has no setting for it in a "
    "HOCON bridge): it trusts whatever answers at {address}; the cloud checks every site's"
)
Say = Callable[[str], None]


@dataclass(frozen=True)
class BundleOptions:
    out: Path
    only: tuple[str, ...] = ()
    base: Path | None = None
    conf_path: str = DEFAULT_CONF_PATH
    archive: bool = False
    dry_run: bool = False
    templates: Path | None = None


def bundle(recipe: Recipe, options: BundleOptions, say: Say, warn: Say) -> None:
    section = _checked(recipe, options)
    base = _base_text(options.base)
    sites = select(recipe.sites(), list(options.only), lambda site: site.name, "site") if options.only else recipe.sites()
    maker = _SiteMaker(recipe, options, base)
    if options.dry_run:
        for name, _content, changed in _compared(sites, maker, options):
            say(f"{'would write' if changed else 'unchanged'}: {options.out / name}")
        return
    warn(VERIFICATION_NOTE.format(address=f"{section.bridge.host}:{section.bridge.port}"))
    options.out.mkdir(mode=0o700, parents=True, exist_ok=True)
    total, written = 0, []
    with workspace.locked(options.out):
        workspace.remove_stale(options.out, whole.STAGING_PREFIX)
        owned = set(_bundles_list(options.out))
        with whole.WholeEntries(options.out, owned, 0o600) as staged:
            # one site at a time: 10 000 sites are never all in memory (each its key, certificates, conf)
            for name, content, changed in _compared(sites, maker, options):
                total += 1
                if changed:
                    staged.stage(name, content)
                    written.append(name)
            if written and not set(written) <= owned:  # the names it owns, listed before they are there
                listed = "".join(f"{n}\n" for n in sorted(owned | set(written)))
                workspace.write_atomically(options.out / BUNDLES_LIST, listed, 0o600)
            backups = staged.commit()
    for name in written:
        say(f"wrote {options.out / name}" + (f" (previous version in {backups[name]})" if name in backups else ""))
    if not written:
        say(f"{total} site(s) already up to date in {options.out}: nothing rewritten")
    elif len(written) < total:
        say(f"{total - len(written)} other site(s) unchanged")


def _compared(sites: Iterable[Site], maker: _SiteMaker, options: BundleOptions) -> Iterator[tuple[str, whole.Tree | bytes, bool]]:
    """Each site's entry name, content, and whether it differs from what is there."""
    for site in sites:
        name, content = _entry_name(site, options), maker.entry(site)
        yield name, content, whole.read_entry(options.out, name) != content


class _SiteMaker:
    """Each site's files, made in memory: its own key, certificate and password only."""

    def __init__(self, recipe: Recipe, options: BundleOptions, base: str | None) -> None:
        self.recipe, self.options, self.base = recipe, options, base
        assert recipe.nanomq is not None and recipe.nanomq.cert_dir is not None
        self.cert_dir = recipe.nanomq.cert_dir.strip("/")
        ca = recipe.trust_file
        self.ca_name, self.ca = ca, self.source(ca)

    def source(self, name: str) -> bytes:
        path = self.recipe.output_dir / name
        try:
            return read_bounded(path, MAX_SOURCE_BYTES)
        except FileNotFoundError:
            raise RunError(f"{path} is missing: `openssl-recipes build` makes the sites' files first") from None
        except (OSError, TooLarge) as exc:
            raise RunError(f"{path}: cannot read it ({exc})") from None

    def files(self, site: Site) -> whole.Tree:
        tree: whole.Tree = {posixpath.join(self.cert_dir, self.ca_name): (self.ca, 0o644)}
        for leaf in (site.client, site.server):
            if leaf is not None:
                tree[posixpath.join(self.cert_dir, leaf.key_file)] = (self.source(leaf.key_file), 0o600)
                certificate = leaf.chain_file or leaf.cert_file
                tree[posixpath.join(self.cert_dir, certificate)] = (self.source(certificate), 0o644)
        own = [leaf.password for leaf in (site.client, site.server) if leaf is not None and leaf.password]
        values = resolve(list(dict.fromkeys(own)), confirm=False) if own else {}
        blocks = ("listener", "bridge") if site.server is not None else ("bridge",)
        rendered = render_conf(self.recipe, "nanomq", blocks, values, self.options.templates, site)
        if self.base is not None:
            conf = insert_blocks(self.base, rendered)
        else:
            context = {"site": site.name, "recipe_name": self.recipe.path.name, "listener": site.server, "blocks": rendered}
            conf = render("nanomq-site.conf.j2", context, self.options.templates)
        tree[self.options.conf_path.strip("/")] = (conf.encode("utf-8"), 0o600 if values else 0o644)
        return tree

    def entry(self, site: Site) -> whole.Tree | bytes:
        tree = self.files(site)
        return archive(tree) if self.options.archive else tree


def archive(tree: whole.Tree) -> bytes:
    """The tree as a .tar.gz to unpack at the site's root (`tar -xzf site.tar.gz -C /`): the same bytes
    for the same files (sorted, dated 1970, owned by root, gzip without a name or time)."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as zipped:
        with tarfile.open(fileobj=zipped, mode="w", format=tarfile.USTAR_FORMAT) as tar:
            for folder in sorted({parent for path in tree for parent in _parents(path)}):
                tar.addfile(_info(folder, tarfile.DIRTYPE, 0o755, 0))
            for path, (data, mode) in sorted(tree.items()):
                tar.addfile(_info(path, tarfile.REGTYPE, mode, len(data)), io.BytesIO(data))
    return out.getvalue()


def _parents(path: str) -> Iterator[str]:
    parent = posixpath.dirname(path)
    while parent:
        yield parent
        parent = posixpath.dirname(parent)


def _info(name: str, kind: bytes, mode: int, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.size, info.mtime = kind, mode, size, 0
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def _entry_name(site: Site, options: BundleOptions) -> str:
    return site.name + (ARCHIVE_SUFFIX if options.archive else "")


def _checked(recipe: Recipe, options: BundleOptions):  # noqa: ANN202 - the recipe's NanoMQIn
    if recipe.site_entries is None or recipe.nanomq is None:
        raise UsageError(
            "the recipe has no sites: nanomq.bridge.client names a fleet of clients, one site each "
            "(`openssl-recipes init sites` writes such a recipe)"
        )
    section = recipe.nanomq
    if section.cert_dir is None:
        raise UsageError("nanomq.cert_dir: set it to where each site keeps its certificates (e.g. /etc/nanomq/certs)")
    if section.bridge.host is None:
        raise UsageError("nanomq.bridge.host: the sites bridge to the cloud broker: give its DNS name or address")
    if problem := path_problem(options.conf_path):
        raise UsageError(f"--conf-path: {problem}")
    if options.conf_path.endswith("/"):
        raise UsageError(f"--conf-path {options.conf_path}: give the file's path, not a folder")
    return section


def _base_text(base: Path | None) -> str | None:
    return read_marked(base, f"--base {base}") if base is not None else None


def _bundles_list(folder: Path) -> list[str]:
    try:
        text = read_bounded(folder / BUNDLES_LIST, 64 * 1024 * 1024).decode("utf-8", "replace")
    except (OSError, TooLarge):
        return []
    return [name for name in text.splitlines() if name and "/" not in name and not name.startswith(".")]
