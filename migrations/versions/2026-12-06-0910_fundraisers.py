"""fundraiser pages and teams (peer-to-peer fundraising, issue #15)

Revision ID: c6d7e8f9a0b1
Revises: b5c6d7e8f9a0
Create Date: 2026-12-06 09:10:00.000000+00:00

Supporters' pages for a campaign (`fundraisers`: status machine pending_email ->
pending_approval -> live -> hidden | ended, a share link of its own), their teams
(`fundraiser_teams`), one-time links (`fundraiser_links`: email confirmation and sign-in, only
the token's SHA-256 stored) and the sessions a sign-in opens (`fundraiser_sessions`), and the
attribution of a donation to the fundraiser (and team) it came through (`fundraiser_donations`,
one row per donation, written at checkout). A share link may now be a fundraiser's
(`share_links.kind = 'fundraiser'`, with the fundraiser's email identity key in
`owner_email_digest`), and a public report may be about a fundraiser's page
(`campaign_reports.fundraiser_id`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db

revision: str = "c6d7e8f9a0b1"
down_revision: str | None = "b5c6d7e8f9a0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(*values: str, name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _at(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, service.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("share_links") as batch:
        batch.add_column(sa.Column("owner_email_digest", sa.String(length=64), nullable=True))
        batch.drop_constraint(op.f("ck_share_links_share_link_kind"), type_="check")
        batch.create_check_constraint(
            op.f("ck_share_links_share_link_kind"), "kind IN ('channel', 'supporter', 'fundraiser')"
        )
    op.create_table(
        "fundraiser_teams",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("nonprofit_id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_by_fundraiser_id", sa.Uuid(), nullable=False),
        _at("created_at", nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_fundraiser_teams_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["nonprofit_id"], ["nonprofits.id"], name=op.f("fk_fundraiser_teams_nonprofit_id_nonprofits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fundraiser_teams")),
        sa.UniqueConstraint("campaign_id", "slug", name="uq_fundraiser_teams_campaign_slug"),
    )
    op.create_index(
        op.f("ix_fundraiser_teams_nonprofit_id"), "fundraiser_teams", ["nonprofit_id"], unique=False
    )
    op.create_table(
        "fundraisers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("nonprofit_id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("story_markdown", sa.Text(), nullable=False),
        sa.Column("story_html", sa.Text(), nullable=False),
        sa.Column("goal_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("photo_key", sa.String(length=64), nullable=True),
        sa.Column("photo_alt", sa.String(length=300), nullable=True),
        sa.Column("photo_height", sa.Integer(), nullable=True),
        sa.Column("photo_widths", sa.JSON(), nullable=True),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column(
            "status",
            _enum("pending_email", "pending_approval", "live", "hidden", "ended", name="fundraiser_status"),
            nullable=False,
        ),
        sa.Column("screen_flags", sa.JSON(), nullable=False),
        sa.Column("share_link_id", sa.Uuid(), nullable=False),
        _at("created_at", nullable=False),
        _at("updated_at", nullable=False),
        _at("confirmed_at"),
        _at("approved_at"),
        _at("hidden_at"),
        _at("ended_at"),
        sa.CheckConstraint("goal_minor IS NULL OR goal_minor > 0", name=op.f("ck_fundraisers_goal_positive")),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_fundraisers_email_lowercase")),
        sa.CheckConstraint("language IN ('nl', 'en')", name=op.f("ck_fundraisers_language_known")),
        sa.CheckConstraint(
            "photo_key IS NULL OR (photo_alt IS NOT NULL AND photo_height > 0 AND photo_widths IS NOT NULL)",
            name=op.f("ck_fundraisers_photo_complete"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_fundraisers_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["nonprofit_id"], ["nonprofits.id"], name=op.f("fk_fundraisers_nonprofit_id_nonprofits")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["fundraiser_teams.id"], name=op.f("fk_fundraisers_team_id_fundraiser_teams")
        ),
        sa.ForeignKeyConstraint(
            ["share_link_id"], ["share_links.id"], name=op.f("fk_fundraisers_share_link_id_share_links")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fundraisers")),
        sa.UniqueConstraint("campaign_id", "slug", name="uq_fundraisers_campaign_slug"),
        sa.UniqueConstraint("share_link_id", name=op.f("uq_fundraisers_share_link_id")),
    )
    op.create_index("ix_fundraisers_campaign_status", "fundraisers", ["campaign_id", "status"], unique=False)
    op.create_index(
        "ix_fundraisers_nonprofit_created", "fundraisers", ["nonprofit_id", "created_at"], unique=False
    )
    op.create_index("ix_fundraisers_campaign_email", "fundraisers", ["campaign_id", "email"], unique=False)
    op.create_index(op.f("ix_fundraisers_team_id"), "fundraisers", ["team_id"], unique=False)
    op.create_table(
        "fundraiser_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("purpose", _enum("confirm", "sign_in", name="fundraiser_link_purpose"), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("fundraiser_id", sa.Uuid(), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        _at("created_at", nullable=False),
        _at("expires_at", nullable=False),
        _at("used_at"),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_fundraiser_links_email_lowercase")),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_fundraiser_links_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["fundraiser_id"], ["fundraisers.id"], name=op.f("fk_fundraiser_links_fundraiser_id_fundraisers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fundraiser_links")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_fundraiser_links_token_digest")),
    )
    op.create_index(op.f("ix_fundraiser_links_expires_at"), "fundraiser_links", ["expires_at"], unique=False)
    op.create_index(
        op.f("ix_fundraiser_links_fundraiser_id"), "fundraiser_links", ["fundraiser_id"], unique=False
    )
    op.create_table(
        "fundraiser_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        _at("created_at", nullable=False),
        _at("expires_at", nullable=False),
        _at("revoked_at"),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_fundraiser_sessions_email_lowercase")),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_fundraiser_sessions_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fundraiser_sessions")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_fundraiser_sessions_token_digest")),
    )
    op.create_index(
        op.f("ix_fundraiser_sessions_expires_at"), "fundraiser_sessions", ["expires_at"], unique=False
    )
    op.create_table(
        "fundraiser_donations",
        sa.Column("donation_id", sa.Uuid(), nullable=False),
        sa.Column("fundraiser_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        _at("created_at", nullable=False),
        sa.ForeignKeyConstraint(
            ["donation_id"], ["donations.id"], name=op.f("fk_fundraiser_donations_donation_id_donations")
        ),
        sa.ForeignKeyConstraint(
            ["fundraiser_id"],
            ["fundraisers.id"],
            name=op.f("fk_fundraiser_donations_fundraiser_id_fundraisers"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["fundraiser_teams.id"],
            name=op.f("fk_fundraiser_donations_team_id_fundraiser_teams"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_fundraiser_donations_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("donation_id", name=op.f("pk_fundraiser_donations")),
    )
    op.create_index(
        "ix_fundraiser_donations_campaign",
        "fundraiser_donations",
        ["campaign_id", "fundraiser_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_fundraiser_donations_fundraiser_id"), "fundraiser_donations", ["fundraiser_id"], unique=False
    )
    op.create_index(
        op.f("ix_fundraiser_donations_team_id"), "fundraiser_donations", ["team_id"], unique=False
    )
    with op.batch_alter_table("campaign_reports") as batch:
        batch.add_column(sa.Column("fundraiser_id", sa.Uuid(), nullable=True))
        batch.create_index(op.f("ix_campaign_reports_fundraiser_id"), ["fundraiser_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("campaign_reports") as batch:
        batch.drop_index(op.f("ix_campaign_reports_fundraiser_id"))
        batch.drop_column("fundraiser_id")
    op.drop_table("fundraiser_donations")
    op.drop_table("fundraiser_sessions")
    op.drop_table("fundraiser_links")
    op.drop_table("fundraisers")
    op.drop_table("fundraiser_teams")
    op.execute(
        "UPDATE donations SET referral_link_id = NULL"
        " WHERE referral_link_id IN (SELECT id FROM share_links WHERE kind = 'fundraiser')"
    )
    op.execute("DELETE FROM share_links WHERE kind = 'fundraiser'")
    with op.batch_alter_table("share_links") as batch:
        batch.drop_constraint(op.f("ck_share_links_share_link_kind"), type_="check")
        batch.create_check_constraint(
            op.f("ck_share_links_share_link_kind"), "kind IN ('channel', 'supporter')"
        )
        batch.drop_column("owner_email_digest")
