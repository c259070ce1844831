"""conf --into: the marked blocks replaced, every other byte kept."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from openssl_recipes.render.conf import insert_blocks

from ..helpers import examples

BLOCK = '# BEGIN openssl-recipes listener\nlisteners.ssl {{ bind = "{bind}" }}\n# END openssl-recipes listener\n'


user_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=200).filter(
    lambda text: "openssl-recipes" not in text
)


@settings(max_examples=examples(150))
@given(before=user_text, after=user_text)
def test_into_replaces_its_block_and_keeps_every_other_byte(before, after):
    first = insert_blocks(before, BLOCK.format(bind="0.0.0.0:8883"))
    assert first.startswith(before) and BLOCK.format(bind="0.0.0.0:8883") in first
    surrounded = first + after
    second = insert_blocks(surrounded, BLOCK.format(bind="127.0.0.1:9883"))
    assert second == surrounded.replace(BLOCK.format(bind="0.0.0.0:8883"), BLOCK.format(bind="127.0.0.1:9883"))
    assert insert_blocks(second, BLOCK.format(bind="127.0.0.1:9883")) == second  # idempotent
