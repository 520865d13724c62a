"""A corpus of hostile ingestion requests and what each must come to.

Every entry is one request to an ingestion endpoint. ``answers`` are the HTTP statuses it may
get; when it is accepted, ``outcomes`` are the terminal statuses its event may end in. An entry
that a careful provider could mean (a huge metadata value, confusable Unicode, SQL-looking text)
is accepted and either applied or failed with field errors; one that is not a JSON object or a
form at all is refused at the door with a 4xx. Nothing may answer 5xx, and no event may stay
queued or processing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

PHONE = "2024561111"
PHONE_E164 = "+12024561111"
EMAIL = "jane.doe@example.com"

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"

# worker/ingest/emails.py and phones.py quote the value received in their error messages, so an
# almost-valid address or number (a trailing dot, a zero-width space) comes back whole in the
# event's errors and the 422 answer.

ACCEPTED = frozenset({202})
# Waiting answers (``Prefer: wait=N``): the lead (201 created, 200 otherwise) or the errors.
WAITED = frozenset({200, 201, 422})
DONE = frozenset({"done"})
FAILED = frozenset({"failed"})


@dataclass(frozen=True)
class Hostile:
    """One hostile request and the answers and event outcomes it may have."""

    name: str
    body: bytes
    answers: frozenset[int]
    outcomes: frozenset[str] = frozenset()
    content_type: str | None = JSON
    endpoint: str = "upsert"
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    mapping: dict[str, Any] = field(default_factory=dict)
    # Fields the lead must have once the event is done (metadata compared key by key).
    lead: dict[str, Any] = field(default_factory=dict)
    # Values that are personal data in this request: no error body may repeat them.
    personal: tuple[str, ...] = (PHONE, PHONE_E164, EMAIL)
    # A known defect outside the webhook that makes this entry fail, until it is fixed.
    known_defect: str | None = None


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def _lead(**extra: object) -> dict[str, object]:
    return {"phone_number": PHONE, "email": EMAIL, **extra}


def accepted(
    name: str, body: bytes | dict[str, Any], outcomes: frozenset[str], **options: Any
) -> Hostile:
    """A request the webhook must take (202) and the worker must finish as ``outcomes``."""
    raw = body if isinstance(body, bytes) else _json(body)
    answers = WAITED if "wait" in options.get("query", "") else ACCEPTED
    return Hostile(name, raw, options.pop("answers", answers), outcomes, **options)


def refused(name: str, body: bytes | dict[str, Any], *answers: int, **options: Any) -> Hostile:
    """A request the webhook must refuse with one of ``answers`` (each a 4xx)."""
    raw = body if isinstance(body, bytes) else _json(body)
    return Hostile(name, raw, frozenset(answers), **options)


def _nested(depth: int) -> dict[str, object]:
    value: dict[str, object] = {"leaf": True}
    for _ in range(depth - 1):
        value = {"n": value}
    return value


# Confusable addresses are other addresses: kept as they are (normalized), never folded into
# the ASCII look-alike. Posted form → stored form.
CONFUSABLE_EMAILS = {
    "cyrillic-o-local": ("jane.d\u043ee@example.com", "jane.d\u043ee@example.com"),
    "cyrillic-a-domain": ("jane.doe@ex\u0430mple.com", "jane.doe@ex\u0430mple.com"),
    "punycode-domain": ("jane.doe@xn--exmple-cua.com", "jane.doe@ex\u00e4mple.com"),
    "uppercase": ("JANE.DOE@EXAMPLE.COM", EMAIL),
}
_INVALID_EMAILS = {
    "fullwidth-at": "jane.doe\uff20example.com",
    "zero-width-space": "jane.doe@example.com\u200b",
    "right-to-left-override": "jane.doe@\u202eexample.com",
    "nul": "jane\u0000@example.com",
    "trailing-dot": "jane.doe@example.com.",
}

CORPUS: list[Hostile] = [
    # --- Shape: nesting, sizes, counts --------------------------------------------------------
    accepted("nesting-at-the-limit", _lead(deep=_nested(30)), DONE),
    refused("nesting-past-the-limit", _lead(deep=_nested(40)), 400),
    refused("nesting-100k-brackets", b"[" * 100_000 + b"]" * 100_000, 400, 413),
    refused("nesting-100k-objects", b'{"a":' * 50_000 + b"1" + b"}" * 50_000, 400, 413),
    accepted("long-string-200k-in-metadata", _lead(notes="x" * 200_000), DONE),
    accepted("long-string-in-external-id", _lead(external_id="x" * 10_000), FAILED),
    accepted("long-string-in-lead-source", _lead(lead_source="y" * 100_000), FAILED),
    accepted("long-key-100k", _lead(**{"k" * 100_000: 1}), DONE),
    accepted("long-array-19k", _lead(items=list(range(19_000))), DONE),
    accepted("many-keys-12k", _lead(**{f"k{i}": i for i in range(12_000)}), DONE),
    refused("too-many-values", _lead(items=[0] * 21_000), 400),
    refused("body-over-the-limit", _lead(notes="z" * 300_000), 413),
    # --- Numbers -------------------------------------------------------------------------------
    refused("nan-literal", b'{"phone_number": "2024561111", "x": NaN}', 400),
    refused("infinity-literal", b'{"phone_number": "2024561111", "x": Infinity}', 400),
    refused("minus-infinity-literal", b'{"phone_number": "2024561111", "x": -Infinity}', 400),
    accepted(
        "float-overflowing-to-infinity", b'{"phone_number": "2024561111", "x": 1e400}', FAILED
    ),
    accepted("huge-integer-in-lead-type", _lead(lead_type=10**400), FAILED),
    accepted("huge-integer-in-representative", _lead(representative=10**400), FAILED),
    accepted("huge-integer-in-external-id", _lead(external_id=10**400), FAILED),
    accepted("huge-integer-as-phone", {"phone_number": 10**400}, FAILED),
    accepted("huge-integer-in-metadata", _lead(score=10**400), DONE),
    accepted("huge-negative-in-metadata-object", _lead(metadata={"n": -(10**400)}), DONE),
    accepted("min-reengagement-days-huge", _lead(min_reengagement_days=10**400), FAILED),
    refused("integer-of-5000-digits", b'{"x": 1' + b"0" * 5000 + b"}", 400),
    accepted("float-phone", {"phone_number": 2024561111.0}, FAILED),
    accepted("boolean-phone", {"phone_number": True}, FAILED),
    # --- Encodings: invalid UTF-8, NUL, surrogates ---------------------------------------------
    refused("invalid-utf8", b'{"phone_number": "2024561111", "x": "\xff\xfe"}', 400),
    refused("overlong-utf8-slash", b'{"x": "\xc0\xaf"}', 400),
    refused("utf8-encoded-surrogate", b'{"x": "\xed\xa0\x80"}', 400),
    refused("utf16-body", '{"phone_number": "2024561111"}'.encode("utf-16"), 400),
    refused("utf8-bom", b'\xef\xbb\xbf{"phone_number": "2024561111"}', 400),
    refused("raw-nul-in-json-string", b'{"x": "a\x00b"}', 400),
    accepted("nul-in-metadata-value", _lead(note="a\u0000b"), FAILED),
    accepted("nul-in-key", _lead(**{"bad\u0000key": 1}), FAILED),
    accepted("nul-in-metadata-object-key", _lead(metadata={"k\u0000": 1}), FAILED),
    accepted("nul-in-phone", {"phone_number": "202456\u00001111"}, FAILED),
    accepted("nul-in-status", _lead(status="new\u0000"), FAILED),
    accepted("nul-only-key", _lead(**{"\u0000": "\u0000"}), FAILED),
    accepted(
        "lone-high-surrogate-value", b'{"phone_number": "2024561111", "x": "\\ud800"}', FAILED
    ),
    accepted("lone-low-surrogate-key", b'{"phone_number": "2024561111", "\\udc00": 1}', FAILED),
    accepted(
        "lone-surrogate-in-email",
        b'{"phone_number": "2024561111", "email": "\\ud800@x.co"}',
        FAILED,
    ),
    accepted("lone-surrogate-in-phone", b'{"phone_number": "202\\ud8004561111"}', FAILED),
    accepted(
        "surrogate-pair-emoji", b'{"phone_number": "2024561111", "x": "\\ud83d\\ude00"}', DONE
    ),
    accepted("bidi-and-zero-width-in-metadata", _lead(name="\u202eevil\u200b\ufeff"), DONE),
    # --- Emails: confusables are other addresses, broken ones are errors -----------------------
    *(
        accepted(
            f"email-{name}",
            {"phone_number": PHONE, "email": posted},
            DONE,
            lead={"email": stored},
            personal=(posted, stored, PHONE, PHONE_E164),
        )
        for name, (posted, stored) in CONFUSABLE_EMAILS.items()
    ),
    *(
        accepted(
            f"email-{name}",
            {"phone_number": PHONE, "email": email},
            FAILED,
        )
        for name, email in _INVALID_EMAILS.items()
    ),
    # --- Text that looks like code ------------------------------------------------------------
    accepted(
        "sql-in-external-id",
        _lead(external_id="1' OR '1'='1"),
        DONE,
        lead={"external_id": "1' OR '1'='1"},
    ),
    accepted(
        "sql-in-metadata",
        _lead(note="Robert'); DROP TABLE leads;--"),
        DONE,
        lead={"metadata": {"note": "Robert'); DROP TABLE leads;--"}},
    ),
    accepted(
        "sql-as-email", {"phone_number": PHONE, "email": "'; DROP TABLE leads;--@x.co"}, FAILED
    ),
    accepted("sql-as-key", _lead(**{"x'; DELETE FROM leads; --": 1}), DONE),
    accepted(
        "jmespath-as-values",
        _lead(note="field_data[?name=='email'].values[0] | [0]"),
        DONE,
        lead={"metadata": {"note": "field_data[?name=='email'].values[0] | [0]"}},
    ),
    # phonenumbers reads a number out of surrounding text ("Tel: 202-456-1111"); the
    # expression around it is text, never evaluated.
    accepted(
        "jmespath-around-a-phone",
        {"phone_number": "contact.phone || `2024561111`"},
        DONE,
        lead={"phone_number": PHONE_E164},
    ),
    accepted("jmespath-as-keys", _lead(**{"[?a]": 1, "@": 2, "*": 3, "`x`": 4}), DONE),
    accepted(
        "jmespath-through-a-mapping",
        {"contact": {"phone": PHONE, "x": "contact.phone", "y": "@"}, "@": "x"},
        DONE,
        mapping={
            "fields": {
                "phone_number": "contact.phone",
                "metadata.x": "contact.x",
                "metadata.y": "contact.y",
            }
        },
        lead={"metadata": {"x": "contact.phone", "y": "@", "@": "x"}},
    ),
    accepted("template-braces-in-values", _lead(note="{contact.phone} {{}} {"), DONE),
    accepted("operator-object-as-phone", {"phone_number": {"$gt": ""}}, FAILED),
    accepted("list-as-phone", {"phone_number": [PHONE]}, FAILED),
    accepted("metadata-not-an-object", _lead(metadata=[1, 2, 3]), FAILED),
    accepted("prototype-keys", _lead(__proto__={"admin": True}, constructor={"x": 1}), DONE),
    # --- Duplicate keys: the last one wins, as in every JSON parser's default -----------------
    accepted(
        "duplicate-keys",
        b'{"phone_number": "bad", "phone_number": "2024561111"}',
        DONE,
        lead={"phone_number": PHONE_E164},
    ),
    accepted(
        "duplicate-keys-last-bad", b'{"phone_number": "2024561111", "phone_number": "x"}', FAILED
    ),
    # --- Forms with odd encodings -------------------------------------------------------------
    accepted(
        "form-plain",
        b"phone_number=2024561111&email=jane.doe%40example.com",
        DONE,
        content_type=FORM,
    ),
    accepted("form-encoded-dashes", b"phone_number=202%2D456%2D1111", DONE, content_type=FORM),
    accepted("form-bad-percent-escape", b"phone_number=2024561111&a=%ZZ", DONE, content_type=FORM),
    accepted("form-nul", b"phone_number=2024561111&a=x%00y", FAILED, content_type=FORM),
    accepted(
        "form-repeated-phone",
        b"phone_number=2024561111&phone_number=2024561112",
        FAILED,
        content_type=FORM,
    ),
    accepted("form-empty", b"", FAILED, content_type=FORM),
    accepted(
        "form-semicolons",
        b"phone_number=2024561111;a=1",
        FAILED,
        content_type=FORM,
    ),
    accepted(
        "form-charset-param",
        b"phone_number=2024561111",
        DONE,
        content_type=FORM + "; charset=utf-8",
    ),
    refused("form-invalid-utf8-escape", b"phone_number=2024561111&a=%ff", 400, content_type=FORM),
    accepted(
        "form-latin1-body",
        b"phone_number=2024561111&a=\xe9&b=%E9",
        DONE,
        content_type=FORM + "; charset=iso-8859-1",
    ),
    refused(
        "form-invalid-utf8-byte",
        b"phone_number=2024561111&a=\xe9",
        400,
        content_type=FORM,
    ),
    refused(
        "form-unknown-charset", b"phone_number=2024561111", 400, content_type=FORM + "; charset=x"
    ),
    refused(
        "form-charset-not-text",
        b"phone_number=2024561111",
        400,
        content_type=FORM + "; charset=zlib",
    ),
    refused(
        "form-too-many-pairs",
        "&".join(f"k{i}=v" for i in range(25_000)).encode(),
        400,
        content_type=FORM,
    ),
    # --- Query strings ------------------------------------------------------------------------
    accepted("query-supplies-the-phone", {}, DONE, query="phone_number=2024561111"),
    accepted("query-huge-value", {"phone_number": PHONE}, DONE, query="note=" + "q" * 200_000),
    refused(
        "query-too-many-pairs",
        {"phone_number": PHONE},
        400,
        query="&".join(f"q{i}=1" for i in range(25_000)),
    ),
    refused("query-invalid-utf8", {"phone_number": PHONE}, 400, query="a=%ff"),
    accepted("query-nul-escape", {"phone_number": PHONE}, FAILED, query="a=%00"),
    # --- Content types ------------------------------------------------------------------------
    refused("text-plain-with-json", _lead(), 415, content_type="text/plain"),
    refused("xml-with-json", _lead(), 415, content_type="application/xml"),
    # multipart/form-data is taken (fields only); a JSON body under that label has no parts.
    refused("multipart-with-json", _lead(), 400, content_type="multipart/form-data; boundary=x"),
    refused("multipart-without-boundary", b"--x--\r\n", 400, content_type="multipart/form-data"),
    refused("json-suffix-type", _lead(), 415, content_type="application/vnd.api+json"),
    refused("no-content-type", _lead(), 415, content_type=None),
    # A JSON object labelled as a form (curl --data without a Content-Type) is read as JSON.
    accepted(
        "form-type-with-json-body", b'{"phone_number": "2024561111"}', DONE, content_type=FORM
    ),
    # Not a whole JSON object: a form, as labelled, of one key with an empty value; no phone.
    accepted(
        "form-type-with-broken-json", b'{"phone_number": "2024561111"', FAILED, content_type=FORM
    ),
    accepted("uppercase-json-type", _lead(), DONE, content_type="APPLICATION/JSON; Charset=UTF-8"),
    # --- Bodies that are not an object --------------------------------------------------------
    refused("empty-body", b"", 400),
    refused("whitespace-body", b"  \n\t ", 400),
    refused("null-body", b"null", 400),
    refused("array-body", b"[]", 400),
    refused("string-body", b'"2024561111"', 400),
    refused("number-body", b"1", 400),
    refused("truncated-json", b'{"phone_number": "2024561111"', 400),
    refused("trailing-garbage", b'{"phone_number": "2024561111"} x', 400),
    refused("single-quotes", b"{'phone_number': '2024561111'}", 400),
    # --- Waiting and idempotency controls -----------------------------------------------------
    accepted("prefer-wait-abc", _lead(), DONE, headers={"Prefer": "wait=abc"}),
    accepted("prefer-wait-exponent", _lead(), DONE, headers={"Prefer": "wait=1e999"}),
    accepted("prefer-wait-negative", _lead(), DONE, headers={"Prefer": "wait=-5"}),
    refused("query-wait-abc", _lead(), 400, query="wait=abc"),
    refused("query-wait-nan", _lead(), 400, query="wait=nan"),
    refused("query-wait-negative", _lead(), 400, query="wait=-1"),
    # ?wait above the documented maximum (30 s) is refused; only Prefer: wait is capped.
    refused("query-wait-infinity", _lead(), 400, query="wait=inf"),
    refused("query-wait-above-the-maximum", _lead(), 400, query="wait=30.001"),
    accepted("query-wait-and-invalid-payload", {"phone_number": "x"}, FAILED, query="wait=10"),
    accepted("idempotency-key-with-nul", _lead(), DONE, headers={"Idempotency-Key": "k\u0000"}),
    accepted("idempotency-key-too-long", _lead(), DONE, headers={"Idempotency-Key": "k" * 300}),
    accepted(
        "idempotency-path-with-nul",
        _lead(event_id="e\u0000"),
        DONE,
        mapping={"idempotency_key": "event_id"},
    ),
    accepted(
        "idempotency-path-with-surrogate",
        b'{"phone_number": "2024561111", "event_id": "\\udfff"}',
        DONE,
        mapping={"idempotency_key": "event_id"},
    ),
    accepted(
        "idempotency-path-huge-integer",
        _lead(event_id=10**400),
        DONE,
        mapping={"idempotency_key": "event_id"},
    ),
    accepted(
        "idempotency-path-object",
        _lead(event_id={"a": [1, {"b": None}]}),
        DONE,
        mapping={"idempotency_key": "event_id"},
    ),
    # --- The create endpoint takes the same beating -------------------------------------------
    accepted("create-nul-in-key", _lead(**{"\u0000": 1}), FAILED, endpoint="create"),
    accepted("create-huge-integer", _lead(lead_type=10**400), FAILED, endpoint="create"),
    refused("create-nan", b'{"x": NaN}', 400, endpoint="create"),
    refused("dry-run-nan", b'{"x": NaN}', 400, endpoint="dry-run"),
]
