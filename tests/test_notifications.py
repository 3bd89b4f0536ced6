"""Notifications reach the inbox always, and e-mail through a real SMTP conversation when set up."""
import socket
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from hub.clock import utcnow
from hub.extensions import db
from hub.jobs import JOBS, build_scheduler
from hub.notifications.models import Notification
from hub.notifications.service import MAX_ATTEMPTS, deliver_outbox, notify


class Collect:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(app, monkeypatch):
    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setattr(app.config["HUB"], "smtp_url", f"smtp://127.0.0.1:{controller.port}")
    yield handler
    controller.stop()


def _queue(app, account, subject="Nieuwe verwijzing"):
    with app.test_request_context():
        notify(account.load(), subject, "Er staat iets voor je klaar in de hub.")
        db.session.commit()


def _deliver(app, now=None) -> int:
    with app.app_context():
        return deliver_outbox(now or utcnow())


def test_a_notification_is_emailed_once_however_often_the_outbox_runs(app, make, smtp):
    partner = make.user("partner")
    _queue(app, partner)
    assert _deliver(app) == 1
    assert _deliver(app) == 0
    assert len(smtp.messages) == 1
    assert smtp.messages[0].rcpt_tos == [partner.email]
    assert b"Subject: Nieuwe verwijzing" in smtp.messages[0].content
    with app.app_context():
        assert db.session.scalar(select(Notification.email_status)) == "sent"


def test_an_unreachable_mail_server_is_retried_and_then_given_up(app, make, monkeypatch):
    monkeypatch.setattr(app.config["HUB"], "smtp_url", f"smtp://127.0.0.1:{free_port()}")
    coach = make.user("coach")
    _queue(app, coach)
    moment = utcnow()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert _deliver(app, moment) == 0
        assert _deliver(app, moment) == 0  # backing off: not tried again at once
        moment += timedelta(minutes=2 ** attempt + 1)
        with app.app_context():
            notification = db.session.scalar(select(Notification))
            assert notification.email_attempts == attempt
    assert notification.email_status == "failed"
    assert notification.last_error.startswith("connect")


def test_without_smtp_the_notification_stays_in_the_inbox_only(app, make, client, monkeypatch):
    monkeypatch.setattr(app.config["HUB"], "smtp_url", None)
    coach = make.user("coach")
    _queue(app, coach, subject="Alleen in de hub")
    assert _deliver(app) == 0
    with app.app_context():
        assert db.session.scalar(select(Notification.email_status)) == "skipped"


def test_a_claimed_notification_is_not_sent_by_a_second_scheduler(app, make, smtp):
    coach = make.user("coach")
    _queue(app, coach)
    with app.app_context():
        from hub.notifications.service import _claim

        assert len(_claim(utcnow())) == 1  # a first scheduler claims it (and crashes before sending)
    assert _deliver(app) == 0  # a second one leaves it alone while the claim holds
    assert smtp.messages == []


def test_changing_the_password_tells_the_user(app, make):
    from hub.auth.service import change_password

    coach = make.user("coach")
    with app.test_request_context():
        change_password(coach.load(), coach.password, "een heel ander wachtwoord 2027", "192.0.2.1", utcnow())
        db.session.commit()
        subjects = db.session.scalars(select(Notification.subject).where(Notification.user_id == coach.id)).all()
    assert len(subjects) == 1  # worded in the interface language of the moment


def test_the_inbox_shows_only_ones_own_notifications(app, make, client):
    mine, theirs = make.user("coach"), make.user("coach")
    _queue(app, mine, subject="Voor mij")
    _queue(app, theirs, subject="Voor een ander")
    from tests.conftest import totp_now

    page = client.get("/login")
    token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/login", data={"csrf_token": token, "email": mine.email, "password": mine.password})
    client.post("/login/code", data={"csrf_token": token, "code": totp_now(mine)})
    inbox = client.get("/inbox").get_data(as_text=True)
    assert "Voor mij" in inbox
    assert "Voor een ander" not in inbox


def test_every_job_is_registered_with_the_scheduler(app):
    scheduler = build_scheduler(app)
    assert sorted(job.id for job in scheduler.get_jobs()) == sorted(JOBS)


def test_the_scheduler_command_runs_every_job_once(runner):
    result = runner.invoke(args=["hub", "scheduler", "--once"])
    assert result.exit_code == 0, result.output
    assert '"deliver_outbox": 0' in result.output


def test_a_crash_between_sending_and_marking_never_sends_twice(app, make, smtp, monkeypatch):
    import hub.notifications.service as outbox

    coach = make.user("coach")
    _queue(app, coach)
    real_send = outbox.smtplib.SMTP.send_message

    def send_then_crash(self, *args, **kwargs):
        real_send(self, *args, **kwargs)
        raise KeyboardInterrupt("the scheduler is killed right after the server accepted the e-mail")

    monkeypatch.setattr(outbox.smtplib.SMTP, "send_message", send_then_crash)
    with pytest.raises(KeyboardInterrupt):
        _deliver(app)
    monkeypatch.setattr(outbox.smtplib.SMTP, "send_message", real_send)
    later = utcnow() + outbox.CLAIM_LEASE + timedelta(minutes=1)
    assert _deliver(app, later) == 0
    assert _deliver(app, later + timedelta(hours=1)) == 0
    assert len(smtp.messages) == 1
    with app.app_context():
        assert db.session.scalar(select(Notification.email_status)) == "uncertain"


def test_e_mails_carry_no_client_data(app, make, smtp, client, api_login):
    """A real referral flow: every e-mail the partner and coach get is a pointer, not the story."""
    programme = make.organisation("exit_programme")
    coach = make.user("coach", organisation_id=programme)
    make.user("partner", organisation_id=make.organisation("debt_relief"))
    handoff_id, _client_id = make.handoff(programme_id=programme)
    client.post(f"/api/v1/referrals/{handoff_id}/accept", json={}, headers=api_login(coach))
    _deliver(app)
    assert smtp.messages
    for envelope in smtp.messages:
        content = envelope.content.decode()
        for secret in ("Roos", "zonnebloem", "raamprostitutie", "pooier", "Pooier"):
            assert secret not in content
