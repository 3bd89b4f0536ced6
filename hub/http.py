"""What every request goes through: one transaction, security headers, errors in one shape."""
from __future__ import annotations

import logging

from flask import Flask, Response, g, jsonify, render_template, request
from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from hub.audit.service import write_durable_events
from hub.connections import database_out_of_reach
from hub.errors import HubError
from hub.extensions import db

log = logging.getLogger(__name__)

HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
              415: "unsupported_media_type", 422: "validation_error", 429: "rate_limited",
              500: "internal_error", 503: "database_unavailable"}

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, code: str, message: str, fields: dict | None = None) -> Response:
    if is_api_request():
        response = jsonify({"error": {"code": code, "message": message, "fields": fields or {}}})
        response.status_code = status
        return response
    try:
        return Response(render_template("errors/error.html", status=status, message=message), status)
    except Exception:  # the page itself failed (a template error): answer plainly rather than not at all
        log.exception("the error page could not be rendered")
        return Response(f"<!doctype html><title>{status}</title><h1>{escape(message)}</h1>", status)


def _webargs_fields(error: HTTPException) -> dict:
    messages = (getattr(error, "data", None) or {}).get("messages") or {}
    fields: dict = {}
    for location_messages in messages.values():  # {"json": {...}, "query": {...}}
        if isinstance(location_messages, dict):
            fields.update(location_messages)
    return fields


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    fields = _webargs_fields(error)
    if status == 422 and fields:
        message = _("Some fields are not valid: %(names)s.", names=", ".join(sorted(fields)))
    elif status == 400 and getattr(error, "description", "").startswith("The CSRF"):
        message = _("This form has expired. Go back, reload the page and try again.")
    else:
        message = _default_message(status)
    return error_response(status, HTTP_CODES.get(status, "error"), message, fields)


def _default_message(status: int) -> str:
    return {
        400: _("The request could not be understood."),
        401: _("Sign in first."),
        403: _("You are not allowed to do this."),
        404: _("This page or object does not exist, or you may not see it."),
        405: _("This method is not allowed here."),
        413: _("The request is too large."),
        415: _("Send JSON with Content-Type: application/json."),
        422: _("The request is not valid."),
        429: _("Too many requests. Try again later."),
    }.get(status, _("Something went wrong on our side. Nothing was saved; please try again."))


def handle_hub_error(error: HubError) -> Response:
    response = error_response(error.status, error.code, error.message, error.fields)
    if getattr(error, "retry_after", None):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def handle_unexpected(error: Exception) -> Response:
    if database_out_of_reach(error):
        return database_unavailable(error)
    log.exception("unhandled error on %s %s", request.method, request.path)  # no request data logged
    return error_response(500, "internal_error", _default_message(500))


def database_unavailable(error: DBAPIError) -> Response:
    """The database could not be reached (restarting, refusing connections) or its connection broke
    under this request: nothing the request wrote was committed, the pool lets go of a broken
    connection (hub.connections), and the same request sent again a moment later finds a fresh one."""
    log.warning("database unavailable on %s %s: %s", request.method, request.path, type(error.orig).__name__)
    return _unavailable(_("The database could not be reached for a moment. Nothing was saved; please try again."))


def _unavailable(message: str) -> Response:
    response = error_response(503, HTTP_CODES[503], message)
    response.headers["Retry-After"] = "1"
    return response


def concurrent_change() -> Response:
    log.warning("conflicting write on %s %s", request.method, request.path)
    return error_response(409, "conflict", _("Someone changed this at the same time. Reload and try again."))


def handle_stale_data(_error: StaleDataError) -> Response:
    """A row changed by another request since this one read it (its version column no longer matches,
    e.g. two coaches accepting one handoff at once): a conflict, not an error. The request's work
    rolls back (`finish_transaction`)."""
    return concurrent_change()


def finish_transaction(response: Response) -> Response:
    """Commit the request's work once, at the end; roll it back on any error response."""
    if response.status_code < 400:
        try:
            db.session.commit()
        except (IntegrityError, StaleDataError):
            db.session.rollback()
            response = concurrent_change()
        except DBAPIError as error:
            db.session.rollback()
            if error.connection_invalidated:  # the commit may or may not have reached the database
                log.warning("database connection lost at commit on %s %s", request.method, request.path)
                response = _unavailable(_("The database could not be reached while saving. Check whether "
                                          "your change was saved before you send it again."))
            else:
                log.exception("commit failed on %s %s", request.method, request.path)
                response = error_response(500, "internal_error", _default_message(500))
        except SQLAlchemyError:
            db.session.rollback()
            log.exception("commit failed on %s %s", request.method, request.path)
            response = error_response(500, "internal_error", _default_message(500))
        write_durable_events()
    else:
        db.session.rollback()
        # A 4xx page may show what the request read (a form shown again with its mistakes): its reads
        # are written all the same. A 5xx page shows nothing of it.
        try:
            write_durable_events(keep_reads=response.status_code < 500)
        except DBAPIError as error:
            # The page must not go out without its reads in the access log: answered 503, like any
            # request that met a database out of reach (nothing of the request's own work was kept).
            db.session.rollback()
            if not database_out_of_reach(error):
                raise
            log.warning("database out of reach writing the access log of %s %s", request.method, request.path)
            response = _unavailable(_("The database could not be reached for a moment. Nothing was saved; please "
                                      "try again."))
    return response


def security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if not request.path.startswith("/static/"):
        # Pages and API answers may carry client data: never kept by browsers or proxies.
        headers["Cache-Control"] = "no-store"
    if g.get("hub_production"):
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    return response


def init_app(app: Flask, production: bool) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(HubError, handle_hub_error)
    app.register_error_handler(StaleDataError, handle_stale_data)
    app.register_error_handler(Exception, handle_unexpected)
    app.after_request(security_headers)
    app.after_request(finish_transaction)  # runs first: after_request functions run in reverse

    @app.before_request
    def mark_production():
        g.hub_production = production
