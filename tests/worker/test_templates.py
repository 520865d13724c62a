"""Provider templates (worker/ingest/templates): each one, from a sample payload in the shape its
provider publishes (our own values), through HTTP and a real worker to a lead; and a resend is
the same event."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from leadgate.cli import records
from models import Campaign, Organization
from models.enums import AuthMode
from tests.common.test_payloads import MULTIPART, multipart_body
from tests.support.api import get_lead
from tests.support.factories import make_token
from worker.config_credentials import CredentialOptions
from worker.ingest.mapping import compile_mapping
from worker.ingest.templates import (
    TemplateNotFound,
    get_template,
    template_names,
    template_summaries,
)

KEY = "pk-5d1e8a2b7c3f9e04"
SECRET = "whsec-template-test-secret"
FERNET_KEY = Fernet.generate_key().decode()
TEMPLATES = [
    "facebook-lead-ads", "google-ads", "hubspot", "jotform", "sela-standard", "typeform",
    "unbounce", "zapier",
]  # fmt: skip


def test_every_template_is_listed_and_its_mapping_compiles() -> None:
    assert template_names() == TEMPLATES
    for name in TEMPLATES:
        template = get_template(name)
        compile_mapping(template["mapping"])
        assert template["auth"]["mode"] in {mode.value for mode in AuthMode}
        assert template["needs"], f"{name} says nothing of what the provider needs"


def test_summaries_name_the_auth_mode_and_settings() -> None:
    by_name = {summary["name"]: summary for summary in template_summaries()}

    assert by_name["typeform"]["auth_mode"] == "signature"
    assert by_name["typeform"]["auth_settings"]["signature_header"] == "Typeform-Signature"
    assert by_name["google-ads"]["auth_settings"] == {"payload_key_path": "google_key"}
    assert by_name["google-ads"]["idempotency_key"] == "lead_id"


def test_an_unknown_template_lists_the_names_there_are() -> None:
    with pytest.raises(TemplateNotFound, match="google-ads"):
        get_template("myspace")


def test_a_template_is_a_copy_the_caller_may_change() -> None:
    get_template("zapier")["mapping"]["fields"].clear()

    assert get_template("zapier")["mapping"]["fields"]


# --- end to end ----------------------------------------------------------------------------


@dataclass
class Delivery:
    """How a provider sends its sample: body, content type, headers, query string."""

    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    query: str = ""


@dataclass
class Sample:
    """A provider's sample and the lead it should make."""

    deliver: Callable[[str], Delivery]  # given the org's token (for token configs)
    expect: dict[str, Any]
    metadata: dict[str, Any]


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value).encode()


def _token_header(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}"}


GOOGLE_ADS = {
    "lead_id": "TeSter-123-ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789",
    "user_column_data": [
        {"column_name": "Full Name", "string_value": "Dana Whitfield", "column_id": "FULL_NAME"},
        {"column_name": "User Phone", "string_value": "+1 415-555-0171",
         "column_id": "PHONE_NUMBER"},
        {"column_name": "User Email", "string_value": "Dana.W@example.com", "column_id": "EMAIL"},
        {"column_name": "Postal Code", "string_value": "94107", "column_id": "POSTAL_CODE"},
    ],
    "api_version": "1.0",
    "form_id": 40000000001,
    "campaign_id": 20000000002,
    "google_key": KEY,
    "is_test": True,
    "gcl_id": "EAIaIQobChMI-test",
    "adgroup_id": 30000000003,
    "creative_id": 50000000004,
}  # fmt: skip

FACEBOOK = {
    "id": "1234567890123456",
    "created_time": "2026-03-01T10:00:00+0000",
    "ad_id": "23850000000000001",
    "form_id": "987654321098765",
    "campaign_id": "23850000000000002",
    "platform": "fb",
    "field_data": [
        {"name": "full_name", "values": ["Omar Haddad"]},
        {"name": "email", "values": ["omar.haddad@example.com"]},
        {"name": "phone_number", "values": ["+14155550172"]},
        {"name": "city", "values": ["Oakland"]},
    ],
}

TYPEFORM = {
    "event_id": "01HTESTEVENT00000000000001",
    "event_type": "form_response",
    "form_response": {
        "form_id": "lT4Z3j",
        "token": "a3a12ec67a1365927098a606107fac15",
        "landed_at": "2026-03-01T10:04:00Z",
        "submitted_at": "2026-03-01T10:05:00Z",
        "hidden": {"utm_source": "newsletter"},
        "definition": {"id": "lT4Z3j", "title": "Get a quote", "fields": []},
        "answers": [
            {"type": "text", "text": "Mei",
             "field": {"id": "f1", "type": "short_text", "ref": "first_name"}},
            {"type": "text", "text": "Tanaka",
             "field": {"id": "f2", "type": "short_text", "ref": "last_name"}},
            {"type": "email", "email": "mei.tanaka@example.com",
             "field": {"id": "f3", "type": "email", "ref": "e1"}},
            {"type": "phone_number", "phone_number": "+14155550173",
             "field": {"id": "f4", "type": "phone_number", "ref": "p1"}},
            {"type": "boolean", "boolean": True,
             "field": {"id": "f5", "type": "yes_no", "ref": "homeowner"}},
        ],
    },
}  # fmt: skip

