"""The reports as users ask for them: scoped to what the user may see, and each reading audited
(a search over many clients, so no client id is ever recorded)."""
from __future__ import annotations

from datetime import datetime

from hub.audit.models import AuditAction
from hub.audit.service import record
from hub.auth.models import User
from hub.extensions import db
from hub.reports import scope
from hub.reports.bottlenecks import bottlenecks
from hub.reports.funnel import phase_funnel
from hub.reports.period import Period
from hub.reports.registration import registration
from hub.reports.waiting import waiting_times


def _audit(user: User, name: str, period: Period, detail: str, export: bool) -> None:
    """Reading a report is a search over many clients; downloading it an export."""
    record(f"reports:{name}:{'exported' if export else 'read'}", AuditAction.EXPORT if export else AuditAction.SEARCH,
           object_type="report", object_id=name, user=user,
           detail=f"{period.first.isoformat()}..{period.last.isoformat()} {detail}")


def waiting_time_report(user: User, group_by: str, period: Period, now: datetime, *, export: bool = False) -> dict:
    """Waiting times per partner organisation or per life domain."""
    _audit(user, "waiting_times", period, f"by {group_by}", export)
    return {"period": period.as_dict(), "group_by": group_by, "items": waiting_times(user, group_by, period, now)}


def bottleneck_report(user: User, period: Period, now: datetime, rank_by: str = "waiting_days", *,
                      export: bool = False) -> dict:
    """Partners ranked by client-days lost to waiting, with whose side the days were on, per month."""
    _audit(user, "bottlenecks", period, f"by {rank_by}", export)
    return {"period": period.as_dict(), "rank_by": rank_by, **bottlenecks(user, period, now, rank_by)}


def registration_report(user: User, organisation_id: int | None, period: Period, *, export: bool = False) -> dict:
    """The uniform registration of one programme, or of all the user may see, summed."""
    programme_ids = scope.visible_programme_ids(user, organisation_id, db.session)
    _audit(user, "registration", period, f"programme {organisation_id}" if organisation_id else "all programmes",
           export)
    return {"period": period.as_dict(), "organisation_id": organisation_id,
            **registration(programme_ids, period, suppress_small=scope.suppresses_small_cells(user))}


def phase_funnel_report(user: User, organisation_id: int | None, period: Period, *, export: bool = False) -> dict:
    """Per phase, how many trajectories of one programme (or all the user may see) reached it."""
    programme_ids = scope.visible_programme_ids(user, organisation_id, db.session, "phase_funnel")
    _audit(user, "phase_funnel", period, f"programme {organisation_id}" if organisation_id else "all programmes",
           export)
    return {"period": period.as_dict(), "organisation_id": organisation_id,
            **phase_funnel(programme_ids, period, suppress_small=scope.suppresses_small_cells(user))}
