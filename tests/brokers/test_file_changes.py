"""What a running NanoMQ does when its certificate files change under it (the README's deploy order
rests on it): its bridge, reconnecting to a cloud that now trusts only the new CA, is measured here."""

from __future__ import annotations

import shutil

from openssl_recipes.check.nanomq.broker import running_nanomq

from ..peers import free_port, nanomq_binary
from .test_rotation import ROTATION, Edge
from .test_sites import _site_conf


def test_a_running_nanomq_bridge_reads_its_new_certificate_only_when_restarted(tmp_path):
    edge = Edge(tmp_path, ROTATION)
    try:
        edge.deploy_cloud()
        edge.deploy_sites("site-001")
        ports = {"tcp": free_port(), "tls": free_port(), "wss": free_port()}
        conf = _site_conf(edge.roots / "site-001", ports, edge.cloud.port)
        with running_nanomq(nanomq_binary(), conf, tmp_path / "run-site", [ports["tcp"]]) as site:
            assert edge.cloud.broker.wait_for_log("as site-001 ", 20), site.tail()
            for step in (("rotate", "start"), ("renew",), ("rotate", "finish")):
                edge.run(*step)
            edge.deploy_sites("site-001")  # its new files, under the running broker
            edge.deploy_cloud()  # the cloud, restarted: trusting the new CA alone, it drops the bridge
            assert edge.cloud.broker.wait_for_log("certificate verify failed", 30), site.tail()
            assert not edge.cloud.broker.wait_for_log("as site-001 ", 1), "the bridge read its new certificate"
            assert site.alive(), site.tail()
        restarted = tmp_path / "run-site-again"
        with running_nanomq(nanomq_binary(), conf, restarted, [ports["tcp"]]) as site:
            assert edge.cloud.broker.wait_for_log("as site-001 ", 20), site.tail()  # a restart reads them
    finally:
        edge.cloud.stack.close()
        shutil.rmtree(tmp_path / "run-site", ignore_errors=True)
