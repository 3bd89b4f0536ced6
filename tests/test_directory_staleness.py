"""Entries not confirmed for 90 days become stale; their organisation's users are asked once per
stale period; confirming starts a new period."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hub import clock
from hub.extensions import db
from hub.jobs import JOBS
from hub.notifications.models import Notification
from hub.partners.jobs import mark_stale_entries
from hub.partners.models import Organisation, Service
from tests.conftest import NOW
from tests.directory_support import add_service


@pytest.fixture
def old_partner(make, app):
    """A partner organisation registered (and so last confirmed) 91 days ago, with two active users,
    one disabled user, and one service."""
    clock.freeze(NOW - timedelta(days=91))
    organisation_id = make.organisation("shelter", municipality="Arnhem", name="Opvang Arnhem")
    users = [make.user("partner", organisation_id=organisation_id) for _ in range(3)]
    add_service(app, organisation_id, "Nachtopvang", ("housing",))
    clock.freeze(NOW)
    with app.app_context():
        users[2].load().active = False
        db.session.commit()
    return organisation_id, users


def run(app, at=NOW) -> int:
    with app.app_context():
        return mark_stale_entries(at)


def notifications_for(app, users) -> list[tuple[int, str]]:
    with app.app_context():
        rows = db.session.scalars(select(Notification).where(Notification.user_id.in_([u.id for u in users]))
                                  .order_by(Notification.id))
        return [(n.user_id, n.subject) for n in rows]


def test_the_staleness_check_is_a_registered_job():
    function, trigger = JOBS["mark_stale_entries"]
    assert function is mark_stale_entries and trigger == {"hours": 1}


def test_an_entry_older_than_90_days_is_marked_and_its_active_users_asked_once(app, old_partner):
    organisation_id, users = old_partner
    assert run(app) == 1
    with app.app_context():
        organisation = db.session.get(Organisation, organisation_id)
        assert organisation.stale_since == NOW and organisation.is_stale(NOW)
    assert notifications_for(app, users) == [(users[0].id, "Bevestig je vermelding op de sociale kaart"),
                                             (users[1].id, "Bevestig je vermelding op de sociale kaart")]
    assert run(app) == 0, "a second run finds nothing to do"
    assert run(app, NOW + timedelta(days=30)) == 0, "nor does a later one while the entry stays stale"
    assert len(notifications_for(app, users)) == 2


def test_confirming_ends_the_stale_period_and_a_later_one_asks_again(app, client, api_login, old_partner):
    organisation_id, users = old_partner
    run(app)
    headers = api_login(users[0])
    assert client.get(f"/api/v1/organisations/{organisation_id}", headers=headers).get_json()["stale"] is True
    confirmed = client.post(f"/api/v1/organisations/{organisation_id}/confirm", headers=headers)
    assert confirmed.status_code == 200
    assert (confirmed.get_json()["stale"], confirmed.get_json()["stale_since"]) == (False, None)
    assert confirmed.get_json()["services"][0]["assured_date"] == NOW.date().isoformat()
    assert run(app, NOW + timedelta(days=89)) == 0
    assert run(app, NOW + timedelta(days=90)) == 1
    assert len(notifications_for(app, users)) == 4


def test_a_young_entry_and_organisations_that_keep_no_entry_are_left_alone(app, make):
    clock.freeze(NOW - timedelta(days=400))
    police = make.organisation("police", municipality="Arnhem")
    clock.freeze(NOW - timedelta(days=89))
    young = make.organisation("housing", municipality="Arnhem")
    clock.freeze(NOW)
    assert run(app) == 0
    with app.app_context():
        assert db.session.get(Organisation, police).stale_since is None
        assert db.session.get(Organisation, young).stale_since is None
        assert not db.session.get(Organisation, police).is_stale(NOW)


def test_editing_a_service_does_not_confirm_the_whole_entry(app, client, api_login, old_partner):
    organisation_id, users = old_partner
    headers = api_login(users[0])
    with app.app_context():
        service_id = db.session.scalar(select(Service.id).where(Service.organisation_id == organisation_id))
    changed = client.patch(f"/api/v1/services/{service_id}", json={"expected_wait_days": 7}, headers=headers)
    assert changed.get_json()["assured_date"] == NOW.date().isoformat()
    assert run(app) == 1


def test_the_stale_marking_is_audited(app, old_partner):
    from hub.audit.models import AuditEvent

    organisation_id, _users = old_partner
    run(app)
    with app.app_context():
        events = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.tag == "partners:entry:stale", AuditEvent.object_id == str(organisation_id)))
    assert events == 1
