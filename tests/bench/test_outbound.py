"""B7's parts that need no stack: the counting receiver and the report rows."""

from __future__ import annotations

import httpx

from bench.outbound import running_receiver
from bench.report import outbound_rows


def test_the_receiver_answers_204_and_counts() -> None:
    with running_receiver() as receiver:
        for _ in range(3):
            answer = httpx.post(receiver.url + "/lead_created", content=b"{}")
            assert answer.status_code == 204
        assert receiver.received == 3


def test_the_rows_give_both_rates_their_ratio_and_deliveries_per_second() -> None:
    result = {
        "events": 300,
        "leads_per_s_without": 200.0,
        "leads_per_s_with": 150.0,
        "webhook_cost_ratio": 0.75,
        "outbound": {
            "delivered": 290,
            "deliveries_per_s": 96.7,
            "by_status": {"delivered": 290},
        },
    }

    rows = {metric: value for _, metric, value, _ in outbound_rows(result)}

    assert rows["leads/s without webhooks"] == "200.0"
    assert rows["leads/s with two webhooks"] == "150.0"
    assert rows["webhook_cost_ratio (with / without)"] == "0.750"
    assert rows["deliveries/s"] == "96.7"
    assert rows["deliveries by status"] == "delivered=290"
