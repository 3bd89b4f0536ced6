"""The JSON API under /api/v1: flask-smorest validates with marshmallow and writes the OpenAPI document."""
from __future__ import annotations

from flask import Flask, request
from flask_login import current_user
from flask_smorest import Api, Blueprint
from marshmallow import Schema, fields, validate

from hub.extensions import login_manager
from hub.http import handle_http_exception

# The API endpoints anyone may call. Every other one needs a valid bearer token, checked before its
# arguments are parsed: an anonymous caller gets 401, never a 422 describing the body it may not send.
PUBLIC_ENDPOINTS = frozenset({"auth_api.login"})


class ErrorDetailSchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    fields = fields.Dict(keys=fields.String(), values=fields.Raw())


class ErrorSchema(Schema):
    error = fields.Nested(ErrorDetailSchema, required=True)


class PageArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))


class PageSchema(Schema):
    """Every list answers {"items": [...], "page", "per_page", "has_next"}: no total count,
    so a page costs the same on a table of a thousand rows and of a million."""

    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    has_next = fields.Boolean(required=True)


def paginate(select_statement, page: int, per_page: int, session) -> dict:
    """Run a select for one page: fetch one row more than asked to know whether another follows."""
    rows = session.scalars(select_statement.limit(per_page + 1).offset((page - 1) * per_page)).all()
    return {"items": rows[:per_page], "page": page, "per_page": per_page, "has_next": len(rows) > per_page}


class HubApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        return handle_http_exception(error)


def _require_token():
    if request.endpoint not in PUBLIC_ENDPOINTS and not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def api_blueprint(name: str, import_name: str, description: str) -> Blueprint:
    blueprint = Blueprint(name, import_name, url_prefix="/api/v1", description=description)
    blueprint.before_request(_require_token)
    return blueprint


def init_api(app: Flask, blueprints: list[Blueprint]) -> HubApi:
    api = HubApi(app, spec_kwargs={
        "info": {"description": "Consent-gated referral and messaging hub for exit programmes. "
                                "Errors: {\"error\": {\"code\", \"message\", \"fields\"}}."},
    })
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    return api
