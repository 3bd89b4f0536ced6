"""The hub as its users see it, second journey: the directory, the client's rights and the reports.

A police officer hands a client over on a phone and the coach accepts. The administrator, who may
not open a client's rights page, invites a second coach for the programme; she activates her account
with the one-time link (which then stops working) and sets up her authenticator app. The coach looks
for debt relief on the sociale kaart, tries to refer on without the client's consent (refused),
records the consent on the same page and sends the referral with it, her note kept; the debt-relief
partner, who may open neither the reports nor the client's rights, reads the consented part and
rejects for lack of room. The coach then shows the client who saw her data and everything the hub
holds (in Dutch and English), cannot erase her data without saying how her open trajectory ended,
keeps the plan (a goal, its progress, its deadline moved and a step added) and sets the programme's
target; the chain director reads the waiting times and the uniform registration (small numbers
hidden) and may not open the client's rights page.
Last, the new coach signs in with her own password and app and finds the client's rights page.

Written not to disturb the first journey (tests/browser/test_journeys.py) on the shared hub, in
either order: another client, and the referral to the one partner ends rejected before it starts,
so the partner keeps "no measurements yet". Screenshots: build/screenshots/r01-....png.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pyotp

from tests.browser.conftest import Hub, Person
from tests.browser.test_journeys import PHONE, Shots, flash, menu, new_page, run_journey, sign_in

ALIAS = "Iris"
SUMMARY = "Werkt via advertenties in hotels in Arnhem; wil eruit en haar schulden op orde krijgen."
FINANCES_NOTES = "Belastingschuld van ongeveer 3.000 euro, brieven ongeopend."
CODE_WORD = "kastanje"
REFERRAL_NOTE = "Graag hulp bij de belastingschuld."
REJECT_NOTE = "Onze wachtlijst is vol tot na de zomer. Probeer de vrijwillige schuldhulp van de kerk."
TARGET = 12
REFUSED = "Dit mag niet met jouw rol."
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def test_rights_and_reports_journey(browser, hub: Hub):
    run_journey("browser journey (rights and reports)", _journey, browser, hub, prefix="r")


def has_menu_item(page, name: str) -> bool:
    return page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name=name, exact=True).count() > 0


def assert_refused(page, path: str) -> None:
    """Typing in an address the user's role may not open: the hub answers 403, and says why."""
    answer = page.goto(path)
    assert answer.status == 403, f"{path} answered {answer.status}"
    page.get_by_role("heading", name=REFUSED, level=1).wait_for()


def row_of(table, first_cell: str) -> list[str]:
    """The cells of the table's (body) row whose first cell is `first_cell`."""
    for row in table.locator("tbody tr").all():
        cells = [text.strip() for text in row.get_by_role("cell").all_inner_texts()]
        if cells and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no row {first_cell!r} in:\n{table.inner_text()}")


def row_cells(table, page, header: str) -> list[str]:
    """The cells of the table's row headed `header` (its row header excluded)."""
    row = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=header, exact=True))
    return [text.strip() for text in row.get_by_role("cell").all_inner_texts()]


def totals(page) -> dict[str, str]:
    """The uniform registration's headline table, column header -> value."""
    table = page.get_by_role("table", name="Uniforme registratie")
    headers = [text.strip() for text in table.get_by_role("columnheader").all_inner_texts()]
    values = [text.strip() for text in table.locator("tbody tr").first.get_by_role("cell").all_inner_texts()]
    return dict(zip(headers, values, strict=True))


def ground_of(lines: list[list[str]], what: str) -> str:
    """On the read log (lines of day, what happened, why it was allowed): why `what` was allowed."""
    found = [why for _day, said, why in lines if said.startswith(what)]
    assert found, f"the read log lacks {what!r}:\n" + "\n".join(" | ".join(line) for line in lines)
    return found[0]


def expected_so_far(target: int) -> int:
    """A yearly target for this year so far (the reports' default period), as the report rounds it."""
    today = datetime.now(AMSTERDAM).date()
    days_in_year = (date(today.year, 12, 31) - date(today.year, 1, 1)).days + 1
    return round(target * ((today - date(today.year, 1, 1)).days + 1) / days_in_year)


