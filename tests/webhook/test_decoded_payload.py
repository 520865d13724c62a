"""The decoded shape: the stored-payload view, the dry run and the impact report show what
the ``decode`` rules leave, for a JotForm ``rawRequest`` and an Unbounce ``data.json`` event."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import IngestionConfig
from models.enums import EventStatus
from tests.support.api import post_payload
from tests.support.factories import Tenant, make_event, make_tenant
from worker.mapping_impact import mapping_impact

JOTFORM_RAW = {
    "q3_fullName": {"first": "Ada", "last": "Lovelace"},
    "q4_phone": {"full": "(202) 456-1414"},
    "q5_email": "ada@example.com",
}
JOTFORM_MAPPING = {
    "decode": {"rawRequest": "json"},
    "fields": {"phone_number": "rawRequest.q4_phone.full", "email": "rawRequest.q5_email"},
    "unmapped": "ignore",
}
UNBOUNCE_DATA = {"phone_number": ["202-456-1515"], "email": ["grace@example.com"]}
UNBOUNCE_MAPPING = {
    "decode": {"data.json": "json"},
    "fields": {"phone_number": '"data.json".phone_number[0]'},
    "unmapped": "ignore",
}
BOUNDARY = "leadgate-test-boundary"


def _auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Token {tenant.token}"}


def _multipart(fields: dict[str, str]) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    return ("".join(parts) + f"--{BOUNDARY}--\r\n").encode()


def _jotform_event(session: Session, tenant: Tenant) -> Any:
    body = _multipart(
        {"formID": "2401", "submissionID": "58001", "rawRequest": json.dumps(JOTFORM_RAW)}
    )
    return make_event(
        session, tenant, body, content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )


def _unbounce_event(session: Session, tenant: Tenant, **values: Any) -> Any:
    body = urlencode({"page_id": "p-1", "data.json": json.dumps(UNBOUNCE_DATA)}).encode()
    return make_event(
        session,
        tenant,
        body,
        content_type="application/x-www-form-urlencoded",
        query_string="campaign=spring",
        **values,
    )


def test_the_payload_view_answers_the_raw_body_or_the_decoded_shape(
    client: FlaskClient, committed_session: Session
) -> None:
    tenant = make_tenant(committed_session, JOTFORM_MAPPING)
    event = _jotform_event(committed_session, tenant)
    committed_session.commit()
    url = f"/api/ingestion-events/{event.id}/payload/"

    raw = client.get(url, headers=_auth(tenant))
    assert raw.status_code == 200
    assert raw.data == event.raw_body
    assert raw.content_type.startswith("multipart/form-data")

    decoded = client.get(url + "?decoded=true", headers=_auth(tenant))
    assert decoded.status_code == 200
    assert decoded.is_json
    assert decoded.get_json() == {
        "formID": "2401",
        "submissionID": "58001",
        "rawRequest": JOTFORM_RAW,
    }
    assert client.get(url + "?decoded=false", headers=_auth(tenant)).data == event.raw_body


def test_an_unbounce_event_is_decoded_with_its_query_string(
    client: FlaskClient, committed_session: Session
) -> None:
    tenant = make_tenant(committed_session, UNBOUNCE_MAPPING)
    event = _unbounce_event(committed_session, tenant)
    committed_session.commit()

    decoded = client.get(
        f"/api/ingestion-events/{event.id}/payload/?decoded=1", headers=_auth(tenant)
    ).get_json()

    assert decoded == {"page_id": "p-1", "data.json": UNBOUNCE_DATA, "campaign": "spring"}


def test_a_value_that_does_not_parse_stays_text_and_a_bad_flag_is_refused(
    client: FlaskClient, committed_session: Session
) -> None:
    tenant = make_tenant(committed_session, JOTFORM_MAPPING)
    event = make_event(
        committed_session,
        tenant,
        urlencode({"rawRequest": "{not json"}).encode(),
        content_type="application/x-www-form-urlencoded",
    )
    other = make_tenant(committed_session)
    committed_session.commit()
    url = f"/api/ingestion-events/{event.id}/payload/"

    shown = client.get(url + "?decoded=true", headers=_auth(tenant)).get_json()
    assert shown == {"rawRequest": "{not json"}
    refused = client.get(url + "?decoded=maybe", headers=_auth(tenant))
    assert refused.status_code == 400
    assert "decoded" in refused.get_json()["errors"]
    assert client.get(url + "?decoded=true", headers=_auth(other)).status_code == 404


def test_a_payload_key_in_a_decoded_value_is_never_shown(
    client: FlaskClient, committed_session: Session
) -> None:
    tenant = make_tenant(
        committed_session,
        {"decode": {"rawRequest": "json"}, "unmapped": "ignore"},
        auth="payload-key",
        payload_key_path="rawRequest.leadgate_key",
        payload_key_hash="0" * 64,
    )
    inner = {"leadgate_key": "k-0123456789abcdef", "q4_phone": {"full": "2024561414"}}
    event = make_event(committed_session, tenant, {"rawRequest": json.dumps(inner)})
    committed_session.commit()

    shown = client.get(
        f"/api/ingestion-events/{event.id}/payload/?decoded=true", headers=_auth(tenant)
    )

    assert shown.get_json() == {"rawRequest": {"q4_phone": {"full": "2024561414"}}}
    assert b"k-0123456789abcdef" not in shown.data


def test_the_dry_run_shows_the_decoded_payload(
    client: FlaskClient, committed_session: Session
) -> None:
    tenant = make_tenant(committed_session, JOTFORM_MAPPING)
    committed_session.commit()
    form = {"formID": "2401", "rawRequest": json.dumps(JOTFORM_RAW)}

    answer = post_payload(
        client,
        tenant.config_id,
        "dry-run",
        urlencode(form),
        tenant.token,
        content_type="application/x-www-form-urlencoded",
    )

    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["would"] == "create"
    assert body["payload"] == {"formID": "2401", "rawRequest": JOTFORM_RAW}
    assert body["lead"]["phone_number"] == "+12024561414"


def test_the_impact_report_lists_events_with_their_decoded_payload(
    db_session: Session,
) -> None:
    # The config maps nothing yet: its Unbounce events failed; the candidate decodes data.json.
    tenant = make_tenant(db_session, {"unmapped": "ignore"})
    event = _unbounce_event(db_session, tenant, status=EventStatus.failed)
    config = db_session.get(IngestionConfig, tenant.config_id)
    assert config is not None

    report = mapping_impact(db_session, config, UNBOUNCE_MAPPING)

    [listed] = report["events"]
    assert (listed["event"], listed["before"], listed["after"]) == (str(event.id), "fail", "create")
    assert listed["payload"] == {"page_id": "p-1", "data.json": UNBOUNCE_DATA, "campaign": "spring"}
