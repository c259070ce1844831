"""Which of a build's servers and clients keep their files: each leaf's key and certificate read
(`inspect`), its certificate's signature checked by the issuer (one openssl verify a part), what to
remake said in a line a leaf. Judged a part at a time and let go: a list of 10 000 leaves, and a
future each, held ~17 MB at a build's peak."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from ..recipe.entries import Leaf
from ..recipe.model import Recipe
from .inspect import Inspector, Verdict

VERDICT_CHUNK = 256  # leaves a worker judges at a time


@dataclass
class Judged:
    """What `runner.decide` needs of a part of the leaves: (name, certificate, remake the key?, remake
    the certificate?) each, the keys that do not open, the chains to look at."""

    leaves: list[tuple[str, str, bool, bool]] = field(default_factory=list)
    unopenable: list[str] = field(default_factory=list)
    chains: list[str] = field(default_factory=list)


def _judge(part: list[Leaf], inspector: Inspector, recipe: Recipe, force: bool, issuer_runs: bool) -> Judged:
    """Run in a worker: the part's files read, its certificates' signatures checked (one openssl verify)."""
    verdicts = [_leaf_verdicts(leaf, inspector, force) for leaf in part]
    judged = Judged()
    for leaf, (key_v, _) in zip(part, verdicts):
        if key_v.state == "unopenable":
            renew = f"`openssl-recipes renew {leaf.name} --rekey` makes a new key with it"
            again = f"; if the recipe's password for {leaf.name} changed, {renew}" if leaf.password else ""
            judged.unopenable.append(f"{leaf.key_file}: {key_v.reason}{again}")
    candidates = [leaf.cert_file for leaf, (key_v, cert_v) in zip(part, verdicts) if key_v.good and cert_v.good]
    signed = inspector.signed_by(recipe.issuer.cert_file, candidates) if candidates and not issuer_runs else set()
    retiring: set[str] = set()  # while rotating: leaves the old CA signed, kept until renewed under the new one
    if recipe.rotation and (rest := [name for name in candidates if name not in signed]):
        retiring = inspector.signed_by(recipe.rotation.issuer.cert_file, rest)
    for leaf, (key_v, cert_v) in zip(part, verdicts):
        key_runs = not key_v.good
        cert_runs = key_runs or issuer_runs or not cert_v.good or leaf.cert_file not in signed | retiring
        judged.leaves.append((leaf.name, leaf.cert_file, key_runs, cert_runs))
        if leaf.chain_file and leaf.cert_file not in retiring:
            judged.chains.append(leaf.chain_file)
    return judged


def judged_in_parts(
    leaves: Iterator[Leaf], inspector: Inspector, recipe: Recipe, force: bool, issuer_runs: bool, jobs: int
) -> Iterator[Judged]:
    """The leaves judged a part of VERDICT_CHUNK at a time, in order, `jobs` at once; no more parts made
    than are being judged or waiting to be read. `issuer_runs`: the issuer is made again (every
    certificate is then signed again)."""
    with ThreadPoolExecutor(jobs) as pool:
        waiting: deque[Future[Judged]] = deque()
        while part := list(itertools.islice(leaves, VERDICT_CHUNK)):
            waiting.append(pool.submit(_judge, part, inspector, recipe, force, issuer_runs))
            if len(waiting) > jobs:
                yield waiting.popleft().result()
        while waiting:
            yield waiting.popleft().result()


def _leaf_verdicts(leaf: Leaf, inspector: Inspector, force: bool) -> tuple[Verdict, Verdict]:
    if force:
        return Verdict("missing", "--force"), Verdict("missing", "--force")
    if leaf.device_key:  # the key is on the device: the certificate must carry its request's key
        return Verdict("good"), inspector.certificate_of_request(leaf.cert_file, leaf.csr_file)
    key_v = inspector.key(leaf.key_file, leaf.password)
    if not key_v.good:
        return key_v, Verdict("missing")
    return key_v, inspector.certificate(leaf.cert_file, leaf.key_file, leaf.password)
