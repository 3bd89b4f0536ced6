"""The hub's application factory."""
from __future__ import annotations

import os

from flask import Flask, has_request_context, request, session
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from config import Config, ConfigError
from hub import connections, http  # noqa: F401  (connections: SQLite's settings and write lock, the idle ping)
from hub.crypto import KeyRing, development_keys
from hub.extensions import babel, csrf, db, login_manager, migrate

LOCALES = ("nl", "en")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(config: Config | None = None) -> Flask:
    """Build the hub: settings, extensions, blueprints, commands, error handling."""
    config = config or Config.from_env()
    config.check()
    app = Flask(__name__, instance_path=config.instance_path or os.path.join(ROOT, "instance"))
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(config.flask_settings(app.instance_path))
    app.config["HUB"] = config
    try:
        app.extensions["hub.keyring"] = KeyRing(config.field_keys or development_keys(app.instance_path))
    except ValueError as exc:
        raise ConfigError(f"HUB_FIELD_KEYS: {exc}") from exc
    if config.proxy_hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.proxy_hops, x_proto=config.proxy_hops,
                                x_host=config.proxy_hops)

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(ROOT, "migrations"))
    login_manager.init_app(app)
    login_manager.session_protection = None  # sessions live server-side (auth_sessions)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)

    app.url_map.converters["int"] = DatabaseIntConverter
    _register_blueprints(app)
    http.init_app(app, production=config.production)

    from hub.clock import dutch_day, dutch_time
    from hub.labels import domain_label, figure, kind_label, role_label

    app.jinja_env.filters.update(domain_label=domain_label, kind_label=kind_label, role_label=role_label,
                                 dutch_day=dutch_day, dutch_time=dutch_time, figure=figure)

    from hub.cli import hub_cli
    app.cli.add_command(hub_cli)

    @app.context_processor
    def inject_helpers():
        from flask_babel import get_locale

        from hub.auth.permissions import Permission, can
        from hub.labels import domain_label, kind_label, role_label

        return {"can": can, "Permission": Permission, "get_locale": get_locale, "LOCALES": LOCALES,
                "role_label": role_label, "kind_label": kind_label, "domain_label": domain_label}

    return app


class DatabaseIntConverter(IntegerConverter):
    """`<int:id>` only up to the largest id the databases store (2**31 - 1): a larger number is a
    404 like any unknown id, not a database error. The pattern itself stops at that number: were the
    limit checked only after matching, werkzeug would answer 405 instead of 404 on a path with a rule
    per method (GET and POST) for a method other than the first rule's."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)
        if not self.fixed_digits and not self.signed and self.min is None:
            self.regex = _digits_up_to(self.max)


def _digits_up_to(limit: int) -> str:
    """A regular expression for the decimal numbers from 0 to `limit` (leading zeros allowed)."""
    digits = str(limit)
    parts = [rf"\d{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for index, digit in enumerate(digits):
        if digit != "0":
            rest = len(digits) - index - 1
            parts.append(f"{digits[:index]}[0-{int(digit) - 1}]" + (rf"\d{{{rest}}}" if rest else ""))
    return "(?:" + "|".join([*parts, digits]) + ")"


def _register_blueprints(app: Flask) -> None:
    from hub.api import init_api
    from hub.audit.views import bp as audit_views
    from hub.auth import loader  # noqa: F401  (registers the Flask-Login loaders)
    from hub.auth.api import blp as auth_api
    from hub.auth.views import bp as auth_views
    from hub.consent.api import blp as consent_api
    from hub.consent.views import bp as consent_views
    from hub.notifications.views import bp as notifications_views
    from hub.partners.api import blp as partners_api
    from hub.partners.views import bp as partners_views
    from hub.referrals.api import blp as referrals_api
    from hub.referrals.escalation_api import blp as escalations_api
    from hub.referrals.service_referral_api import blp as service_referrals_api
    from hub.referrals.service_referral_views import bp as service_referral_views
    from hub.referrals.trajectory_api import blp as trajectory_api
    from hub.referrals.trajectory_views import bp as trajectory_views
    from hub.referrals.views import bp as referrals_views
    from hub.reports.api import blp as reports_api
    from hub.reports.views import bp as reports_views
    from hub.rights.api import blp as rights_api
    from hub.rights.views import bp as rights_views
    from hub.views import bp as core_views

    api_blueprints = [auth_api, partners_api, referrals_api, trajectory_api, consent_api, service_referrals_api,
                      escalations_api, reports_api, rights_api]
    init_api(app, api_blueprints)
    for blueprint in api_blueprints:
        csrf.exempt(blueprint)  # bearer tokens only: no cookie, so no cross-site request forgery
    for blueprint in (core_views, auth_views, partners_views, audit_views, notifications_views, referrals_views,
                      trajectory_views, consent_views, service_referral_views, reports_views, rights_views):
        app.register_blueprint(blueprint)


def select_locale() -> str:
    """Dutch by default; the user's choice (account, then session) wins; API clients may ask.
    Commands (no request) answer in English, like the code and the logs."""
    if not has_request_context():
        return "en"
    if request.path.startswith("/api/"):
        return request.accept_languages.best_match(LOCALES) or "nl"
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    if session.get("locale") in LOCALES:
        return session["locale"]
    from flask import current_app

    return current_app.config["HUB"].default_locale
