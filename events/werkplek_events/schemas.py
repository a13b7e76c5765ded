"""JSON Schemas of the event contract: one file per topic, generated from the models and committed.

The committed files are the published contract. `write_schemas` refuses to overwrite one with a schema
that would break its readers: a breaking change needs a new event VERSION, i.e. a new topic.
`python -m werkplek_events.schemas` regenerates the schemas and the AsyncAPI document; `--check`
only reports drift and breaking changes (for CI).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .base import Event
from .topics import BY_NAME, TOPICS, topic_for

Schema = dict[str, Any]
SCHEMA_DIR = Path(__file__).parent.parent / "schemas"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
ADVICE = "a breaking change needs a new event VERSION (a new topic); --allow-breaking only if unpublished"


def schema_id(topic: str) -> str:
    """Also the CloudEvents `dataschema` the codec puts in `ce_dataschema`."""
    return f"urn:werkplek:schema:{topic}"


def schema_for(event_cls: type[Event]) -> Schema:
    """The schema of the JSON on the wire. Serialization mode, because the wire is what `encode` emits:
    decimals as strings only (validation mode would also admit numbers, which no producer sends)."""
    spec = topic_for(event_cls)
    schema = event_cls.model_json_schema(mode="serialization")
    schema.setdefault("description", spec.description)
    return {"$schema": DIALECT, "$id": schema_id(spec.name), **schema, "title": event_cls.__name__}


def render_schema(schema: Schema) -> str:
    """Sorted keys and a trailing newline, so regenerating an unchanged model changes no byte."""
    return json.dumps(schema, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def generated() -> dict[str, Schema]:
    return {spec.name: schema_for(spec.event) for spec in TOPICS}


def _path(schema_dir: Path, topic: str) -> Path:
    return schema_dir / f"{topic}.json"


def drift(schema_dir: Path = SCHEMA_DIR) -> list[str]:
    """Topics whose committed file is missing or differs from the model, and files with no topic."""
    expected = {name: render_schema(schema) for name, schema in generated().items()}
    on_disk = {p.stem: p.read_text(encoding="utf-8") for p in schema_dir.glob("*.json")}
    names = expected.keys() | on_disk.keys()
    return sorted(name for name in names if expected.get(name) != on_disk.get(name))


def breaking(schema_dir: Path = SCHEMA_DIR) -> dict[str, list[str]]:
    """Breaking changes of each topic's model against its committed schema (topics without a file pass)."""
    found: dict[str, list[str]] = {}
    for name, new in generated().items():
        path = _path(schema_dir, name)
        if path.exists() and (changes := _against_file(path, new)):
            found[name] = changes
    return found


def _against_file(path: Path, new: Schema) -> list[str]:
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:  # nothing to compare with: let a human decide
        return [f"committed file is not valid JSON ({exc})"]
    return breaking_changes(old, new)


class BreakingChangeError(RuntimeError):
    def __init__(self, changes: dict[str, list[str]]) -> None:
        lines = [f"  {topic}: {change}" for topic, found in changes.items() for change in found]
        super().__init__("\n".join(["breaking schema changes within one event VERSION:", *lines, ADVICE]))
        self.changes = changes


def write_schemas(schema_dir: Path = SCHEMA_DIR, *, allow_breaking: bool = False) -> list[str]:
    """Regenerate the schema files; returns the topics whose file was written or removed.
    Checks everything before writing anything, so a refusal leaves the directory as it was."""
    if not allow_breaking and (changes := breaking(schema_dir)):
        raise BreakingChangeError(changes)
    stale = drift(schema_dir)
    schema_dir.mkdir(parents=True, exist_ok=True)
    for name in stale:
        if name in BY_NAME:
            text = render_schema(schema_for(BY_NAME[name].event))
            _path(schema_dir, name).write_text(text, encoding="utf-8", newline="\n")
        else:  # the topic left the registry; its schema would otherwise pose as a live contract
            _path(schema_dir, name).unlink()
    return stale


# --- breaking-change detection -------------------------------------------------------------------------
# "Breaking" means: history already on the topic (retention is forever) may fail the new schema, or a
# reader loses a field it used. Anything the checker cannot prove harmless (an edited pattern) counts.

_UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_EXACT = ("pattern", "format", "multipleOf")


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """Breaking changes from `old` to `new`, two schemas of the same event VERSION, as readable lines.
    Understands type, enum/const, anyOf/oneOf, bounds, pattern/format, properties/required,
    additionalProperties/propertyNames and items, following local `#/$defs/...` references."""
    return list(dict.fromkeys(_Diff(old, new).compare(old, new, "$", frozenset())))


def _deref(root: Schema, node: Schema) -> Schema:
    """Inline a local `$ref`, keeping sibling keywords such as `default`."""
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return node
    target: Any = root
    try:
        for part in ref.removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
    except (KeyError, TypeError):
        raise ValueError(f"unresolvable $ref {ref!r}") from None
    return _deref(root, {**target, **{k: v for k, v in node.items() if k != "$ref"}})


def _alternatives(schema: Schema) -> list[Schema]:
    return list(schema.get("anyOf") or schema.get("oneOf") or [schema])


def _types(schema: Schema) -> set[str] | None:
    """The JSON types a schema admits; None when it does not say (any type)."""
    declared = schema.get("type")
    if declared is None:
        return None
    return {declared} if isinstance(declared, str) else set(declared)


def _widened(types: set[str]) -> set[str]:
    return types | {"integer"} if "number" in types else types  # every integer is a number


def _overlap(a: set[str] | None, b: set[str] | None) -> bool:
    return a is None or b is None or bool(_widened(a) & _widened(b))


def _type_names(types: set[str] | None) -> str:
    return "/".join(sorted(types)) if types else "any type"


def _describe(schema: Schema) -> str:
    allowed = _allowed(schema)
    return repr(allowed) if allowed is not None else _type_names(_types(schema))


def _allowed(schema: Schema) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    return list(schema["enum"]) if "enum" in schema else None


def _type_change(old: Schema, new: Schema, path: str) -> list[str]:
    was, now = _types(old), _types(new)
    if now is None or (was is not None and was <= _widened(now)):
        return []
    return [f"{path}: type narrowed from {_type_names(was)} to {_type_names(now)}"]


def _value_change(old: Schema, new: Schema, path: str) -> list[str]:
    was, now = _allowed(old), _allowed(new)
    if now is None:
        return []
    if was is None:
        return [f"{path}: now restricted to {now!r}"]
    removed = [value for value in was if value not in now]
    return [f"{path}: values no longer allowed: {removed!r}"] if removed else []


def _tighter(keyword: str, was: Any, now: Any) -> bool:
    if was is None:
        return True
    return bool(now < was) if keyword in _UPPER else bool(now > was)


def _bound_changes(old: Schema, new: Schema, path: str) -> list[str]:
    found = [
        f"{path}: {kw} {old.get(kw, 'unset')} -> {new[kw]}"
        for kw in _UPPER + _LOWER
        if kw in new and _tighter(kw, old.get(kw), new[kw])
    ]
    found += [
        f"{path}: {kw} {old.get(kw, 'unset')!r} -> {new[kw]!r}"
        for kw in _EXACT
        if kw in new and old.get(kw) != new[kw]
    ]
    if new.get("uniqueItems") and not old.get("uniqueItems"):
        found.append(f"{path}: items must now be unique")
    return found


