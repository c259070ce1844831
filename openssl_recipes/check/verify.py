"""Checks of the built certificates, before they are deployed: one row per certificate, one column per
check, each with a reason. What needs a key, a password or a signature is asked of openssl (and of
mbedTLS for the nanomq column); what a certificate or key file only says (dates, a key's cipher) is read
by `core.x509`.

Columns: key (matches the certificate), chain (`openssl verify -x509_strict` with the right purpose),
names (each declared DNS name / IP of a server), validity (dates, with warnings), key mode (not
readable by group/others), nanomq (a key form and SANs NanoMQ's mbedTLS 2.28 can use).
"""

from __future__ import annotations

import datetime as dt
import re
import stat
from collections.abc import Callable, Iterable
from pathlib import Path

from ..core import process
from ..core.children import child_environment, default_jobs
from ..recipe.entries import CertificateAuthority, Leaf, Secret
from ..recipe.model import Recipe
from ..run import token
from ..run.inspect import Inspector, key_is_encrypted
from ..run.signers import leaves_under
from .chains import CHAIN_CHUNK, batch_verdicts, verify_args, verify_error
from .nanomq_use import NanoMQUse
from .report import COLUMNS, Check, Report, Row
from .rotation import phase

APPLE_MAX_DAYS = 825


def verify(
    recipe: Recipe,
    openssl: str,
    secret_values: dict[str, str],
    warn_days: int = 30,
    now: dt.datetime | None = None,
    crl: str | None = None,
    within: int | None = None,
) -> Report:
    """`crl`: a CRL file in the output folder; leaves it lists fail the chain check as revoked.
    `within`: a certificate that expires within that many days fails (for cron jobs)."""
    folder = recipe.output_dir
    env = child_environment({*secret_values, *recipe.secret_names()})
    checker = _Checker(recipe, openssl, folder, env, secret_values, warn_days, now or dt.datetime.now(dt.UTC))
    checker.crl = crl
    checker.within = within
    rows = [checker.authority(ca, "ca" if ca is recipe.ca else "intermediate", recipe.chain) for ca in recipe.authorities]
    if recipe.rotation:  # the old CA, trusted until `rotate finish`, and the leaves it still signs
        chain = recipe.rotation.chain
        retiring = [ca for ca in recipe.rotation.retiring if ca.cert_file not in recipe.chain]
        rows += [checker.authority(ca, "old ca" if ca.cert_file == chain[-1] else "old intermediate", chain) for ca in retiring]
        checker.old = set(leaves_under(recipe, openssl, recipe.rotation.issuer, [leaf.cert_file for leaf in recipe.leaves]))
    checker.prefetch_chains(recipe.leaves)
    nanomq = checker.start_nanomq(recipe.leaves)  # (in workers, beside the other checks)
    leaf_rows = [checker.leaf(leaf) for leaf in recipe.leaves]
    for row, check in nanomq():
        leaf_rows[row].checks["nanomq"] = check
    rows += leaf_rows
    return Report(rows, phase(recipe, checker.old))