UNBOUNCE_DATA = {
    "name": ["Lena Park"],
    "email": ["lena.park@example.com"],
    "phone_number": ["415-555-0174"],
    "ip_address": ["203.0.113.7"],
    "time_submitted": ["10:06 AM UTC"],
    "date_submitted": ["2026-03-01"],
    "page_uuid": ["4a2b6c8d-0000-4000-8000-00000000beef"],
    "variant": ["a"],
    "page_url": ["http://unbouncepages.com/quote/"],
}

JOTFORM_RAW = {
    "slug": "submit/231234567890/",
    "q3_name": {"first": "Ravi", "last": "Menon"},
    "q4_email": "ravi.menon@example.com",
    "q5_phoneNumber": {"full": "(415) 555-0175"},
    "q6_notes": "evenings are best",
    "event_id": "1772359560000_231234567890_AbCdEfG",
}

HUBSPOT = {
    "vid": 1051,
    "canonical-vid": 1051,
    "portal-id": 62515,
    "is-contact": True,
    "properties": {
        "firstname": {"value": "Ines", "versions": [{"value": "Ines", "source-type": "FORM"}]},
        "lastname": {"value": "Duarte"},
        "email": {"value": "ines.duarte@example.com"},
        "phone": {"value": "(415) 555-0176"},
        "company": {"value": "Duarte Roofing"},
        "lifecyclestage": {"value": "lead"},
        "lastmodifieddate": {"value": "1772359500000"},
    },
}

ZAPIER = {
    "event_id": "zap-evt-0001",
    "first_name": "Sam",
    "last_name": "Okafor",
    "phone": "415.555.0177",
    "email": "sam.okafor@example.com",
    "state": "California",
    "source_campaign": "spring",
}

SELA = {
    "phone_number": "+14155550178",
    "email": "kim@example.com",
    "external_id": "crm-778",
    "us_state": "WA",
    "lead_source": "Website",
    "metadata": {"first_name": "Kim"},
}


def _typeform_delivery(_token: str) -> Delivery:
    body = _json(TYPEFORM)
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).digest()
    return Delivery(
        body, headers={"Typeform-Signature": "sha256=" + base64.b64encode(digest).decode()}
    )


def _unbounce_delivery(_token: str) -> Delivery:
    form = {
        "page_id": "4a2b6c8d-0000-4000-8000-00000000beef",
        "page_url": "http://unbouncepages.com/quote/",
        "variant": "a",
        "data.json": json.dumps(UNBOUNCE_DATA),
        "data.xml": "<?xml version='1.0'?><form_data></form_data>",
    }
    return Delivery(
        urllib.parse.urlencode(form).encode(),
        "application/x-www-form-urlencoded",
        query=f"leadgate_key={KEY}",
    )


def _jotform_delivery(_token: str) -> Delivery:
    body = multipart_body(
        ("formID", "231234567890", None),
        ("submissionID", "5830000000000000001", None),
        ("webhookURL", "https://leads.example.com/api/lead-ingestion/x/upsert/", None),
        ("ip", "203.0.113.8", None),
        ("formTitle", "Request a call", None),
        ("pretty", "Name:Ravi Menon, E-mail:ravi.menon@example.com", None),
        ("username", "acme", None),
        ("rawRequest", json.dumps(JOTFORM_RAW), None),
        ("type", "WEB", None),
    )
    return Delivery(body, MULTIPART, query=f"leadgate_key={KEY}")


