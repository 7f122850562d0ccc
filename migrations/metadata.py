"""Every model module, imported so that Base.metadata describes the whole schema."""

from __future__ import annotations

import sqlalchemy as sa

import campaigns.campaign.models
import campaigns.nonprofits.models
import service.audit
import service.auth.models
import service.ratelimit
from service.db import Base

__all__ = ["target_metadata"]

_MODEL_MODULES = (
    campaigns.campaign.models,
    campaigns.nonprofits.models,
    service.audit,
    service.auth.models,
    service.ratelimit,
)

target_metadata: sa.MetaData = Base.metadata
