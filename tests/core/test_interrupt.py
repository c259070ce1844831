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


DROPPED = """
import signal, sys, weakref
from openssl_recipes.core import interrupt
interrupt.install()
class Thing: pass
thing = Thing()
ref = weakref.ref(thing, lambda _: signal.raise_signal(signal.SIGINT))
del thing  # the callback runs, the handler raises in it, Python drops what it raised
print("went on")
try:
    interrupt.check()
except interrupt.Interrupt:
    print("raised by check")
print(interrupt.interrupted_by(RuntimeError("after the signal")), interrupt.interrupted_by(SystemExit(2)))
"""


def test_an_interrupt_python_drops_in_a_weakref_callback_is_raised_again_by_check():
    """Measured under load: the handler ran in importlib's module-lock callback, Python dropped the
    interrupt, and the build went on waiting for its openssl."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", DROPPED], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["went on", "raised by check", "True False"], proc.stdout
    assert proc.stderr == ""  # nothing about an exception ignored
