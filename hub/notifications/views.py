"""The inbox: every notification a user received, newest first."""
from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select, update

from hub.api import paginate
from hub.clock import utcnow
from hub.extensions import db
from hub.notifications.models import Notification

bp = Blueprint("notifications", __name__, template_folder="templates")


@bp.get("/inbox")
@login_required
def inbox():
    page = max(request.args.get("page", 1, type=int), 1)
    query = (select(Notification).where(Notification.user_id == current_user.id)
             .order_by(Notification.created_at.desc(), Notification.id.desc()))
    return render_template("notifications/inbox.html", listing=paginate(query, page, 25, db.session))


@bp.post("/inbox/read")
@login_required
def mark_all_read():
    db.session.execute(update(Notification)
                       .where(Notification.user_id == current_user.id, Notification.read_at.is_(None))
                       .values(read_at=utcnow()).execution_options(synchronize_session=False))
    return redirect(url_for("notifications.inbox"))
