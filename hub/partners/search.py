"""The directory search: which partner fits this client, and why the others do not.

Life domain, kind and municipality narrow the candidates in SQL (a partner counts for a
municipality when it is seated there or one of its active services serves it). The client's own
situation (legal position, gender, age, languages, an active addiction) never hides a candidate:
each service is checked against it and every mismatch becomes a reason a coach can read.
Sorted: partners that fit first, then by measured waiting (shortest first, unmeasured last), then name.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from hub.extensions import db
from hub.partners.labels import eligible_gender_label
from hub.partners.models import Organisation, Service
from hub.partners.service import entry_summary, measured_waiting, serves_domain, serves_municipality
from hub.vocab import Gender, LegalStatus, LifeDomain, OrganisationKind

ELIGIBILITY_CRITERIA = ("legal_position", "gender", "age", "languages", "active_addiction")


@dataclass(frozen=True)
class Criteria:
    domain: LifeDomain | None = None
    kind: OrganisationKind | None = None
    municipality: str | None = None
    legal_position: LegalStatus | None = None
    gender: Gender | None = None
    age: int | None = None
    languages: tuple[str, ...] = ()
    active_addiction: bool | None = None  # the client has an active addiction
    name: str | None = None

    @classmethod
    def from_args(cls, args: dict) -> Criteria:
        known = {k: v for k, v in args.items() if k in cls.__dataclass_fields__ and v not in (None, "", [])}
        if "languages" in known:
            known["languages"] = tuple(dict.fromkeys(code.strip().lower() for code in known["languages"]))
        if "municipality" in known:
            known["municipality"] = known["municipality"].strip()
        return cls(**known)


@dataclass
class Reason:
    code: str  # municipality, legal_position, gender, age, languages, active_addiction, inactive
    message: str


@dataclass
class ServiceFit:
    service: Service
    why_not: list[Reason] = field(default_factory=list)

    @property
    def fit(self) -> bool:
        return not self.why_not


def service_reasons(service: Service, criteria: Criteria) -> list[Reason]:
    """Why `service` does not fit a client described by `criteria` (empty: it fits)."""
    reasons = []
    if criteria.municipality and criteria.municipality.lower() not in {m.lower() for m in service.municipalities}:
        reasons.append(Reason("municipality", _("does not serve clients from %(municipality)s",
                                                 municipality=criteria.municipality)))
    if criteria.legal_position and service.legal_positions and criteria.legal_position not in service.legal_positions:
        reasons.append(Reason("legal_position", _legal_reason(criteria.legal_position)))
    if (criteria.gender and criteria.gender is not Gender.UNKNOWN and service.genders
            and criteria.gender not in service.genders):
        reasons.append(Reason("gender", _("serves only %(genders)s",
                                           genders=", ".join(eligible_gender_label(g) for g in service.genders))))
    if criteria.age is not None:
        low, high = service.age_min, service.age_max
        if (low is not None and criteria.age < low) or (high is not None and criteria.age > high):
            if low is not None and high is not None:
                message = _("only for clients aged %(min)d to %(max)d", min=low, max=high)
            elif low is not None:
                message = _("only for clients aged %(min)d or older", min=low)
            else:
                message = _("only for clients aged %(max)d or younger", max=high)
            reasons.append(Reason("age", message))
    if criteria.languages and service.languages and not set(criteria.languages) & set(service.languages):
        reasons.append(Reason("languages", _("does not speak %(wanted)s (speaks %(spoken)s)",
                                              wanted=", ".join(criteria.languages),
                                              spoken=", ".join(service.languages))))
    if criteria.active_addiction and service.accepts_active_addiction is False:
        reasons.append(Reason("active_addiction", _("accepts no clients with an active addiction")))
    return reasons


def _legal_reason(position: LegalStatus) -> str:
    return {LegalStatus.RESIDENT: _("accepts no clients with residence and work permit"),
            LegalStatus.SELF_EMPLOYED_ONLY: _("accepts no clients who may only work as self-employed"),
            LegalStatus.NO_RESIDENCE: _("accepts no clients without residence")}[position]


def candidates_query(criteria: Criteria):
    query = select(Organisation).options(
        selectinload(Organisation.services).selectinload(Service.domain_rows),
        selectinload(Organisation.services).selectinload(Service.area_rows))
    if criteria.kind is not None:
        query = query.where(Organisation.kind == criteria.kind)
    if criteria.domain is not None:
        query = query.where(serves_domain(criteria.domain))
    if criteria.municipality:
        query = query.where(serves_municipality(criteria.municipality))
    if criteria.name:
        escaped = criteria.name.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(Organisation.name).like(f"%{escaped}%", escape="\\"))
    return query


def search(criteria: Criteria, now: datetime, *, page: int = 1, per_page: int = 25,
           fit_only: bool = False) -> dict:
    """One page of partners for a client: {"items": [...], "page", "per_page", "has_next"}.

    Each item is the organisation's summary plus `fit`, `why_not` (reasons, when no relevant service
    fits) and `services` (its active services in the domain asked for, each with `fit` and `why_not`).
    An organisation without services is judged on its kind's defaults: it fits, `eligibility_stated`
    is false.
    """
    organisations = db.session.scalars(candidates_query(criteria)).unique().all()
    measured = measured_waiting([o.id for o in organisations], now=now)
    results = []
    for organisation in organisations:
        relevant = [s for s in organisation.services
                    if s.active and (criteria.domain is None or criteria.domain in s.domains)]
        fits = [ServiceFit(s, service_reasons(s, criteria)) for s in relevant]
        if organisation.services and not relevant:  # only services that are not offered now
            fit, why_not = False, [Reason("inactive", _("offers no services at the moment"))]
        else:
            fit = not fits or any(f.fit for f in fits)
            why_not = [] if fit else _distinct(reason for f in fits for reason in f.why_not)
        if fit_only and not fit:
            continue
        results.append({**entry_summary(organisation, measured.get(organisation.id), now),
                        "fit": fit, "why_not": why_not, "eligibility_stated": bool(fits),
                        "services": [_service_item(f) for f in fits]})
    results.sort(key=lambda r: (not r["fit"], r["measured_median_wait_days"] is None,
                                r["measured_median_wait_days"] or 0, r["name"].lower(), r["id"]))
    start = (page - 1) * per_page
    return {"items": results[start:start + per_page], "page": page, "per_page": per_page,
            "has_next": len(results) > start + per_page}


def _distinct(reasons) -> list[Reason]:
    seen, out = set(), []
    for reason in reasons:
        if reason.message not in seen:
            seen.add(reason.message)
            out.append(reason)
    return out


def _service_item(service_fit: ServiceFit) -> dict:
    service = service_fit.service
    return {"id": service.id, "name": service.name, "domains": service.domains,
            "expected_wait_days": service.expected_wait_days, "declared_capacity": service.declared_capacity,
            "fit": service_fit.fit, "why_not": service_fit.why_not}
