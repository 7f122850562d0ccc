"""Every model module, imported so that Base.metadata describes the whole schema."""

from __future__ import annotations

import sqlalchemy as sa

import campaigns.campaign.models
import campaigns.donations.mismatches
import campaigns.donations.models
import campaigns.engagement.models
import campaigns.fundraising.models
import campaigns.giving.models
import campaigns.integrations.endpoint_models
import campaigns.integrations.models
import campaigns.matching.models
import campaigns.moderation.models
import campaigns.nonprofits.models
import campaigns.notifications.models
import campaigns.payouts.models
import campaigns.portal.models
import campaigns.receipts.models
import campaigns.recurring.models
import campaigns.sharing.models
import service.audit
import service.auth.models
import service.ledger
import service.mail.models
import service.ratelimit
import service.web.idempotency
import webhooks.models
from service.db import Base

__all__ = ["target_metadata"]

_MODEL_MODULES = (
    campaigns.campaign.models,
    campaigns.donations.mismatches,
    campaigns.donations.models,
    campaigns.engagement.models,
    campaigns.fundraising.models,
    campaigns.giving.models,
    campaigns.integrations.endpoint_models,
    campaigns.integrations.models,
    campaigns.matching.models,
    campaigns.moderation.models,
    campaigns.nonprofits.models,
    campaigns.notifications.models,
    campaigns.payouts.models,
    campaigns.recurring.models,
    campaigns.portal.models,
    campaigns.receipts.models,
    campaigns.sharing.models,
    service.audit,
    service.auth.models,
    service.ledger,
    service.mail.models,
    service.ratelimit,
    service.web.idempotency,
    webhooks.models,
)

target_metadata: sa.MetaData = Base.metadata
