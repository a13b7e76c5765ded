"""Requests generated from an OpenAPI document: for an operation, a principal and a target person,
every id in the path, the query and the body is the target's (variant `all`); or the path names the
target's objects and the body the principal's own (`path`: another's student enrolled in one's own
programme); or the other way round (`body`, which reaches the checks behind the path). Ids are
recognised by parameter and property name; a name this module does not know fails the matrix, so
a new kind of id is considered on purpose, never skipped."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from uuid6 import uuid7
from werkplek_events.limits import ACADEMIC_YEAR_PATTERN

from .world import Person

# parameter or property name -> the kind of object it names (a key of Person.ids())
ID_KINDS = {
    "programme_id": "programme", "student_id": "student", "workplace_id": "workplace", "mentor_id": "mentor",
    "placement_id": "placement", "entry_id": "entry", "to_institution_id": "institution",
    "institution_id": "institution", "source_id": "source", "pilot_id": "pilot",
    "subject_id": "student",  # an erasure request's subject (its kind's first value is "student")
}
# Ids with one value for everybody. The year is one nobody is enrolled in yet: what an institution
# takes over is a student's next year (the enrolment hijack: another's student, one's own programme).
NEXT_YEAR = "2027-2028"
# An address carries no marker (an answer may echo what was sent): the attempt is to reach another's
# mentor with one's own address, or to learn whether an address is known (the fresh-link form).
FIXED = {"academic_year": NEXT_YEAR, "outcome_id": "LO1", "token": "<link>", "email": "bola-someone@mentor.example",
         # nobody of the world is erased (that would change a victim): an erasure id nobody has; reading
         # another institution's real erasure is tests/integration/placement_logging/test_erasure.py
         "erasure_id": "0b0b0b0b-0000-4000-8000-00000000e7a5",
         # a pseudonym is no object of the world; revealing another institution's is tested in
         # tests/integration/placement_logging/test_personal_reads.py
         "trajectory": "t-0000000000000000"}
NOT_IDS = {"cursor", "limit", "from", "to", "status"}  # optional query filters left out


class UnknownId(AssertionError):
    pass


@dataclass
class Call:
    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    body: Any = None
    media: str | None = None
    label: str = ""


def _deref(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _scalar(schema: dict[str, Any], name: str) -> Any:
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "integer":
        low, high = schema.get("minimum", 0), schema.get("maximum", 10**6)
        return max(low, min(1, high))
    if kind == "number":
        return 0.5
    if kind == "boolean":
        return False
    if fmt == "date":
        return date.today().isoformat()
    if fmt == "date-time":
        return datetime.now(UTC).isoformat()
    if fmt == "uuid":
        return str(uuid7())
    if fmt == "time":
        return "08:00"
    if schema.get("pattern") == ACADEMIC_YEAR_PATTERN:
        return NEXT_YEAR
    if "pattern" in schema:
        return f"bola-{name.replace('_', '-')}-{uuid.uuid4().hex[:6]}"
    return "attacker text"


class Filler:
    """Instances of schemas whose id-named fields take the given ids."""

    def __init__(self, doc: dict[str, Any], ids: dict[str, str]) -> None:
        self.doc, self.ids = doc, ids

    def id_for(self, name: str) -> str | None:
        if name in ID_KINDS:
            return self.ids[ID_KINDS[name]]
        return FIXED.get(name)

    def value(self, schema: dict[str, Any], name: str = "") -> Any:
        schema = _deref(schema, self.doc)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = [s for s in schema[key] if _deref(s, self.doc).get("type") != "null"]
                return self.value(options[0], name)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["enum"][0]
        kind = schema.get("type")
        if kind == "object":
            props, required = schema.get("properties", {}), set(schema.get("required", ()))
            return {p: self.value(s, p) for p, s in props.items() if p in required or self.id_for(p) is not None}
        if kind == "array":
            return [self.value(schema.get("items", {}), name.removesuffix("s").removesuffix("_id") + "_id"
                               if name.endswith("_ids") else name)]
        known = self.id_for(name)
        return known if known is not None else _scalar(schema, name)


def bodies(op: dict[str, Any], filler: Filler) -> list[tuple[str | None, Any, str]]:
    """(media type, body, label): one per alternative of a top-level oneOf (a webhook's kinds)."""
    content = op.get("requestBody", {}).get("content", {})
    if not content:
        return [(None, None, "")]
    media, spec = next(iter(content.items()))
    schema = _deref(spec.get("schema", {}), filler.doc)
    if media == "application/x-www-form-urlencoded" and "additionalProperties" in schema:
        entry = filler.ids["entry"]  # the mentor page's form: decide the target's entry, sign their placement
        placement = filler.ids["placement"]
        return [(media, {f"decision-{entry}": "confirm", f"revision-{entry}": "1", f"sign-{placement}": "yes",
                         f"moment-{placement}": "final", f"level-{placement}-LO1": "achieved"}, "form")]
    if "oneOf" in schema:
        return [(media, filler.value(alt), _deref(alt, filler.doc).get("title", "")) for alt in schema["oneOf"]]
    return [(media, filler.value(schema), "")]


def calls(path: str, method: str, op: dict[str, Any], doc: dict[str, Any], path_ids: dict[str, str],
          body_ids: dict[str, str], link_token: str) -> list[Call]:
    path_filler, body_filler = Filler(doc, path_ids), Filler(doc, body_ids)
    filled, params = path, {}
    for param in op.get("parameters", []):
        name, where = param["name"], param["in"]
        value = path_filler.id_for(name)
        if name == "token":
            value = link_token
        if where == "path":
            if value is None:
                raise UnknownId(f"{method.upper()} {path}: the path parameter {name!r} is no id the BOLA matrix "
                                "knows; add it to ID_KINDS (tests/integration/bola/generate.py)")
            filled = filled.replace("{" + name + "}", value)
        elif where == "query" and value is not None:
            params[name] = value
        elif where == "query" and param.get("required") and name not in NOT_IDS:
            raise UnknownId(f"{method.upper()} {path}: the required query parameter {name!r} is unknown")
    return [Call(method.upper(), filled, params, body, media, label)
            for media, body, label in bodies(op, body_filler)]


VARIANTS = ("all", "path", "body")


def own_and_target(principal_own: Person, target: Person, variant: str) -> tuple[dict[str, str], dict[str, str]]:
    """(ids for the path and query, ids for the body): all the target's (`all`), the target's in the
    path and the principal's own in the body (`path`), or the other way round (`body`)."""
    if variant == "all":
        return target.ids(), target.ids()
    if variant == "path":
        return target.ids(), principal_own.ids()
    return principal_own.ids(), target.ids()
