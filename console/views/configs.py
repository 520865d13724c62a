"""Configs: the organization's list and one config's settings and mapping."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import select

from console.access import db, organization_id, own_config
from console.blueprint import bp
from models import IngestionConfig
from worker.configs import config_as_dict


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
def config(config_id: str) -> str:
    """One config: its settings as the API shows them, and its mapping."""
    found = own_config(config_id)
    return render_template("console/config.html", config=config_as_dict(found))
