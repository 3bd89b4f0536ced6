"""The directory's scheduled work: entries not confirmed for 90 days become stale, and their
organisation's users are asked, once per stale period, to confirm them."""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update

from hub.audit.models import AuditAction
from hub.audit.service import record
from hub.extensions import db
from hub.notifications.service import notify
from hub.partners.models import STALE_AFTER, Organisation
from hub.vocab import PARTNER_KINDS


def mark_stale_entries(now: datetime) -> int:
    """Mark every partner entry last confirmed 90 days or more before `now` as stale and tell its
    active users; returns how many entries it marked. Idempotent: an entry is marked (and its users
    told) only while `stale_since` is empty, claimed by a conditional UPDATE, so a second run, or a
    second scheduler at the same moment, finds nothing to do. Confirming the entry clears the mark."""
    from hub.auth.models import User

    cutoff = now - STALE_AFTER
    due = list(db.session.scalars(
        select(Organisation.id).where(Organisation.kind.in_(PARTNER_KINDS), Organisation.stale_since.is_(None),
                                      Organisation.assured_at <= cutoff).order_by(Organisation.id)))
    marked = 0
    for organisation_id in due:
        claimed = db.session.execute(
            update(Organisation).where(Organisation.id == organisation_id, Organisation.stale_since.is_(None),
                                       Organisation.assured_at <= cutoff)
            .values(stale_since=now).execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            continue
        organisation = db.session.get(Organisation, organisation_id)
        db.session.refresh(organisation)
        staff = db.session.scalars(select(User).where(User.organisation_id == organisation_id,
                                                      User.active.is_(True)).order_by(User.id))
        for user in staff:
            with force_locale(user.locale or current_app.config["HUB"].default_locale):
                notify(user, _("Please confirm your directory entry"),
                       _("The directory entry of %(name)s was last confirmed on %(date)s. Coaches rely on it to "
                         "refer clients: check its services, contact persons and waiting times, then confirm it "
                         "under Sociale kaart.", name=organisation.name,
                         date=organisation.assured_at.strftime("%Y-%m-%d")))
        record("partners:entry:stale", AuditAction.UPDATE, object_type="organisation", object_id=organisation_id,
               detail=f"last confirmed {organisation.assured_at.isoformat()}")
        marked += 1
    db.session.commit()
    return marked
