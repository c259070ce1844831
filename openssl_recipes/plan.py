"""Recipe → Plan: the ordered openssl commands and the files written before them. Pure: no I/O
beyond reading a template.

`plan` prints this list and `build` runs it, so what is shown is what runs. Each Step names the
files it reads and writes, which is all the runner needs to order steps and run them in parallel.

Two styles:
- document: the commands of the seed document as written, with `-subj` added;
- strict: the same commands plus an extension file, so the certificates pass strict verifiers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .file_names import CONFIG_FILE_NAME
from .openssl import Openssl
from .recipe import CertificateAuthority, KeySpec, Leaf, Recipe, Secret
from .subject import needs_utf8, subj_argument

# bundle: certificates concatenated (argv `cat a b`, output to file); revoke, crl, p12: the lifecycle commands
StepKind = Literal["key", "csr", "cert", "bundle", "revoke", "crl", "p12"]
MODES: dict[str, int | None] = {"csr": 0o644, "cert": 0o644, "bundle": 0o644, "crl": 0o644, "p12": 0o600}  # key: 0600 by umask
IN_PLACE = {"revoke", "crl", "p12"}  # openssl replaces these only once it has them whole: a failure keeps the old one


@dataclass(frozen=True)
class Step:
    argv: tuple[str, ...]
    kind: StepKind
    entry: str  # the name of the CA, server or client this step makes
    inputs: tuple[str, ...]  # file names in the output folder
    outputs: tuple[str, ...]  # the first one is the artifact; others are side files (ca.srl)
    secrets: tuple[Secret, ...] = ()  # passwords openssl reads as env:NAME
    is_ca: bool = False
    prompts: bool = False  # openssl will ask for the subject on the terminal

    @property
    def artifact(self) -> str:
        return self.outputs[0]

    @property
    def mode(self) -> int | None:
        """The artifact's mode once the step succeeded (None: as openssl made it, 0600 under umask 077)."""
        return MODES.get(self.kind)

    @property
    def discard_on_failure(self) -> bool:
        return self.kind not in IN_PLACE


@dataclass(frozen=True)
class Plan:
    recipe: Recipe
    openssl: Openssl
    files: dict[str, str] = field(default_factory=dict)  # written (atomically) before any step
    steps: tuple[Step, ...] = ()

    @property
    def output_dir(self) -> Path:
        return self.recipe.output_dir


def build_plan(recipe: Recipe, openssl: Openssl, templates_dir: Path | None = None) -> Plan:
    sections = leaf_sections(recipe)
    planner = _Planner(recipe, openssl, sections)
    steps = planner.ca_steps()
    if recipe.intermediate:
        steps += planner.intermediate_steps(recipe.intermediate)
    for leaf in recipe.leaves:
        steps += planner.leaf_steps(leaf)
    steps += planner.bundle_steps()
    files: dict[str, str] = {}
    if recipe.style == "strict":
        files[CONFIG_FILE_NAME] = extension_file(recipe, sections, templates_dir)
    return Plan(recipe=recipe, openssl=openssl, files=files, steps=tuple(steps))


def leaf_extensions(leaf: Leaf) -> tuple[str, str, tuple[str, ...]]:
    """(keyUsage, extendedKeyUsage, SANs) of a server or client certificate."""
    return (
        "digitalSignature, keyEncipherment" if leaf.key.type == "rsa" else "digitalSignature",
        "serverAuth" if leaf.role == "server" else "clientAuth",
        tuple(str(san) for san in leaf.sans),
    )


def leaf_sections(recipe: Recipe) -> dict[str, str]:
    """Each leaf's section in the extension file. Leaves with the same extensions share one section,
    named after the first of them: a fleet without per-device SANs needs one section, not a thousand
    (each signature parses the whole file: 7.8 ms with 1000 sections against 5.0 ms with a few)."""
    first: dict[tuple[str, str, tuple[str, ...]], str] = {}
    return {leaf.name: first.setdefault(leaf_extensions(leaf), section_name(leaf.name)) for leaf in recipe.leaves}


