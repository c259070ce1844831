"""Help that reads like a manual: every placeholder a word (NAME, FILE, DIR, N), never a Python type."""

from __future__ import annotations

import re

import pytest

from openssl_recipes.commands import COMMAND_MODULES

from ..helpers import cli

PYTHON_TYPES = re.compile(r"<(str|path|int|float|bool|list\[\w+\])>|<\w+ range>|\[\[")


@pytest.mark.parametrize("command", list(COMMAND_MODULES))
def test_every_commands_help_names_its_placeholders_with_words(command):
    result = cli(command, "--help", env={"COLUMNS": "100"})
    assert result.code == 0, result
    assert not PYTHON_TYPES.search(result.stdout), result.stdout
    if command == "build":  # a default said as what it is, not this machine's number
        assert "[default: (CPUs + 1); 1<=x<=256]" in result.stdout, result.stdout
