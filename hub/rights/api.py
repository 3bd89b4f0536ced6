"""`/api/v1/clients/<id>/read-log`, `/export`, `/erasure` and `/legal-hold`: the client's rights,
exercised by the coach of the client's programme. Thin: parse, load-and-authorise, call."""
from contextlib import nullcontext

from flask_babel import force_locale
from flask_login import current_user

from hub.api import api_blueprint
from hub.auth.permissions import Permission, secured
from hub.clock import utcnow
from hub.referrals.service import programme_client
from hub.rights import service
from hub.rights.schemas import (
    ClientExportSchema,
    ErasureRequestSchema,
    ErasureSchema,
    ReadLogArgs,
    ReadLogPageSchema,
    RightsLangArgs,
    RightsReasonSchema,
    RightsStatusSchema,
)

blp = api_blueprint("rights_api", __name__,
                    "The client's rights: the read log, the access request (export), erasure, the legal hold.")
NOT_YOURS = "No such client, or not a client of your programme (the refusal is audited)"


def _locale(lang: str | None):
    """The texts in `lang` when asked; else the request's language (Accept-Language, else Dutch)."""
    return force_locale(lang) if lang else nullcontext()


@blp.get("/clients/<int:client_id>/read-log")
@blp.arguments(ReadLogArgs, location="query")
@blp.response(200, ReadLogPageSchema)
@blp.alt_response(404, description=NOT_YOURS)
@secured(blp, Permission.CLIENT_RIGHTS)
def read_log(args, client_id):
    """Who read or changed which part of the client's data, when and on what ground, newest first,
    each entry in a plain sentence (`lang`, or Accept-Language). Producing it is audited."""
    client = programme_client(current_user, client_id)
    with _locale(args["lang"]):
        return service.read_log_page(current_user, client, args["page"], args["per_page"])


@blp.get("/clients/<int:client_id>/export")
@blp.arguments(RightsLangArgs, location="query")
@blp.response(200, ClientExportSchema)
@blp.alt_response(404, description=NOT_YOURS)
@secured(blp, Permission.CLIENT_RIGHTS)
def export(args, client_id):
    """The access request: everything the hub holds about the client, with the read log. Also when
    the client's consent was withdrawn: it is the client's right. Audited as an export."""
    client = programme_client(current_user, client_id)
    with _locale(args["lang"]):
        return service.export_data(current_user, client, utcnow(), "json")


@blp.get("/clients/<int:client_id>/rights")
@blp.response(200, RightsStatusSchema)
@blp.alt_response(404, description=NOT_YOURS)
@secured(blp, Permission.CLIENT_RIGHTS)
def rights(client_id):
    """Whether the client's data was erased, the legal hold, and the erasure requests."""
    return service.status(current_user, programme_client(current_user, client_id))


@blp.post("/clients/<int:client_id>/erasure")
@blp.arguments(ErasureSchema)
@blp.response(201, ErasureRequestSchema)
@blp.alt_response(404, description=NOT_YOURS)
@blp.alt_response(409, description="`legal_hold` (the request is recorded; the hold's reason is in the message "
                                   "and in fields.legal_hold_reason), `trajectory_open` (send `close_trajectory` "
                                   "with its outcome and date) or `already_anonymised`")
@blp.alt_response(422, description="No reason given, or a `close_trajectory` that does not fit the trajectory "
                                   "(an exit without destination, a date in the future or before its current "
                                   "phase began)")
@secured(blp, Permission.CLIENT_RIGHTS)
def erasure(data, client_id):
    """Record the client's request to be erased; it is carried out at once unless a legal hold applies.
    An open trajectory is closed with it, with the outcome given in `close_trajectory`."""
    client = programme_client(current_user, client_id)
    return service.request_erasure(current_user, client, data["reason"], utcnow(), data["close_trajectory"])


@blp.post("/clients/<int:client_id>/legal-hold")
@blp.arguments(RightsReasonSchema)
@blp.response(200, RightsStatusSchema)
@blp.alt_response(404, description=NOT_YOURS)
@blp.alt_response(422, description="No reason given")
@secured(blp, Permission.CLIENT_RIGHTS)
def set_legal_hold(data, client_id):
    """Put the client's data under a legal hold (or restate its reason): no anonymisation, no erasure and
    no removal of its audit trail while it lasts."""
    client = programme_client(current_user, client_id)
    service.set_legal_hold(current_user, client, data["reason"], utcnow())
    return service.status(current_user, client, audit=False)


@blp.delete("/clients/<int:client_id>/legal-hold")
@blp.response(200, RightsStatusSchema)
@blp.alt_response(404, description=NOT_YOURS)
@blp.alt_response(409, description="`no_legal_hold`: there is none")
@secured(blp, Permission.CLIENT_RIGHTS)
def clear_legal_hold(client_id):
    """Lift the legal hold; an erasure request it held is carried out at once."""
    client = programme_client(current_user, client_id)
    service.clear_legal_hold(current_user, client, utcnow())
    return service.status(current_user, client, audit=False)
