"""Every limit on an id or a text, in one place: the event models and both APIs take their types from
here, so nothing the edge accepts can break an event, a topic key or an id derived from it.

The wire limits (`ID_MAX`, `TEXT_MAX`, ...) are those the published contract has always had; they
cannot narrow within an event version, because history on the topics was written under them. The
edge limits are derived from the ids built out of other ids, from the very functions that build
them: a programme id must leave room for `<programme>:<year>` in a report id of `ID_MAX`, an
institution id for `inst:<institution>:<year>`. Text is normalised to NFC and refused where it
could not be stored or exported (NUL, lone surrogates, other C0 controls); a reader (the codec)
is tolerant and refuses only what no store could ever have held.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationInfo

ID_MAX = 64  # every id field of every event, and every topic key made of one id
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"  # ASCII: no normalisation, no confusables
ACADEMIC_YEAR_PATTERN = r"^20[0-9]{2}-20[0-9]{2}$"
ACADEMIC_YEAR_LEN = len("2026-2027")
TEXT_MAX = 500  # free text: descriptions, comments, reasons
NAME_MAX = 200  # names and titles
SECTOR_MAX = 100
URL_MAX = 2000  # an outbound endpoint; what every common HTTP client and proxy passes
EMAIL_MAX = 254  # RFC 5321: a forward-path holds at most 256 octets including the angle brackets
# local part: RFC 5322 dot-atom characters, ASCII (no SMTPUTF8: the mail relay may not offer it, and no
# control character or NUL can reach a store or an SMTP command); domain: LDH labels
EMAIL_PATTERN = (r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                 r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
# Personal data is marked in the schemas (`x-personal-data`), so the fields to protect or erase
# (privacy issue: crypto-shredding) are found from the contract, not from memory.
PERSONAL = "x-personal-data"
READING = "werkplek_reading"  # validation context key the codec sets: a tolerant reader


# --- ids derived from ids --------------------------------------------------------------------------

def programme_report_id(programme_id: str, academic_year: str) -> str:
    """The report of a programme in an academic year (the key of the compacted report topic)."""
    return f"{programme_id}:{academic_year}"


def institution_report_id(institution_id: str, academic_year: str) -> str:
    """An institution's roll-up over all its programmes in an academic year."""
    return f"inst:{institution_id}:{academic_year}"


def pilot_report_id(pilot_id: str, academic_year: str) -> str:
    """A pilot's (proeftuin's) evaluation report in an academic year."""
    return f"pilot:{pilot_id}:{academic_year}"


_YEAR = "2026-2027"
PROGRAMME_ID_MAX = ID_MAX - len(programme_report_id("", _YEAR))  # 54
INSTITUTION_ID_MAX = ID_MAX - len(institution_report_id("", _YEAR))  # 49
PILOT_ID_MAX = ID_MAX - len(pilot_report_id("", _YEAR))  # 48
SNAPSHOT_HASH_HEX = 24
SNAPSHOT_LABEL_MAX = ID_MAX - len(f"snap-{'0' * SNAPSHOT_HASH_HEX}:")  # 34
SNAPSHOT_LABEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


# --- text -------------------------------------------------------------------------------------------

# NUL (PostgreSQL stores no U+0000), lone surrogates (not Unicode scalar values: no UTF-8 encoding),
# and the other C0 controls, which XML 1.0 (hence XLSX exports and HTML) cannot carry; tab, line feed
# and carriage return stay allowed.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _describe(char: str, at: int) -> str:
    code = ord(char)
    if code == 0:
        return f"contains U+0000 (NUL) at character {at + 1}, which cannot be stored"
    if 0xD800 <= code <= 0xDFFF:
        return f"contains a lone surrogate U+{code:04X} at character {at + 1}, which is not Unicode text"
    return (f"contains the control character U+{code:04X} at character {at + 1}; "
            "only tab, line feed and carriage return are allowed")


def text_fault(value: str) -> str | None:
    """Why `value` cannot be accepted as text, or None."""
    found = _FORBIDDEN.search(value)
    return _describe(found.group(), found.start()) if found else None


def clean_text(value: str) -> str:
    """The text as stored: NFC. Raises ValueError naming the first character that cannot be."""
    fault = text_fault(value)
    if fault:
        raise ValueError(fault)
    if value.isascii() or unicodedata.is_normalized("NFC", value):
        return value
    return unicodedata.normalize("NFC", value)


def storable(value: Any) -> Any:
    """A JSON value with every character no store can hold (NUL, lone surrogates) replaced by U+FFFD:
    for keeping a refused document as it was sent (its problem names the field at fault)."""
    if isinstance(value, str):
        return _UNSTORABLE.sub("\ufffd", value)
    if isinstance(value, list):
        return [storable(v) for v in value]
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    return value


def _text(value: Any, info: ValidationInfo) -> Any:
    if not isinstance(value, str):
        return value  # the str schema after this answers for the type
    if info.context and info.context.get(READING):
        found = _UNSTORABLE.search(value)
        if found:
            raise ValueError(_describe(found.group(), found.start()))
        return value
    return clean_text(value)


def _text_type(min_length: int, max_length: int) -> Any:
    """A text field: normalised first (the validator wraps the bounded str), so the length limit
    counts what is stored."""
    bounds = Field(min_length=min_length, max_length=max_length) if min_length else Field(max_length=max_length)
    return Annotated[str, bounds, BeforeValidator(_text)]


# --- the types every model uses ------------------------------------------------------------------------

Id = Annotated[str, Field(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN)]
ProgrammeId = Annotated[str, Field(min_length=1, max_length=PROGRAMME_ID_MAX, pattern=ID_PATTERN,
                                   description=f"at most {PROGRAMME_ID_MAX} characters: report ids are "
                                               f"<programme>:<year> in {ID_MAX}")]
InstitutionId = Annotated[str, Field(min_length=1, max_length=INSTITUTION_ID_MAX, pattern=ID_PATTERN)]
PilotId = Annotated[str, Field(min_length=1, max_length=PILOT_ID_MAX, pattern=ID_PATTERN,
                               description=f"at most {PILOT_ID_MAX} characters: report ids are "
                                           f"pilot:<pilot>:<year> in {ID_MAX}")]
AcademicYear = Annotated[str, Field(pattern=ACADEMIC_YEAR_PATTERN, examples=["2026-2027"])]
SnapshotLabel = Annotated[str, Field(min_length=1, max_length=SNAPSHOT_LABEL_MAX, pattern=SNAPSHOT_LABEL_PATTERN)]
Text = _text_type(0, TEXT_MAX)
Comment = _text_type(1, TEXT_MAX)  # a text that must say something (a rejection explains itself)
Name = _text_type(1, NAME_MAX)
Sector = _text_type(1, SECTOR_MAX)
# http(s), then printable ASCII only (RFC 3986 URIs are ASCII: no space, control character or NUL)
Url = Annotated[str, Field(max_length=URL_MAX, pattern=r"^https?://[A-Za-z0-9\[][!-~]*$",
                           examples=["https://tool.example/werkplek/webhooks"])]
Email = Annotated[str, Field(min_length=3, max_length=EMAIL_MAX, pattern=EMAIL_PATTERN,
                             json_schema_extra={PERSONAL: "contact"}, examples=["an.peeters@azgroeninge.be"])]