def _journey(browser, hub: Hub, shot: Shots, pages: list) -> None:
    people = hub.people
    partner_name = "Schuldhulp Rijnstad"
    new_coach = Person("smit@uitstap.test", "Coach Smit", "coach", "Uitstapprogramma Arnhem", otpauth_uri="",
                       password="regenboog paraplu molenwiek 2026")

    # --- 1. The referrer, on a phone, hands the client over; reports are not in their menu --------------
    referrer = sign_in(browser, hub, people["referrer"], pages, viewport=PHONE, is_mobile=True, has_touch=True,
                       device_scale_factor=2)
    assert not has_menu_item(referrer, "Rapportages")
    menu(referrer, "Nieuwe overdracht")
    referrer.wait_for_url("**/handoffs/new")
    form = referrer.get_by_role("main")
    form.get_by_label("Naam of roepnaam").fill(ALIAS)
    form.get_by_label("Gender", exact=True).select_option(label="vrouw")
    form.get_by_label("mag alleen als zelfstandige werken").check()
    form.get_by_label("Codewoord").fill(CODE_WORD)
    form.get_by_label("Samenvatting", exact=True).fill(SUMMARY)
    details = form.locator("details.domain").filter(
        has=referrer.locator("summary", has_text=re.compile("^financiën en schulden$", re.IGNORECASE)))
    details.locator("summary").click()
    details.get_by_label("Aantekeningen").fill(FINANCES_NOTES)
    form.get_by_role("group", name="Hoe de cliënt toestemming gaf").get_by_label("schriftelijk").check()
    consent = form.get_by_role("group", name="Het uitstapprogramma mag zien")
    for item in ("samenvatting van het verhaal", "gegevens voor veilig contact", "financiën en schulden"):
        consent.get_by_label(item, exact=True).check()
    form.get_by_role("button", name="Overdracht versturen").click()
    referrer.wait_for_url("**/handoffs")
    handoff_link = referrer.get_by_role("link", name=re.compile(r"^Overdracht \d+$")).first  # newest first
    handoff_id = handoff_link.inner_text().split()[-1]
    shot(referrer, "referrer-handoff-sent")

    # --- 2. The coach accepts it and opens the dossier ----------------------------------------------------
    coach = sign_in(browser, hub, people["coach"], pages)
    menu(coach, "Intakelijst")
    coach.get_by_role("link", name=f"Overdracht {handoff_id}", exact=True).click()
    coach.wait_for_url(f"**/handoffs/{handoff_id}")
    coach.get_by_role("button", name="Overdracht accepteren").click()
    coach.wait_for_url(f"**/handoffs/{handoff_id}")
    coach.get_by_role("link", name="Dossier openen").click()
    coach.wait_for_url(re.compile(r".*/clients/\d+$"))
    dossier_url = coach.url
    client_id = dossier_url.rsplit("/", 1)[-1]
    coach.get_by_role("heading", name=ALIAS, level=1).wait_for()

    # --- 3. The administrator, who may not see a client either, invites a second coach for the programme --
    admin = sign_in(browser, hub, people["admin"], pages)
    assert not has_menu_item(admin, "Rapportages")
    assert_refused(admin, f"/clients/{client_id}/rights")  # no break-glass, not even for an administrator
    admin.goto("/")
    menu(admin, "Gebruikers")
    admin.wait_for_url("**/admin/users")
    new_user = admin.locator("section").filter(has=admin.get_by_role("heading", name="Nieuwe gebruiker"))
    new_user.get_by_label("Naam", exact=True).fill(new_coach.name)
    new_user.get_by_label("E-mailadres").fill(new_coach.email)
    new_user.get_by_label("Organisatie").select_option(label=new_coach.organisation)
    new_user.get_by_label("Rol").select_option(label="trajectbegeleider")
    new_user.get_by_role("button", name="Account aanmaken").click()
    admin.wait_for_url("**/admin/users")
    messages = admin.get_by_role("main").get_by_role("status")
    assert messages.first.inner_text().startswith(f"Account gemaakt voor {new_coach.email}.")
    development = messages.filter(has_text="Alleen voor ontwikkeling").inner_text()  # instead of the e-mail
    link = re.search(r"de link is (\S+)$", development).group(1)
    users = admin.get_by_role("table", name="Gebruikers")
    assert row_of(users, new_coach.name)[-2] == "nog niet ingelogd"
    shot(admin, "admin-invited-coach")

    # --- 4. The new coach opens the one-time link, chooses a password and sets up the app ---------------
    newcomer = new_page(browser, hub, pages)
    newcomer.goto(link)
    newcomer.get_by_role("heading", name="Activeer je account", level=1).wait_for()
    newcomer.get_by_label("Wachtwoord", exact=True).fill(new_coach.password)
    newcomer.get_by_label("Wachtwoord nog een keer").fill(new_coach.password)
    newcomer.get_by_role("button", name="Volgende").click()
    newcomer.wait_for_url("**/login/enrol")
    secret = newcomer.get_by_role("listitem").filter(has_text="Lukt scannen niet?").locator("code").inner_text()
    new_coach.otpauth_uri = pyotp.TOTP(secret.replace(" ", "")).provisioning_uri(name=new_coach.email,
                                                                                 issuer_name="Ketenhub")
    newcomer.get_by_label("Code van zes cijfers").fill(new_coach.code())
    shot(newcomer, "new-coach-enrols-app")
    newcomer.get_by_role("button", name="Bevestigen").click()
    newcomer.get_by_role("heading", name="Je herstelcodes", level=1).wait_for()
    assert len(newcomer.get_by_role("main").locator("code").all_inner_texts()) >= 5
    newcomer.get_by_role("link", name="Ik heb ze bewaard, ga verder").click()
    newcomer.wait_for_url(f"{hub.base_url}/")
    newcomer.get_by_role("heading", name=f"Welkom, {new_coach.name}", level=1).wait_for()
    newcomer.get_by_role("button", name="Uitloggen").click()  # she starts tomorrow (step 18)
    newcomer.wait_for_url("**/login")
    newcomer.context.close()
    pages.remove(newcomer)

    # --- 5. The link works once only: opened again, it says so at once ---------------------------------
    stranger = new_page(browser, hub, pages)
    assert stranger.goto(link).status == 404  # said when the link opens, before a password is typed
    stranger.get_by_role("heading", name="Deze link is niet (meer) geldig. Vraag je beheerder om een nieuwe.",
                         level=1).wait_for()
    shot(stranger, "link-used-twice-refused")
    stranger.context.close()
    pages.remove(stranger)

    # --- 6. The coach looks on the sociale kaart for legal aid (none in Arnhem) and debt relief (one) -----
    menu(coach, "Sociale kaart")
    coach.wait_for_url("**/directory")
    search = coach.get_by_role("search", name="Zoeken op de sociale kaart")
    search.get_by_label("Leefgebied").select_option(label="juridische ondersteuning")
    search.get_by_label("Gemeente waar de cliënt woont").fill("Arnhem")
    search.get_by_role("button", name="Zoeken").click()
    coach.wait_for_url(re.compile(r".*domain=legal"))
    found = coach.get_by_role("table", name="Gevonden partners")
    assert "Geen partner voor dit leefgebied in deze gemeente." in found.inner_text()
    search.get_by_label("Leefgebied").select_option(label="financiën en schulden")
    search.get_by_role("button", name="Zoeken").click()
    coach.wait_for_url(re.compile(r".*domain=finances"))
    rows = found.locator("tbody tr")
    assert rows.count() == 1, found.inner_text()  # the police, programme and municipality do no debt relief
    assert rows.first.get_by_role("link").inner_text() == partner_name
    assert rows.first.get_by_role("cell").nth(1).inner_text().splitlines()[0].strip() == "past"  # not "past niet"
    shot(coach, "coach-directory-debt-relief")
    rows.first.get_by_role("link", name=partner_name).click()
    coach.wait_for_url(re.compile(r".*/organisations/\d+$"))
    coach.get_by_role("heading", name=partner_name, level=1).wait_for()
    facts = coach.get_by_role("main").locator("dl.facts").first.inner_text()
    assert "Schuldhulpverlening" in facts and "Arnhem" in facts
    shot(coach, "coach-directory-partner-page")

    # --- 7. ... tries to refer on before the client agreed: nothing is sent --------------------------------
    coach.goto(dossier_url)
    coach.get_by_role("link", name="Doorverwijzen naar een ketenpartner").click()
    coach.wait_for_url(re.compile(r".*/service-referrals/new$"))
    coach.get_by_label("Leefgebied").select_option(label="financiën en schulden")
    coach.get_by_role("button", name="Toon de ketenpartners hiervoor").click()
    coach.wait_for_url(re.compile(r".*domain=finances"))
    coach.get_by_role("group", name="Ketenpartner").locator(".choice").filter(has_text=partner_name) \
        .get_by_role("radio").check()
    coach.get_by_label("Notitie voor de ketenpartner").fill(REFERRAL_NOTE)
    coach.get_by_role("button", name="Doorverwijzing versturen").click()
    refused = coach.get_by_role("alert").filter(has_text="Leg eerst de toestemming van de cliënt vast")
    refused.wait_for()
    assert "Er is niets verstuurd." in refused.inner_text()
    assert coach.get_by_label("Notitie voor de ketenpartner").input_value() == REFERRAL_NOTE  # nothing is lost
    shot(coach, "coach-referral-refused-without-consent")

    # --- 8. ... records the client's written consent (finances only) on the same page, and sends it with it --
    refused.get_by_role("link", name="Naar de toestemming").click()
    consent = coach.get_by_role("group", name="De toestemming van de cliënt")
    assert "financiën en schulden" in consent.inner_text()
    consent.get_by_role("group", name="Hoe de cliënt toestemming gaf").get_by_label("schriftelijk").check()
    shot(coach, "coach-consent-with-the-referral")
    coach.get_by_role("button", name="Toestemming vastleggen en doorverwijzing versturen").click()
    coach.wait_for_url(re.compile(r".*/service-referrals/\d+(#consent-h)?$"))  # a redirect keeps the fragment
    referral_id = coach.url.split("#", 1)[0].rsplit("/", 1)[-1]
    said = coach.get_by_role("main").get_by_role("status").all_inner_texts()
    assert any(partner_name in text for text in said) and f"De toestemming voor {partner_name} is vastgelegd." in said
    assert REFERRAL_NOTE in coach.get_by_role("main").inner_text()

    # --- 9. The partner may open neither the reports nor the client's rights ----------------------------
    partner = sign_in(browser, hub, people["partner"], pages)
    assert not has_menu_item(partner, "Rapportages")
    assert_refused(partner, "/reports/waiting-times")
    assert_refused(partner, f"/clients/{client_id}/rights")
    shot(partner, "partner-refused-rights-page")

    # --- 10. ... reads the consented part and rejects: no room ----------------------------------------------
    partner.goto("/")
    menu(partner, "Doorverwijzingen")
    partner.get_by_role("link", name=f"Doorverwijzing {referral_id}: financiën en schulden").click()
    partner.wait_for_url(f"**/service-referrals/{referral_id}")
    assert FINANCES_NOTES in partner.content()
    assert SUMMARY not in partner.content() and CODE_WORD not in partner.content()
    reject = partner.locator("details").filter(has=partner.locator("summary", has_text="Doorverwijzing afwijzen"))
    reject.locator("summary").click()
    reject.get_by_label("Waarom?").select_option(label="geen plek")
    reject.get_by_label(re.compile("^Notitie")).fill(REJECT_NOTE)
    reject.get_by_role("button", name="Afwijzen", exact=True).click()
    partner.wait_for_url(f"**/service-referrals/{referral_id}")
    assert flash(partner).inner_text() == "De doorverwijzing is nu afgewezen."
    shot(partner, "partner-rejected")

    # --- 11. The coach shows the client who saw her data: organisations and grounds, never staff names ------
    coach.goto(dossier_url)
    rights = coach.get_by_role("region", name="Rechten van de cliënt")
    rights.get_by_role("link", name="Wie de gegevens heeft gezien").click()
    coach.wait_for_url(f"**/clients/{client_id}/read-log")
    coach.get_by_role("heading", name="Wie heeft je gegevens gezien?", level=1).wait_for()
    lines = [row.split("\t") for row in coach.get_by_role("table").locator("tbody tr").all_inner_texts()]
    partner_read = ground_of(lines, f"{partner_name} (ketenpartner) heeft je dossier")  # the consented part
    assert re.fullmatch(r"Met jouw toestemming van .+ voor een doorverwijzing naar een ketenpartner", partner_read)
    handed_over = ground_of(lines, "Politie Gelderland-Zuid (verwijzer) heeft je aanmelding bij het "
                                   "uitstapprogramma vastgelegd.")
    assert handed_over.endswith("voor de aanmelding bij het uitstapprogramma"), handed_over
    assert ground_of(lines, f"{partner_name} (ketenpartner) heeft een doorverwijzing naar een ketenpartner "
                            "gewijzigd.")  # the rejection
    page_text = coach.get_by_role("main").inner_text()
    for person in people.values():
        assert person.name not in page_text, f"the read log names {person.name}"
    shot(coach, "coach-read-log")

    # --- 12. ... and everything the hub holds about her, in Dutch and in English ---------------------------
    coach.get_by_role("link", name="Terug naar de rechten van de cliënt").click()
    coach.wait_for_url(f"**/clients/{client_id}/rights")
    coach.get_by_role("heading", name=f"Rechten van de cliënt: {ALIAS}", level=1).wait_for()
    coach.get_by_role("listitem").filter(has_text="Alles wat de hub bewaart (inzageverzoek)") \
        .get_by_role("link", name="Nederlands").click()
    coach.wait_for_url(f"**/clients/{client_id}/export?lang=nl")
    coach.get_by_role("heading", name="Alles wat de hub over je weet", level=1).wait_for()
    paper = coach.get_by_role("main").inner_text()
    for expected in (ALIAS, CODE_WORD, SUMMARY, FINANCES_NOTES, f"{partner_name}: financiën en schulden",
                     "afgewezen", REJECT_NOTE, "Politie Gelderland-Zuid", "Uitstapprogramma Arnhem"):
        assert expected in paper, f"the export lacks {expected!r}"
    shot(coach, "coach-export-nl")
    coach.get_by_role("navigation", name="Hulpmiddelen voor deze pagina").get_by_role("link", name="English").click()
    coach.wait_for_url(f"**/clients/{client_id}/export?lang=en")
    coach.get_by_role("heading", name="Everything the hub holds about you", level=1).wait_for()
    assert CODE_WORD in coach.get_by_role("main").inner_text()
    shot(coach, "coach-export-en")

    # --- 13. ... cannot erase her data without saying how her open trajectory ended -----------------------
    coach.get_by_role("link", name="Back to the client's rights").click()  # the paper is in English now
    coach.wait_for_url(f"**/clients/{client_id}/rights")
    erasure = coach.get_by_role("region", name="Wissen op verzoek")
    erasure.get_by_role("group", name="Het traject loopt nog").wait_for()
    erasure.get_by_label("Het verzoek van de cliënt, kort").fill("Vroeg erom tijdens het gesprek van vandaag.")
    erasure.get_by_label("Ik heb nagegaan dat de cliënt hierom vraagt").check()
    erasure.get_by_role("button", name="Gegevens van de cliënt wissen").click()
    coach.get_by_role("alert").filter(has_text="Er is niets gewist.").wait_for()
    coach.get_by_role("heading", name=f"Rechten van de cliënt: {ALIAS}", level=1).wait_for()  # nothing erased
    erasure = coach.get_by_role("region", name="Wissen op verzoek")
    assert erasure.get_by_label("Hoe is het traject afgelopen?").get_attribute("aria-invalid") == "true"
    assert erasure.get_by_label("Ik heb nagegaan dat de cliënt hierom vraagt").is_checked()  # her tick is kept
    shot(coach, "coach-erasure-asks-how-the-trajectory-ended")
    coach.goto(dossier_url)  # where the coach moves the trajectory on, and closes it when nothing is erased
    card = coach.get_by_role("region", name="Traject", exact=True)
    assert "contactfase" in card.inner_text()
    card.locator("summary", has_text="Een nieuwe fase beginnen").click()
    card.get_by_label("Fase", exact=True).select_option(label="oriëntatiefase")
    card.get_by_role("button", name="Fase beginnen").click()
    coach.wait_for_url(re.compile(r".*/clients/\d+#trajectory$"))
    assert flash(coach).inner_text() == "Het traject is nu in: oriëntatiefase."
    card = coach.get_by_role("region", name="Traject", exact=True)
    assert "oriëntatiefase" in card.inner_text() and "contactfase" not in card.inner_text()
    card.locator("summary", has_text="Een doel toevoegen").click()
    card.get_by_label("Leefgebied").select_option(label="financiën en schulden")
    card.get_by_label("Score nu (1 tot en met 10)").fill("3")
    card.get_by_label("Doelscore (1 tot en met 10)").fill("7")
    card.get_by_label("Streefdatum").fill(f"{date.today().year + 1}-03-01")
    card.get_by_label("Subdoelen, één per regel").fill("Alle brieven verzamelen\nBudgetplan maken")
    card.get_by_role("button", name="Doel toevoegen").click()
    coach.wait_for_url(re.compile(r".*/clients/\d+#trajectory$"))
    assert flash(coach).inner_text() == "Het doel voor financiën en schulden is toegevoegd."
    card = coach.get_by_role("region", name="Traject", exact=True)
    goal = card.get_by_role("article", name="Financiën en schulden")
    goal.locator("summary", has_text="Voortgang vastleggen").click()
    goal.get_by_label("Score nu (1 tot en met 10)").fill("5")
    goal.get_by_label("Alle brieven verzamelen").check()
    goal.get_by_role("button", name="Voortgang vastleggen").click()
    coach.wait_for_url(re.compile(r".*/clients/\d+#trajectory$"))
    assert flash(coach).inner_text() == "De voortgang is vastgelegd."
    card = coach.get_by_role("region", name="Traject", exact=True)
    assert "5 van 10: begonnen bij 3, doel 7" in card.inner_text()
    goal = card.get_by_role("article", name="Financiën en schulden")
    goal.locator("summary", has_text="Doel wijzigen").click()  # the plan changes: a later deadline, one step more
    goal.get_by_label("Streefdatum").fill(f"{date.today().year + 1}-06-01")
    goal.get_by_label("Meer subdoelen, één per regel").fill("Aanmelden bij de Kredietbank")
    goal.get_by_role("button", name="Wijzigingen opslaan").click()
    coach.wait_for_url(re.compile(r".*/clients/\d+#trajectory$"))
    assert flash(coach).inner_text() == "Het doel voor financiën en schulden is gewijzigd."
    card = coach.get_by_role("region", name="Traject", exact=True)
    assert f"{date.today().year + 1}-06-01" in card.inner_text() and "Aanmelden bij de Kredietbank" in card.inner_text()
    assert "5 van 10: begonnen bij 3, doel 7" in card.inner_text()  # the scores stay
    card.locator("summary", has_text="Traject afsluiten").click()
    card.get_by_label("Hoe is het traject afgelopen?").wait_for()
    shot(coach, "coach-dossier-trajectory")

    # --- 14. ... sets the programme's target on the registration report (exact numbers for the coach) ------
    menu(coach, "Rapportages")
    coach.get_by_role("navigation", name="Rapportages").get_by_role("link", name="Uniforme registratie").click()
    coach.wait_for_url("**/reports/registration")
    year = datetime.now(AMSTERDAM).year
    assert coach.get_by_label("Jaar").input_value() == str(year)
    coach.get_by_label("Verwachte deelnemers").fill(str(TARGET))
    coach.get_by_role("button", name="Streefaantal opslaan").click()
    coach.wait_for_url(re.compile(r".*/reports/registration\?organisation_id=\d+$"))
    assert flash(coach).inner_text() == f"Het streefaantal voor {year} is nu {TARGET} deelnemers."
    coach_totals = totals(coach)
    assert coach_totals["Verwacht"] == str(expected_so_far(TARGET)), coach_totals
    assert int(coach_totals["Instroom"]) >= 1, coach_totals
    shot(coach, "coach-registration-target")

    # --- 15. The chain director reads the waiting times: the partner, nothing started yet -----------------
    director = sign_in(browser, hub, people["director"], pages)
    assert_refused(director, f"/clients/{client_id}/rights")  # the director sees figures, never a client
    director.goto("/")
    menu(director, "Rapportages")
    reports = director.get_by_role("navigation", name="Rapportages")
    reports.get_by_role("link", name="Wachttijden").click()
    director.wait_for_url("**/reports/waiting-times")
    director.get_by_role("heading", name="Wachttijden", level=1).wait_for()
    waiting = director.get_by_role("table", name="Wachttijden")
    referred, begun, median, p90, _now, _longest = row_cells(waiting, director, partner_name)
    # neither this journey nor the first starts the help: no wait measured yet, only referrals counted
    assert int(referred) >= 1 and begun == "0" and median == "—" and p90 == "—", (referred, begun, median, p90)
    assert ALIAS not in director.content()
    shot(director, "director-waiting-times")
    director.get_by_role("search", name="Kies de periode").get_by_label("Per").select_option(label="leefgebied")
    director.get_by_role("button", name="Tonen").click()
    director.wait_for_url(re.compile(r".*group_by=domain"))
    assert waiting.get_by_role("columnheader").first.inner_text().strip() == "Leefgebied"
    assert int(row_cells(waiting, director, "financiën en schulden")[0]) >= 1

    # --- 16. ... and the uniform registration: the target, exact totals, small breakdown cells hidden -----
    reports.get_by_role("link", name="Uniforme registratie").click()
    director.wait_for_url("**/reports/registration")
    director.get_by_role("heading", name="Uniforme registratie", level=1).wait_for()
    figures = totals(director)
    assert figures["Verwacht"] == str(expected_so_far(TARGET)), figures
    assert int(figures["Instroom"]) >= 1, figures
    # nobody left a trajectory: everyone who came in is still in one, each a different client
    assert figures["Instroom"] == figures["Nog in traject"] == figures["Verschillende cliënten"], figures
    assert f"Streefaantallen: {year}: {TARGET}" in director.get_by_role("main").inner_text()
    assert director.get_by_text("Om de privacy van cliënten te beschermen staan aantallen onder de 5").is_visible()
    by_gender = director.get_by_role("table", name="Naar gender")
    assert row_cells(by_gender, director, "vrouw")[0] == "<5"
    assert ALIAS not in director.content() and SUMMARY not in director.content()
    shot(director, "director-registration")

    # --- 17. The referrer, still signed in, may not open the client's rights either --------------------
    assert_refused(referrer, f"/clients/{client_id}/rights")
    shot(referrer, "referrer-refused-rights-page")

    # --- 18. The new coach signs in with her own password and app, and finds the client via the intake list --
    admin.reload()
    assert row_of(users, new_coach.name)[-2] == "actief"
    newcomer = sign_in(browser, hub, new_coach, pages)  # waits for the app's next code if need be
    menu(newcomer, "Intakelijst")
    newcomer.wait_for_url("**/handoffs")
    newcomer.get_by_label("Status").select_option(label="alle")
    newcomer.get_by_role("button", name="Tonen").click()
    newcomer.get_by_role("link", name=f"Overdracht {handoff_id}", exact=True).click()
    newcomer.get_by_role("link", name="Dossier openen").click()
    newcomer.wait_for_url(dossier_url)
    newcomer.get_by_role("region", name="Rechten van de cliënt") \
        .get_by_role("link", name="Wettelijke bewaarplicht en wissen").click()
    newcomer.get_by_role("heading", name=f"Rechten van de cliënt: {ALIAS}", level=1).wait_for()
    shot(newcomer, "new-coach-rights-page")
