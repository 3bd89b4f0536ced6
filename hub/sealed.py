"""Every column the hub keeps encrypted, and `flask hub reencrypt`, which moves them all to the
newest key of HUB_FIELD_KEYS (after which older keys can be dropped)."""
from __future__ import annotations

import json

import click
from flask.cli import with_appcontext
from sqlalchemy import column, select, table, update

from hub.crypto import key_ring
from hub.extensions import db

# (table, column, context); row-bound contexts end in ":<uid of the row>"
SEALED_COLUMNS: list[tuple[str, str, str, bool]] = [
    ("clients", "alias", "clients.alias", True),
    ("clients", "story_summary", "clients.story_summary", True),
    ("clients", "safe_contact", "clients.safe_contact", True),
    ("story_domains", "notes", "story_domains.notes", True),
    ("handoffs", "safety_concerns", "handoffs.safety_concerns", True),
    ("handoffs", "decline_reason", "handoffs.decline_reason", True),
    ("consents", "statement", "consents.statement", False),
    ("trajectories", "closing_note", "trajectories.closing_note", True),
    ("trajectory_phases", "note", "trajectory_phases.note", True),
    ("trajectory_goals", "description", "trajectory_goals.description", True),
    ("trajectory_goal_progress", "note", "trajectory_goal_progress.note", True),
    ("trajectory_subgoals", "text", "trajectory_subgoals.text", True),
    ("service_referrals", "note", "service_referrals.note", True),
    ("service_referral_events", "note", "service_referral_events.note", True),
    ("messages", "body", "messages.body", True),
    ("users", "totp_secret", "users.totp_secret", True),
    ("notifications", "body", "notifications.body", False),
    ("consents", "withdrawal_reason", "consents.withdrawal_reason", False),
    ("clients", "legal_hold_reason", "clients.legal_hold_reason", True),
    ("erasure_requests", "reason", "erasure_requests.reason", True),
    ("erasure_requests", "legal_hold_reason", "erasure_requests.legal_hold_reason", True),
]
BATCH = 500


def reencrypt_all() -> dict[str, int]:
    """Re-encrypt every sealed value not yet under the newest key; returns counts per column."""
    ring = key_ring()
    counts = {}
    for table_name, column_name, context, row_bound in SEALED_COLUMNS:
        columns = [column("id"), column(column_name)] + ([column("uid")] if row_bound else [])
        source = table(table_name, *columns)
        done, last_id = 0, 0
        while True:
            rows = db.session.execute(
                select(*source.c).where(source.c.id > last_id, source.c[column_name].is_not(None))
                .order_by(source.c.id).limit(BATCH)).all()
            if not rows:
                break
            for row in rows:
                stored = row[1]
                if not ring.is_current(stored):
                    full_context = f"{context}:{row[2]}" if row_bound else context
                    fresh = ring.encrypt(ring.decrypt(stored, full_context), full_context)
                    db.session.execute(update(source).where(source.c.id == row[0]).values({column_name: fresh}))
                    done += 1
            last_id = rows[-1][0]
            db.session.commit()
        counts[f"{table_name}.{column_name}"] = done
    from hub.imports.common import rehash_client_refs  # here: the imports build on the models sealed above

    counts["clients.import_ref_hash"] = rehash_client_refs()
    return counts


@click.command("reencrypt")
@with_appcontext
def reencrypt_command():
    """Re-encrypt all sealed fields under the newest key of HUB_FIELD_KEYS."""
    click.echo(json.dumps({"reencrypted": reencrypt_all()}))
