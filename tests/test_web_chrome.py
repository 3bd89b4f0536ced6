"""What every page carries besides its content: the icon (no 404 in the browser's log on every page)
and the Dutch words of the field, used the same way throughout the catalogue."""
from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

from tests.web import signed_in

CATALOGUE = Path(__file__).resolve().parents[1] / "hub" / "translations" / "nl" / "LC_MESSAGES" / "messages.po"


def test_every_page_names_the_svg_icon_and_favicon_ico_leads_to_it(client, make):
    login = client.get("/login").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in login
    answer = client.get("/favicon.ico")
    assert answer.status_code == 301 and answer.location.endswith("/static/favicon.svg")
    with client.get("/static/favicon.svg") as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
        assert b"<svg" in icon.data and b"<script" not in icon.data and len(icon.data) < 1024
    signed_in(client, make.user("coach"))
    assert 'rel="icon"' in client.get("/").get_data(as_text=True)


def _dutch() -> list[tuple[str, str]]:
    with CATALOGUE.open("rb") as file:
        catalogue = read_po(file, locale="nl")
    pairs = []
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        pairs.append((" ".join(ids), " ".join(strings)))
    return pairs


def test_a_service_referral_is_a_doorverwijzing_and_a_handoff_never_is():
    """DOMAIN.md: the referrer (verwijzer) hands a client over (overdracht) to the exit programme; the
    coach refers on (doorverwijzen) to a partner. "Verwijzing" alone mixed the two."""
    bare = re.compile(r"(?<![Dd]oor)(?<![Ss]poed)[Vv]erwijzing|(?<![Dd]oor)[Vv]erwezen")
    assert [source for source, dutch in _dutch() if bare.search(dutch)] == []
    handoffs = [dutch for source, dutch in _dutch() if re.search(r"\bhandoffs?\b", source, re.IGNORECASE)]
    assert handoffs and not any("doorverwijz" in dutch.lower() for dutch in handoffs)


def test_the_dutch_catalogue_has_no_fuzzy_or_empty_entries():
    with CATALOGUE.open("rb") as file:
        catalogue = read_po(file, locale="nl")
    assert [m.id for m in catalogue if m.id and m.fuzzy] == []
    empty = [m.id for m in catalogue if m.id and not all(m.string if isinstance(m.string, tuple) else (m.string,))]
    assert empty == []
