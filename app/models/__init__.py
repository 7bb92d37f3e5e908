"""Every table, one module per aggregate (a resource and its embedded lines): the one import
point for Alembic and for code that needs several tables."""

from app.models.admin_unit import (
    CODE_DIGITS,
    TYPES_BY_LEVEL,
    AdminLevel,
    AdminType,
    AdminUnit,
    AdminUnitSuccession,
    SuccessionKind,
)
from app.models.audit import COMMAND_LINE_ACTOR_ID, AuditActorKind, AuditEvent
from app.models.base import BIGINT_MAX, ESTABLISHED_YEAR_MIN, INT_MAX, YEAR_MAX, YEAR_MIN, Base, Record
from app.models.bookkeeping import DataVersion, IdempotencyRecord, StatsCache
from app.models.cooperative import Cooperative, CooperativeSector, CooperativeStatus, LegalForm
from app.models.imports import ImportBatch
from app.models.programme import (
    ACTIVITIES_BY_KIND,
    PUBLIC_FUNDING_SOURCES,
    ExtensionActivity,
    FundingSource,
    Programme,
    ProgrammeActivity,
    ProgrammeBeneficiary,
    ProgrammeFunding,
    ProgrammeKind,
    ProgrammeStatus,
    PromotionActivity,
)
from app.models.security import SecurityAction, SecurityActorKind, SecurityEvent, SecurityTargetKind
from app.models.staff import AccessToken, ApiKey, Role, SignInAttempt, StaffAccount
from app.models.trade_fair import FairKind, TradeFair, TradeFairParticipant
from app.models.village import CraftGroup, Village, VillageStatus
from app.models.village_figure import FigureQualifier, VillageFigure
from app.models.webhook import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookSubscription

__all__ = [
    "ACTIVITIES_BY_KIND",
    "BIGINT_MAX",
    "CODE_DIGITS",
    "COMMAND_LINE_ACTOR_ID",
    "ESTABLISHED_YEAR_MIN",
    "INT_MAX",
    "PUBLIC_FUNDING_SOURCES",
    "TYPES_BY_LEVEL",
    "YEAR_MAX",
    "YEAR_MIN",
    "AccessToken",
    "AdminLevel",
    "AdminType",
    "AdminUnit",
    "AdminUnitSuccession",
    "ApiKey",
    "AuditActorKind",
    "AuditEvent",
    "Base",
    "Cooperative",
    "CooperativeSector",
    "CooperativeStatus",
    "CraftGroup",
    "DataVersion",
    "DeliveryStatus",
    "ExtensionActivity",
    "FairKind",
    "FigureQualifier",
    "FundingSource",
    "IdempotencyRecord",
    "ImportBatch",
    "LegalForm",
    "Programme",
    "ProgrammeActivity",
    "ProgrammeBeneficiary",
    "ProgrammeFunding",
    "ProgrammeKind",
    "ProgrammeStatus",
    "PromotionActivity",
    "Record",
    "Role",
    "SecurityAction",
    "SecurityActorKind",
    "SecurityEvent",
    "SecurityTargetKind",
    "SignInAttempt",
    "StaffAccount",
    "StatsCache",
    "SuccessionKind",
    "TradeFair",
    "TradeFairParticipant",
    "Village",
    "VillageFigure",
    "VillageStatus",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
]
