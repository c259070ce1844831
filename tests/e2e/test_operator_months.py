"""Months of an operator's commands (hypothesis RuleBasedStateMachine, real openssl): build, a changed
password, an edited subject, renew, revoke, crl, export, clean, --new-ca, a killed build, a CA rotation
(start, finish, abort, each also killed mid-way); sign with
requests whose CN names the tool's own files (or is no file name at all), conf --into the operator's
nanomq.conf (edited in between, now and then with a marker cut in half), symbolic links planted at the
tool's file names and at its database folder. After every step:

- every key opens with one of its own entry's passwords and with no other entry's (nothing crossed);
- the user's own files, inside and outside the output folder, are untouched (nothing destroyed);
- every backup is a distinct file, and a backed-up key still opens;
- every CA key ever made is the live one, the new one of a rotation, a backup or in the archive, unless
  `clean` was asked for; a killed rotate leaves the phase it started from, or the one it committed;
- when `verify` passes, an independent check (cryptography + `openssl verify`) passes too;
- a build that keeps a certificate whose subject the recipe no longer has says so;
- every version of the operator's nanomq.conf that conf --into replaced is one of its backups;
- nothing a planted link points to was written, and nothing was written through one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from ..helpers import cli, examples, load_cert, public_bytes, require

RECIPE = """\
output: certs
defaults: {key_type: ec, subject: {O: Months}}
ca: {subject: {CN: Months CA}, password: {env: CA_PASS}}
servers:
  - {name: server, subject: {CN: localhost}, san: [localhost]}
clients:
  - {name: client, subject: {CN: client}, password: {env: CLIENT_PASS}}
  - {name: c-1, subject: {CN: dash}, password: {file: dash.pass}}
  - {name: c_1, subject: {CN: underscore}, password: {file: underscore.pass}}
