"""The hub as its users see it: headless Chromium against a real server (see conftest.py).

One journey, in the order it happens in the chain: a police officer hands a client over on a
phone; the coach accepts, records the client's consent for debt relief (finances only) and refers
on; the debt-relief partner sees only that part, puts the client on its waiting list and writes to
the coach; the coach reads it and finds the client on the caseload page; the chain director opens
the bottleneck and phase pages. Every step leaves a screenshot in build/screenshots/. Selectors are
what a user reads: labels, roles and button names, in Dutch, the interface's default language.
"""
from __future__ import annotations

import contextlib
import re
import time

from tests.browser.conftest import SCREENSHOTS, Hub, Person

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
ALIAS = "Roos"
SUMMARY = "Werkt sinds 2019 achter het raam in Arnhem en wil stoppen."
FINANCES_NOTES = "Schulden bij de pooier, ongeveer 8.000 euro."
HOUSING_NOTES = "Woont boven de club; de pooier heeft de sleutel."
CODE_WORD = "zonnebloem"
MESSAGE = "Roos staat op onze wachtlijst. Kun je haar bankafschriften van drie maanden meenemen naar de intake?"


class Shots:
    """Numbered screenshots, one per step: build/screenshots/01-referrer-signed-in.png, ...; a journey's
    own prefix keeps the journeys from overwriting each other's (r01-..., from a run before removed)."""

    def __init__(self, prefix: str = ""):
        self.number, self.prefix = 0, prefix
        for old in SCREENSHOTS.glob(f"{prefix}[0-9][0-9]-*.png"):
            old.unlink()

    def __call__(self, page, step: str, full_page: bool = True) -> None:
        self.number += 1
        page.screenshot(path=str(SCREENSHOTS / f"{self.prefix}{self.number:02d}-{step}.png"), full_page=full_page)


def run_journey(name: str, journey, browser, hub: Hub, prefix: str = "") -> None:
    """Run `journey(browser, hub, shot, pages)`; when it fails, each user's page is kept as a screenshot
    (<prefix>99-failure-<n>.png), and every browser is closed either way."""
    started = time.monotonic()
    shot = Shots(prefix)
    pages = []
    try:
        journey(browser, hub, shot, pages)
    except Exception:
        for index, page in enumerate(pages):  # what each user saw when it went wrong
            with contextlib.suppress(Exception):
                page.screenshot(path=str(SCREENSHOTS / f"{prefix}99-failure-{index}.png"), full_page=True)
        raise
    finally:
        for page in pages:
            page.context.close()
    print(f"{name}: hub {hub.setup}; journey {time.monotonic() - started:.1f} s, "
          f"{shot.number} screenshots in {SCREENSHOTS}")


def new_page(browser, hub: Hub, pages: list, viewport=DESKTOP, **options):
    """A fresh browser (context) nobody signed in with yet, in Dutch."""
    context = browser.new_context(viewport=viewport, locale="nl-NL", base_url=hub.base_url, **options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    pages.append(page)
    return page


def sign_in(browser, hub: Hub, person: Person, pages: list, viewport=DESKTOP, **options):
    """A fresh browser (context) for `person`, signed in with password and TOTP code."""
    page = new_page(browser, hub, pages, viewport, **options)
    page.goto("/login")
    page.get_by_label("E-mailadres").fill(person.email)
    page.get_by_label("Wachtwoord").fill(person.password)
    page.get_by_role("button", name="Volgende").click()
    page.wait_for_url("**/login/code")
    page.get_by_label("Code van zes cijfers uit je authenticator-app").fill(person.code())
    page.get_by_role("button", name="Inloggen", exact=True).click()
    page.wait_for_url(f"{hub.base_url}/")
    assert person.name in page.get_by_role("contentinfo").inner_text()
    return page


def menu(page, name: str) -> None:
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name=name, exact=True).click()


def flash(page):
    """The message at the top of the page after an action."""
    return page.get_by_role("main").get_by_role("status").first


def test_referral_journey(browser, hub: Hub):
    run_journey("browser journey", _journey, browser, hub)


