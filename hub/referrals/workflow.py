"""The service-referral status workflow: which transitions exist, and who may make them.

    requested -> received -> waitlisted -> intake_scheduled -> in_progress -> completed
Forward skips are allowed (a partner may schedule the intake straight away); never backwards.
rejected (partner) and cancelled (coach) from any open state; on_hold (coach, or the hub on a
consent withdrawal) from any open state, and back (coach) to the status it was held in.
"""
from __future__ import annotations

from hub.referrals.service_referral_models import Status
from hub.vocab import Role

PROGRESS = (Status.REQUESTED, Status.RECEIVED, Status.WAITLISTED, Status.INTAKE_SCHEDULED, Status.IN_PROGRESS,
            Status.COMPLETED)
OPEN = frozenset({*PROGRESS[:-1], Status.ON_HOLD})
TERMINAL = frozenset({Status.COMPLETED, Status.REJECTED, Status.CANCELLED})


def allowed_targets(current: Status, held_from: Status | None, role: Role) -> frozenset[Status]:
    """The statuses a user of `role` may move a referral in `current` to."""
    if current in TERMINAL:
        return frozenset()
    if role == Role.PARTNER:
        if current == Status.ON_HOLD:
            return frozenset({Status.REJECTED})
        later = PROGRESS[PROGRESS.index(current) + 1:]
        forward = {s for s in later if s != Status.COMPLETED or current == Status.IN_PROGRESS}
        return frozenset({*forward, Status.REJECTED})
    if role == Role.COACH:
        if current == Status.ON_HOLD:
            return frozenset({held_from, Status.CANCELLED} - {None})
        return frozenset({Status.ON_HOLD, Status.CANCELLED})
    return frozenset()

