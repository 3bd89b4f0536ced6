"""The access request: everything the hub holds about a client, as JSON and as a readable page, for
the coach of the client's programme only, also after a withdrawal; audited as an export. And the
guard: a table that holds client data cannot be added without being exported."""
from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table, select

from hub.audit.models import AuditAction, AuditEvent
from hub.extensions import db
from hub.rights.export import EXPORTED_TABLES, NOT_EXPORTED, SECTIONS
from tests.rights_support import SECRETS, full_dossier


def tables_reaching_clients(metadata: MetaData) -> set[str]:
    """Every table with a foreign key to `clients`, directly or through other such tables."""
    reaching = {"clients"}
    while True:
        more = {table.name for table in metadata.tables.values() if table.name not in reaching
                and any(fk.column.table.name in reaching for fk in table.foreign_keys)}
        if not more:
            return reaching
        reaching |= more


def test_every_table_that_holds_client_data_is_exported_or_exempted_with_a_reason(app):
    missing = tables_reaching_clients(db.metadata) - EXPORTED_TABLES - set(NOT_EXPORTED)
    assert missing == set(), f"export these tables in hub/rights/export.py SECTIONS, or exempt them: {missing}"
    assert set(db.metadata.tables) >= EXPORTED_TABLES, "a section names a table that does not exist"
    assert all(reason.strip() for reason in NOT_EXPORTED.values())


def test_a_table_holding_a_clients_id_without_a_foreign_key_is_exported_or_exempted_too(app):
    """Copies of the client's id made for speed (escalations, sla_clocks) have no foreign key to follow."""
    holding = {table.name for table in db.metadata.tables.values() if "client_id" in table.c}
    assert {"escalations", "sla_clocks"} <= holding
    missing = holding - EXPORTED_TABLES - set(NOT_EXPORTED)
    assert missing == set(), f"export these tables in hub/rights/export.py SECTIONS, or exempt them: {missing}"


def test_the_guard_finds_a_new_client_table_even_two_steps_away(app):
    metadata = MetaData()
    for table in db.metadata.tables.values():
        table.to_metadata(metadata)
    Table("trajectory_diary", metadata, Column("id", Integer, primary_key=True),
          Column("goal_id", ForeignKey("trajectory_goals.id")))
    assert "trajectory_diary" in tables_reaching_clients(metadata) - EXPORTED_TABLES
    assert {"organisations", "users", "audit_events", "notifications"}.isdisjoint(tables_reaching_clients(metadata))


def test_the_export_holds_everything_and_is_audited(app, client, make, api_login):
    dossier = full_dossier(client, make, api_login)
    response = client.get(f"/api/v1/clients/{dossier.client_id}/export?lang=en", headers=dossier.coach_headers)
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert set(data) == {section.key for section in SECTIONS} | {"generated_at", "read_log"}
    assert data["client"]["alias"] == "Roos"
    assert data["client"]["safe_contact"]["code_word"] == "zonnebloem"
    assert [d["notes"] for d in data["story_domains"]] == ["Schulden bij de pooier", "Woont boven de club"]
    assert data["handoffs"][0]["safety_concerns"].startswith("Pooier houdt")
    assert {c["purpose"] for c in data["consents"]} == {"handoff", "service_referral"}
    assert ["finances"] in [c["scope"] for c in data["consents"]]
    [trajectory] = data["trajectories"]
    assert trajectory["outcome"] == "exited" and trajectory["closing_note"] == "Werkt nu bij de bakker."
    assert [p["phase"] for p in trajectory["phases"]] == ["contact", "orientation"]
    [goal] = trajectory["goals"]
    assert [p["score"] for p in goal["progress"]] == [2, 3] and goal["subgoals"][0]["text"] == "Alle brieven verzamelen"
    [referral] = data["service_referrals"]
    assert referral["organisation"]["name"] == "Schuldhulp Rechten" and referral["note"].startswith("Beslag")
    assert [e["note"] for e in referral["events"]][-1].startswith("Dossier ontvangen")
    assert referral["messages"][0]["body"] == "Intake kan dinsdag 10:00."
    assert data["escalations"] == [] and data["erasure_requests"] == []
    texts = [entry["text"] for entry in data["read_log"]]
    assert "Uitstapprogramma Rechten (trajectory coach) made a copy of all your data." in texts
    serialised = response.get_data(as_text=True)
    assert all(secret in serialised for secret in SECRETS.values())
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.client_id == dossier.client_id)
                                   .order_by(AuditEvent.id.desc())).first()
    assert (event.tag, event.action, event.user_id) == ("rights:export:json", AuditAction.EXPORT, dossier.coach.id)


def test_the_client_gets_a_copy_even_after_withdrawing_the_handoff_consent(app, client, make, api_login):
    dossier = full_dossier(client, make, api_login)
    consents = client.get(f"/api/v1/clients/{dossier.client_id}/consents", headers=dossier.coach_headers)
    handoff_consent = next(c for c in consents.get_json()["items"] if c["purpose"] == "handoff")
    withdrawn = client.post(f"/api/v1/consents/{handoff_consent['id']}/withdraw", headers=dossier.coach_headers,
                            json={"reason": "Wil geen contact meer."})
    assert withdrawn.status_code == 200
    assert client.get(f"/api/v1/clients/{dossier.client_id}", headers=dossier.coach_headers).status_code == 404
    response = client.get(f"/api/v1/clients/{dossier.client_id}/export", headers=dossier.coach_headers)
    assert response.status_code == 200
    assert response.get_json()["client"]["story_summary"].startswith("Werkt sinds 2019")


def test_the_printable_copy_is_readable_in_dutch_and_english(app, client, make, api_login):
    from tests.web import signed_in

    dossier = full_dossier(client, make, api_login)
    from tests.web import next_step

    next_step()
    signed_in(client, dossier.coach)
    dutch = client.get(f"/clients/{dossier.client_id}/export")
    page = dutch.get_data(as_text=True)
    assert dutch.status_code == 200
    assert '<html lang="nl">' in page and "Alles wat de hub over je weet" in page
    assert "Schulden bij de pooier" in page and "Intake kan dinsdag 10:00." in page
    assert "Werkt nu bij de bakker." in page
    english = client.get(f"/clients/{dossier.client_id}/export?lang=en").get_data(as_text=True)
    assert "Everything the hub holds about you" in english and "left the trade" in english
    with app.app_context():
        tags = db.session.scalars(select(AuditEvent.tag).where(AuditEvent.client_id == dossier.client_id,
                                                               AuditEvent.tag == "rights:export:html")).all()
    assert len(tags) == 2
