"""The read log: from the audit trail, which organisation (and role, never the person) read or changed
which part of the client's data, when, on which ground, in plain Dutch or English; producing it is
itself audited."""
from datetime import UTC, datetime

from sqlalchemy import select

from hub.audit.models import AuditAction, AuditEvent, AuditResult
from hub.extensions import db
from tests.rights_support import full_dossier
from tests.web import next_step, signed_in


def _read_log(client, dossier, lang="en", **params):
    query = "&".join(f"{k}={v}" for k, v in {"lang": lang, **params}.items())
    response = client.get(f"/api/v1/clients/{dossier.client_id}/read-log?{query}", headers=dossier.coach_headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_read_log_says_who_read_what_when_and_on_which_consent(app, client, make, api_login):
    dossier = full_dossier(client, make, api_login)
    page = _read_log(client, dossier, per_page=100)
    texts = [entry["text"] for entry in page["items"]]
    coach = "Uitstapprogramma Rechten (trajectory coach)"
    assert f"{coach} read your file (story, situation and contact details, as far as you agreed)." in texts
    assert "Schuldhulp Rechten (chain partner) changed a referral to a service partner." in texts
    assert "Schuldhulp Rechten (chain partner) recorded messages about a referral." in texts
    assert f"{coach} recorded your consents." in texts
    assert f"{coach} changed your trajectory and plan." in texts
    read = next(e for e in page["items"] if e["text"].startswith(f"{coach} read your file"))
    assert read["organisation"]["name"] == "Uitstapprogramma Rechten" and read["role"] == "coach"
    assert read["ground"]["kind"] == "consent"
    assert read["ground"]["text"] == "with your consent of November 23, 2026 for the handoff to the exit programme"
    message = next(e for e in page["items"] if e["text"].startswith("Schuldhulp Rechten (chain partner) recorded"))
    assert message["ground"]["text"].endswith("for a referral to a service partner")
    assert message["organisation"]["name"] == "Schuldhulp Rechten" and message["role"] == "partner"
    assert read["occurred_at"].endswith("+00:00")
    # the organisation and role, never the person
    serialised = str(page)
    assert "Test coach" not in serialised and "Test partner" not in serialised and "@hub.test" not in serialised


def test_the_read_log_speaks_plain_dutch(app, client, make, api_login):
    dossier = full_dossier(client, make, api_login)
    texts = [entry["text"] for entry in _read_log(client, dossier, lang="nl", per_page=100)["items"]]
    assert "Uitstapprogramma Rechten (trajectbegeleider) heeft je toestemmingen vastgelegd." in texts
    grounds = {entry["ground"]["text"] for entry in _read_log(client, dossier, lang="nl", per_page=100)["items"]}
    assert "met jouw toestemming van 23 november 2026 voor de aanmelding bij het uitstapprogramma" in grounds
    assert "op jouw verzoek" in grounds


def test_refused_attempts_are_in_the_read_log_too(app, client, make, api_login):
    dossier = full_dossier(client, make, api_login)
    other_programme = make.organisation("exit_programme", name="Uitstapprogramma Elders")
    stranger = make.user("coach", organisation_id=other_programme)
    assert client.get(f"/api/v1/clients/{dossier.client_id}",
                      headers=api_login(stranger)).status_code == 404
    entries = _read_log(client, dossier)["items"]
    refused = [entry for entry in entries if entry["text"].startswith("Uitstapprogramma Elders")]
    assert [entry["text"] for entry in refused] == [
        "Uitstapprogramma Elders (trajectory coach) tried to see your file (story, situation and contact details, "
        "as far as you agreed), but was refused."]
    assert refused[0]["ground"] == {"kind": "refused", "consent_id": None,
                                    "text": "it was not allowed, so nothing was shown or changed"}


def test_a_refused_attempt_to_send_reads_as_one_and_not_as_allowed(app, make):
    """A coach refused a referral (no consent) tried to send one: the client reads that, and not that
    it was allowed "for their task as trajectory coach", the ground it was tried on."""
    from flask_babel import force_locale

    from hub.audit.models import AuditResult
    from hub.audit.service import record, write_durable_events
    from hub.rights import readlog

    _, client_id = make.handoff()
    with app.test_request_context(), force_locale("nl"):
        record("referrals:service_referral:created", AuditAction.CREATE, client_id=client_id, ground="role:coach",
               result=AuditResult.REFUSED)
        write_durable_events()  # as at the end of the refused request
        entry = readlog.page(client_id, 1, 100)["items"][0]
    assert "probeerde" in entry["text"] and "vast te leggen" in entry["text"] and "te zien" not in entry["text"]
    assert entry["ground"]["kind"] == "refused"
    assert entry["ground"]["text"] == "het mocht niet, dus er is niets getoond of veranderd"


def test_an_erasure_held_back_by_a_legal_hold_keeps_its_own_words_and_ground(app, make):
    """Refused too, but recorded at the client's request and waiting: not "it was not allowed"."""
    from flask_babel import force_locale

    from hub.audit.models import AuditResult
    from hub.audit.service import record, write_durable_events
    from hub.rights import readlog

    _, client_id = make.handoff()
    with app.test_request_context(), force_locale("en"):
        record("rights:erasure:held", AuditAction.DELETE, client_id=client_id, ground="request:erasure",
               result=AuditResult.REFUSED)
        write_durable_events()
        entry = readlog.page(client_id, 1, 100)["items"][0]
    assert "legal hold" in entry["text"] and entry["ground"]["kind"] == "request"


def test_the_hubs_own_work_and_grounds_without_consent_are_worded(app, make):
    """Entries without a person (the retention job) and on a role ground read as well."""
    from flask_babel import force_locale

    from hub.audit.service import record
    from hub.rights import readlog

    _, client_id = make.handoff()
    with app.test_request_context(), force_locale("en"):
        record("rights:retention:anonymised", AuditAction.DELETE, client_id=client_id, ground="retention")
        record("consent:consents:read", AuditAction.READ, client_id=client_id, ground="role:coach", user=None)
        record("something:new:happened", AuditAction.UPDATE, client_id=client_id, ground=None)
        entries = readlog.describe(db.session.scalars(readlog.events_query(client_id)).all())
        texts = {entry.text: entry.ground_text for entry in entries}
    assert texts["The hub itself (automatically) erased your story, notes, messages and contact details."] == \
        "because the retention period had passed"
    assert texts["The hub itself (automatically) read your consents."] == \
        "for their task as trajectory coach, without needing your consent for it"
    assert texts["The hub itself (automatically) changed your data."] == "no ground was recorded"


def test_the_read_log_is_paged_newest_first_and_producing_it_is_audited(app, client, make, api_login):
    dossier = full_dossier(client, make, api_login)
    first = _read_log(client, dossier, page=1, per_page=3)
    assert len(first["items"]) == 3 and first["has_next"] is True
    second = _read_log(client, dossier, page=2, per_page=3)
    moments = [e["occurred_at"] for e in first["items"] + second["items"]]
    assert moments == sorted(moments, reverse=True)
    assert first["items"][0]["text"] == "Uitstapprogramma Rechten (trajectory coach) read this list of who saw " \
                                        "your data."
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.tag == "rights:read_log:read",
                                                             AuditEvent.client_id == dossier.client_id)).all()
    assert len(events) == 2 and {e.result for e in events} == {AuditResult.SUCCESS}
    assert {e.ground for e in events} == {"request:read_log"}


