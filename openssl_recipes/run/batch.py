"""A batch of requests signed by one `openssl ca` (`plan.batch`): its stdout holds their certificates
in order; each goes to the file of the request whose public key it carries. `openssl ca` skips a
request whose signature does not verify (saying so on stderr) and signs the rest: matching by key,
never by position, means a skipped request shifts no name. `sign` reports what was skipped; a build's
batch fails, naming the requests.

openssl ca also writes each certificate to its `new_certs_dir` (the batch's own folder) as SERIAL.pem,
whole, as it prints it: that file, read back against the certificate on stdout, is renamed to its
name. Writing a copy of each instead cost a file creation a certificate, about 0.8 ms here (the
kernel's, in a folder of thousands): most of a 500-request batch's time after openssl.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ..core.pem import blocks
from ..core.process import Result
from ..core.reading import MAX_REQUEST_BYTES, TooLarge, read_bounded
from ..core.x509 import Unreadable, read_certificate, read_request, serial_text
from ..plan.batch import issued_folder, requests_of
from ..plan.steps import Step
from . import workspace


def signed(run: Callable[[], Result], step: Step, folder: Path) -> Result:
    """Run the batch's `openssl ca`; keep its stdout in the artifact; write each certificate to its
    request's file. A request left without one fails the step, unless the step `skips` (the caller
    reports it; its file is not written)."""
    result = run()
    if not result.ok:
        return result
    workspace.write_atomically(folder / step.artifact, result.stdout_text(), 0o600)
    wanted: dict[bytes, list[str]] = {}
    for request, cert_file in zip(requests_of(step), step.outputs[1:]):
        try:
            key = read_request(read_bounded(Path(request), MAX_REQUEST_BYTES)).public_key_info
        except (OSError, TooLarge, Unreadable):
            continue  # (read when it was checked; gone since: it gets no certificate)
        wanted.setdefault(key, []).append(cert_file)
    written: set[str] = set()
    for block in blocks(result.stdout):
        if block.label != "CERTIFICATE":
            continue
        try:
            facts = read_certificate(block.text)
        except Unreadable:
            return Result(result.argv, 1, result.stdout, result.stderr + b"\nopenssl ca wrote a certificate that does not parse")
        names = wanted.get(facts.public_key_info)
        if names:
            name = names.pop(0)
            issued = folder / issued_folder(step) / f"{serial_text(facts.serial)}.pem"  # openssl ca's own copy
            if _read(issued) != block.text.rstrip(b"\n") + b"\n":
                return Result(result.argv, 1, result.stdout, result.stderr + f"\n{name} does not read back".encode())
            os.chmod(issued, 0o644)
            os.replace(issued, folder / name)
            written.add(name)
    os.sync()  # one sync for the batch's files (a sync each was most of a batch's time)
    unsigned = [csr for csr, cert in zip(requests_of(step), step.outputs[1:]) if cert not in written]
    if unsigned and not step.skips:
        why = f"\nopenssl ca signed no certificate for {', '.join(unsigned)} (the request's signature does not verify?)"
        return Result(result.argv, 1, result.stdout, result.stderr + why.encode())
    return result


def _read(path: Path) -> bytes | None:
    try:
        return read_bounded(path, MAX_REQUEST_BYTES)
    except (OSError, TooLarge):
        return None
