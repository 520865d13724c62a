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
    cpu = " / ".join(_number(side.get("web_cpu_ms_per_request"), 2) for side in (leadgate, bare))
    machine = " / ".join(
        _number(side.get("machine_cpu_ms_per_request"), 2) for side in (leadgate, bare)
    )
    rows: list[Row] = [
        ("B1 accept", "web settings (gunicorn config)", settings, ""),
        ("B1 accept", "load generator", b1["load_generator"], ""),
        ("B1 accept", "connections", _number(b1.get("connections")), "32"),
        ("B1 accept", "leadgate saturation req/s", _number(b1["accept_rps"]), ""),
        ("B1 accept", "bare Flask saturation req/s", _number(b1["bare_rps"]), ""),
        ("B1 accept", "web CPU ms per request at saturation: leadgate / bare", cpu, ""),
        ("B1 accept", "machine CPU ms per request at saturation: leadgate / bare", machine, ""),
        (
            "B1 accept",
            "PostgreSQL CPU ms per leadgate request at saturation",
            _number(leadgate.get("database_cpu_ms_per_request"), 3),
            "",
        ),
        ("B1 accept", "accept_ratio", _number(b1["accept_ratio"], 3), ">= 0.5"),
        ("B1 accept", "fixed rate req/s: target / achieved", _rates(leadgate["fixed_rate"]), ""),
        ("B1 accept", "generator send lag p99 ms", _number(fixed_lag, 2), "small"),
        ("B1 accept", "p50 ms at 80%", _number(b1["p50_ms_at_80pct"], 2), ""),
        ("B1 accept", "p99 ms at 80%", _number(b1["p99_ms_at_80pct"], 2), "< 50"),
        ("B1 accept", "bare fixed rate req/s: target / achieved", _rates(bare["fixed_rate"]), ""),
        ("B1 accept", "bare p50 / p99 ms at 80% of its own", bare_latency, ""),
        ("B1 accept", "bare generator send lag p99 ms", _number(bare_lag, 2), "small"),
        ("B1 accept", "non-2xx / socket errors", f"{non_2xx} / {socket_errors}", "0 / 0"),
        (
            "B1 accept",
            "peak RSS MB per web worker",
            _number(_peak(leadgate["memory"], "web child")),
            "< 150",
        ),
    ]
    batching = b1.get("batching")
    if batching:
        rows.append(
            (
                "B1 accept",
                "events per commit (group commit)",
                _number(batching["rows_per_commit"], 2),
                "",
            )
        )
    endurance = b1.get("endurance")
    if endurance:
        first_last = f"{_number(endurance['first_rps'])} / {_number(endurance['last_rps'])}"
        seconds = _number(endurance["seconds"], 0)
        rows += [
            ("B1 accept", f"{seconds} s saturation: first / last window req/s", first_last, ""),
            ("B1 accept", "last window / first", _number(endurance["last_vs_first"], 3), ">= 0.9"),
        ]
    return rows


def _statuses(by_status: dict[str, int]) -> str:
    return ", ".join(f"{status}={count}" for status, count in sorted(by_status.items()))


