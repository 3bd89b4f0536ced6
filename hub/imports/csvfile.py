"""Reading an import file: UTF-8 with or without a byte-order mark, `,` or `;` between fields
(Dutch Excel writes `;`), the header names exactly the expected columns."""
from __future__ import annotations

import csv
import io

from hub.errors import Invalid

MAX_BYTES = 50 * 1024 * 1024  # years of registrations are a few MB; a larger file is a mistake


def _delimiter(header_line: str) -> str:
    """The delimiter the header uses: `;` or `,`, whichever splits it (the names contain neither)."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


def read_rows(raw: bytes, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """The data rows as (line number, {column: text}) with surrounding spaces removed; Invalid when
    the file as a whole cannot be read. A row with the wrong number of fields comes back with the
    key None holding the problem, so that it is reported with the other bad rows."""
    if len(raw) > MAX_BYTES:
        raise Invalid(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.", fields={"file": ["too large"]})
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Invalid("The file is not UTF-8 text: save it from the spreadsheet as 'CSV UTF-8'.",
                      fields={"file": [f"byte {error.start} is not UTF-8"]}) from None
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise Invalid("The file is empty: the first line must name the columns.",
                      fields={"header": [", ".join(columns)]})
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(lines[0]), strict=True)
    try:
        header = [name.strip() for name in next(reader)]
        if header != list(columns):
            raise Invalid("The first line must name exactly these columns, in this order: " + ", ".join(columns),
                          fields={"header": [f"found: {', '.join(header)}"]})
        rows = []
        for fields in reader:
            line = reader.line_num
            if not any(field.strip() for field in fields):
                continue  # an empty line, as spreadsheets leave at the end
            if len(fields) != len(columns):
                rows.append((line, {None: f"expected {len(columns)} fields, found {len(fields)} "
                                          "(a field containing the delimiter must be quoted)"}))
                continue
            rows.append((line, {name: value.strip() for name, value in zip(columns, fields, strict=True)}))
    except csv.Error as error:
        raise Invalid("The file is not valid CSV.", fields={f"line {reader.line_num}": [str(error)]}) from None
    return rows
