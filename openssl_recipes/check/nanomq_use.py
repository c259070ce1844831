"""verify's nanomq column: can NanoMQ (mbedTLS 2.28) use this key and certificate? Asked of mbedTLS
itself when python-mbedtls is installed (`mbedtls`), else told by the format rules measured in
shared/notes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..recipe.entries import Leaf
from ..recipe.model import Recipe
from ..render.conf import used_by_nanomq
from . import mbedtls
from .report import Check


class NanoMQUse:
    def __init__(self, recipe: Recipe, folder: Path, secret_values: dict[str, str]) -> None:
        self.folder = folder
        self.secret_values = secret_values
        self.mbedtls = mbedtls.available()
        self.nanomq_uses = {leaf.name for leaf in used_by_nanomq(recipe)}

    def check_all(self, items: list[tuple[Leaf, str]], jobs: int) -> Callable[[], list[Check]]:
        """`check` of each (leaf, the root its chain ends in), started now and collected by calling
        what this returns. With mbedTLS and many leaves, in `jobs` forked workers while this process
        makes the other checks: python-mbedtls holds the GIL, so threads would not help (measured),
        and each handshake is ~8 ms of arithmetic. A worker ignores Ctrl-C: this process stops them."""
        if not self.mbedtls or jobs < 2 or len(items) < PARALLEL_FROM:
            return lambda: [self.check(leaf, anchor) for leaf, anchor in items]
        import multiprocessing

        global _WORK
        _WORK = (self, items)
        mbedtls.probe_server()  # made once, before the fork: every worker uses it
        pool = multiprocessing.get_context("fork").Pool(jobs, initializer=_quiet_worker)
        pending = pool.map_async(_check_one, range(len(items)), chunksize=max(1, len(items) // (jobs * 8)))
        pool.close()

        def collect() -> list[Check]:
            try:
                checks = pending.get()
                pool.join()
                return checks
            except BaseException:
                pool.terminate()
                raise
            finally:
                global _WORK
                _WORK = None  # (kept until now: a worker the pool starts again forks from it too)

        return collect

    def check(self, leaf: Leaf, anchor: str) -> Check:
        """Can NanoMQ (mbedTLS 2.28) open this key, verify this chain and match this server by each
        name? Asked of mbedTLS itself when python-mbedtls is installed, else told by format rules."""
        try:
            pem = (self.folder / leaf.key_file).read_text(encoding="ascii", errors="replace")
        except OSError:
            return Check("fail", f"{leaf.key_file} is missing")
        problems = self._rules(leaf, pem)
        if self.mbedtls:
            source = f"asked of mbedTLS {self.mbedtls.removeprefix('Mbed TLS ')}"
            problems = [*problems, *self._asked(leaf, anchor)]
        else:
            source = "format rules only (install openssl-recipes[nanomq] to ask mbedTLS itself)"
        if not problems:
            return Check("pass", source)
        # an entry the recipe's nanomq section puts in NanoMQ fails; any other is a warning
        status = "fail" if self.mbedtls and leaf.name in self.nanomq_uses else "warn"
        return Check(status, "; ".join(dict.fromkeys(problems)) + f" ({source})")

    def _rules(self, leaf: Leaf, pem: str) -> list[str]:
        problems = []
        if leaf.key.type == "ed25519":
            problems.append("an Ed25519 key: NanoMQ's mbedTLS 2.28 cannot use it")
        elif problem := mbedtls.pkcs8_form_problem(pem, leaf.key_file):
            problems.append(problem)
        if leaf.role == "server":
            dns = {s.value for s in leaf.sans if s.kind == "DNS"}
            missing = [s.value for s in leaf.sans if s.kind == "IP" and ":" not in s.value and s.value not in dns]
            if missing:
                problems.append(f"no DNS twin for IP {', '.join(missing)}: mbedTLS never matches IP SANs")
        return problems

    def _asked(self, leaf: Leaf, anchor: str) -> list[str]:
        password = self.secret_values.get(leaf.password.env_name) if leaf.password else None
        me = mbedtls.Identity(
            self.folder / (leaf.chain_file or leaf.cert_file), self.folder / leaf.key_file, leaf.key.type, password
        )
        key, problem = mbedtls.open_key(me)
        if problem:
            return [problem]
        trust = self.folder / anchor
        if leaf.role == "client":  # an mbedTLS server that requires client certificates verifies the chain
            problem = mbedtls.handshake(None, me, trust, "probe", verify_server=False, opened=key)
            return [f"mbedTLS refuses it as a client certificate: {problem}"] if problem else []
        names = [s.value for s in leaf.sans if s.kind == "DNS" or (s.kind == "IP" and ":" not in s.value)]
        names = [name for name in dict.fromkeys(names) if "*" not in name] or [leaf.subject.get("CN", "")]
        refused = []
        for name in names:
            if problem := mbedtls.handshake(me, None, trust, name, verify_server=True, opened=key):
                refused.append(f"{name} ({problem})")
        return [f"an mbedTLS client refuses it as {', '.join(refused)}"] if refused else []


PARALLEL_FROM = 64  # leaves: below this, forking workers costs more than it saves
_WORK: tuple[NanoMQUse, list[tuple[Leaf, str]]] | None = None  # what forked workers check (`check_all`)


def _quiet_worker() -> None:
    """Ctrl-C is this process's to handle; a terminate ends a worker as the system does (not by the
    interrupt handlers this process set, inherited by the fork)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.SIG_DFL)


def _check_one(index: int) -> Check:
    assert _WORK is not None
    use, items = _WORK
    return use.check(*items[index])
