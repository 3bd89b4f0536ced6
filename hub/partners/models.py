"""Organisations and their directory entry (the sociale kaart): services, fixed contacts, staleness.

The service fields follow Open Referral HSDS where they fit (status, eligibility, languages, service
areas, required documents, `assured_date`). Life domains and service areas are rows of their own so
that the directory can be filtered on them in SQL; the other eligibility lists are only ever read
with their service, so they are JSON lists on it.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.clock import utcnow
from hub.db_types import UTCDateTime
from hub.extensions import db
from hub.vocab import DEFAULT_DOMAINS_BY_KIND, PARTNER_KINDS, LifeDomain, OrganisationKind, enum_column

# An entry not confirmed for this long is stale: its organisation is asked to confirm it.
STALE_AFTER = timedelta(days=90)
_DOMAIN_ORDER = {domain: index for index, domain in enumerate(LifeDomain)}


class ServiceStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class ContactPosition(StrEnum):
    PRIMARY = "primary"  # the fixed contact person for the exit programme
    BACKUP = "backup"  # the achtervang when the contact person is away


class Organisation(db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganisationKind] = mapped_column(
        Enum(OrganisationKind, native_enum=False, length=40, values_callable=lambda e: [m.value for m in e]))
    municipality: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The directory entry: when it was last confirmed as current, and since when the staleness job
    # has counted it stale (set once per stale period, so its users are asked once; cleared on confirm).
    assured_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    stale_since: Mapped[datetime | None] = mapped_column(UTCDateTime)

    services: Mapped[list[Service]] = relationship(back_populates="organisation",
                                                   order_by="(Service.name, Service.id)")
    contacts: Mapped[list[OrganisationContact]] = relationship(cascade="all, delete-orphan",
                                                              order_by="OrganisationContact.position.desc()")

    __table_args__ = (
        Index("ix_organisations_kind_municipality", "kind", "municipality"),
        Index("uq_organisations_name_municipality", "name", "municipality", unique=True),
        Index("ix_organisations_assured_at", "assured_at"),
    )

    @property
    def domains(self) -> tuple[LifeDomain, ...]:
        """The life domains this organisation serves: the union of its active services' domains once
        it has services, its kind's defaults until then (so `org create` alone makes a usable partner)."""
        if not self.services:
            return DEFAULT_DOMAINS_BY_KIND.get(self.kind, ())
        served = {domain for service in self.services if service.active for domain in service.domains}
        return tuple(sorted(served, key=_DOMAIN_ORDER.__getitem__))

    @property
    def keeps_entry(self) -> bool:
        """Whether this organisation keeps its own directory entry current (partner kinds do)."""
        return self.kind in PARTNER_KINDS

    def is_stale(self, now: datetime) -> bool:
        return self.keeps_entry and self.assured_at + STALE_AFTER <= now

    def contact(self, position: ContactPosition) -> OrganisationContact | None:
        return next((c for c in self.contacts if c.position is position), None)

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.kind}>"


class Service(db.Model):
    """One service an organisation offers, and for whom."""

    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ServiceStatus] = mapped_column(enum_column(ServiceStatus, 10), default=ServiceStatus.ACTIVE)
    # Eligibility. An empty list means "no restriction stated"; None for a number or flag the same.
    genders: Mapped[list[str]] = mapped_column(JSON, default=list)
    age_min: Mapped[int | None] = mapped_column(Integer)
    age_max: Mapped[int | None] = mapped_column(Integer)
    legal_positions: Mapped[list[str]] = mapped_column(JSON, default=list)
    accepts_active_addiction: Mapped[bool | None] = mapped_column(Boolean)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    required_documents: Mapped[list[str]] = mapped_column(JSON, default=list)
    # What the partner declares (the hub's own measurement is in service.measured_waiting).
    declared_capacity: Mapped[int | None] = mapped_column(Integer)
    expected_wait_days: Mapped[int | None] = mapped_column(Integer)
    assured_date: Mapped[date] = mapped_column(Date)  # HSDS: when this service's details were last confirmed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="services")
    domain_rows: Mapped[list[ServiceDomain]] = relationship(cascade="all, delete-orphan", lazy="selectin",
                                                            order_by="ServiceDomain.domain")
    area_rows: Mapped[list[ServiceArea]] = relationship(cascade="all, delete-orphan", lazy="selectin",
                                                        order_by="ServiceArea.municipality")

    __table_args__ = (
        Index("uq_services_organisation_name", "organisation_id", "name", unique=True),
        CheckConstraint("age_min IS NULL OR age_max IS NULL OR age_min <= age_max", name="age_range"),
    )

    @property
    def active(self) -> bool:
        return self.status is ServiceStatus.ACTIVE

    @property
    def domains(self) -> list[LifeDomain]:
        return sorted((row.domain for row in self.domain_rows), key=_DOMAIN_ORDER.__getitem__)

    @property
    def municipalities(self) -> list[str]:
        return [row.municipality for row in self.area_rows]


class ServiceDomain(db.Model):
    """A life domain a service covers."""

    __tablename__ = "service_domains"

    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"), primary_key=True)
    domain: Mapped[LifeDomain] = mapped_column(enum_column(LifeDomain, 20), primary_key=True)

    __table_args__ = (Index("ix_service_domains_domain", "domain", "service_id"),)


class ServiceArea(db.Model):
    """A municipality whose residents a service serves (HSDS service_area)."""

    __tablename__ = "service_areas"

    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"), primary_key=True)
    municipality: Mapped[str] = mapped_column(String(100), primary_key=True)


class OrganisationContact(db.Model):
    """The fixed contact person for the exit programme, or the backup: whom a coach calls."""

    __tablename__ = "organisation_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    position: Mapped[ContactPosition] = mapped_column(enum_column(ContactPosition, 10))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(200), default="")  # their job title
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    how_to_reach: Mapped[str] = mapped_column(String(500), default="")  # e.g. "Tue-Thu mornings, text first"
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("uq_organisation_contacts_position", "organisation_id", "position", unique=True),
    )
