"""CSV that a spreadsheet opens as data, never as formulas (OWASP "CSV injection").

Every CSV the project writes goes through `safe_csv_writer`: free text from the patient or from
Dexcom (event notes, device and schedule names, alert names) that starts with a formula trigger is
prefixed with a single quote, and every text cell is quoted. Only `str` cells are touched: real
numbers such as a -1.5 trend rate stay numbers, written unchanged and unquoted.
"""

import csv

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value):
    """The cell as a spreadsheet should show it: text starting a formula gets a leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


class _SafeWriter:
    def __init__(self, target):
        # QUOTE_NONNUMERIC quotes every text cell (OWASP: neutralised cells must be quoted)
        # and leaves ints and floats bare, so numbers stay numbers.
        self._writer = csv.writer(target, quoting=csv.QUOTE_NONNUMERIC)

    def writerow(self, row):
        return self._writer.writerow([neutralise_cell(value) for value in row])


def safe_csv_writer(target) -> _SafeWriter:
    """A csv.writer over `target` whose rows cannot carry spreadsheet formulas."""
    return _SafeWriter(target)
