"""Recipe → Plan: the ordered openssl commands and the files written before them. Pure: no I/O
beyond reading a template.

`plan` prints this list and `build` runs it, so what is shown is what runs. Each Step names the
files it reads and writes, which is all the runner needs to order steps and run them in parallel.

Two styles:
- document: the commands of the seed document as written, with `-subj` added;
- strict: the same commands plus an extension file, so the certificates pass strict verifiers.
"""

from __future__ import annotations

from pathlib import Path

from ..core.keys import key_argv, newkey_options
from ..core.names import CONFIG_FILE_NAME
from ..core.numbering import representatives
from ..core.openssl import Openssl
from ..recipe.entries import CertificateAuthority, Leaf, Secret
from ..recipe.fleet import Fleet, parts_of
from ..recipe.model import Recipe
from .argv import digest_option, key_options, passin, serial_file, sign_request, signer_options, subject_options
from .batch import batch_database, batch_step, batchable, chunks
from .extensions import extension_file, leaf_sections, section_name
from .steps import Plan, StampedSteps, Step
from .token import token_key_step


def build_plan(recipe: Recipe, openssl: Openssl, templates_dir: Path | None = None) -> Plan:
    sections = leaf_sections(recipe)
    planner = _Planner(recipe, openssl, sections)
    parts: list[Step | StampedSteps] = planner.ca_steps()
    if recipe.intermediate:
        parts += planner.intermediate_steps(recipe.intermediate)
    batches = planner.device_batches([part for part in parts_of(recipe.leaves) if isinstance(part, Leaf)])
    for part in parts_of(recipe.leaves):
        if isinstance(part, Fleet):
            fleet_steps = planner.fleet_steps(part)
            parts += [fleet_steps] if isinstance(fleet_steps, StampedSteps) else fleet_steps
        else:
            parts += batches.get(part.name, planner.leaf_steps(part))
    parts += planner.bundle_steps()
    files: dict[str, str] = {}
    if recipe.style == "strict":
        files[CONFIG_FILE_NAME] = extension_file(recipe, sections, templates_dir)
    files |= planner.batch_files
    return Plan(recipe=recipe, openssl=openssl, files=files, parts=tuple(parts))


