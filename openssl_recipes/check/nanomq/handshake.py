"""`handshake --nanomq`: the user's own NanoMQ started with exactly the blocks `conf nanomq` renders for
the recipe (only the listener's `bind` and the bridge's `server` moved onto free 127.0.0.1 ports), then
tried the way the field will: the recipe's clients are accepted by NanoMQ's TLS listener, a client
without a certificate and one from a foreign CA are refused; when the recipe has a bridge, it connects
over mutual TLS to a local far end serving the recipe's server certificate and requiring client
certificates (mosquitto configured by `conf mosquitto` when it is installed, else a second NanoMQ) and
carries a message each way it is configured for.
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import ssl
import tempfile
import time
from pathlib import Path

from ...core.children import child_environment
from ...recipe.entries import Leaf
from ...recipe.model import Recipe
from ...recipe.sites import Site
from ...render.conf import far_end_leaves, filled_topics, listener_verification, nanomq_leaves, render_conf
from .. import mqtt
from ..handshake import NO_NAMES, Case, Identity, Outcome, load_identity, server_names, trust_of
from .broker import CONNACK_RACE, BrokerFailed, NanoMQ, free_ports, harness_conf, running_nanomq, short
from .far_end import running_far_end

LISTENER = "NanoMQ listener"


RUNS = 3  # NanoMQ's own CONNACK race can spoil a run (see CONNACK_RACE): a spoiled run is tried again


def run_nanomq_cases(
    recipe: Recipe, secret_values: dict[str, str], binary: str, foreign: Identity, timeout: float, site: Site | None = None
) -> list[Case]:
    """Every case, from one run on a fresh NanoMQ. A run with a failure in which NanoMQ also logged its
    own CONNACK race (once that happened it lost later clients too, and it once aborted) is tried again
    on a fresh broker, up to RUNS runs; a failure without the race is reported at once."""
    run = 1
    cases, raced = _one_run(recipe, secret_values, binary, foreign, timeout, site)
    while raced and not all(case.ok for case in cases) and run < RUNS:
        run += 1
        cases, raced = _one_run(recipe, secret_values, binary, foreign, timeout, site)
    if run > 1:
        note = f"NanoMQ lost a CONNACK to its own race in {run - 1} earlier run(s); these cases are from run {run}"
        cases.append(Case("NanoMQ", "its CONNACK race", "earlier runs", "accepted", "accepted", note))
    return cases


def _one_run(
    recipe: Recipe, secret_values: dict[str, str], binary: str, foreign: Identity, timeout: float, site: Site | None = None
) -> tuple[list[Case], bool]:
    """The cases of one run, and whether NanoMQ logged its CONNACK race during it. `site`: in a recipe
    with sites, the one whose blocks NanoMQ runs (as `bundle` writes them, its files read from the
    output folder: nanomq.cert_dir is where they live on the site)."""
    section = recipe.nanomq
    server, bridge_client = nanomq_leaves(recipe, site)
    has_bridge = (
        bridge_client is not None
        and not bridge_client.device_key  # its key is on the device: NanoMQ here cannot present it
        and section is not None
        and section.bridge.host is not None
        and far_end_leaves(recipe)[0] is not None  # the far end serves the recipe's (the cloud's) server certificate
    )
    tcp, wss, listen, far_port, far_tcp, far_wss = free_ports(6)
    local = _moved(recipe, listen, far_port if has_bridge else None, here=site is not None)
    blocks = tuple(block for block, wanted in (("listener", server is not None), ("bridge", has_bridge)) if wanted)
    cases: list[Case] = []
    with tempfile.TemporaryDirectory(prefix="openssl-recipes-nanomq-") as scratch_name:
        scratch = Path(scratch_name)
        conf_text = harness_conf(tcp, wss) + render_conf(local, "nanomq", blocks, secret_values, site=site)
        with contextlib.ExitStack() as stack:
            try:
                far_end, far_broker = "", None
                if has_bridge:
                    far_end, far_broker = stack.enter_context(
                        running_far_end(recipe, secret_values, binary, scratch / "far", far_port, far_tcp, far_wss, timeout)
                    )
                ports = [tcp, listen] if server is not None else [tcp]
                env = child_environment(recipe.secret_names())  # the brokers read passwords from their files
                broker = stack.enter_context(running_nanomq(binary, conf_text, scratch / "nanomq", ports, timeout, env))
            except BrokerFailed as exc:
                return [Case("NanoMQ", "start-up", str(binary), "accepted", "refused", str(exc))], False
            if problems := broker.problems():
                cases.append(Case("NanoMQ", "start-up", "its log", "accepted", "refused", " | ".join(map(short, problems[:5]))))
            if has_bridge:
                cases += _bridge_cases(local, broker, far_end, far_port, tcp, far_tcp, timeout, site)
            if server is not None:
                cases += _listener_cases(recipe, server, secret_values, foreign, listen, timeout, broker, site)
            if not broker.alive() or any("killed by signal" in line for line in broker.problems()):
                cases.append(Case("NanoMQ", "the end", "its process", "accepted", "refused", broker.tail(5)))
            raced = any(CONNACK_RACE in line for watched in (broker, far_broker) if watched for line in watched.log())
    return cases, raced


def _moved(recipe: Recipe, listen: int, far_port: int | None, here: bool = False) -> Recipe:
    """The recipe with NanoMQ's listener on 127.0.0.1:`listen` and its bridge aimed at `far_port`;
    `here`: the files read from the output folder (a site's nanomq.cert_dir is the site's)."""
    from ...recipe.broker import NanoMQIn

    section = recipe.nanomq or NanoMQIn()
    listener = section.listener.model_copy(update={"bind": f"127.0.0.1:{listen}"})
    bridge = section.bridge.model_copy(update={"host": "127.0.0.1", "port": far_port} if far_port else {})
    update: dict[str, object] = {"listener": listener, "bridge": bridge} | ({"cert_dir": None} if here else {})
    return dataclasses.replace(recipe, nanomq=section.model_copy(update=update))


def _bridge_cases(
    recipe: Recipe, broker: NanoMQ, target: str, far_port: int, tcp: int, far_tcp: int, timeout: float, site: Site | None = None
) -> list[Case]:
    assert recipe.nanomq is not None
    spec = recipe.nanomq.bridge
    if site is not None:  # the site's own topics, as its bundle has them
        spec = spec.model_copy(
            update={
                "forwards": [f.model_copy(update=filled_topics(f.model_dump(), site)) for f in spec.forwards],
                "subscription": [s.model_copy(update=filled_topics(s.model_dump(), site)) for s in spec.subscription],
            }
        )
    me = f"NanoMQ bridge {spec.name}"
    dialer_failed = any("init_dialer_tls failed" in line for line in broker.log())
    connected = (
        None if dialer_failed else broker.wait_for_log(f"Bridge [tls+mqtt-tcp://127.0.0.1:{far_port}] connected!", timeout)
    )
    if not connected:
        errors = [short(line) for line in broker.problems()][-3:]
        return [Case(target, me, "mutual TLS", "accepted", "refused", " | ".join(errors) or "it never connected")]
    cases = [Case(target, me, "mutual TLS", "accepted", "accepted", "connected")]
    for forward in spec.forwards:
        detail = _carries(tcp, forward.local_topic, far_tcp, forward.remote_topic, timeout)
        cases.append(
            Case(
                target,
                me,
                f"forward {forward.local_topic} → {forward.remote_topic}",
                "accepted",
                "accepted" if detail is None else "refused",
                detail or "the message arrived",
            )
        )
    for subscription in spec.subscription:
        broker.wait_for_log(f"Bridge client subscribed topic {subscription.remote_topic}", timeout)
        detail = _carries(far_tcp, subscription.remote_topic, tcp, subscription.local_topic, timeout)
        cases.append(
            Case(
                target,
                me,
                f"subscription {subscription.remote_topic} → {subscription.local_topic}",
                "accepted",
                "accepted" if detail is None else "refused",
                detail or "the message arrived",
            )
        )
    return cases


def _carries(publish_port: int, topic_in: str, subscribe_port: int, topic_out: str, timeout: float) -> str | None:
    """Publish on one broker's plain loopback port until a subscriber on the other gets it; None when it
    does, else why not."""
    payload = b"openssl-recipes handshake --nanomq"
    try:
        with (
            socket.create_connection(("127.0.0.1", subscribe_port), timeout) as sub_sock,
            socket.create_connection(("127.0.0.1", publish_port), timeout) as pub_sock,
        ):
            subscriber, publisher = mqtt.Client(sub_sock, timeout), mqtt.Client(pub_sock, timeout)
            subscriber.connect(f"openssl-recipes-sub-{subscribe_port}")
            subscriber.subscribe(topic_out)
            publisher.connect(f"openssl-recipes-pub-{publish_port}")
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                publisher.publish(topic_in, payload)
                with contextlib.suppress(TimeoutError):
                    topic, body = subscriber.receive_publish(min(1.0, timeout))
                    if (topic, body) == (topic_out, payload):
                        return None
            return f"nothing arrived on {topic_out} within {timeout:g} s"
    except (OSError, mqtt.MQTTError) as exc:
        return f"{type(exc).__name__}: {exc}"


def _listener_cases(
    recipe: Recipe,
    server: Leaf,
    secret_values: dict[str, str],
    foreign: Identity,
    port: int,
    timeout: float,
    broker: NanoMQ,
    site: Site | None = None,
) -> list[Case]:
    folder = recipe.output_dir
    two_way = listener_verification(recipe)[1]  # clients without a certificate are refused
    names = server_names(server)
    if not names:
        return [Case(f"{LISTENER} ({server.name})", "its certificate", "-", "accepted", "refused", NO_NAMES)]
    cases = []

    def attempt(label: str, who: Identity | None, name: str, expected: Outcome) -> None:
        context = ssl.create_default_context(cafile=str(trust_of(recipe)))
        if who is not None and (problem := load_identity(context, who)):
            cases.append(Case(f"{LISTENER} ({server.name})", label, name, expected, "refused", problem))
            return
        outcome, detail = _mqtt_connect(port, context, name, timeout, broker)
        cases.append(Case(f"{LISTENER} ({server.name})", label, name, expected, outcome, detail))

    clients = [site.client] if site is not None else recipe.clients  # (a site's listener: its own certificate will do)
    for index, client in enumerate(c for c in clients if not c.device_key):  # a device's key is not here
        password = secret_values.get(client.password.env_name) if client.password else None
        who = Identity(folder / (client.chain_file or client.cert_file), folder / client.key_file, password)
        for name in names if index == 0 else names[:1]:
            attempt(client.name, who, name, "accepted")
    attempt("no certificate", None, names[0], "refused" if two_way else "accepted")
    if two_way:
        attempt("foreign CA", foreign, names[0], "refused")
    return cases


def _mqtt_connect(port: int, context: ssl.SSLContext, name: str, timeout: float, broker: NanoMQ) -> tuple[Outcome, str]:
    client_id = f"openssl-recipes-{time.monotonic_ns()}"
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=name) as tls,
        ):
            version = tls.version()
            client = mqtt.Client(tls, timeout)
            try:
                client.connect(client_id)
                client.ping()
                client.leave()
            except (OSError, mqtt.MQTTError) as exc:
                # NanoMQ took the certificate and the CONNECT (it logs the client online) but its own race
                # lost the CONNACK (see CONNACK_RACE): the certificate was accepted
                if broker.wait_for_log(f"{client_id} online!", 1.0) and broker.wait_for_log(CONNACK_RACE, 1.0):
                    return "accepted", f"{version}; NanoMQ logged the client online, then lost its CONNACK (its own race)"
                return "refused", f"NanoMQ closed the session after the TLS handshake: {exc}"
            return "accepted", f"{version}, MQTT CONNACK"
    except ssl.SSLCertVerificationError as exc:  # a refusal by the wrong side proves nothing about NanoMQ
        return "server not trusted", f"our client refused NanoMQ's certificate: {exc.verify_message}"
    except ssl.SSLError as exc:
        return "refused", f"NanoMQ refused: {exc.reason or exc}"
    except (OSError, mqtt.MQTTError) as exc:
        return "refused", f"NanoMQ refused: {exc}"
