"""A Plan as text: the lines `plan` prints (pasteable into bash) and the standalone `--script`.

Passwords appear only as the names of the variables openssl reads (`env:NAME`); the script reads
them from the same places the tool does, so the secret itself is never written here.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

from ..core.names import BATCH_DIR
from ..core.numbering import fill_number, number_format, representatives
from ..recipe.entries import Secret
from ..recipe.model import Recipe
from ..recipe.rotation import describe
from .steps import Plan, StampedSteps, Step


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


def plan_chunks(plan: Plan) -> Iterator[str]:
    """What `plan` prints, in pieces of whole lines (a 100 000-device plan is not held at once)."""
    recipe = plan.recipe
    header = [f"# openssl-recipes plan: {recipe.style} style, {plan.step_count} commands, recipe {display_path(recipe.path)}"]
    pins = {ca.password for ca in recipe.authorities if ca.token}
    for secret in recipe.secrets():
        what = "the token's PIN" if secret in pins else "the key password"
        header.append(f"# needs {secret.env_name} set to {what} ({secret.describe()})")
    for ca in recipe.authorities:
        if ca.token:
            header.append(f"# {ca.name}'s key is in a PKCS#11 token ({ca.token.uri}): openssl signs through its pkcs11 engine")
    if recipe.issuer.token and recipe.leaves:
        header.append("# leaves are signed with x509 -req: OpenSSL 3.0's req -x509 -CA cannot take a key in a token")
    header += [f"# {line}" for line in describe(recipe)]  # a CA rotation's phase
    yield "\n".join(header) + "\n"
    yield from _body(plan)


def _body(plan: Plan) -> Iterator[str]:
    """The part shared by `plan` and `plan --script`: folder, umask, files, then each command, a
    line each."""
    out = display_path(plan.output_dir)
    if out.startswith("-"):  # `cd -` is the previous folder; `mkdir -x` an option
        out = "./" + out
    lines = [f"mkdir -p -m 700 {shlex.quote(out)}", f"cd {shlex.quote(out)}", "umask 077", *environment_lines(plan.recipe)]
    lines += [f"mkdir -p {shlex.quote(name)}" for name in sorted({str(Path(n).parent) for n in plan.files if "/" in n})]
    lines += [write_file(name, content) for name, content in plan.files.items()]
    yield "\n".join(lines) + "\n"
    for part in plan.parts:
        if isinstance(part, StampedSteps):
            yield from _fleet_lines(part)
        else:
            yield step_line(part) + "\n"
    if any(name.startswith(f"{BATCH_DIR}/") for name in plan.files):
        yield f"rm -rf {BATCH_DIR}\n"  # (the batches' databases: for this run only)


def environment_lines(recipe: Recipe) -> list[str]:
    """What every command after it runs with (`Recipe.environment`: a token's PKCS#11 module), as the
    tool sets it for itself and its children."""
    return [f"export {name}={shlex.quote(value)}" for name, value in recipe.environment.items()]


def write_file(name: str, content: str) -> str:
    """The bash that writes `content` to `name` as it is: a quoted heredoc, its end marker a line that
    the content does not hold (EOF, EOF_, …); an empty file as `: > name`."""
    if not content:
        return f": > {shlex.quote(name)}"
    marker = "EOF"
    while marker in content.splitlines():
        marker += "_"
    return f"cat > {shlex.quote(name)} <<'{marker}'\n{content.rstrip(chr(10))}\n{marker}"


# A batch's certificates, each into its own file in the order of the requests; nothing named unless
# openssl ca signed every request (it skips one whose signature does not verify: the names would shift).
_SPLIT = shlex.quote(
    'BEGIN {want = split(names, f, " ")} '
    "NR == FNR {got += /^-----BEGIN CERTIFICATE-----$/; next} "
    'FNR == 1 && got != want {print "openssl ca signed " got " of " want " requests: nothing named" > "/dev/stderr"; exit 1} '
    "/^-----BEGIN CERTIFICATE-----$/ {n++} n {print > f[n]}"
)


def step_line(step: Step) -> str:
    """A step as bash: its argv, and for a bundle the file its output goes to; for a batch of requests,
    the file its certificates go to, then each certificate into its own file (the tool names each by
    the request whose key it carries, so a request `openssl ca` skipped is never misnamed)."""
    line = command_line(step.argv)
    if step.kind == "certs":
        batch, names = shlex.quote(step.artifact), shlex.quote(" ".join(step.outputs[1:]))
        return f"{line} > {batch}\nawk -v names={names} {_SPLIT} {batch} {batch}"
    return f"{line} > {shlex.quote(step.artifact)}" if step.kind == "bundle" else line


def _fleet_lines(fleet: StampedSteps, per_chunk: int = 1000) -> Iterator[str]:
    """A fleet's lines: its template's lines made once into a format of the member's number, when
    that gives each member's `step_line`s (compared for the first member of each digit count)."""
    form = "".join(_line_format(step) + "\n" for step in fleet.template)
    if any(form.format(n) != "".join(step_line(step) + "\n" for step in fleet.member(n)) for n in representatives(fleet.count)):
        for n in range(1, fleet.count + 1):
            yield "".join(step_line(step) + "\n" for step in fleet.member(n))
        return
    for start in range(1, fleet.count + 1, per_chunk):
        yield "".join(map(form.format, range(start, min(start + per_chunk, fleet.count + 1))))


def _line_format(step: Step) -> str:
    """`step_line` of the template step as a `str.format` template of the member's number. A number
    is digits, which never change whether an argument is quoted: decided on member 1's argument."""

    def quoted(arg: str) -> str:
        plain = fill_number(arg, 1)
        return arg if plain and _UNSAFE(plain) is None else "'" + arg.replace("'", "'\"'\"'") + "'"

    line = " ".join(number_format(quoted(arg)) for arg in step.argv)
    return f"{line} > {number_format(quoted(step.artifact))}" if step.kind == "bundle" else line


def plan_script(plan: Plan) -> str:
    recipe = plan.recipe
    lines = [
        "#!/usr/bin/env bash",
        f"# Made by openssl-recipes from {recipe.path.name} ({recipe.style} style): builds the PKI without the tool.",
        "set -euo pipefail",
    ]
    lines += [read_secret(secret) for secret in recipe.secrets()]
    text = "\n".join(lines) + "\n" + "".join(_body(plan))
    public = [name for name in plan.files if not name.startswith(f"{BATCH_DIR}/")]
    public += [name for step in plan.steps if step.kind not in ("key", "tokenkey") for name in step.results]
    if public:  # as `build` leaves them: requests, certificates and bundles 0644, keys 0600 (umask 077)
        text += command_line(["chmod", "644", "--", *dict.fromkeys(public)]) + "\n"
    return text


def read_secret(secret: Secret) -> str:
    name = secret.env_name
    if secret.source == "env":
        return f': "${{{name}:?set {name} to the key password}}"'
    if secret.source == "file":
        # the first line without a trailing CR: the same rule as `build` (secrets.first_line)
        return f"IFS= read -r {name} < {shlex.quote(secret.where)} || true; {name}=${{{name}%$'\\r'}}; export {name}"
    prompt = shlex.quote(f"Password for {secret.where}'s key: ")
    return f"read -rs -p {prompt} {name}; echo >&2; export {name}"
