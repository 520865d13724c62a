"""The schema: typed declarative models, the engine and session factory, migrations."""

from models.base import Base
from models.ingestion_config import IngestionConfig
from models.ingestion_event import IngestionEvent
from models.lead import Lead
from models.lead_type import LeadType
from models.mapping_version import MappingVersion
from models.replay_job import ReplayJob
from models.tenancy import ApiToken, Campaign, Organization, Representative
from models.upload import Upload, UploadStatus
from models.webhook import Webhook, WebhookDelivery

__all__ = [
    "ApiToken",
    "Base",
    "Campaign",
    "IngestionConfig",
    "IngestionEvent",
    "Lead",
    "LeadType",
    "MappingVersion",
    "Organization",
    "ReplayJob",
    "Representative",
    "Upload",
    "UploadStatus",
    "Webhook",
    "WebhookDelivery",
]