"""
LEAVES = ["server", "client", "c-1", "c_1"]
USER_FILES = {
    "outside.txt": b"the user's own file\n",
    "certs/notes.srl": b"not a serial\n",
    "certs/README.txt": b"mine\n",
    "certs/mine.pem": b"-----BEGIN CERTIFICATE-----\nthe user's, not the tool's\n-----END CERTIFICATE-----\n",
    "elsewhere/target.pem": b"-----BEGIN CERTIFICATE-----\nwhere a planted link points\n-----END CERTIFICATE-----\n",
    "elsewhere/db/index.txt": b"someone else's database\n",
}
REQUEST_NAMES = ["device-7", "ca", "crl", "server", "client", "client-fullchain", "mine", "c-1", "a b", "-rf", "x" * 64]
LINKED = ["client.pem", "crl.pem", "client.p12", "ca-database"]
CONF = 'listeners.tcp { bind = "0.0.0.0:1883" }\n'


def try_open(path: Path, password: str | None):
    from cryptography.hazmat.primitives import serialization

    try:
        return serialization.load_pem_private_key(path.read_bytes(), password.encode() if password else None)
    except (ValueError, TypeError, FileNotFoundError):
        return None


class OperatorMonths(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.work = Path(tempfile.mkdtemp(prefix="openssl-recipes-months-"))
        (self.work / "certs").mkdir(mode=0o700)
        for name, content in USER_FILES.items():
            (self.work / name).parent.mkdir(parents=True, exist_ok=True)
            (self.work / name).write_bytes(content)
        (self.work / "nanomq.conf").write_text(CONF)
        self.conf_versions: set[str] = set()  # each version conf --into replaced
        self.links: set[str] = set()
        (self.work / "recipes.yaml").write_text(RECIPE)
        (self.work / "dash.pass").write_text("dash-password\n")
        (self.work / "underscore.pass").write_text("underscore-password\r\n")
        self.env = {"CA_PASS": "ca-password", "CLIENT_PASS": "client-password-0"}
        # every password an entry has had; a key must open with one of its own and none of the others'
        self.passwords = {
            "ca": {"ca-password"},
            "server": {None},
            "client": {"client-password-0"},
            "c-1": {"dash-password"},
            "c_1": {"underscore-password"},
        }
        self.ca_keys: set[bytes] = set()
        self.edits = 0
        self.server_cn = "localhost"
        self.run("build")

    def teardown(self) -> None:
        import shutil

        shutil.rmtree(self.work, ignore_errors=True)

    def run(self, *args: str):
        result = cli(*args, "--recipe", str(self.work / "recipes.yaml"), env=self.env)
        assert result.code in (0, 1, 2), result
        assert "Traceback" not in result.output and "internal error" not in result.output, result
        for value in (*self.env.values(), "dash-password", "underscore-password"):
            assert value not in result.output, ("a password was printed", args)
        self._note_ca_key()
        return result

    def _note_ca_key(self) -> None:
        for path in (self.work / "certs" / "ca.key", self.work / "certs" / "rotation" / "ca.key"):
            key = try_open(path, self.env["CA_PASS"])
            if key is not None:
                self.ca_keys.add(public_bytes(key))

    def phase(self) -> str:
        state = self.work / "certs" / ".openssl-recipes.rotation"
        return json.loads(state.read_text())["phase"] if state.exists() else "steady"

    # -- what an operator does ------------------------------------------------------------------

    def build_ok(self, *extra: str) -> None:
        """`build` succeeds, or (after the client's password changed) refuses the key it cannot open and
        says how to make a new one."""
        result = self.run("build", *extra)
        linked = bool(self.links) and result.code == 2 and "is a symbolic link" in result.stderr
        assert result.code == 0 or "renew client --rekey" in result.stderr or linked, result
        if result.code == 0:  # a certificate kept with another subject than the recipe's is reported
            from cryptography.x509.oid import NameOID

            cert = load_cert(self.work / "certs" / "server.pem")
            stale = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value != self.server_cn
            assert stale == ("server.pem no longer matches" in result.stderr), (self.server_cn, result)
            assert not stale or "renew server`" in result.stderr, result

    @rule()
    def build(self) -> None:
        self.build_ok()

    @rule()
    def change_the_client_password(self) -> None:
        self.edits += 1
        self.env["CLIENT_PASS"] = f"client-password-{self.edits}"
        self.passwords["client"].add(self.env["CLIENT_PASS"])

    @rule()
    def edit_the_server_subject(self) -> None:
        self.edits += 1
        recipe = self.work / "recipes.yaml"
        new_cn = f"localhost-{self.edits}"
        recipe.write_text(recipe.read_text().replace(f"subject: {{CN: {self.server_cn}}}", f"subject: {{CN: {new_cn}}}"))
        self.server_cn = new_cn

    @rule(name=st.sampled_from(LEAVES), rekey=st.booleans())
    def renew(self, name: str, rekey: bool) -> None:
        self.run("renew", name, *(["--rekey"] if rekey else []))

    @rule(name=st.sampled_from(LEAVES))
    def revoke(self, name: str) -> None:
        self.run("revoke", name)

    @rule()
    def crl(self) -> None:
        self.run("crl")

    @rule(name=st.sampled_from(["client", "c-1"]))
    def export(self, name: str) -> None:
        self.run("export", name, "--fullchain")

    @rule()
    def clean_and_build(self) -> None:
        assert self.run("clean").code == 0
        self.ca_keys.clear()  # asked for: the CA goes with the rest
        self.build_ok()

    @rule(cn=st.sampled_from(REQUEST_NAMES), role=st.sampled_from(["client", "server"]))
    def sign_a_device_request(self, cn: str, role: str) -> None:
        """A device's request whose CN may name one of the tool's files, the user's, or none at all."""
        devices = self.work / "devices"
        devices.mkdir(exist_ok=True)
        key, csr = devices / "device.key", devices / "device.csr"
        made = subprocess.run(
            [require("openssl"), "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
            + ["-keyout", str(key), "-out", str(csr), "-subj", f"/CN={cn}"],
            capture_output=True,
        )
        assert made.returncode == 0, made.stderr
        result = self.run("sign", "--csr", str(csr), "--as", role, *(["--san", "device.local"] if role == "server" else []))
        if cn in ("ca", "crl", "server", "client", "client-fullchain", "mine", "c-1", "a b", "-rf"):
            assert result.code == 2, result  # the tool's file, an entry, the user's file, or no file name
        else:
            assert result.code == 0 or (self.links and result.code == 2), result

    @rule()
    def conf_into_the_operators_file(self) -> None:
        conf = self.work / "nanomq.conf"
        before = conf.read_text()
        result = self.run("conf", "nanomq", "--into", str(conf))
        if conf.read_text() != before:
            self.conf_versions.add(before)  # what the tool replaced: a backup of it must stay
        if "# BEGIN openssl-recipes" in before and before.count("# BEGIN") != before.count("# END"):
            assert result.code == 2 and "line " in result.stderr and conf.read_text() == before, result

    @rule(marker=st.booleans())
    def edit_the_conf(self, marker: bool) -> None:
        """The operator edits nanomq.conf: a line of their own, or a BEGIN marker cut from its END."""
        conf = self.work / "nanomq.conf"
        text = conf.read_text()
        if marker and "# BEGIN openssl-recipes listener" in text:
            text = text.replace("# END openssl-recipes listener\n", "")
        else:
            text += f"# edited {len(text)}\n"
        conf.write_text(text)

    @rule(name=st.sampled_from(LINKED))
    def plant_a_link(self, name: str) -> None:
        """A symbolic link where the tool writes: to the user's file elsewhere, or their database folder."""
        path = self.work / "certs" / name
        target = self.work / ("elsewhere/db" if name == "ca-database" else "elsewhere/target.pem")
        if path.is_symlink():
            return
        if path.is_dir():
            path.rename(self.work / "certs" / f"{name}.moved-by-the-operator")
        elif path.exists():
            path.unlink()
        path.symlink_to(target)
        self.links.add(name)

    @rule()
    def remove_the_links(self) -> None:
        for name in self.links:
            (self.work / "certs" / name).unlink()
            moved = self.work / "certs" / f"{name}.moved-by-the-operator"
            if moved.exists():
                moved.rename(self.work / "certs" / name)
        self.links.clear()

    @rule()
    def new_ca(self) -> None:
        self.build_ok("--new-ca")

    @rule()
    def killed_build_then_build(self) -> None:
        """`build --force` killed with SIGKILL once it has started writing, then the operator runs build."""
        self.killed_once_writing("build", "--force")
        self.build_ok()

    def killed_once_writing(self, *args: str) -> None:
        """Run the command; SIGKILL it once it has written something (any file under certs/ changed)."""
        folder = self.work / "certs"
        stamps = {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}
        proc = subprocess.Popen(
            [sys.executable, "-m", "openssl_recipes", *args, "--recipe", str(self.work / "recipes.yaml")],
            env={**os.environ, **self.env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            now = {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.exists() and p.is_file()}
            if any(stamps.get(p) != t for p, t in now.items() if not p.name.startswith(".openssl-recipes.lock")):
                proc.send_signal(signal.SIGKILL)  # mid-way: something was already written
                break
            time.sleep(0.002)
        proc.wait(30)

    @rule()
    def rotate_start(self) -> None:
        started = self.run("rotate", "start")
        assert started.code == 0 or "under way" in started.stderr or "symbolic link" in started.stderr, started

    @rule(force=st.booleans())
    def rotate_finish(self, force: bool) -> None:
        finished = self.run("rotate", "finish", *(["--force"] if force else []))
        said = ("still signed by the old CA", "no CA rotation is under way", "symbolic link", "renew client --rekey")
        assert finished.code == 0 or any(text in finished.stderr for text in said), finished

    @rule(force=st.booleans())
    def rotate_abort(self, force: bool) -> None:
        aborted = self.run("rotate", "abort", *(["--force"] if force else []))
        said = ("were signed by the new CA", "no CA rotation to abort", "symbolic link", "renew client --rekey")
        assert aborted.code == 0 or any(text in aborted.stderr for text in said), aborted

    @rule(step=st.sampled_from([("start",), ("finish", "--force"), ("abort", "--force")]))
    def killed_rotate(self, step: tuple[str, ...]) -> None:
        """A rotate killed with SIGKILL once it has started writing: the phase is the one it started
        from or the one it committed; then every command goes on from there."""
        before = self.phase()
        self.killed_once_writing("rotate", *step)
        committed = {"start": "rotating", "finish": "steady", "abort": "steady"}[step[0]]
        assert self.phase() in {before, committed, "finishing"}, (step, before, self.phase())
        self._note_ca_key()
        self.build_ok()

    # -- what must hold after every step ----------------------------------------------------------

    def _entry_of_key(self, name: str) -> str:
        return "ca" if name.startswith("ca.key") else name.split(".key")[0]

    @invariant()
    def every_key_opens_with_its_own_password_only(self) -> None:
        folder = self.work / "certs"
        for path in sorted(folder.glob("*.key")) + sorted(folder.glob("*.key.*.bak")):
            entry = self._entry_of_key(path.name)
            own = self.passwords[entry]
            others = set().union(*(v for k, v in self.passwords.items() if k != entry)) - {None} - own
            assert any(try_open(path, p) is not None for p in own), f"{path.name} does not open with {entry}'s password"
            assert not any(try_open(path, p) is not None for p in others), f"{path.name} opens with another entry's password"

    @invariant()
    def the_users_files_are_untouched(self) -> None:
        for name, content in USER_FILES.items():
            assert (self.work / name).read_bytes() == content, name
        assert (self.work / "recipes.yaml").read_text() == RECIPE.replace("{CN: localhost}", f"{{CN: {self.server_cn}}}")

    @invariant()
    def every_version_of_the_operators_conf_is_kept(self) -> None:
        conf = self.work / "nanomq.conf"
        kept = {conf.read_text(), *(b.read_text() for b in self.work.glob("nanomq.conf.*.bak"))}
        assert self.conf_versions <= kept, "a version of nanomq.conf was lost"

    @invariant()
    def nothing_was_written_through_a_link(self) -> None:
        for name in self.links:
            assert (self.work / "certs" / name).is_symlink(), f"{name}: the link the operator planted was replaced"

    @invariant()
    def every_ca_key_ever_made_is_kept(self) -> None:
        folder = self.work / "certs"
        present = set()
        kept = [*folder.glob("ca.key.*.bak"), *folder.glob("rotation/ca.key*"), *folder.glob("ca-archive/*/ca.key*")]
        for path in [folder / "ca.key", *kept]:
            key = try_open(path, self.env["CA_PASS"]) if path.exists() else None
            if key is not None:
                present.add(public_bytes(key))
        assert self.ca_keys <= present, "a CA key was lost"

    @invariant()
    def verify_agrees_with_an_independent_check(self) -> None:
        folder = self.work / "certs"
        verdict = cli("verify", "--recipe", str(self.work / "recipes.yaml"), env=self.env).code
        independent = True
        for name in LEAVES:
            key_path, cert_path = folder / f"{name}.key", folder / f"{name}.pem"
            if not key_path.exists() or not cert_path.exists():
                independent = False
                continue
            current = (
                None if name == "server" else (self.env["CLIENT_PASS"] if name == "client" else next(iter(self.passwords[name])))
            )
            key = try_open(key_path, current)
            if key is None or public_bytes(key) != public_bytes_of_cert(cert_path):  # (None: not a certificate)
                independent = False
            roots = self.work / "roots.pem"  # the live roots: while rotating, the new one too
            roots.write_bytes(
                b"".join(p.read_bytes() for p in (folder / "ca.pem", folder / "rotation" / "ca.pem") if p.is_file())
            )
            checked = subprocess.run([require("openssl"), "verify", "-CAfile", str(roots), str(cert_path)], capture_output=True)
            independent &= checked.returncode == 0
        if verdict == 0:
            assert independent, "verify passed where the independent check fails"


def public_bytes_of_cert(path: Path) -> bytes | None:
    from cryptography.hazmat.primitives import serialization

    try:
        cert = load_cert(path)
    except ValueError:  # a link the operator planted, to something else
        return None
    return cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


OperatorMonths.TestCase.settings = settings(
    max_examples=examples(20), stateful_step_count=10, deadline=None, suppress_health_check=list(HealthCheck)
)
test_an_operators_months = OperatorMonths.TestCase
