"""How the services connect to Kafka: plain on the local stack's listener, TLS + SCRAM-SHA-512 as the
service's KafkaUser in the cluster (werkplek_common.settings; deploy/k8s/components/strimzi)."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from werkplek_common.settings import CommonSettings


def test_the_local_listener_needs_nothing() -> None:
    assert CommonSettings(kafka_security_protocol="PLAINTEXT").kafka_client_options() == {}


def test_the_cluster_listener_gets_scram_over_tls() -> None:
    ca = Path(ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt")
    opts = CommonSettings(kafka_security_protocol="SASL_SSL", kafka_sasl_username="hour-accounting",
                          kafka_sasl_password="s3cret", kafka_ssl_cafile=ca).kafka_client_options()
    assert {k: v for k, v in opts.items() if k != "ssl_context"} == {
        "security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "hour-accounting", "sasl_plain_password": "s3cret"}
    assert isinstance(opts["ssl_context"], ssl.SSLContext)
    assert opts["ssl_context"].verify_mode == ssl.CERT_REQUIRED and opts["ssl_context"].check_hostname


def test_scram_without_credentials_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="WERKPLEK_KAFKA_SASL_USERNAME"):
        CommonSettings(kafka_security_protocol="SASL_SSL").kafka_client_options()


def test_the_password_is_not_shown() -> None:
    cfg = CommonSettings(kafka_security_protocol="SASL_SSL", kafka_sasl_username="u", kafka_sasl_password="s3cret")
    assert "s3cret" not in repr(cfg)
