"""The trajectories as the uniform registration counts them, one row each: programme, client, the days
it opened and closed, its outcome, the client's gender, legal position and target groups, and the life
domains of its plan goals. Target groups and domains are bit masks (a bit per member of the vocabulary
in hub/vocab.py, in its order; a value outside the vocabulary sets no bit, a value listed twice sets
its bit once), so that a breakdown needs no unpacking of JSON and no join per value.

`stored()` reads them from `registration_facts`, which the database's triggers keep (migration
"report covering indexes, registration facts"); `live()` computes them from trajectories, clients and
goals, what the stored rows must always equal (tests/test_reports_registration_facts.py). The
migration writes the same expressions into its triggers: change them together.
"""
from __future__ import annotations

from sqlalchemy import Integer, Select, String, case, cast, func, literal, select

from hub.referrals.models import Client, Goal, Trajectory
from hub.reports.models import RegistrationFact
from hub.vocab import LifeDomain, TargetGroup

COLUMNS = ("trajectory_id", "programme_id", "client_id", "opened_on", "closed_on", "outcome", "gender",
           "legal_status", "target_groups", "domains")


def bit(vocabulary, member) -> int:
    return 1 << list(vocabulary).index(member)


def members(mask: int, vocabulary) -> list:
    """The members of `vocabulary` whose bits `mask` sets."""
    return [member for index, member in enumerate(vocabulary) if mask >> index & 1]


def bits(column, vocabulary):
    """SQL: the bit of `column`'s value (NULL outside the vocabulary)."""
    return case(*((column == member.value, 1 << index) for index, member in enumerate(vocabulary)))


def target_group_mask(dialect: str, groups):
    """SQL: the target groups of a JSON list as a mask (no bits for anything but a list)."""
    if dialect == "postgresql":
        listed = case((func.json_typeof(groups) == "array", groups), else_=cast(literal("[]"), groups.type))
        element = func.json_array_elements_text(listed).table_valued("value").alias("tg")
    else:
        listed = case((func.json_type(groups) == "array", groups), else_=literal("[]"))
        element = func.json_each(listed).table_valued("value").alias("tg")
    mask = func.sum(bits(cast(element.c.value, String), TargetGroup).distinct())
    return func.coalesce(select(mask).select_from(element).scalar_subquery(), 0)


def goal_domain_mask(trajectory_id):
    """SQL: the life domains of a trajectory's goals as a mask (0 without goals)."""
    mask = func.sum(bits(Goal.domain, LifeDomain).distinct())
    return func.coalesce(select(mask).where(Goal.trajectory_id == trajectory_id).scalar_subquery(), 0)


def live(dialect: str) -> Select:
    """SQL: the facts of every trajectory, computed from trajectories, clients and goals."""
    return select(
        Trajectory.id.label("trajectory_id"), Trajectory.programme_id, Trajectory.client_id, Trajectory.opened_on,
        Trajectory.closed_on, cast(Trajectory.outcome, String).label("outcome"),
        cast(Client.gender, String).label("gender"), cast(Client.legal_status, String).label("legal_status"),
        cast(target_group_mask(dialect, Client.target_groups), Integer).label("target_groups"),
        cast(goal_domain_mask(Trajectory.id), Integer).label("domains"),
    ).join(Client, Client.id == Trajectory.client_id)


def stored():
    """The facts as the triggers keep them."""
    return RegistrationFact.__table__


def rebuild(connection) -> int:
    """Count `registration_facts` afresh (after a bulk load that bypassed the triggers). Returns the rows."""
    table = RegistrationFact.__table__
    connection.execute(table.delete())
    return connection.execute(table.insert().from_select(COLUMNS, live(connection.dialect.name))).rowcount
