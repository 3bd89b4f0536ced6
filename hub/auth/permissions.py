"""Permissions as one enum and one role map; `require()` asks it on the server for every request."""
from __future__ import annotations

from enum import StrEnum
from functools import wraps

from flask import request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub.audit.models import AuditAction, AuditResult
from hub.audit.service import record
from hub.errors import Forbidden
from hub.extensions import login_manager
from hub.vocab import Role


class Permission(StrEnum):
    ORGANISATION_READ = "organisation:read"
    ORGANISATION_MANAGE = "organisation:manage"
    USER_MANAGE = "user:manage"
    AUDIT_READ = "audit:read"
    HANDOFF_CREATE = "handoff:create"
    HANDOFF_READ = "handoff:read"
    HANDOFF_DECIDE = "handoff:decide"
    CLIENT_READ = "client:read"
    CONSENT_MANAGE = "consent:manage"
    CLIENT_RIGHTS = "client:rights"  # the client's read log, export, erasure and legal hold: own programme only
    DIRECTORY_EDIT = "directory:edit"  # a partner: its own organisation's entry only; an admin: any
    SERVICE_REFERRAL_CREATE = "service_referral:create"
    SERVICE_REFERRAL_READ = "service_referral:read"
    SERVICE_REFERRAL_UPDATE = "service_referral:update"
    ESCALATION_READ = "escalation:read"
    TRAJECTORY_READ = "trajectory:read"
    TRAJECTORY_MANAGE = "trajectory:manage"
    SLA_MANAGE = "sla:manage"  # a chain director: the escalation norms for its own municipality
    REPORT_READ = "report:read"  # pseudonymous aggregates: a director its municipality, a coach its programme
    REPORT_TARGET_SET = "report:target:set"  # a coach its own programme's target, an admin any


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.REFERRER: frozenset({P.ORGANISATION_READ, P.HANDOFF_CREATE, P.HANDOFF_READ}),
    Role.COACH: frozenset({P.ORGANISATION_READ, P.HANDOFF_READ, P.HANDOFF_DECIDE, P.CLIENT_READ, P.CLIENT_RIGHTS,
                           P.CONSENT_MANAGE, P.SERVICE_REFERRAL_CREATE, P.SERVICE_REFERRAL_READ,
                           P.SERVICE_REFERRAL_UPDATE, P.ESCALATION_READ, P.TRAJECTORY_READ, P.TRAJECTORY_MANAGE,
                           P.REPORT_READ, P.REPORT_TARGET_SET}),
    Role.PARTNER: frozenset({P.ORGANISATION_READ, P.DIRECTORY_EDIT, P.SERVICE_REFERRAL_READ, P.SERVICE_REFERRAL_UPDATE,
                             P.ESCALATION_READ}),
    Role.DIRECTOR: frozenset({P.ORGANISATION_READ, P.ESCALATION_READ, P.SLA_MANAGE, P.REPORT_READ}),
    Role.ADMIN: frozenset({P.ORGANISATION_READ, P.ORGANISATION_MANAGE, P.USER_MANAGE, P.AUDIT_READ,
                           P.DIRECTORY_EDIT, P.REPORT_TARGET_SET}),
}


def can(user, permission: Permission) -> bool:
    return bool(user and user.is_authenticated and permission in ROLE_PERMISSIONS[user.role])


def require(permission: Permission):
    """Refuse the request unless the signed-in user's role grants `permission` (refusals are audited)."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not can(current_user, permission):
                action = AuditAction.READ if request.method in ("GET", "HEAD") else AuditAction.UPDATE
                record(f"auth:{permission}:refused", action, AuditResult.REFUSED,
                       detail=f"missing permission {permission}")
                raise Forbidden(_("Your role does not allow this."))
            return view(*args, **kwargs)
        wrapped.required_permission = permission
        return wrapped
    return decorator


BEARER = {"security": [{"bearer": []}]}


def secured(blp, permission: Permission):
    """An API operation for signed-in users whose role grants `permission`: documented as needing a
    bearer token, refused without one (401) or without the permission (403, audited)."""
    def decorator(view):
        return blp.doc(**BEARER)(login_required(require(permission)(view)))
    return decorator


def signed_in(blp):
    """An API operation for any signed-in user, about their own account or token: documented as
    needing a bearer token, refused without one (401)."""
    def decorator(view):
        return blp.doc(**BEARER)(login_required(view))
    return decorator
