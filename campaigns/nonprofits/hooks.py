"""What nonprofits asks of higher packages: emailing an invitation (campaigns.notifications).

Notifications sits above nonprofits in the domain order (docs/architecture.md), so the API's
invite route calls the `InviteMail` that `campaigns.wiring.wire()` plugged into `invite_mail`
at start-up (campaigns.notifications.invites), and fails loudly when none was.
"""

from __future__ import annotations

from typing import Protocol

from campaigns.nonprofits.models import MemberInvite
from campaigns.plugs import Plug
from service.unit_of_work import UnitOfWork


class InviteMail(Protocol):
    async def email_invite(self, session: UnitOfWork, *, invite: MemberInvite, token: str, key: str) -> bool:
        """Enqueue the invitation's email in this unit of work; False when `key` already did."""
        ...


invite_mail: Plug[InviteMail] = Plug("campaigns.nonprofits.hooks.invite_mail")
