"""The directory shows measured waiting from the hub's own referrals, not only what partners promise."""
from datetime import timedelta

from hub.auth.models import User
from hub.clock import freeze
from hub.extensions import db
from hub.referrals.models import Handoff
from hub.referrals.service import accept_handoff
from hub.referrals.service_referral_models import ServiceReferral, Status
from hub.referrals.service_referrals import record_event, refer
from hub.vocab import LifeDomain
from tests.conftest import NOW


def test_measured_waiting_is_the_median_of_real_waits_and_counts_who_waits_now(app, make, client, api_login):
    programme = make.organisation("exit_programme")
    coach = make.user("coach", organisation_id=programme)
    partner_org = make.organisation("debt_relief", name="Schuldhulp Gemeten")
    partner = make.user("partner", organisation_id=partner_org)
    with app.test_request_context():
        from hub.consent.service import record_consent

        coach_user, partner_user = db.session.get(User, coach.id), db.session.get(User, partner.id)
        referrals = []
        for _ in range(3):
            handoff_id, client_id = make.handoff(programme_id=programme)
            accept_handoff(coach_user, db.session.get(Handoff, handoff_id), NOW)
            record_consent(coach_user, client_id=client_id, recipient_organisation_id=partner_org,
                           purpose="service_referral", scope=["finances"], method="verbal", statement="ja", now=NOW)
            referrals.append(refer(coach_user, client_id, partner_org, LifeDomain.FINANCES, None, NOW).id)
        later = NOW + timedelta(days=30)
        for referral_id, waited in zip(referrals[:2], (10, 20), strict=True):
            record_event(partner_user, db.session.get(ServiceReferral, referral_id), Status.IN_PROGRESS, later,
                         occurred_at=NOW + timedelta(days=waited))
        db.session.commit()
    freeze(NOW + timedelta(days=30))
    listing = client.get("/api/v1/organisations?kind=debt_relief", headers=api_login(coach)).get_json()
    entry = next(item for item in listing["items"] if item["id"] == partner_org)
    assert entry["measurements"] == "measured"
    assert entry["measured_median_wait_days"] == 15.0
    assert entry["measured_waiting_now"] == 1