class _Planner:
    def __init__(self, recipe: Recipe, openssl: Openssl, sections: dict[str, str]) -> None:
        self.recipe = recipe
        self.sections = sections
        self.openssl = openssl
        self.strict = recipe.style == "strict"
        self.ca = recipe.ca
        self.issuer = recipe.issuer  # signs the leaves: the intermediate when there is one
        # OpenSSL 3 signs with a random serial when given no serial option: no shared ca.srl,
        # so signatures can run in parallel. The document style keeps -CAcreateserial.
        self.shared_serial = not self.strict or not openssl.random_serial
        self.batch_files: dict[str, str] = {}  # the batches' configurations and databases (`plan.batch`)

    # -- the CA ---------------------------------------------------------------------------------

    def ca_steps(self) -> list[Step]:
        ca = self.ca
        argv = [self.openssl.command, "req", "-x509", "-new", "-nodes", *key_options(ca)]
        argv += digest_option(ca.digest, ca.key) + ["-days", str(ca.days), "-out", ca.cert_file]
        argv += subject_options(ca.subject)
        argv += passin(ca.password)
        if self.strict:
            argv += ["-config", CONFIG_FILE_NAME, "-extensions", section_name(ca.name)]
        cert = Step(
            argv=tuple(argv),
            kind="cert",
            entry=ca.name,
            inputs=(ca.key_file,),
            outputs=(ca.cert_file,),
            secrets=_secrets(ca.password),
            is_ca=True,
            prompts=not ca.subject,
            token=ca.token,
        )
        return [self._key_step(ca, nanomq=False, is_ca=True), cert]

    # -- servers and clients --------------------------------------------------------------------

    def intermediate_steps(self, intermediate: CertificateAuthority) -> list[Step]:
        assert intermediate.csr_file is not None
        return [
            self._key_step(intermediate, nanomq=False, is_ca=True),
            *self._request_and_sign(intermediate, intermediate.csr_file, self.ca, section_name(intermediate.name), is_ca=True),
        ]

    def leaf_steps(self, leaf: Leaf, section: str | None = None) -> list[Step]:
        """The leaf's steps; `section`: its extension section when it is a fleet's member (the
        sections are kept by the fleet's name)."""
        # The document writes `./server.key` and `./server.csr` for the server and bare names for
        # the client; the document style keeps that, character for character.
        here = "./" if (not self.strict and leaf.role == "server") else ""
        document_client = not self.strict and leaf.role == "client"
        section = section or self.sections.get(leaf.name, section_name(leaf.name))
        if leaf.device_key:  # the device made its key and request: only the signature happens here
            return [self._request_and_sign(leaf, leaf.csr_file, self.issuer, section, here, document_client)[1]]
        if leaf.one_step and self.strict and self.openssl.is_openssl3:
            return [self._one_process(leaf, section)]
        key = self._key_step(leaf, leaf.nanomq)
        return [key, *self._request_and_sign(leaf, leaf.csr_file, self.issuer, section, here, document_client)]

    def fleet_steps(self, fleet: Fleet) -> StampedSteps | list[Step]:
        """A fleet's steps planned once, for its template, and stamped per member; planned member by
        member when stamping does not give what is planned for its first member of each digit count."""
        section = self.sections[fleet.template.name]
        stamped = StampedSteps(tuple(self.leaf_steps(fleet.template, section)), fleet.count)
        if all(stamped.member(n) == tuple(self.leaf_steps(fleet.member(n), section)) for n in representatives(fleet.count)):
            return stamped
        return [step for member in fleet for step in self.leaf_steps(member, section)]

    def bundle_steps(self) -> list[Step]:
        """The trust file (what peers trust: `Recipe.trusted`); with an intermediate, each leaf's chain
        (leaf + intermediate)."""
        recipe, intermediate = self.recipe, self.recipe.intermediate
        trusted, steps = recipe.trusted, []
        if recipe.trust_file != recipe.ca.cert_file:  # (the document style's peers trust its ca.pem)
            trust = Step(("cat", *trusted), "bundle", recipe.issuer.name, trusted, (recipe.trust_file,), is_ca=True)
            steps.append(trust)
        if intermediate is None:
            return steps
        for leaf in recipe.leaves:
            if leaf.chain_file:
                steps.append(
                    Step(
                        argv=("cat", leaf.cert_file, intermediate.cert_file),
                        kind="bundle",
                        entry=leaf.name,
                        inputs=(leaf.cert_file, intermediate.cert_file),
                        outputs=(leaf.chain_file,),
                    )
                )
        return steps

    def device_batches(self, leaves: list[Leaf]) -> dict[str, list[Step]]:
        """Devices' own requests (`csr:`) that share an extension section, a validity and a digest (a
        fleet's), signed by `openssl ca` in batches (`plan.batch`): one process for hundreds of signatures,
        where `x509 -req` is one a request. The first device of each group → the batches, in its place in
        the plan; every other device of a group → none. Their chains follow in `bundle_steps`."""
        groups: dict[tuple[str, int, str], list[Leaf]] = {}
        for leaf in leaves:
            if leaf.device_key and self.strict:
                groups.setdefault((self.sections.get(leaf.name, section_name(leaf.name)), leaf.days, leaf.digest), []).append(
                    leaf
                )
        batches: dict[str, list[Step]] = {}
        for (section, _, _), devices in groups.items():
            if not batchable(len(devices), self.openssl, self.issuer):
                continue
            batches |= {leaf.name: [] for leaf in devices}
            for chunk in chunks(devices):
                number = 1 + sum(name.endswith(".cnf") for name in self.batch_files)
                self.batch_files |= batch_database(number, self.issuer)
                step = batch_step(
                    self.openssl.command, number, chunk, self.issuer, (CONFIG_FILE_NAME, section), _secrets(self.issuer.password)
                )
                batches[devices[0].name].append(step)
        return batches

    def _one_process(self, leaf: Leaf, section: str) -> Step:
        """Key, request and signature in one process (OpenSSL 3.0+: `req -newkey … -x509 -CA`): a third
        of the processes of genpkey + req + x509 -req, and no .csr file (`renew` signs the kept key)."""
        issuer = self.issuer
        argv = [
            self.openssl.command,
            "req",
            "-new",
            *newkey_options(leaf.key.type, leaf.key.size, leaf.key.curve, leaf.key_file),
            "-x509",
            *subject_options(leaf.subject),
            "-CA",
            issuer.cert_file,
            *signer_options(issuer),
            "-out",
            leaf.cert_file,
            "-days",
            str(leaf.days),
            *digest_option(leaf.digest, issuer.key),
            "-config",
            CONFIG_FILE_NAME,
            "-extensions",
            section,
        ]
        return Step(
            argv=tuple(argv),
            kind="keycert",
            entry=leaf.name,
            inputs=(issuer.cert_file, issuer.key_file),
            outputs=(leaf.cert_file, leaf.key_file),
        )

    def _request_and_sign(
        self,
        entry: CertificateAuthority | Leaf,
        csr_file: str,
        issuer: CertificateAuthority,
        section: str,
        here: str = "",
        document_client: bool = False,
        is_ca: bool = False,
    ) -> list[Step]:
        """`req -new` then `x509 -req` for `entry`, signed by `issuer`. `here`: the document's `./`
        before the server's files; `document_client`: the document's argument order for the client."""
        name, key_file, cert_file, subject = entry.name, entry.key_file, entry.cert_file, entry.subject
        password, days, digest, key = entry.password, entry.days, entry.digest, entry.key
        own_key = key_options(entry) if isinstance(entry, CertificateAuthority) else ["-key", here + key_file]
        csr_argv = [self.openssl.command, "req", "-new", *own_key, "-out", csr_file]
        csr_argv += subject_options(subject) + passin(password)
        if self.strict:
            csr_argv += digest_option(digest, key)
        csr = Step(
            argv=tuple(csr_argv),
            kind="csr",
            entry=name,
            inputs=(key_file,),
            outputs=(csr_file,),
            secrets=_secrets(password),
            is_ca=is_ca,
            prompts=not subject,
            token=entry.token if isinstance(entry, CertificateAuthority) else None,
        )
        extensions = (CONFIG_FILE_NAME, section) if self.strict else None
        sign = sign_request(
            self.openssl.command,
            here + csr_file,
            issuer,
            cert_file,
            days,
            digest,
            self.shared_serial,
            extensions,
            document_client,
        )
        side = (serial_file(issuer),) if self.shared_serial else ()
        cert = Step(
            argv=tuple(sign),
            kind="cert",
            entry=name,
            inputs=(csr_file, issuer.cert_file, issuer.key_file, *side),
            outputs=(cert_file, *side),
            secrets=_secrets(issuer.password),
            is_ca=is_ca,
            token=issuer.token,
        )
        return [csr, cert]

    # -- pieces ---------------------------------------------------------------------------------

    def _key_step(self, entry: CertificateAuthority | Leaf, nanomq: bool, is_ca: bool = False) -> Step:
        if isinstance(entry, CertificateAuthority) and entry.token:
            return token_key_step(entry)
        traditional = nanomq and self.openssl.traditional_flag
        return Step(
            argv=key_argv(
                self.openssl.command,
                entry.key.type,
                entry.key.size,
                entry.key.curve,
                entry.key_file,
                entry.password.env_name if entry.password else None,
                nanomq,
                traditional,
            ),
            kind="key",
            entry=entry.name,
            inputs=(),
            outputs=(entry.key_file,),
            secrets=_secrets(entry.password),
            is_ca=is_ca,
        )


def _secrets(password: Secret | None) -> tuple[Secret, ...]:
    return (password,) if password else ()


def with_kept_key(step: Step) -> Step:
    """A keycert step that signs the key already there instead of making one (`-key KEY` for `-newkey …
    -nodes -keyout KEY`): what `build` runs when a device's key is kept and its certificate is not, and
    what `renew` runs without --rekey."""
    argv = step.argv
    start, end = argv.index("-newkey"), argv.index("-keyout") + 2
    key_file = argv[end - 1]
    return Step(
        argv=(*argv[:start], "-key", key_file, *argv[end:]),
        kind="cert",
        entry=step.entry,
        inputs=(key_file, *step.inputs),
        outputs=(step.artifact,),
    )
