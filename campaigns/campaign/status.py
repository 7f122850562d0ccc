"""The campaign status machine as data: which action moves which status where."""

from __future__ import annotations

from enum import StrEnum

from campaigns.campaign.errors import IllegalTransition
from campaigns.campaign.models import CampaignStatus as S


class Action(StrEnum):
    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    APPROVE = "approve"
    REJECT = "reject"
    PAUSE = "pause"
    RESUME = "resume"
    END = "end"
    ARCHIVE = "archive"


_TRANSITIONS: dict[Action, tuple[frozenset[S], S]] = {
    Action.SUBMIT: (frozenset({S.DRAFT}), S.IN_REVIEW),
    Action.WITHDRAW: (frozenset({S.IN_REVIEW}), S.DRAFT),
    Action.APPROVE: (frozenset({S.IN_REVIEW}), S.LIVE),
    Action.REJECT: (frozenset({S.IN_REVIEW}), S.DRAFT),
    Action.PAUSE: (frozenset({S.LIVE}), S.PAUSED),
    Action.RESUME: (frozenset({S.PAUSED}), S.LIVE),
    Action.END: (frozenset({S.LIVE, S.PAUSED}), S.ENDED),
    Action.ARCHIVE: (frozenset({S.DRAFT, S.ENDED}), S.ARCHIVED),
}

# Actions a nonprofit takes itself; approve and reject belong to moderators.
NONPROFIT_ACTIONS = frozenset(
    {
        Action.SUBMIT,
        Action.WITHDRAW,
        Action.PAUSE,
        Action.RESUME,
        Action.END,
        Action.ARCHIVE,
    }
)


def next_status(current: S, action: Action) -> S:
    allowed_from, target = _TRANSITIONS[action]
    if current not in allowed_from:
        raise IllegalTransition(
            f"cannot {action.value} a campaign that is {current.value}"
            f" (allowed from: {', '.join(sorted(s.value for s in allowed_from))})"
        )
    return target


def available_actions(current: S, actions: frozenset[Action] = NONPROFIT_ACTIONS) -> list[Action]:
    """The actions that can move a campaign on from `current`, in a stable order for buttons."""
    return [action for action in Action if action in actions and current in _TRANSITIONS[action][0]]