def extension_file(recipe: Recipe, sections: dict[str, str], templates_dir: Path | None = None) -> str:
    from .render import render

    def leaf_context(leaf: Leaf) -> dict[str, object]:
        key_usage, extended_key_usage, sans = leaf_extensions(leaf)
        return {
            "section": sections[leaf.name],
            "key_usage": key_usage,
            "extended_key_usage": extended_key_usage,
            "sans": list(sans),
        }

    return render(
        "openssl-extensions.cnf.j2",
        {
            "recipe_name": recipe.path.name,
            "ca": {"section": section_name(recipe.ca.name)},
            "intermediate": {"section": section_name(recipe.intermediate.name)} if recipe.intermediate else None,
            "leaves": [leaf_context(leaf) for leaf in recipe.leaves if sections[leaf.name] == section_name(leaf.name)],
        },
        templates_dir,
    )


def section_name(entry_name: str) -> str:
    return f"{entry_name}_ext"


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

    # -- the CA ---------------------------------------------------------------------------------

    def ca_steps(self) -> list[Step]:
        ca = self.ca
        argv = [self.openssl.command, "req", "-x509", "-new", "-nodes", "-key", ca.key_file]
        argv += self._digest(ca.digest, ca.key) + ["-days", str(ca.days), "-out", ca.cert_file]
        argv += self._subject(ca.subject)
        argv += self._passin(ca.password)
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
        )
        return [self._key_step(ca.name, ca.key_file, ca.key, ca.password, nanomq=False, is_ca=True), cert]

    # -- servers and clients --------------------------------------------------------------------

    def intermediate_steps(self, im: CertificateAuthority) -> list[Step]:
        assert im.csr_file is not None
        key = self._key_step(im.name, im.key_file, im.key, im.password, nanomq=False, is_ca=True)
        return [
            key,
            *self._request_and_sign(
                im.name,
                im.key_file,
                im.csr_file,
                im.cert_file,
                im.subject,
                im.password,
                im.days,
                im.digest,
                im.key,
                self.ca,
                here="",
                document_client=False,
                is_ca=True,
            ),
        ]

    def leaf_steps(self, leaf: Leaf) -> list[Step]:
        # The document writes `./server.key` and `./server.csr` for the server and bare names for
        # the client; the document style keeps that, character for character.
        here = "./" if (not self.strict and leaf.role == "server") else ""
        document_client = not self.strict and leaf.role == "client"
        key = self._key_step(leaf.name, leaf.key_file, leaf.key, leaf.password, leaf.nanomq)
        if leaf.one_step and self.strict and self.openssl.is_openssl3:
            return [key, self._one_step_sign(leaf)]
        return [
            key,
            *self._request_and_sign(
                leaf.name,
                leaf.key_file,
                leaf.csr_file,
                leaf.cert_file,
                leaf.subject,
                leaf.password,
                leaf.days,
                leaf.digest,
                leaf.key,
                self.issuer,
                here,
                document_client,
            ),
        ]

    def bundle_steps(self) -> list[Step]:
        """With an intermediate: each leaf's chain (leaf + intermediate) and the CA bundle (intermediate + root)."""
        im, recipe = self.recipe.intermediate, self.recipe
        if im is None or recipe.bundle_file is None:
            return []
        steps = [
            Step(
                argv=("cat", im.cert_file, self.ca.cert_file),
                kind="bundle",
                entry=im.name,
                inputs=(im.cert_file, self.ca.cert_file),
                outputs=(recipe.bundle_file,),
                is_ca=True,
            )
        ]
        for leaf in recipe.leaves:
            if leaf.chain_file:
                steps.append(
                    Step(
                        argv=("cat", leaf.cert_file, im.cert_file),
                        kind="bundle",
                        entry=leaf.name,
                        inputs=(leaf.cert_file, im.cert_file),
                        outputs=(leaf.chain_file,),
                    )
                )
        return steps

    def _one_step_sign(self, leaf: Leaf) -> Step:
        """Request and signature in one process (OpenSSL 3.0+): about half the cost of req + x509 -req."""
        issuer = self.issuer
        argv = [
            self.openssl.command,
            "req",
            "-new",
            "-x509",
            "-key",
            leaf.key_file,
            *self._subject(leaf.subject),
            "-CA",
            issuer.cert_file,
            "-CAkey",
            issuer.key_file,
            "-out",
            leaf.cert_file,
            "-days",
            str(leaf.days),
            *self._digest(leaf.digest, issuer.key),
            "-config",
            CONFIG_FILE_NAME,
            "-extensions",
            self.sections[leaf.name],
        ]
        return Step(
            argv=tuple(argv),
            kind="cert",
            entry=leaf.name,
            inputs=(leaf.key_file, issuer.cert_file, issuer.key_file),
            outputs=(leaf.cert_file,),
        )

    def _request_and_sign(
        self,
        name: str,
        key_file: str,
        csr_file: str,
        cert_file: str,
        subject: dict[str, str],
        password: Secret | None,
        days: int,
        digest: str,
        key: KeySpec,
        issuer: CertificateAuthority,
        here: str,
        document_client: bool,
        is_ca: bool = False,
    ) -> list[Step]:
        csr_argv = [self.openssl.command, "req", "-new", "-key", here + key_file, "-out", csr_file]
        csr_argv += self._subject(subject) + self._passin(password)
        if self.strict:
            csr_argv += self._digest(digest, key)
        csr = Step(
            argv=tuple(csr_argv),
            kind="csr",
            entry=name,
            inputs=(key_file,),
            outputs=(csr_file,),
            secrets=_secrets(password),
            is_ca=is_ca,
            prompts=not subject,
        )
        serial = ["-CAcreateserial"] if self.shared_serial else []
        if not document_client:
            sign = [
                self.openssl.command,
                "x509",
                "-req",
                "-in",
                here + csr_file,
                "-CA",
                issuer.cert_file,
                "-CAkey",
                issuer.key_file,
                *serial,
                "-out",
                cert_file,
                "-days",
                str(days),
            ]
            sign += self._digest(digest, issuer.key)  # the issuer's key signs: Ed25519 takes no digest
        else:  # the document's client form: -days first, no digest (sha256 is openssl's default)
            sign = [
                self.openssl.command,
                "x509",
                "-req",
                "-days",
                str(days),
                "-in",
                csr_file,
                "-CA",
                issuer.cert_file,
                "-CAkey",
                issuer.key_file,
                *serial,
                "-out",
                cert_file,
            ]
            if digest != "sha256":
                sign += self._digest(digest, issuer.key)
        sign += self._passin(issuer.password)
        if self.strict:
            sign += ["-extfile", CONFIG_FILE_NAME, "-extensions", self.sections.get(name, section_name(name))]
        side = (f"{Path(issuer.cert_file).stem}.srl",) if self.shared_serial else ()
        cert = Step(
            argv=tuple(sign),
            kind="cert",
            entry=name,
            inputs=(csr_file, issuer.cert_file, issuer.key_file, *side),
            outputs=(cert_file, *side),
            secrets=_secrets(issuer.password),
            is_ca=is_ca,
        )
        return [csr, cert]

    # -- pieces ---------------------------------------------------------------------------------

    def _key_step(
        self, entry: str, key_file: str, key: KeySpec, password: Secret | None, nanomq: bool, is_ca: bool = False
    ) -> Step:
        openssl = self.openssl.command
        if key.type == "rsa":
            argv = [openssl, "genrsa"]
            if password:
                # NanoMQ's mbedTLS 2.28 reads only PKCS#1 with a DEK-Info header, not OpenSSL 3's PKCS#8.
                if nanomq and self.openssl.traditional_flag:
                    argv.append("-traditional")
                argv += ["-aes256", "-passout", f"env:{password.env_name}"]
            argv += ["-out", key_file, str(key.size)]
        else:
            argv = [openssl, "genpkey", "-algorithm"]
            argv += ["EC", "-pkeyopt", f"ec_paramgen_curve:{key.curve}"] if key.type == "ec" else ["ED25519"]
            if password:
                # PKCS#8 with 3DES is the encrypted form mbedTLS 2.28 reads for non-RSA keys.
                argv += ["-des3" if nanomq else "-aes256", "-pass", f"env:{password.env_name}"]
            argv += ["-out", key_file]
        return Step(
            argv=tuple(argv), kind="key", entry=entry, inputs=(), outputs=(key_file,), secrets=_secrets(password), is_ca=is_ca
        )

    @staticmethod
    def _digest(digest: str, key: KeySpec) -> list[str]:
        return [] if key.type == "ed25519" else [f"-{digest}"]

    def _subject(self, fields: dict[str, str]) -> list[str]:
        if not fields:
            return []  # document style: openssl prompts, as the document describes
        return ["-subj", subj_argument(fields)] + (["-utf8"] if needs_utf8(fields) else [])

    @staticmethod
    def _passin(password: Secret | None) -> list[str]:
        return ["-passin", f"env:{password.env_name}"] if password else []


def _secrets(password: Secret | None) -> tuple[Secret, ...]:
    return (password,) if password else ()
