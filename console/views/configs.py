"""Configs: the organization's list and one config's settings, mapping, health and hold."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select

from console.access import db, organization_id, own_config
from console.blueprint import bp
from console.views.health import stats_redis
from models import IngestionConfig
from worker.configs import config_as_dict
from worker.health.stats import DEFAULT_WINDOW, WINDOWS, UnknownWindow, config_stats


@bp.get("/configs/")
def configs() -> str:
    """The organization's configs, oldest first."""
    rows = db().scalars(
        select(IngestionConfig)
        .where(IngestionConfig.organization_id == organization_id())
        .order_by(IngestionConfig.created_time, IngestionConfig.id)
    )
    return render_template("console/configs.html", configs=[config_as_dict(row) for row in rows])


@bp.get("/configs/<config_id>/")
def config(config_id: str) -> tuple[str, int]:
    """One config: its settings as the API shows them, its stats window, and its mapping."""
    found = own_config(config_id)
    window = request.args.get("window") or DEFAULT_WINDOW
    values = {"config": config_as_dict(found), "windows": list(WINDOWS), "window": window}
    try:
        stats = config_stats(db(), stats_redis(), found, window)
    except UnknownWindow as error:
        return render_template("console/config.html", stats=None, window_error=error, **values), 400
    return render_template("console/config.html", stats=stats, **values), 200
