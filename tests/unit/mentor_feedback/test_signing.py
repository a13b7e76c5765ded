"""Standard Webhooks verification: tolerance boundaries on a fake clock, raw bytes, key rotation."""

from __future__ import annotations

import json

import pytest
from werkplek_mentor_feedback.signing import Failure, VerificationError, new_secret, sign, verify

NOW = 1_800_000_000
BODY = b'{"type": "hours.confirmed", "data": {"mentor_id": "m-1"}}'


def _headers(secrets: list[str], ts: int, body: bytes = BODY, wid: str = "msg_1") -> dict[str, str]:
    return {"webhook-id": wid, "webhook-timestamp": str(ts), "webhook-signature": sign(secrets, wid, ts, body)}


@pytest.mark.parametrize("skew", [-299, -1, 0, 1, 299, 300, -300])
def test_timestamps_within_tolerance_pass(skew):
    secret = new_secret()
    assert verify([secret], _headers([secret], NOW + skew), BODY, now=NOW).webhook_id == "msg_1"


@pytest.mark.parametrize("skew", [-301, 301, -86400, 86400])
def test_timestamps_outside_tolerance_are_stale(skew):
    secret = new_secret()
    with pytest.raises(VerificationError) as err:
        verify([secret], _headers([secret], NOW + skew), BODY, now=NOW)
    assert err.value.failure is Failure.STALE_TIMESTAMP


def test_a_reserialised_body_fails():
    secret = new_secret()
    headers = _headers([secret], NOW)
    reserialised = json.dumps(json.loads(BODY), separators=(",", ":")).encode()
    assert reserialised != BODY
    with pytest.raises(VerificationError) as err:
        verify([secret], headers, reserialised, now=NOW)
    assert err.value.failure is Failure.BAD_SIGNATURE


def test_a_rotated_keys_second_signature_passes():
    old, new = new_secret(), new_secret()
    headers = _headers([old, new], NOW)  # the sender signs with both keys during the rotation
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert verify([new], headers, BODY, now=NOW)  # we retired the old one: the second signature matches
    assert verify([old], headers, BODY, now=NOW)


def test_wrong_secret_id_or_version_fails_as_bad_signature():
    secret, other = new_secret(), new_secret()
    cases = [
        _headers([other], NOW),
        {**_headers([secret], NOW), "webhook-id": "msg_2"},  # the id is signed too
        {**_headers([secret], NOW), "webhook-signature": sign([secret], "msg_1", NOW, BODY).replace("v1,", "v2,")},
        {**_headers([secret], NOW), "webhook-signature": "v1,not-base64!!"},
    ]
    for headers in cases:
        with pytest.raises(VerificationError) as err:
            verify([secret], headers, BODY, now=NOW)
        assert err.value.failure is Failure.BAD_SIGNATURE


def test_a_forged_stale_message_reports_the_signature_not_the_age():
    with pytest.raises(VerificationError) as err:
        verify([new_secret()], _headers([new_secret()], NOW - 3600), BODY, now=NOW)
    assert err.value.failure is Failure.BAD_SIGNATURE


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_headers_are_refused(missing):
    secret = new_secret()
    headers = _headers([secret], NOW)
    del headers[missing]
    with pytest.raises(VerificationError) as err:
        verify([secret], headers, BODY, now=NOW)
    assert err.value.failure is Failure.MISSING_HEADERS


@pytest.mark.parametrize(("header", "value"), [
    ("webhook-timestamp", f"{NOW}²"),  # str.isdigit() took it, int() did not: a 500 without any secret
    ("webhook-timestamp", "١٨٠٠٠٠٠٠٠٠"),  # Arabic-Indic digits: int() takes them, the signature would differ
    ("webhook-timestamp", f"+{NOW}"), ("webhook-timestamp", f"{NOW}.5"), ("webhook-timestamp", "1" * 13),
    ("webhook-id", "msg 1"), ("webhook-id", "msg_é"), ("webhook-id", "m" * 256),
])
def test_header_values_are_parsed_strictly(header, value):
    secret = new_secret()
    headers = {**_headers([secret], NOW), header: value}
    with pytest.raises(VerificationError) as err:
        verify([secret], headers, BODY, now=NOW)
    assert (err.value.failure, err.value.header) == (Failure.MALFORMED_HEADER, header)


def test_signatures_match_the_standardwebhooks_reference():
    from datetime import UTC, datetime

    from standardwebhooks import Webhook

    secret = new_secret()
    reference = Webhook(secret).sign("msg_1", datetime.fromtimestamp(NOW, UTC), BODY.decode())
    assert sign([secret], "msg_1", NOW, BODY) == reference
