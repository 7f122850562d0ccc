"""Audit entries name their actor the same way wherever they are written: from the actor itself."""

from __future__ import annotations

import uuid

from campaigns.nonprofits.actors import Actor
from campaigns.nonprofits.models import MemberRole
from service import audit
from service.auth.models import Admin, AdminRole


def _entry(actor: audit.AuditActor) -> tuple[str, str | None, str]:
    made = audit.entry(actor=actor, action="x.done", subject_type="x", subject_id="1")
    return made.actor_type, made.actor_id, made.actor_label


class TestEntryFromActor:
    def test_an_admin_is_named_by_id_and_email(self) -> None:
        admin = Admin(id=uuid.uuid4(), email="ops@goodloop.example", role=AdminRole.FINANCE)

        assert _entry(admin) == (audit.ActorType.ADMIN, str(admin.id), "ops@goodloop.example")

    def test_a_member_is_named_by_member_id_and_label(self) -> None:
        member_id = uuid.uuid4()
        actor = Actor(
            nonprofit_id=uuid.uuid4(),
            role=MemberRole.EDITOR,
            member_id=member_id,
            api_key_id=None,
            label="ann@harbor.org",
        )

        assert _entry(actor) == (audit.ActorType.MEMBER, str(member_id), "ann@harbor.org")

    def test_an_api_key_is_named_by_key_id(self) -> None:
        key_id = uuid.uuid4()
        actor = Actor(
            nonprofit_id=uuid.uuid4(),
            role=MemberRole.OWNER,
            member_id=None,
            api_key_id=key_id,
            label="api key gl_1",
        )

        assert _entry(actor) == (audit.ActorType.API_KEY, str(key_id), "api key gl_1")

    def test_the_system_has_no_id(self) -> None:
        assert _entry(audit.SystemActor("goodloop cli")) == (audit.ActorType.SYSTEM, None, "goodloop cli")
