"""Using the web interface as a browser does: read the form's CSRF token, then post it."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

from hub import clock
from tests.conftest import totp_now

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client, path: str) -> str:
    """The CSRF token of the first form on the page at `path`."""
    response = client.get(path)
    match = CSRF_INPUT.search(response.get_data(as_text=True))
    assert match, f"no csrf_token input on {path} ({response.status_code})"
    return match.group(1)


def post_form(client, path: str, data: dict, form_page: str | None = None, **kwargs):
    """Post `data` to `path` with the CSRF token taken from `form_page` (default: `path` itself)."""
    return client.post(path, data={"csrf_token": csrf_token(client, form_page or path), **data}, **kwargs)


def password_step(client, account, password: str | None = None, next_url: str | None = None):
    path = "/login" + (f"?next={quote(next_url, safe='')}" if next_url is not None else "")
    return post_form(client, path, {"email": account.email, "password": password or account.password},
                     form_page="/login")


def sign_in(client, account, code: str | None = None, next_url: str | None = None):
    """Both steps of the web sign-in; returns the answer to the code step (a redirect when it worked)."""
    response = password_step(client, account, next_url=next_url)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.location.endswith("/login/code"), response.location
    return post_form(client, "/login/code", {"code": code or totp_now(account)})


def signed_in(client, account) -> None:
    """Sign in on the web and insist it worked."""
    response = sign_in(client, account)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert client.get("/").status_code == 200


def next_step(seconds: int = 30) -> None:
    """Move the frozen clock on by one TOTP step, so that the same account can sign in again."""
    clock.freeze(clock.utcnow() + timedelta(seconds=seconds))


def wrong_code(account) -> str:
    """Six digits that are certainly not a code the account's app shows around now."""
    valid = {totp_now(account, steps=steps) for steps in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)