SAMPLES: dict[str, Sample] = {
    "google-ads": Sample(
        lambda _token: Delivery(_json(GOOGLE_ADS)),
        {"phone_number": "+14155550171", "email": "dana.w@example.com",
         "external_id": GOOGLE_ADS["lead_id"], "lead_source": "Google Ads"},
        {"full_name": "Dana Whitfield", "postal_code": "94107", "google_form_id": "40000000001",
         "is_test": True},
    ),
    "facebook-lead-ads": Sample(
        lambda token: Delivery(_json(FACEBOOK), headers=_token_header(token)),
        {"phone_number": "+14155550172", "email": "omar.haddad@example.com",
         "external_id": "1234567890123456", "lead_source": "Facebook Lead Ads"},
        {"full_name": "Omar Haddad", "city": "Oakland", "facebook_form_id": "987654321098765"},
    ),
    "typeform": Sample(
        _typeform_delivery,
        {"phone_number": "+14155550173", "email": "mei.tanaka@example.com",
         "external_id": "a3a12ec67a1365927098a606107fac15", "lead_source": "Typeform"},
        {"first_name": "Mei", "last_name": "Tanaka", "hidden": {"utm_source": "newsletter"}},
    ),
    "unbounce": Sample(
        _unbounce_delivery,
        {"phone_number": "+14155550174", "email": "lena.park@example.com",
         "lead_source": "Unbounce"},
        {"full_name": "Lena Park", "variant": "a", "submitted": "2026-03-01 10:06 AM UTC"},
    ),
    "jotform": Sample(
        _jotform_delivery,
        {"phone_number": "+14155550175", "email": "ravi.menon@example.com",
         "external_id": "5830000000000000001", "lead_source": "JotForm"},
        {"first_name": "Ravi", "last_name": "Menon", "form_title": "Request a call"},
    ),
    "hubspot": Sample(
        lambda token: Delivery(_json(HUBSPOT), headers=_token_header(token)),
        {"phone_number": "+14155550176", "email": "ines.duarte@example.com",
         "external_id": "1051", "lead_source": "HubSpot"},
        {"first_name": "Ines", "company": "Duarte Roofing", "hubspot_portal_id": "62515"},
    ),
    "zapier": Sample(
        lambda token: Delivery(_json(ZAPIER), headers=_token_header(token)),
        {"phone_number": "+14155550177", "email": "sam.okafor@example.com", "us_state": "CA"},
        {"first_name": "Sam", "source_campaign": "spring", "last_name": "Okafor"},
    ),
    "sela-standard": Sample(
        lambda token: Delivery(
            _json(SELA), headers=_token_header(token) | {"Idempotency-Key": "sela-778-1"}
        ),
        {"phone_number": "+14155550178", "email": "kim@example.com", "external_id": "crm-778",
         "us_state": "WA", "lead_source": "Website"},
        {"first_name": "Kim"},
    ),
}  # fmt: skip


@pytest.fixture
def app(services: Any) -> Flask:
    """The webhook app with a secret key to read signing secrets."""
    from webhook.app import create_app

    return create_app({"TESTING": True, "AUTH_CACHE_SECONDS": 0, "SECRET_KEYS": (FERNET_KEY,)})


def _config_from_template(session: Session, name: str) -> tuple[str, str]:
    """A config started from the template, as `leadgate config create --template` makes it."""
    template = get_template(name)
    # The samples use the fictional 555-01XX numbers and example.com, as the factories do.
    organization = Organization(name=f"org-{name}", blocks_reserved_identifiers=False)
    session.add(organization)
    session.flush()
    campaign = Campaign(organization_id=organization.id, name=name)
    session.add(campaign)
    session.flush()
    mode = AuthMode(template["auth"]["mode"])
    secrets: dict[str, str] = {
        AuthMode.payload_key: {"payload_key": KEY},
        AuthMode.signature: {"signing_secret": SECRET},
    }.get(mode, {})
    credentials: dict[str, Any] = template["auth"]["settings"] | secrets
    options = records.ConfigOptions(
        name=template["title"],
        mapping=template["mapping"],
        auth_mode=mode,
        credentials=CredentialOptions(**credentials, secret_keys=(FERNET_KEY,)),
        ignore_file_parts=template.get("ignore_file_parts"),
    )
    config = records.create_config(session, campaign.id, options)
    token = make_token(session, organization.id)
    session.commit()
    return str(config.id), token


def _send(client: FlaskClient, config_id: str, delivery: Delivery) -> Any:
    query = "&".join(part for part in (delivery.query, "wait=20") if part)
    return client.post(
        f"/api/lead-ingestion/{config_id}/upsert/?{query}",
        data=delivery.body,
        content_type=delivery.content_type,
        headers=delivery.headers,
    )


@pytest.mark.integration
@pytest.mark.parametrize("name", TEMPLATES)
def test_a_template_makes_a_lead_from_its_providers_sample_and_a_resend_is_the_same_event(
    name: str, client: FlaskClient, committed_session: Session, celery_worker: Any
) -> None:
    config_id, token = _config_from_template(committed_session, name)
    sample = SAMPLES[name]

    first = _send(client, config_id, sample.deliver(token))
    resend = _send(client, config_id, sample.deliver(token))

    assert first.status_code == 201, first.get_data(as_text=True)
    event_id = first.headers["Ingestion-Event-Id"]
    assert resend.headers["Ingestion-Event-Id"] == event_id
    assert resend.headers["Idempotent-Replayed"] == "true"
    event = client.get(f"/api/ingestion-events/{event_id}/", headers=_token_header(token))
    lead = get_lead(client, token, event.get_json()["lead_id"])
    assert {key: lead[key] for key in sample.expect} == sample.expect
    assert {key: lead["metadata"].get(key) for key in sample.metadata} == sample.metadata
    assert KEY not in json.dumps(lead) and SECRET not in json.dumps(lead)
