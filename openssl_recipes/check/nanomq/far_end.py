"""The far end of `handshake --nanomq`'s bridge: a broker on 127.0.0.1 serving the recipe's server
certificate (with sites, the cloud's) and requiring client certificates."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from ...core.children import child_environment
from ...recipe.model import Recipe
from ...render.conf import far_end_leaves, render_conf
from .broker import BrokerFailed, NanoMQ, harness_conf, listening, running_nanomq


@contextlib.contextmanager
def running_far_end(
    recipe: Recipe, secret_values: dict[str, str], binary: str, folder: Path, port: int, tcp: int, wss: int, timeout: float
) -> Iterator[tuple[str, NanoMQ | None]]:
    """The bridge's far end on `port`, serving the recipe's server certificate and requiring client
    certificates, with a plain listener on `tcp`: mosquitto with the listener `conf mosquitto` renders
    when it is installed and the server key is not encrypted (mosquitto cannot be given a password),
    else a second NanoMQ with the listener `conf nanomq` renders. Yields what it is, for the report, and
    the NanoMQ when it is one."""
    from ...recipe.broker import NanoMQIn

    section = recipe.nanomq or NanoMQIn()
    server = far_end_leaves(recipe)[0]  # with sites: the cloud's, not a site's
    update: dict[str, object] = {"bind": f"127.0.0.1:{port}", "verify_peer": True, "fail_if_no_peer_cert": True}
    if recipe.site_entries is not None and server is not None:  # the far end is the cloud: no sites there
        update["server"] = server.name
    listener = section.listener.model_copy(update=update)
    bridge = section.bridge.model_copy(update={"client": None}) if recipe.site_entries is not None else section.bridge
    far = dataclasses.replace(
        recipe,
        site_entries=None,
        nanomq=section.model_copy(
            update={"listener": listener, "bridge": bridge} | ({"cert_dir": None} if recipe.site_entries else {})
        ),
    )
    mosquitto = shutil.which("mosquitto")
    folder.mkdir(parents=True, exist_ok=True)
    if mosquitto and server is not None and server.password is None:
        text = (
            ("user root\n" if os.geteuid() == 0 else "")  # as root it would drop to a user that cannot read 0600 keys
            + f"per_listener_settings false\nallow_anonymous true\npersistence false\nlistener {tcp} 127.0.0.1\n"
            + render_conf(far, "mosquitto", ("listener",), secret_values)
        )
        with _running_mosquitto(mosquitto, text, folder, [tcp, port], timeout, child_environment(recipe.secret_names())):
            yield "a far-end mosquitto", None
        return
    text = harness_conf(tcp, wss) + render_conf(far, "nanomq", ("listener",), secret_values)
    try:
        with running_nanomq(binary, text, folder, [tcp, port], timeout, child_environment(recipe.secret_names())) as far_broker:
            yield "a far-end NanoMQ", far_broker
    except BrokerFailed as exc:
        raise BrokerFailed(f"the far end (a second NanoMQ with the recipe's server certificate): {exc}") from None


@contextlib.contextmanager
def _running_mosquitto(
    binary: str, conf_text: str, folder: Path, ports: list[int], timeout: float, env: dict[str, str]
) -> Iterator[None]:
    conf, log = folder / "mosquitto.conf", folder / "mosquitto.log"
    conf.write_text(conf_text, encoding="utf-8")
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [binary, "-c", str(conf)], env=env, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + timeout
            for port in ports:
                while not listening(port):
                    if process.poll() is not None or time.monotonic() > deadline:
                        tail = log.read_text(errors="replace").strip().splitlines()[-5:]
                        raise BrokerFailed(f"the far end (mosquitto) did not listen on 127.0.0.1:{port}: {' | '.join(tail)}")
                    time.sleep(0.05)
            yield
        finally:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
