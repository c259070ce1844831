"""A Plan as text: the lines `plan` prints (pasteable into bash) and the standalone `--script`.

Passwords appear only as the names of the variables openssl reads (`env:NAME`); the script reads
them from the same places the tool does, so the secret itself is never written here.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

from .recipe import Secret
from .steps import Plan, Step


def display_path(path: Path, cwd: Path | None = None) -> str:
    """`path` relative to the current folder when it is inside it, else absolute."""
    cwd = cwd or Path.cwd()
    try:
        return os.path.relpath(path, cwd) if path.is_relative_to(cwd) else str(path)
    except ValueError:
        return str(path)


_UNSAFE = re.compile(r"[^\w@%+=:,./-]", re.ASCII).search  # shlex.quote's own test


def command_line(argv: tuple[str, ...] | list[str]) -> str:
    """`shlex.join(argv)`, without a call per plain argument (a fleet's plan is 300 000 lines)."""
    return " ".join(arg if arg and _UNSAFE(arg) is None else shlex.quote(arg) for arg in argv)


def plan_lines(plan: Plan) -> list[str]:
    """The body shared by `plan` and `plan --script`: folder, umask, files, then each command."""
    out = display_path(plan.output_dir)
    if out.startswith("-"):  # `cd -` is the previous folder; `mkdir -x` an option
        out = "./" + out
    lines = [f"mkdir -p -m 700 {shlex.quote(out)}", f"cd {shlex.quote(out)}", "umask 077"]
    for name, content in plan.files.items():
        marker = "EOF"
        while marker in content.splitlines():
            marker += "_"
        lines.append(f"cat > {shlex.quote(name)} <<'{marker}'\n{content.rstrip(chr(10))}\n{marker}")
    lines += [step_line(step) for step in plan.steps]
    return lines


def step_line(step: Step) -> str:
    """A step as bash: its argv, and for a bundle the file its output goes to."""
    line = command_line(step.argv)
    return f"{line} > {shlex.quote(step.artifact)}" if step.kind == "bundle" else line


def plan_text(plan: Plan) -> str:
    recipe = plan.recipe
    header = [f"# openssl-recipes plan: {recipe.style} style, {len(plan.steps)} commands, recipe {display_path(recipe.path)}"]
    for secret in recipe.secrets():
        header.append(f"# needs {secret.env_name} set to the key password ({secret.describe()})")
    return "\n".join(header + plan_lines(plan)) + "\n"


def plan_script(plan: Plan) -> str:
    recipe = plan.recipe
    lines = [
        "#!/usr/bin/env bash",
        f"# Made by openssl-recipes from {recipe.path.name} ({recipe.style} style): builds the PKI without the tool.",
        "set -euo pipefail",
    ]
    lines += [read_secret(secret) for secret in recipe.secrets()]
    lines += plan_lines(plan)
    public = [*plan.files, *(step.artifact for step in plan.steps if step.kind != "key")]
    if public:  # as `build` leaves them: requests, certificates and bundles 0644, keys 0600 (umask 077)
        lines.append(command_line(["chmod", "644", "--", *dict.fromkeys(public)]))
    return "\n".join(lines) + "\n"


def read_secret(secret: Secret) -> str:
    name = secret.env_name
    if secret.source == "env":
        return f': "${{{name}:?set {name} to the key password}}"'
    if secret.source == "file":
        # the first line without a trailing CR: the same rule as `build` (secrets.first_line)
        return f"IFS= read -r {name} < {shlex.quote(secret.where)} || true; {name}=${{{name}%$'\\r'}}; export {name}"
    prompt = shlex.quote(f"Password for {secret.where}'s key: ")
    return f"read -rs -p {prompt} {name}; echo >&2; export {name}"
