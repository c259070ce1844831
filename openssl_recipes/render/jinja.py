"""Jinja2 over `templates/`: the openssl extension file and the brokers' configurations.

StrictUndefined everywhere, so a missing variable fails the render instead of printing nothing.
A user's `--templates DIR` is searched first, so a copy of one template overrides just that one.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from ..core.errors import UsageError

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # openssl_recipes/


def builtin_templates_dir() -> Path:
    """Inside the installed package (wheel), else the source tree's top-level `templates/`."""
    shipped = PACKAGE_DIR / "templates"
    return shipped if shipped.is_dir() else PACKAGE_DIR.parent / "templates"


def hocon_string(value: Any) -> str:
    """A HOCON quoted string: JSON's escaping is valid HOCON and keeps `"`, `\\`, `$`, `#` literal."""
    return json.dumps(str(value), ensure_ascii=False)


def render(
    template_name: str, context: dict[str, Any], templates_dir: Path | None = None, filters: dict[str, Any] | None = None
) -> str:
    import jinja2

    search = [str(templates_dir)] if templates_dir else []
    if templates_dir and not templates_dir.is_dir():
        raise UsageError(f"--templates {templates_dir}: no such folder")
    search.append(str(builtin_templates_dir()))
    env = _environment(tuple(search), tuple(sorted((filters or {}).items())))
    try:
        return env.get_template(template_name).render(**context)
    except jinja2.TemplateNotFound:
        raise UsageError(f"template {template_name!r} not found in {', '.join(search)}") from None
    except jinja2.UndefinedError as exc:
        raise UsageError(f"template {template_name}: {exc.message}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise UsageError(f"template {exc.filename or template_name}:{exc.lineno}: {exc.message}") from None


@functools.lru_cache(maxsize=8)
def _environment(search: tuple[str, ...], filters: tuple[tuple[str, Any], ...]) -> Any:
    """One environment for each search path: a template is compiled once, not once per site (`bundle`
    renders 10 000); jinja2 still sees an edited template (it compares the file's time)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(list(search)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["hocon"] = hocon_string
    env.filters.update(dict(filters))
    return env