def _journey(browser, hub: Hub, shot: Shots, pages: list) -> None:
    people, organisations = hub.people, hub.organisations
    partner_name = "Schuldhulp Rijnstad"

    # --- 1. The referrer, on a phone, hands the client over with the one form -------------------------
    referrer = sign_in(browser, hub, people["referrer"], pages, viewport=PHONE, is_mobile=True, has_touch=True,
                       device_scale_factor=2)
    shot(referrer, "referrer-signed-in")
    referrer.goto("/handoffs/new")
    form = referrer.get_by_role("main")
    assert form.get_by_label("Uitstapprogramma", exact=True).input_value() == str(organisations["programme"])
    form.get_by_label("Naam of roepnaam").fill(ALIAS)
    form.get_by_label("Gender", exact=True).select_option(label="vrouw")
    form.get_by_label("Geboortejaar").fill("1994")
    form.get_by_label("Talen").fill("Nederlands, Roemeens")
    form.get_by_label("mag in Nederland wonen en werken").check()
    form.get_by_label("Bel de cliënt nooit").check()
    form.get_by_label("Codewoord").fill(CODE_WORD)
    form.get_by_label("Samenvatting", exact=True).fill(SUMMARY)
    for domain, score, wish, notes in (("financiën en schulden", "2", "7", FINANCES_NOTES),
                                       ("wonen", "3", "8", HOUSING_NOTES)):
        details = form.locator("details.domain").filter(
            has=referrer.locator("summary", has_text=re.compile(f"^{domain}$", re.IGNORECASE)))
        details.locator("summary").click()
        details.get_by_label("Nu (1-10)").fill(score)
        details.get_by_label("Wens (1-10)").fill(wish)
        details.get_by_label("Aantekeningen").fill(notes)
    consent = form.get_by_role("group", name="Het uitstapprogramma mag zien")
    form.get_by_role("group", name="Hoe de cliënt toestemming gaf").get_by_label("mondeling").check()
    for item in ("samenvatting van het verhaal", "gegevens voor veilig contact", "financiën en schulden", "wonen"):
        consent.get_by_label(item, exact=True).check()
    shot(referrer, "referrer-handoff-form")
    form.get_by_role("button", name="Overdracht versturen").click()
    referrer.wait_for_url("**/handoffs")
    handoff_link = referrer.get_by_role("link", name=re.compile(r"^Overdracht \d+$")).first
    handoff_link.wait_for()
    handoff_id = handoff_link.inner_text().split()[-1]
    assert SUMMARY not in referrer.content()  # the referrer sees the status, never the story
    shot(referrer, "referrer-handoff-sent")

    # --- 2. The coach accepts it from the intake queue --------------------------------------------------
    coach = sign_in(browser, hub, people["coach"], pages)
    menu(coach, "Intakelijst")
    coach.wait_for_url("**/handoffs")
    shot(coach, "coach-intake-queue")
    coach.get_by_role("link", name=f"Overdracht {handoff_id}", exact=True).click()
    coach.wait_for_url(f"**/handoffs/{handoff_id}")
    coach.get_by_role("button", name="Overdracht accepteren").click()
    coach.wait_for_url(f"**/handoffs/{handoff_id}")
    assert "geaccepteerd" in flash(coach).inner_text()
    shot(coach, "coach-handoff-accepted")

    # --- 3. ... records the client's consent for debt relief, finances only, on the dossier --------------
    coach.get_by_role("link", name="Dossier openen").click()
    coach.wait_for_url(re.compile(r".*/clients/\d+$"))
    dossier_url = coach.url
    assert CODE_WORD in coach.get_by_role("region", name=re.compile("^Veilig contact")).inner_text()
    assert HOUSING_NOTES in coach.content()  # the programme may see the housing domain
    consent_form = coach.get_by_role("region", name="Nieuwe toestemming vastleggen")
    recipient = consent_form.get_by_label("Wie het mag zien")
    recipient.select_option(recipient.locator("option", has_text=partner_name).get_attribute("value"))
    consent_form.get_by_label("doorverwijzing naar een ketenpartner").check()
    consent_form.get_by_role("group", name="Welke delen").get_by_label("financiën en schulden").check()
    consent_form.get_by_role("group", name="Hoe de cliënt toestemming gaf").get_by_label("mondeling").check()
    consent_form.get_by_role("button", name="Toestemming vastleggen").click()
    coach.wait_for_url(dossier_url)
    assert partner_name in flash(coach).inner_text()
    coach.get_by_role("region", name="Toestemmingen").scroll_into_view_if_needed()
    shot(coach, "coach-consent-recorded")

    # --- 4. ... and refers on to debt relief ------------------------------------------------------------
    coach.get_by_role("link", name="Doorverwijzen naar een ketenpartner").click()
    coach.wait_for_url(re.compile(r".*/clients/\d+/service-referrals/new$"))
    coach.get_by_label("Leefgebied").select_option(label="financiën en schulden")
    coach.get_by_role("button", name="Toon de ketenpartners hiervoor").click()
    coach.wait_for_url(re.compile(r".*domain=finances"))
    partners = coach.get_by_role("group", name="Ketenpartner")
    choice = partners.locator(".choice").filter(has_text=partner_name)
    assert "nog geen metingen" in choice.inner_text()  # the measured waiting, per partner
    choice.get_by_role("radio").check()
    coach.get_by_label("Notitie voor de ketenpartner").fill("Graag een eerste gesprek over de schulden.")
    shot(coach, "coach-refer-on")
    coach.get_by_role("button", name="Doorverwijzing versturen").click()
    coach.wait_for_url(re.compile(r".*/service-referrals/\d+$"))
    referral_url = coach.url
    referral_id = referral_url.rsplit("/", 1)[-1]
    shot(coach, "coach-referral-sent")

    # --- 5. The partner sees only the consented part --------------------------------------------------
    partner = sign_in(browser, hub, people["partner"], pages)
    menu(partner, "Doorverwijzingen")
    partner.wait_for_url("**/service-referrals")
    shot(partner, "partner-inbox")
    partner.get_by_role("link", name=f"Doorverwijzing {referral_id}: financiën en schulden").click()
    partner.wait_for_url(f"**/service-referrals/{referral_id}")
    page_text = partner.content()
    assert FINANCES_NOTES in page_text, "the consented life domain is missing"
    assert HOUSING_NOTES not in page_text, "the partner sees the housing notes it has no consent for"
    assert SUMMARY not in page_text, "the partner sees the story summary it has no consent for"
    assert CODE_WORD not in page_text, "the partner sees the safe-contact details it has no consent for"
    shot(partner, "partner-referral-consented-part")

    # --- 6. ... reports "waitlisted" and writes to the coach -------------------------------------------
    partner.get_by_label("Op onze wachtlijst gezet").check()
    partner.get_by_role("button", name="Stap opslaan").click()
    partner.wait_for_url(f"**/service-referrals/{referral_id}")
    assert "op de wachtlijst" in flash(partner).inner_text()
    partner.get_by_label("Je bericht").fill(MESSAGE)
    partner.get_by_role("button", name="Versturen", exact=True).click()
    partner.wait_for_url(f"**/service-referrals/{referral_id}#thread")
    assert MESSAGE in partner.get_by_role("region", name="Berichten").inner_text()
    shot(partner, "partner-waitlisted-and-message")

    # --- 7. The coach, still signed in, reads the message -------------------------------------------------
    coach.goto(referral_url)
    thread = coach.get_by_role("region", name="Berichten")
    assert MESSAGE in thread.inner_text()
    assert "op de wachtlijst" in coach.get_by_role("region", name="Statusgeschiedenis").inner_text()
    thread.scroll_into_view_if_needed()
    shot(coach, "coach-reads-message")

    # --- 8. ... and sees the client among theirs, with the open referral and where it stands -----------
    menu(coach, "Mijn cliënten")
    coach.wait_for_url("**/caseload")
    card = coach.locator("li.client").filter(has=coach.get_by_role("link", name=ALIAS, exact=True))
    assert "contactfase" in card.inner_text()
    assert re.search(rf"{partner_name}: financiën en schulden\s+· op de wachtlijst", card.inner_text())
    shot(coach, "coach-caseload")
    coach.set_viewport_size(PHONE)
    shot(coach, "coach-caseload-phone")

    # --- 9. The chain director opens the bottleneck page ------------------------------------------------
    director = sign_in(browser, hub, people["director"], pages)
    menu(director, "Rapportages")
    director.wait_for_url("**/reports/bottlenecks")
    director.get_by_role("heading", name="Knelpunten", level=1).wait_for()
    ranked = director.get_by_role("table").filter(has=director.get_by_role("columnheader", name="Ketenpartner"))
    assert ranked.get_by_role("rowheader", name=partner_name).is_visible()  # the partner, in aggregate
    assert SUMMARY not in director.content() and ALIAS not in director.content()  # never a client's story
    shot(director, "director-bottlenecks")

    # --- 10. ... and the phases: how far the trajectories got, small numbers hidden ------------------------
    director.get_by_role("navigation", name="Rapportages").get_by_role("link", name="Fasen").click()
    director.wait_for_url("**/reports/phases")
    director.get_by_role("heading", name="Fasen", level=1).wait_for()
    phases = director.get_by_role("table").filter(has=director.get_by_role("columnheader", name="Fase", exact=True))
    contact = phases.get_by_role("row").filter(has=director.get_by_role("rowheader", name="contactfase"))
    assert "<5" in contact.inner_text()  # one trajectory: too few to show
    assert ALIAS not in director.content()
    shot(director, "director-phases")