def _pipeline_rows(name: str, result: dict[str, Any]) -> list[Row]:
    memory = result["memory"]
    masters = f"{_number(_peak(memory, 'web master'))} / {_number(_peak(memory, 'worker master'))}"
    cpu = " / ".join(_number(seconds, 1) for seconds in result["cpu_s"].values())
    lps_target = ">= 1000" if name.startswith("B2") else ""
    db_cpu = (
        f"{_number(result.get('database_cpu_s_per_lead'), 5)}"
        f" ({result.get('database_backends', 0)} backends)"
    )
    return [
        (name, "events / persons", f"{result['events']} / {result['persons']}", ""),
        (name, "posted req/s", _number(result["posted"]["rps"]), ""),
        (name, "events by status", _statuses(result["by_status"]), "all done"),
        (name, "accept s (first post to last answer)", _number(result.get("accept_s"), 2), ""),
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


def _revision_rows(b2: dict[str, Any]) -> list[Row]:
    at = b2.get("at_revision")
    if not at:
        return []
    name = f"revision {at['revision']} (before the trust features)"
    if "error" in at:
        return [("B2 end to end", name, at["error"], "")]
    rows: list[Row] = [
        ("B2 end to end", f"{name}: leads/s, mean of {len(at.get('passes', []))} passes",
         _number(at.get("leads_per_s")), ""),
        ("B2 end to end", "this tree: leads/s", _number(b2["leads_per_s"]), ""),
        ("B2 end to end", "b2_vs_revision (this tree / revision)",
         _number(b2.get("b2_vs_revision"), 3), ">= 0.9"),
        ("B2 end to end", "worker CPU s per lead: revision / this tree",
         f"{_number(at.get('worker_cpu_s_per_lead'), 5)} / "
         f"{_number(b2.get('worker_cpu_s_per_lead'), 5)}", ""),
        ("B2 end to end", "CPU s per lead (web+worker): revision / this tree",
         f"{_number(at.get('cpu_s_per_lead'), 5)} / {_number(b2.get('cpu_s_per_lead'), 5)}", ""),
        ("B2 end to end", "PostgreSQL CPU s per lead: revision / this tree",
         f"{_number(at.get('database_cpu_s_per_lead'), 5)} / "
         f"{_number(b2.get('database_cpu_s_per_lead'), 5)}", ""),
    ]  # fmt: skip
    for number, each in enumerate(at.get("passes", []), start=1):
        rows.append((
            "B2 end to end",
            f"revision pass {number}: leads/s, load before, events by status",
            f"{_number(each.get('leads_per_s'))}, "
            f"{_number((each.get('load_average_before') or [None])[0])}, "
            f"{_statuses(each.get('by_status', {}))}",
            "all done",
        ))  # fmt: skip
    return rows


def _end_to_end_rows(b2: dict[str, Any]) -> list[Row]:
    rows = _pipeline_rows("B2 end to end", b2)
    raw = b2.get("raw")
    if raw:
        rows.append(("B2 end to end", "raw psycopg loop leads/s", _number(raw["leads_per_s"]), ""))
    rows.append(("B2 end to end", "e2e_ratio", _number(b2.get("e2e_ratio"), 3), ">= 0.5"))
    off = b2.get("trust_off")
    if off:
        rows += [
            ("B2 end to end", "trust off (no field history): leads/s", _number(off["leads_per_s"]),
             ""),
            ("B2 end to end", "trust on (every trust feature): leads/s",
             _number(b2["leads_per_s"]), ""),
            ("B2 end to end", "b2_trust_ratio (on / off)", _number(b2.get("b2_trust_ratio"), 3),
             ">= 0.9"),
            ("B2 end to end", "worker CPU s per lead: off / on",
             f"{_number(off.get('worker_cpu_s_per_lead'), 5)} / "
             f"{_number(b2.get('worker_cpu_s_per_lead'), 5)}", ""),
            ("B2 end to end", "load average 1 min before: off / on pass",
             f"{_number((off.get('load_average_before') or [None])[0])} / "
             f"{_number((b2.get('load_average_before_on_pass') or [None])[0])}", ""),
        ]  # fmt: skip
    rows += _revision_rows(b2)
    naive = b2.get("naive")
    if naive:
        accept_wall = f"{_number(naive['accept_s'], 2)} / {_number(naive['wall_s'], 2)}"
        rows += [
            ("B2 end to end", "naive peer: accept s / wall s", accept_wall, ""),
            ("B2 end to end", "naive peer leads/s", _number(naive["leads_per_s"]), ""),
            ("B2 end to end", "vs_naive", _number(b2.get("vs_naive"), 3), ">= 1.5"),
        ]
    rows += _cpu_budget_rows(b2)
    trips = b2.get("round_trips")
    if trips:
        for key in ("web_per_request", "worker_per_new_lead", "worker_per_update"):
            counts = ", ".join(f"{label}={value:g}" for label, value in trips[key].items())
            rows.append(("B2 end to end", f"round trips {key.replace('_', ' ')}", counts, ""))
    return rows


def _cpu_budget_rows(b2: dict[str, Any]) -> list[Row]:
    """Where the machine's CPU goes per lead, beside what a target rate leaves for each lead."""
    door = b2.get("door_floor")
    if not door:
        return []
    spent = " / ".join(
        _number(figure, 3)
        for figure in (
            b2.get("machine_cpu_ms_per_lead"),
            b2.get("naive", {}).get("machine_cpu_ms_per_lead"),
            b2.get("raw", {}).get("machine_cpu_ms_per_lead"),
            door.get("machine_cpu_ms_per_request"),
        )
    )
    rows: list[Row] = [
        ("B2 end to end", "machine CPU ms per lead: leadgate / naive / raw loop / bare door",
         spent, ""),
        ("B2 end to end", "bare door: req/s, web CPU ms per request",
         f"{_number(door.get('requests_per_s'))}, {_number(door.get('web_cpu_ms_per_request'), 3)}",
         ""),
    ]  # fmt: skip
    for rate, budget in b2.get("cpu_budget_ms_per_lead", {}).items():
        rows.append(
            ("B2 end to end", f"CPU budget ms per lead at {float(rate):.0f} leads/s",
             _number(budget, 3), "")
        )  # fmt: skip
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


def outbound_rows(b7: dict[str, Any]) -> list[Row]:
    """B7: leads/s without and with two webhooks, their ratio, and deliveries/s."""
    name = "B7 outbound"
    sent = b7["outbound"]
    return [
        (name, "events per run", str(b7["events"]), ""),
        (name, "leads/s without webhooks", _number(b7["leads_per_s_without"]), ""),
        (name, "leads/s with two webhooks", _number(b7["leads_per_s_with"]), ""),
        (name, "webhook_cost_ratio (with / without)", _number(b7["webhook_cost_ratio"], 3), ""),
        (name, "deliveries delivered", str(sent["delivered"]), ""),
        (name, "deliveries/s", _number(sent["deliveries_per_s"]), ""),
        (name, "deliveries by status", _statuses(sent["by_status"]), ""),
    ]


def _health_rows(b9: dict[str, Any]) -> list[Row]:
    name = "B9 health"
    return [
        (name, "batch size / mapped sources", f"{b9['batch_size']} / {b9['sources']}", ""),
        (name, "health ms per batch", _number(b9["health_ms_per_batch"], 3), ""),
        (name, "health us per event", _number(b9["health_us_per_event"]), ""),
        (name, "one Redis round trip ms", _number(b9["round_trip_ms"], 3), ""),
        (name, "health / round trip", _number(b9["health_to_round_trip_ratio"], 2), "small"),
    ]


def _recovery_rows(result: dict[str, Any]) -> list[Row]:
    return [
        ("recovery", "events by status", _statuses(result["by_status"]), "all done"),
        ("recovery", "events the killed worker held", str(result["held_at_kill"]), ""),
        (
            "recovery",
            "kill -> held events done s",
            _number(result["kill_to_held_done_s"]),
            "< 15 + processing",
        ),
        ("recovery", "kill -> last event done s", _number(result["kill_to_last_done_s"]), ""),
        ("recovery", "worker restart s", _number(result["worker_restart_s"]), ""),
    ]


def _import_rows(b5: dict[str, Any]) -> list[Row]:
    name = "B5 import"
    rows: list[Row] = [
        (name, "rows (bad) / in error file", f"{b5['rows']} ({b5['bad_rows']}) / "
         f"{b5['error_file_rows']}", "error file = bad rows"),
        (name, "rows/s (import / COPY)", f"{b5['rows_per_s']} / {b5['copy_rows_per_s']}", ""),
        (name, "import / COPY time", f"{b5['import_seconds']} s / {b5['copy_seconds']} s", ""),
        (name, "import / COPY ratio", _number(b5["copy_ratio"]), ""),
        (name, "max peak RSS MB", _number(b5["max_peak_rss_mb"]), "< 250"),
    ]  # fmt: skip
    for process in b5["memory"]:
        rows.append((name, f"peak RSS MB {process['role']} {process['pid']}",
                     _number(process["peak_rss_mb"]), ""))  # fmt: skip
    return rows


def _impact_rows(b6: dict[str, Any]) -> list[Row]:
    return [
        ("B6 impact", "sample events", str(b6["sample"]), "200"),
        ("B6 impact", "report median / max s", f"{b6['report_median_s']} / {b6['report_max_s']}",
         f"< {b6['target_s']:g}"),
        ("B6 impact", "report / plain read of the sample", _number(b6["report_over_read"]), ""),
    ]  # fmt: skip


def _release_rows(b10: dict[str, Any]) -> list[Row]:
    name = "B10 release"
    done = f"{b10['release_done']} / {b10['usual_done']}"
    rates = f"{b10['release_eps']} / {b10['usual_eps']}"
    return [
        (name, "events done: release / usual", done, str(b10["events"])),
        (name, "events/s: release / usual", rates, ""),
        (name, "release s / usual s", _number(b10["release_over_usual"]), ""),
    ]


def inbox_rows(b8: dict[str, Any]) -> list[Row]:
    """B8: the inbox's size, how it was filled, and p50/p95/p99/max of each query."""
    name = "B8 inbox"
    build = b8["build"]
    filled = f"COPY {_number(build['copy_s'])} s ({_number(build['copy_rows_per_s'])} rows/s)"
    filled += f", VACUUM (ANALYZE) {_number(build['vacuum_analyze_s'])} s"
    if b8["reused"]:
        filled = f"reused, built {build['built']}: {filled}"
    side = b8.get("idempotency_table")
    rows: list[Row] = [
        (name, "events (rows) / leaf partitions / rows in the default partition",
         f"{b8['rows']} / {b8['partitions']} / {_number(b8.get('default_partition_rows'))}", ""),
        (name, "table + indexes MB (heap MB)",
         f"{b8['table_and_indexes_mb']} ({b8['heap_mb']})", ""),
        (name, "idempotency table (MB)",
         f"{side} ({b8['idempotency_table_mb']})" if side else "none", ""),
        (name, "filled", filled, ""),
        (name, "fresh events to claim / events of the listed config",
         f"{b8['samples']['fresh_events']} / {b8['samples']['list_config_events']}", ""),
        (name, "VACUUM s before the claims / sweeps / reads",
         " / ".join(_number(seconds) for seconds in b8["vacuum_s"]), ""),
    ]  # fmt: skip
    target = f"p99 < {b8['target_p99_ms']:g}"
    for query, figures in b8["queries"].items():
        value = " / ".join(
            _number(figures[key], 2) for key in ("p50_ms", "p95_ms", "p99_ms", "max_ms")
        )
        verdict = "met" if figures["met"] else "MISSED"
        returned = f"{figures['returned_mean']:g} rows"
        rows.append((name, f"{query}: p50 / p95 / p99 / max ms", f"{value} ({returned})",
                     f"{target}: {verdict}"))  # fmt: skip
    return rows


def table(results: dict[str, Any], errors: dict[str, str]) -> str:
    """Every benchmark's figures as an aligned text table."""
    rows: list[Row] = [("benchmark", "metric", "value", "target")]
    builders = {
        "B1": _accept_rows,
        "B2": _end_to_end_rows,
        "B3": _contention_rows,
        "B4": _soak_rows,
        "B7": outbound_rows,
        "B9": _health_rows,
        "RECOVERY": _recovery_rows,
        "B5": _import_rows,
        "B6": _impact_rows,
        "B10": _release_rows,
        "B8": inbox_rows,
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
    """The last line: accept and end-to-end figures with the baselines and their ratios.

    New fields go at the end, so a reader of the older fields' positions still finds them.
    """
    b1, b2 = results.get("B1", {}), results.get("B2", {})
    raw_lps = b2.get("raw", {}).get("leads_per_s")
    naive_lps = b2.get("naive", {}).get("leads_per_s")

    def whole(value: Any) -> str:
        return "n/a" if value is None else str(round(value))

    def ratio(value: Any) -> str:
        return "n/a" if value is None else f"{value:.2f}"

    return (
        f"summary: accept_rps={whole(b1.get('accept_rps'))} bare_rps={whole(b1.get('bare_rps'))}"
        f" accept_ratio={ratio(b1.get('accept_ratio'))}"
        f" e2e_lps={whole(b2.get('leads_per_s'))} raw_lps={whole(raw_lps)}"
        f" e2e_ratio={ratio(b2.get('e2e_ratio'))}"
        f" naive_lps={whole(naive_lps)} vs_naive={ratio(b2.get('vs_naive'))}"
        f" b2_trust_ratio={ratio(b2.get('b2_trust_ratio'))}"
    )


def write_json(document: dict[str, Any], directory: Path) -> Path:
    """Write the run's document to ``directory/<timestamp>.json`` and return the path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    return path