def test_the_printable_read_log_groups_a_day_and_switches_language(app, client, make, api_login):
    dossier = full_dossier(client, make, api_login)
    for _ in range(2):
        client.get(f"/api/v1/clients/{dossier.client_id}", headers=dossier.coach_headers)
    next_step()
    signed_in(client, dossier.coach)
    response = client.get(f"/clients/{dossier.client_id}/read-log")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and '<html lang="nl">' in page
    assert "Wie heeft je gegevens gezien?" in page
    assert "(3 keer)" in page  # the dossier read three times that day: one line
    assert "Test coach" not in page
    english = client.get(f"/clients/{dossier.client_id}/read-log?lang=en").get_data(as_text=True)
    assert "Who saw your data?" in english and "(3 times)" in english
    assert "With your consent of November 23, 2026 for the handoff to the exit programme" in english
    with app.app_context():
        printed = db.session.scalars(select(AuditEvent).where(AuditEvent.tag == "rights:read_log:printed")).all()
    assert len(printed) == 2 and all(e.action is AuditAction.EXPORT for e in printed)


def test_times_are_shown_on_the_dutch_clock(app, make):
    from hub.rights import readlog

    with app.test_request_context():
        late_evening = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
        assert readlog.local_date(late_evening) == "2 juli 2026"  # after midnight in Amsterdam
        assert readlog.local_datetime(late_evening).startswith("2 jul 2026")


def test_the_dossier_page_links_to_the_clients_rights(app, client, make, api_login):
    dossier = full_dossier(client, make, api_login)
    next_step()
    signed_in(client, dossier.coach)
    page = client.get(f"/clients/{dossier.client_id}").get_data(as_text=True)
    for path in ("read-log", "export", "rights"):
        assert f'href="/clients/{dossier.client_id}/{path}"' in page
