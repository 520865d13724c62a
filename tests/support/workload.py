"""Persons and the requests a provider sends about them, recorded for the invariant checker.

Every request names the person's phone and email (so the create endpoint's duplicate rule and the
upsert's match always find the same person), varies how it spells them, sometimes leaves the
external id out, and sets ``lead_source`` and ``metadata.n`` to values unique to it, so the checker
can tell which request a lead's state came from. Creates carry ``min_reengagement_days: 0`` and
count as reengagements once the lead exists.
"""

from __future__ import annotations

import random
from typing import Any

from tests.support.invariants import Person, SentRequest

PHONE_FORMATS = ["({a}) {b}-{c}", "{a}.{b}.{c}", "+1{a}{b}{c}", "{a}{b}{c}", "1-{a}-{b}-{c}"]


def make_person(tag: str, index: int) -> Person:
    """Person ``index`` of a scenario: unique identifiers within the scenario's organization."""
    digits = f"415{200 + index // 10000:03d}{index % 10000:04d}"
    return Person(
        key=f"{tag}-{index}",
        identifiers={
            "external_id": f"{tag}-{index}",
            "phone_number": "+1" + digits,
            "email": f"{tag.lower()}.{index}@example.com",
        },
    )


def person_body(person: Person, rng: random.Random, with_external_id: bool) -> dict[str, Any]:
    """The person's identifiers in one of the spellings a provider might use."""
    digits = person.identifiers["phone_number"][2:]
    email = person.identifiers["email"]
    body: dict[str, Any] = {
        "phone_number": rng.choice(PHONE_FORMATS).format(a=digits[:3], b=digits[3:6], c=digits[6:]),
        "email": email.upper() if rng.random() < 0.3 else email,
    }
    if with_external_id:
        body["external_id"] = person.identifiers["external_id"]
    return body


def make_request(
    person: Person, step: int, rng: random.Random, endpoint: str = "upsert", **extra: Any
) -> SentRequest:
    """The person's request number ``step``: identifiers plus values unique to this request."""
    with_external_id = endpoint == "create" or step == 0 or rng.random() < 0.6
    body = person_body(person, rng, with_external_id)
    source = f"{person.key}/s{step}"
    body.update({"lead_source": source, "metadata": {"n": step}})
    if endpoint == "create":
        body["min_reengagement_days"] = 0
    body.update(extra)
    return SentRequest(
        person=person.key,
        endpoint=endpoint,
        body=body,
        checked={"lead_source": source, "metadata.n": step},
    )


def interleaved_requests(
    persons: list[Person], per_person: int, seed: int, creates_every: int = 4
) -> list[SentRequest]:
    """``per_person`` requests for each person, rounds interleaved across persons.

    Step 0 is a full upsert; every ``creates_every``-th later step is a create (a reengagement).
    Within a round the persons come in a shuffled order.
    """
    rng = random.Random(seed)
    requests: list[SentRequest] = []
    for step in range(per_person):
        order = list(persons)
        rng.shuffle(order)
        for person in order:
            reengage = step > 0 and creates_every > 0 and step % creates_every == 0
            requests.append(make_request(person, step, rng, "create" if reengage else "upsert"))
    return requests
