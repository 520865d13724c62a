"""Mapping versions of a config: list them, read one, restore one (as a new version)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from models import IngestionConfig, MappingVersion
from worker.configs import INT_MAX, Author, ConfigError, ConfigOptions, update_config


def versions_of(config: IngestionConfig) -> Select[MappingVersion]:
    """The config's mapping versions, newest first."""
    return (
        select(MappingVersion)
        .where(MappingVersion.config_id == config.id)
        .order_by(MappingVersion.number.desc())
    )


def get_version(session: Session, config: IngestionConfig, number: int) -> MappingVersion:
    """Version ``number`` of the config's mapping, or an error naming it."""
    version = None
    if 0 < number <= INT_MAX:
        version = session.scalar(
            select(MappingVersion).where(
                MappingVersion.config_id == config.id, MappingVersion.number == number
            )
        )
    if version is None:
        raise ConfigError(f"config {config.id} has no mapping version {number}", "version")
    return version


def restore_version(
    session: Session,
    config: IngestionConfig,
    number: int,
    author: Author | None = None,
    message: str | None = None,
) -> MappingVersion:
    """Save version ``number``'s mapping as the config's next version; returns the new one.

    Restoring the mapping the config already has is refused: it would save nothing new.
    """
    old = get_version(session, config, number)
    if old.mapping == config.mapping:
        raise ConfigError(
            f"mapping version {number} is the mapping config {config.id} has now "
            f"(version {config.mapping_version}); nothing to restore",
            "version",
        )
    options = ConfigOptions(mapping=old.mapping, message=message or f"restored version {number}")
    update_config(config, options, author)
    return get_version(session, config, config.mapping_version)


def version_as_dict(version: MappingVersion) -> dict[str, Any]:
    """A mapping version as JSON-ready values."""
    return {
        "number": version.number,
        "mapping": version.mapping,
        "saved_time": version.saved_time.isoformat(),
        "saved_by": version.saved_by,
        "message": version.message,
    }
