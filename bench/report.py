"""The report: a table for people, a JSON file for the record, and the one-line summary."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

Row = tuple[str, str, str, str]


def _number(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _peak(memory: list[dict[str, Any]], role: str) -> float | None:
    values = [process["peak_rss_mb"] for process in memory if process["role"] == role]
    return max(values) if values else None


def _rates(load: dict[str, Any]) -> str:
    return f"{_number(load['target_rps'])} / {_number(load['rps'])}"


def _accept_rows(b1: dict[str, Any]) -> list[Row]:
    leadgate, bare = b1["leadgate"], b1["bare"]
    settings = " ".join(f"{k}={v}" for k, v in b1.get("web_settings", {}).items()) or "n/a"
    fixed_lag = leadgate["fixed_rate"]["send_lag_p99_ms"]
    bare_lag = bare["fixed_rate"]["send_lag_p99_ms"]
    bare_latency = (
        f"{_number(bare['fixed_rate']['p50_ms'], 2)} / {_number(bare['fixed_rate']['p99_ms'], 2)}"
    )
    non_2xx = leadgate["saturation"]["non_2xx"] + leadgate["fixed_rate"]["non_2xx"]
    socket_errors = (
        leadgate["saturation"]["socket_errors"] + leadgate["fixed_rate"]["socket_errors"]
    )
    return [
        ("B1 accept", "web settings (gunicorn config)", settings, ""),
        ("B1 accept", "load generator", b1["load_generator"], ""),
        ("B1 accept", "leadgate saturation req/s", _number(b1["accept_rps"]), ""),
        ("B1 accept", "bare Flask saturation req/s", _number(b1["bare_rps"]), ""),
        ("B1 accept", "accept_ratio", _number(b1["accept_ratio"], 3), ">= 0.5"),
        ("B1 accept", "fixed rate req/s: target / achieved", _rates(leadgate["fixed_rate"]), ""),
        ("B1 accept", "generator send lag p99 ms", _number(fixed_lag, 2), "small"),
        ("B1 accept", "p50 ms at 80%", _number(b1["p50_ms_at_80pct"], 2), ""),
        ("B1 accept", "p99 ms at 80%", _number(b1["p99_ms_at_80pct"], 2), "< 50"),
        ("B1 accept", "bare p50 / p99 ms, same rate", bare_latency, ""),
        ("B1 accept", "bare generator send lag p99 ms", _number(bare_lag, 2), "small"),
        ("B1 accept", "non-2xx / socket errors", f"{non_2xx} / {socket_errors}", "0 / 0"),
        (
            "B1 accept",
            "peak RSS MB per web worker",
            _number(_peak(leadgate["memory"], "web child")),
            "< 150",
        ),
    ]


def _statuses(by_status: dict[str, int]) -> str:
    return ", ".join(f"{status}={count}" for status, count in sorted(by_status.items()))


def _pipeline_rows(name: str, result: dict[str, Any]) -> list[Row]:
    memory = result["memory"]
    masters = f"{_number(_peak(memory, 'web master'))} / {_number(_peak(memory, 'worker master'))}"
    cpu = " / ".join(_number(seconds, 1) for seconds in result["cpu_s"].values())
    lps_target = ">= 300" if name.startswith("B2") else ""
    db_cpu = (
        f"{_number(result.get('database_cpu_s_per_lead'), 5)}"
        f" ({result.get('database_backends', 0)} backends)"
    )
    return [
        (name, "events / persons", f"{result['events']} / {result['persons']}", ""),
        (name, "posted req/s", _number(result["posted"]["rps"]), ""),
        (name, "events by status", _statuses(result["by_status"]), "all done"),
        (name, "wall s (first post to last done)", _number(result["wall_s"], 2), ""),
        (name, "leads/s", _number(result["leads_per_s"]), lps_target),
        (name, "CPU s per lead (web+worker)", _number(result["cpu_s_per_lead"], 5), ""),
        (name, "CPU s web / worker / beat", cpu, ""),
        (name, "CPU s per lead, PostgreSQL backends", db_cpu, ""),
        (name, "machine CPU busy %", _number(result["machine_busy_pct"]), ""),
        (name, "peak RSS MB web worker", _number(_peak(memory, "web child")), "< 150"),
        (name, "peak RSS MB worker process", _number(_peak(memory, "worker child")), "< 250"),
        (name, "peak RSS MB web / worker master", masters, ""),
    ]


def _end_to_end_rows(b2: dict[str, Any]) -> list[Row]:
    rows = _pipeline_rows("B2 end to end", b2)
    raw = b2.get("raw")
    if raw:
        rows.append(("B2 end to end", "raw psycopg loop leads/s", _number(raw["leads_per_s"]), ""))
    rows.append(("B2 end to end", "e2e_ratio", _number(b2.get("e2e_ratio"), 3), ">= 0.5"))
    trips = b2.get("round_trips")
    if trips:
        for key in ("web_per_request", "worker_per_new_lead", "worker_per_update"):
            counts = ", ".join(f"{label}={value:g}" for label, value in trips[key].items())
            rows.append(("B2 end to end", f"round trips {key.replace('_', ' ')}", counts, ""))
    return rows


def _contention_rows(b3: dict[str, Any]) -> list[Row]:
    rows = _pipeline_rows("B3 contention", b3)
    rows.append(("B3 contention", "hot leads", str(b3["hot_leads"]), ""))
    for name, verdict in b3["invariants"].items():
        holds = "holds" if verdict["holds"] else "BROKEN"
        rows.append(("B3 contention", f"{name}", f"{holds}: {verdict['detail']}", "holds"))
    return rows


def _soak_rows(b4: dict[str, Any]) -> list[Row]:
    latency = b4["received_to_done"]
    rows: list[Row] = [
        ("B4 soak", "seconds x rate", f"{_number(b4['seconds'], 0)} s x {b4['rate']}/s", ""),
        ("B4 soak", "events by status", _statuses(b4["by_status"]), "all done"),
        (
            "B4 soak",
            "received->done p50 / p99 ms",
            f"{latency['p50_ms']} / {latency['p99_ms']}",
            "",
        ),
        ("B4 soak", "max RSS growth %", _number(b4["max_rss_growth_pct"]), "< 10"),
    ]
    for process, growth in b4["rss_growth_pct"].items():
        rows.append(("B4 soak", f"RSS growth % {process}", _number(growth), ""))
    return rows


def _impact_rows(b6: dict[str, Any]) -> list[Row]:
    return [
        ("B6 impact", "sample events", str(b6["sample"]), "200"),
        ("B6 impact", "report median / max s", f"{b6['report_median_s']} / {b6['report_max_s']}",
         f"< {b6['target_s']:g}"),
        ("B6 impact", "report / plain read of the sample", _number(b6["report_over_read"]), ""),
    ]  # fmt: skip


def table(results: dict[str, Any], errors: dict[str, str]) -> str:
    """Every benchmark's figures as an aligned text table."""
    rows: list[Row] = [("benchmark", "metric", "value", "target")]
    builders = {
        "B1": _accept_rows,
        "B2": _end_to_end_rows,
        "B3": _contention_rows,
        "B4": _soak_rows,
        "B6": _impact_rows,
    }
    for name, build in builders.items():
        if name in results:
            built = build(results[name])
            load = results[name].get("load_average_before")
            if load:
                loads = " / ".join(map(str, load))
                built.insert(0, (built[0][0], "load average 1/5/15 min before", loads, ""))
            rows.extend(built)
        elif name in errors:
            rows.append((name, "error", errors[name].splitlines()[-1][:120], ""))
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def summary_line(results: dict[str, Any]) -> str:
    """``summary: accept_rps=N bare_rps=N accept_ratio=X e2e_lps=N raw_lps=N e2e_ratio=X``."""
    b1, b2 = results.get("B1", {}), results.get("B2", {})
    raw_lps = b2.get("raw", {}).get("leads_per_s")

    def whole(value: Any) -> str:
        return "n/a" if value is None else str(round(value))

    def ratio(value: Any) -> str:
        return "n/a" if value is None else f"{value:.2f}"

    return (
        f"summary: accept_rps={whole(b1.get('accept_rps'))} bare_rps={whole(b1.get('bare_rps'))}"
        f" accept_ratio={ratio(b1.get('accept_ratio'))}"
        f" e2e_lps={whole(b2.get('leads_per_s'))} raw_lps={whole(raw_lps)}"
        f" e2e_ratio={ratio(b2.get('e2e_ratio'))}"
    )


def write_json(document: dict[str, Any], directory: Path) -> Path:
    """Write the run's document to ``directory/<timestamp>.json`` and return the path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    return path
