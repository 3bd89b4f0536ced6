"""Organisations: the exit programmes, referrers, partners and municipalities of the chain."""
from datetime import datetime

from sqlalchemy import Enum, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.clock import utcnow
from hub.db_types import UTCDateTime
from hub.extensions import db
from hub.vocab import DEFAULT_DOMAINS_BY_KIND, LifeDomain, OrganisationKind


class Organisation(db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganisationKind] = mapped_column(
        Enum(OrganisationKind, native_enum=False, length=40, values_callable=lambda e: [m.value for m in e]))
    municipality: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_organisations_kind_municipality", "kind", "municipality"),
        Index("uq_organisations_name_municipality", "name", "municipality", unique=True),
    )

    @property
    def domains(self) -> tuple[LifeDomain, ...]:
        """The life domains this organisation serves (its kind's defaults until services say more)."""
        return DEFAULT_DOMAINS_BY_KIND.get(self.kind, ())

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.kind}>"
