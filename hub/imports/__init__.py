"""Import of historical registrations from the programmes' spreadsheets (`flask hub import ...`).

A file is read whole (`csvfile`), every row validated on its own (`schemas`, marshmallow) and then
against the database and the other rows (`trajectories`, `service_referrals`); one bad row and
nothing is written, with every bad row named by its line number. Good files are written in the
command's single transaction, idempotently: each import has a natural key that a unique index over
the imported rows enforces, so a second run of the same file finds everything there already.

Imported rows carry `imported_at` and have no handoff, consent or hub user; what that means for the
rest of the hub is written down in README.md ("Importing history"). The command answers in English,
like every command (hub.select_locale), so its messages are not in the translation catalogue.
"""