class _Diff:
    """Walks two schemas side by side; each keeps its own document for resolving `$ref`."""

    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.old_root, self.new_root = old_root, new_root

    def compare(self, old: Schema, new: Schema, path: str, seen: frozenset[tuple[Any, Any]]) -> list[str]:
        refs = (old.get("$ref"), new.get("$ref"))
        if refs != (None, None):
            if refs in seen:  # a recursive model: this pair is already being compared further up
                return []
            seen = seen | {refs}
        old, new = _deref(self.old_root, old), _deref(self.new_root, new)
        if _alternatives(old) == [old] and _alternatives(new) == [new]:
            return self._keywords(old, new, path, seen)
        return [change for option in _alternatives(old) for change in self._match(option, new, path, seen)]

    def _match(self, option: Schema, new: Schema, path: str, seen: frozenset[tuple[Any, Any]]) -> list[str]:
        """An old alternative must still be admitted by some new alternative of an overlapping type."""
        wanted = _types(_deref(self.old_root, option))
        candidates = [n for n in _alternatives(new) if _overlap(wanted, _types(_deref(self.new_root, n)))]
        if not candidates:
            return [f"{path}: no longer accepts {_describe(_deref(self.old_root, option))}"]
        return min((self.compare(option, n, path, seen) for n in candidates), key=len)

    def _keywords(self, old: Schema, new: Schema, path: str, seen: frozenset[tuple[Any, Any]]) -> list[str]:
        return [
            *_type_change(old, new, path),
            *_value_change(old, new, path),
            *_bound_changes(old, new, path),
            *self._properties(old, new, path, seen),
            *self._maps(old, new, path, seen),
            *self._items(old, new, path, seen),
        ]

    def _properties(self, old: Schema, new: Schema, path: str, seen: frozenset[tuple[Any, Any]]) -> list[str]:
        was, now = old.get("properties", {}), new.get("properties", {})
        found = []
        for name, schema in was.items():
            if name not in now:
                found.append(f"{path}.{name}: property removed")
            else:
                found += self.compare(schema, now[name], f"{path}.{name}", seen)
        for name in [r for r in new.get("required", []) if r not in old.get("required", [])]:
            found.append(f"{path}.{name}: " + ("became required" if name in was else "new required property"))
        return found

    def _maps(self, old: Schema, new: Schema, path: str, seen: frozenset[tuple[Any, Any]]) -> list[str]:
        """Values (`additionalProperties`) and keys (`propertyNames`) of dict-like objects."""
        found = []
        for keyword, label in (("additionalProperties", "{*}"), ("propertyNames", "{key}")):
            was, now = old.get(keyword, True), new.get(keyword, True)  # absent admits anything
            if was is False or now is True:
                continue
            if now is False:
                found.append(f"{path}: {keyword} no longer allowed")
            else:
                found += self.compare(was if isinstance(was, dict) else {}, now, f"{path}{label}", seen)
        return found

    def _items(self, old: Schema, new: Schema, path: str, seen: frozenset[tuple[Any, Any]]) -> list[str]:
        was, now = old.get("items", {}), new.get("items")
        if not isinstance(now, dict) or was is False:
            return []
        return self.compare(was if isinstance(was, dict) else {}, now, f"{path}[]", seen)


# --- command line --------------------------------------------------------------------------------------


def _check(schema_dir: Path) -> int:
    from . import asyncapi, report_schemas  # late: both build on this module

    problems = [f"schema drift: {name} (run `make schemas`)" for name in drift(schema_dir)]
    problems += [f"breaking: {topic}: {c}" for topic, found in breaking(schema_dir).items() for c in found]
    if any(p.startswith("breaking") for p in problems):
        problems.append(ADVICE)
    if asyncapi.drift():
        problems.append(f"asyncapi drift: {asyncapi.ASYNCAPI_PATH} (run `make schemas`)")
    problems += [f"report layout schema drift: {name} (run `make schemas`)" for name in report_schemas.drift()]
    for line in problems:
        print(line, file=sys.stderr)
    return 1 if problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m werkplek_events.schemas", description=__doc__)
    parser.add_argument("--check", action="store_true", help="report drift and breaking changes only")
    parser.add_argument("--allow-breaking", action="store_true", help="overwrite even a breaking change")
    args = parser.parse_args(argv)
    if args.check:
        return _check(SCHEMA_DIR)
    from . import asyncapi, report_schemas

    try:
        changed = write_schemas(SCHEMA_DIR, allow_breaking=args.allow_breaking)
    except BreakingChangeError as exc:
        print(exc, file=sys.stderr)
        return 1
    changed += [str(asyncapi.ASYNCAPI_PATH)] if asyncapi.write_asyncapi() else []
    changed += report_schemas.write()
    print("\n".join(f"updated {name}" for name in changed) or "contract files up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
