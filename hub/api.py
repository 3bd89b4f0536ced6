"""The JSON API under /api/v1: flask-smorest validates with marshmallow and writes the OpenAPI document."""
from __future__ import annotations

from datetime import datetime
from enum import Enum

from apispec import BasePlugin
from flask import Flask, request
from flask_login import current_user
from flask_smorest import Api, Blueprint
from marshmallow import Schema, ValidationError, fields, validate
from webargs.flaskparser import FlaskParser

from hub.extensions import login_manager
from hub.http import handle_http_exception

# The API endpoints anyone may call. Every other one needs a valid bearer token, checked before its
# arguments are parsed: an anonymous caller gets 401, never a 422 describing the body it may not send.
PUBLIC_ENDPOINTS = frozenset({"auth_api.login"})

# Every integer the API takes must fit the database's INTEGER columns (ids, counts): a larger one is
# refused as invalid (422) instead of failing in the database driver (a 500 on SQLite). In a path, the
# `int` converter (hub/__init__.py) makes it a 404.
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


def _too_large(data, path=()):
    """The paths of the integers in parsed arguments that the database cannot hold."""
    if isinstance(data, bool):
        return
    if isinstance(data, int):
        if not INT_MIN <= data <= INT_MAX:
            yield path
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _too_large(value, (*path, key))
    elif isinstance(data, list | tuple):
        for index, value in enumerate(data):
            yield from _too_large(value, (*path, index))


def fits_the_database(data) -> bool:
    messages: dict = {}
    for path in _too_large(data):
        *parents, last = path
        node = messages
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = [f"Must be between {INT_MIN} and {INT_MAX}."]
    if messages:
        raise ValidationError(messages)
    return True


class HubParser(FlaskParser):
    """webargs, with every parsed argument checked to fit the database (`fits_the_database`).

    The routes name their schemas by class (`@blp.arguments(HandoffCreateSchema)`), and webargs would
    make an instance of it, and of each schema nested in it, for every request (bench/profile.py: a
    handoff built six). One instance per class serves every request instead, as with marshmallow's usual
    module-level schemas: loading keeps no state on the schema (marshmallow 4 has no `context`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._schemas: dict[type[Schema], Schema] = {}

    def _get_schema(self, argmap, req) -> Schema:
        if isinstance(argmap, type) and issubclass(argmap, Schema):
            schema = self._schemas.get(argmap)
            if schema is None:
                schema = self._schemas[argmap] = argmap()
            return schema
        return super()._get_schema(argmap, req)

    def parse(self, argmap, req=None, *, validate=None, **kwargs):
        validators = [fits_the_database, *(validate if isinstance(validate, list | tuple) else [validate] if validate
                                           else [])]
        return super().parse(argmap, req, validate=validators, **kwargs)


class HubBlueprint(Blueprint):
    ARGUMENTS_PARSER = HubParser()


def integer_bounds(self, field, ret, **kwargs) -> dict:
    """apispec: document the database's bounds on every integer that does not state tighter ones."""
    if not isinstance(field, fields.Integer):
        return {}
    return {key: value for key, value in (("minimum", INT_MIN), ("maximum", INT_MAX)) if key not in ret}


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


def json_ready(row: dict) -> dict:
    """A row of plain values (ints, strings, booleans, None, aware datetimes, enums) as the API's schemas
    dump it (marshmallow's DateTime: ISO 8601 with the zone; Enum by value), for a list answered with
    `jsonify`: dumping a page of 25 through marshmallow cost ~0.45 ms, this a third of it."""
    return {key: value.isoformat() if isinstance(value, datetime) else value.value if isinstance(value, Enum)
            else value for key, value in row.items()}


class HubApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        return handle_http_exception(error)


def _require_token():
    if request.endpoint not in PUBLIC_ENDPOINTS and not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def api_blueprint(name: str, import_name: str, description: str) -> HubBlueprint:
    blueprint = HubBlueprint(name, import_name, url_prefix="/api/v1", description=description)
    blueprint.before_request(_require_token)
    return blueprint


class ErrorAnswersPlugin(BasePlugin):
    """Document, on every operation, the errors the hub's shared machinery answers there, so that a
    client of the API (and the schemathesis fuzzing in tests/test_fuzz_api.py) finds every status code
    named, each with the error shape:
    - 401 (and the bearer requirement) wherever a token is needed: `_require_token` guards them all;
    - 403 where `require(permission)` refuses some roles;
    - 404 where the path names an object (an unknown or someone else's id; a malformed one);
    - 400 where a JSON body is read (a body that is not JSON at all)."""

    def __init__(self, app: Flask):
        super().__init__()
        self.app = app

    def operation_helper(self, path=None, operations=None, **kwargs):
        from hub.auth.permissions import ROLE_PERMISSIONS

        rule = kwargs.get("rule")
        if rule is None or not operations:
            return
        view = self.app.view_functions.get(rule.endpoint)
        permission = getattr(view, "required_permission", None)
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            named = {str(code) for code in responses}

            def name(code: str, description: str, responses=responses, named=named):
                if code not in named:
                    responses[code] = {"description": description}
                    named.add(code)

            if rule.endpoint not in PUBLIC_ENDPOINTS:
                operation.setdefault("security", [{"bearer": []}])
                name("401", "No valid token: sign in first")
            if permission is not None and not all(permission in granted for granted in ROLE_PERMISSIONS.values()):
                name("403", "Your role does not allow this")
            if rule.arguments:
                name("404", "No such object, or not yours to see")
            if "requestBody" in operation:
                name("400", "The body is not JSON")
            for code, response in responses.items():
                if str(code).startswith("4") and isinstance(response, dict) and "content" not in response:
                    response["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def init_api(app: Flask, blueprints: list[Blueprint]) -> HubApi:
    api = HubApi(app, spec_kwargs={
        "extra_plugins": [ErrorAnswersPlugin(app)],
        "info": {"description": "Consent-gated referral and messaging hub for exit programmes. "
                                "Errors: {\"error\": {\"code\", \"message\", \"fields\"}}."},
    })
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    api.ma_plugin.converter.add_attribute_function(integer_bounds)
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    return api
