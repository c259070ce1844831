"""Ctrl-C as the tool raises it: an interrupt wrapped by Python while a class was made is still one."""

from __future__ import annotations

import pytest


def test_an_interrupt_wrapped_while_a_class_was_made_is_still_an_interrupt():
    from openssl_recipes.core.interrupt import Interrupt, interrupted_by

    class Descriptor:
        def __set_name__(self, owner, name):
            raise Interrupt

    with pytest.raises(BaseException) as caught:
        type("Made", (), {"field": Descriptor()})
    assert interrupted_by(caught.value)  # Python 3.11: a RuntimeError caused by it; 3.12+: the interrupt
    assert not interrupted_by(RuntimeError("a bug")) and not interrupted_by(SystemExit(130))
    try:
        try:
            raise Interrupt
        except Interrupt:
            raise SystemExit(3) from None
    except SystemExit as exc:
        assert not interrupted_by(exc)
