"""The cloud broker's access rules for a recipe with sites (`conf mosquitto --acl`, `conf emqx --acl`):
each site, known by its certificate's CN, may publish only to the topics its bridge forwards and
subscribe only to the topics its bridge subscribes, under its own name; the recipe's other clients
(the cloud's own applications) use every topic. Nothing is written by hand.

When every site's CN is its name and the topics name the site only by `{name}`, one rule a topic
serves all sites (mosquitto `pattern … %u`, EMQX `${username}`); otherwise each site gets its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.errors import UsageError
from ..recipe.model import Recipe
from ..recipe.sites import fill, has_placeholder
from .jinja import render

ACL_TEMPLATES = {"mosquitto": "mosquitto.acl.j2", "emqx": "emqx-acl.conf.j2"}
USER_IN_PATTERN = {"mosquitto": "%u", "emqx": "${username}"}


def render_acl(recipe: Recipe, broker: str, templates_dir: Path | None = None) -> str:
    return render(ACL_TEMPLATES[broker], acl_context(recipe, broker), templates_dir, {"erlang": erlang_string})


def acl_context(recipe: Recipe, broker: str) -> dict[str, Any]:
    if recipe.site_entries is None or recipe.nanomq is None:
        raise UsageError("--acl: the recipe has no sites (nanomq.bridge.client names one client, not a fleet of them)")
    bridge = recipe.nanomq.bridge
    topics = [("write", f.remote_topic) for f in bridge.forwards] + [("read", s.remote_topic) for s in bridge.subscription]
    sites = list(recipe.sites())
    for site in sites:
        if not site.client.subject.get("CN"):
            raise UsageError(f"--acl: site {site.name} has no CN, which is its username at the cloud: give its subject a CN")
    one_rule = all(site.client.subject["CN"] == site.name for site in sites) and not any(
        has_placeholder(t, only_number=True) for _, t in topics
    )
    pattern = [{"access": access, "topic": fill(t, USER_IN_PATTERN[broker], 0)} for access, t in topics] if one_rule else []
    per_site = (
        []
        if one_rule
        else [
            {"user": site.client.subject["CN"], "rules": [{"access": a, "topic": fill(t, site.name, site.n)} for a, t in topics]}
            for site in sites
        ]
    )
    others = [
        {"name": leaf.name, "user": leaf.subject["CN"]}
        for leaf in recipe.clients
        if leaf.path != recipe.site_entries.clients and leaf.subject.get("CN")
    ]
    return {"recipe_name": recipe.path.name, "pattern": pattern, "sites": per_site, "others": others}


def erlang_string(value: Any) -> str:
    """An Erlang string literal (EMQX's acl.conf is Erlang terms)."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