class _Checker:
    def __init__(
        self,
        recipe: Recipe,
        openssl: str,
        folder: Path,
        env: dict[str, str],
        secret_values: dict[str, str],
        warn_days: int,
        now: dt.datetime,
    ) -> None:
        self.recipe = recipe
        self.openssl = openssl
        self.folder = folder
        self.env = env
        self.warn_days = warn_days
        self.now = now
        self.inspector = Inspector(openssl, folder, env, secret_values)
        self.secret_values = secret_values
        self._nanomq = NanoMQUse(recipe, folder, secret_values)
        self.crl: str | None = None
        self.within: int | None = None  # days: expiring within them fails
        self.old: set[str] = set()  # while rotating: the leaves the retiring CA signed
        self.chains: dict[tuple[str, str, str, str | None, str | None], Check] = {}  # (cert, how) → verdict, `prefetch_chains`

    def _run(self, *args: str) -> process.Result:
        return process.run((self.openssl, *args), cwd=self.folder, env=self.env)

    # -- rows -------------------------------------------------------------------------------------

    def authority(self, ca: CertificateAuthority, role: str, chain: tuple[str, ...]) -> Row:
        """A CA's row; `chain`: its chain's certificates, issuer first (the root last)."""
        row = Row(ca.name, role, ca.cert_file)
        if not (self.folder / ca.cert_file).exists():
            return self._missing(row, ca.cert_file)
        row.dates = self.inspector.validity(ca.cert_file)
        is_root = ca.cert_file == chain[-1]
        offline = is_root and len(chain) > 1 and not ca.token and not (self.folder / ca.key_file).exists()
        if ca.token:  # its certificate against the token's public key (read without the PIN)
            problem = token.carried_problem(self.openssl, ca, self.env, self.inspector.public_key_of_certificate(ca.cert_file))
            row.checks["key"] = Check("fail", problem) if problem else Check("pass", f"the key is in the token ({ca.token.uri})")
        else:
            row.checks["key"] = (
                Check("pass", f"{ca.key_file} is offline") if offline else self._key(ca.cert_file, ca.key_file, ca.password)
            )
        parent = None if is_root else chain[-1]
        row.checks["chain"] = self._chain(ca.cert_file, "any", parent)
        row.checks["names"] = Check("n/a")
        row.checks["validity"] = self._validity(
            ca.cert_file,
            None,
            server=False,
            fix="`openssl-recipes build --new-ca` (then every certificate it signed is made again)",
        )
        row.checks["key mode"] = Check("n/a") if offline or ca.token else self._mode(ca.key_file)
        row.checks["nanomq"] = Check("n/a")
        return row

    def leaf(self, leaf: Leaf) -> Row:
        row = Row(leaf.name, leaf.role, leaf.cert_file)
        if not (self.folder / leaf.cert_file).exists():
            return self._missing(row, leaf.cert_file)
        row.dates = self.inspector.validity(leaf.cert_file)
        old, chain, untrusted = self._chain_of(leaf)
        row.checks["key"] = self._device_key(leaf) if leaf.device_key else self._key(leaf.cert_file, leaf.key_file, leaf.password)
        row.checks["chain"] = self._chain(
            leaf.cert_file, "sslserver" if leaf.role == "server" else "sslclient", chain[-1], untrusted, self.crl
        )
        row.checks["names"] = self._names(leaf, chain[-1], untrusted) if leaf.role == "server" else Check("n/a")
        row.checks["validity"] = self._validity(
            leaf.cert_file,
            chain[0],
            server=leaf.role == "server",
            fix=f"`openssl-recipes renew {leaf.name}` re-issues it" + (" under the new CA" if old else ""),
        )
        if old and self.within is not None and row.checks["validity"].status != "fail":
            row.checks["validity"] = self._old_ca_within(chain, leaf) or row.checks["validity"]
        if leaf.device_key:  # the key and its form are the device's business
            row.checks["key mode"] = row.checks["nanomq"] = Check("n/a", "the key is on the device")
            return row
        row.checks["key mode"] = self._mode(leaf.key_file)
        row.checks["nanomq"] = Check("n/a")  # (for a leaf NanoMQ may use, `start_nanomq` fills it in)
        return row

    def _chain_of(self, leaf: Leaf) -> tuple[bool, tuple[str, ...], str | None]:
        """(signed by the retiring CA?, its chain issuer first, the intermediate to give as -untrusted)."""
        old = self.recipe.rotation is not None and leaf.cert_file in self.old
        chain = self.recipe.rotation.chain if old and self.recipe.rotation else self.recipe.chain
        return old, chain, chain[0] if len(chain) > 1 else None

    def prefetch_chains(self, leaves: Iterable[Leaf]) -> None:
        """The chain check of every leaf, one `openssl verify` for each 400 leaves of one purpose and
        one chain (~8 ms a process, a device each before); a leaf it gives no verdict for is checked
        on its own."""
        groups: dict[tuple[str, str, str | None], list[str]] = {}
        for leaf in leaves:
            if (self.folder / leaf.cert_file).exists():
                _old, chain, untrusted = self._chain_of(leaf)
                purpose = "sslserver" if leaf.role == "server" else "sslclient"
                groups.setdefault((purpose, chain[-1], untrusted), []).append(leaf.cert_file)
        for (purpose, anchor, untrusted), certs in groups.items():
            if any(name and not (self.folder / name).exists() for name in (anchor, untrusted, self.crl)):
                continue  # (said leaf by leaf)
            for start in range(0, len(certs), CHAIN_CHUNK):
                part = certs[start : start + CHAIN_CHUNK]
                result = self._run(*verify_args(purpose, anchor, untrusted, self.crl), "--", *part)
                for cert, check in batch_verdicts(
                    result, part, f" (openssl verify -x509_strict -purpose {purpose} -CAfile {anchor})"
                ):
                    self.chains[(cert, purpose, anchor, untrusted, self.crl)] = check

    def start_nanomq(self, leaves: Iterable[Leaf]) -> Callable[[], list[tuple[int, Check]]]:
        """The nanomq column of every leaf that has its files, started together (`NanoMQUse.check_all`):
        collected as (its row's index, the check)."""
        rows = [(i, leaf) for i, leaf in enumerate(leaves) if leaf.nanomq and not leaf.device_key]
        rows = [(i, leaf) for i, leaf in rows if (self.folder / leaf.cert_file).exists()]
        started = self._nanomq.check_all([(leaf, self._chain_of(leaf)[1][-1]) for _, leaf in rows], default_jobs() - 1)
        return lambda: [(i, check) for (i, _leaf), check in zip(rows, started())]

    def _missing(self, row: Row, name: str) -> Row:
        row.checks = {col: Check("n/a") for col in COLUMNS}
        row.checks["key"] = Check("fail", f"{name} is missing: run `openssl-recipes build`")
        return row

    # -- checks -----------------------------------------------------------------------------------

    def _device_key(self, leaf: Leaf) -> Check:
        verdict = self.inspector.certificate_of_request(leaf.cert_file, leaf.csr_file)
        if verdict.good:
            return Check("pass", "carries the key of the device's request (the key stays on the device)")
        return Check("fail", f"{leaf.cert_file} {verdict.reason or verdict.state}: `openssl-recipes renew {leaf.name}`")

    def _key(self, cert: str, key: str, password: Secret | None) -> Check:
        if not (self.folder / key).exists():
            return Check("fail", f"{key} is missing")
        if password and key_is_encrypted(self.folder / key) is False:
            return Check(
                "fail", f"{key} is not encrypted, but the recipe gives it a password: `renew NAME --rekey` makes it again"
            )
        verdict = self.inspector.certificate(cert, key, password)
        if verdict.good:
            return Check("pass")
        if self.inspector.public_key_of_key(key, password) is None:
            return Check(
                "fail",
                f"{key} does not open" + (" with its password" if password else " (encrypted? give its password in the recipe)"),
            )
        return Check(
            "fail",
            f"{key} does not belong to this certificate (public keys differ)" if verdict.state == "mismatch" else verdict.reason,
        )

    def _chain(self, cert: str, purpose: str, parent: str | None, untrusted: str | None = None, crl: str | None = None) -> Check:
        """`parent`: the root it must chain to (None: the CA itself is checked as its own root)."""
        anchor = parent or cert
        absent = [name for name in (anchor, untrusted, crl) if name and not (self.folder / name).exists()]
        if absent:
            hint = "run `openssl-recipes crl`" if absent[0] == crl else "run `openssl-recipes build`"
            return Check("fail", f"{absent[0]} is missing: {hint}")
        if (found := self.chains.get((cert, purpose, anchor, untrusted, crl))) is not None:
            return found
        result = self._run(*verify_args(purpose, anchor, untrusted, crl), "--", cert)
        if result.ok:
            return Check("pass")
        return Check("fail", verify_error(result) + f" (openssl verify -x509_strict -purpose {purpose} -CAfile {anchor})")

    def _old_ca_within(self, chain: tuple[str, ...], leaf: Leaf) -> Check | None:
        """A leaf of the retiring CA lives no longer than that CA: failed when it ends within --within."""
        for cert in chain:
            dates = self.inspector.validity(cert)
            if dates and self.within is not None and dates[1] - self.now <= dt.timedelta(days=self.within):
                return Check(
                    "fail",
                    f"signed by the old CA, whose {cert} expires on {dates[1]:%Y-%m-%d} (--within {self.within}): "
                    f"`openssl-recipes renew {leaf.name}` re-issues it under the new CA",
                )
        return None

    def _names(self, leaf: Leaf, anchor: str, untrusted: str | None) -> Check:
        bad = []
        for san in leaf.sans:
            if san.kind not in ("DNS", "IP") or (san.kind == "DNS" and re.fullmatch(r"[0-9.]+", san.value)):
                continue  # a DNS:<ip> twin is for mbedTLS; openssl matches the IP SAN
            option = "-verify_ip" if san.kind == "IP" else "-verify_hostname"
            args = ["verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", anchor, option, san.value]
            if untrusted:
                args += ["-untrusted", untrusted]
            if not self._run(*args, "--", leaf.cert_file).ok:
                bad.append(san.value)
        if bad and self.recipe.style == "document":  # its commands carry no extensions: renew makes the same
            return Check(
                "fail", f"not valid for {', '.join(bad)}: the document style writes no SANs; use style: strict, then renew"
            )
        if bad:
            return Check(
                "fail",
                f"not valid for {', '.join(bad)} (declared in the recipe): `openssl-recipes renew {leaf.name}` re-issues it, same key",
            )
        return Check("pass")

    def _validity(self, cert: str, issuer: str | None, server: bool, fix: str) -> Check:
        dates = self.inspector.validity(cert)
        if dates is None:
            return Check("fail", "cannot read the validity dates")
        start, end = dates
        if self.now < start:
            return Check("fail", f"not valid before {start:%Y-%m-%d %H:%M} UTC")
        if self.now > end:
            return Check("fail", f"expired on {end:%Y-%m-%d}: {fix}")
        left = (end - self.now).days
        if self.within is not None and end - self.now <= dt.timedelta(days=self.within):
            return Check("fail", f"expires in {left} days, on {end:%Y-%m-%d} (--within {self.within}): {fix}")
        warnings = []
        if left < self.warn_days:
            warnings.append(f"expires in {left} days, on {end:%Y-%m-%d}")
        if server and (end - start).days > APPLE_MAX_DAYS:
            warnings.append(
                f"valid for {(end - start).days} days; Apple platforms refuse server certificates valid for more than {APPLE_MAX_DAYS}"
            )
        issuer_dates = self.inspector.validity(issuer) if issuer else None
        if issuer_dates and end - issuer_dates[1] > dt.timedelta(days=1):
            warnings.append(f"outlives its CA by {(end - issuer_dates[1]).days} days")
        return Check("warn", "; ".join(warnings)) if warnings else Check("pass", f"{left} days left")

    def _mode(self, key: str) -> Check:
        try:
            mode = stat.S_IMODE((self.folder / key).stat().st_mode)
        except OSError:
            return Check("fail", f"{key} is missing")
        if mode & 0o077:
            return Check("fail", f"{key} is mode {mode:04o}, readable by group or others: chmod 600 {key}")
        return Check("pass")
