"""The schema: typed declarative models, the engine and session factory, migrations."""

from models.base import Base
from models.blocked_identifier import BlockedIdentifier
from models.consent_record import ConsentRecord
from models.dnc_change import DncChange
from models.fan_in import IdentifierClaim, QuarantinedIdentifier
from models.idempotency_key import IdempotencyKey
from models.ingestion_config import IngestionConfig
from models.ingestion_event import IngestionEvent
from models.lead import Lead
from models.lead_field_change import LeadFieldChange
from models.lead_type import LeadType
from models.mapping_version import MappingVersion
from models.replay_job import ReplayJob
from models.tenancy import ApiToken, Campaign, Organization, Representative
from models.upload import Upload, UploadStatus
from models.webhook import Webhook, WebhookDelivery

__all__ = [
    "ApiToken",
    "Base",
    "BlockedIdentifier",
    "Campaign",
    "ConsentRecord",
    "DncChange",
    "IdempotencyKey",
    "IdentifierClaim",
    "IngestionConfig",
    "IngestionEvent",
    "Lead",
    "LeadFieldChange",
    "LeadType",
    "MappingVersion",
    "Organization",
    "QuarantinedIdentifier",
    "ReplayJob",
    "Representative",
    "Upload",
    "UploadStatus",
    "Webhook",
    "WebhookDelivery",
]
