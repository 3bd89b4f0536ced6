"""`decide` against a small reference evaluator, over thousands of random consents and questions:
the newest consent in force for the recipient and purpose decides, by its scope."""
from dataclasses import dataclass
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.consent.models import Consent, ConsentScope
from hub.consent.service import decide, statement_hash
from hub.extensions import db
from hub.vocab import SCOPE_ITEMS, ConsentPurpose
from tests.conftest import NOW


@dataclass
class Given:
    organisation: int  # index into the test's organisations
    client: int
    purpose: ConsentPurpose
    scope: frozenset[str]
    valid_from: int  # hours from NOW
    valid_for: int | None
    withdrawn_after: int | None


hours = st.integers(min_value=-72, max_value=72)
consents = st.builds(
    Given, organisation=st.integers(0, 2), client=st.integers(0, 1), purpose=st.sampled_from(list(ConsentPurpose)),
    scope=st.frozensets(st.sampled_from(SCOPE_ITEMS), min_size=1, max_size=4), valid_from=hours,
    valid_for=st.none() | st.integers(1, 96), withdrawn_after=st.none() | st.integers(0, 96))
questions = st.tuples(st.integers(0, 2), st.integers(0, 1), st.sampled_from(list(ConsentPurpose)),
                      st.none() | st.sampled_from(SCOPE_ITEMS), st.integers(-100, 200))


def at(offset_hours: int):
    return NOW + timedelta(hours=offset_hours)


def reference(stored: list[tuple[int, Given]], organisation, client, purpose, moment) -> tuple[int, frozenset] | None:
    """The newest consent for this recipient, client and purpose in force at `moment`, with its scope."""
    matching = [
        (consent_id, g.scope) for consent_id, g in stored
        if (g.organisation, g.client, g.purpose) == (organisation, client, purpose)
        and at(g.valid_from) <= moment
        and (g.valid_for is None or moment < at(g.valid_from + g.valid_for))
        and (g.withdrawn_after is None or moment < at(g.valid_from + g.withdrawn_after))
    ]
    return max(matching, default=None)


def test_decide_agrees_with_the_reference_evaluator(app, make):
    coach = make.user("coach")
    organisations = [coach.organisation_id, make.organisation("debt_relief"), make.organisation("housing")]
    clients = [make.handoff(programme_id=coach.organisation_id)[1] for _ in range(2)]

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(consents, max_size=8), st.lists(questions, min_size=1, max_size=40))
    def check(givens, asked):
        with app.app_context():
            savepoint = db.session.begin_nested()
            try:
                stored = []
                for g in givens:
                    consent = Consent(
                        client_id=clients[g.client], recipient_organisation_id=organisations[g.organisation],
                        purpose=g.purpose, method="verbal", statement="ja", statement_hash=statement_hash("ja"),
                        recorded_by_id=coach.id, recorded_by_organisation_id=coach.organisation_id,
                        recorded_at=NOW, valid_from=at(g.valid_from),
                        valid_until=None if g.valid_for is None else at(g.valid_from + g.valid_for),
                        withdrawn_at=None if g.withdrawn_after is None else at(g.valid_from + g.withdrawn_after))
                    consent.scope_rows = [ConsentScope(item=item) for item in g.scope]
                    db.session.add(consent)
                    db.session.flush()
                    stored.append((consent.id, g))
                # the handoffs made above hold consents of their own: the reference must know them
                baseline = [(c.id, c) for c in db.session.query(Consent).all() if c.id not in {i for i, _ in stored}]
                for organisation, client, purpose, item, offset in asked:
                    moment = at(offset)
                    decision = decide(organisations[organisation], clients[client], purpose, item, moment)
                    newest = reference(stored, organisation, client, purpose, moment) or _baseline(
                        baseline, organisations[organisation], clients[client], purpose, moment)
                    covered = newest is not None and (item is None or item in newest[1])
                    expected = newest[0] if covered else None
                    assert decision.allowed == (expected is not None)
                    assert decision.consent_id == expected
                    assert (decision.reason == "allowed") == decision.allowed
            finally:
                savepoint.rollback()

    check()


def _baseline(baseline, organisation_id, client_id, purpose, moment):
    """The consents made by the handoffs above (created before the generated ones: smaller ids)."""
    matching = [(cid, frozenset(c.scope)) for cid, c in baseline
                if c.recipient_organisation_id == organisation_id and c.client_id == client_id
                and c.purpose == purpose and c.in_force(moment)]
    return max(matching, default=None)
