"""The committed contract (JSON Schemas, AsyncAPI) matches the models; its guards catch what they claim."""

from __future__ import annotations

import copy
import functools
import json
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker
from werkplek_events import TOPICS, Event, TopicSpec, all_topic_names, asyncapi, encode, schemas, topic_for
from werkplek_events.schemas import (
    SCHEMA_DIR,
    BreakingChangeError,
    breaking_changes,
    drift,
    schema_for,
    schema_id,
    write_schemas,
)

from tests.unit.samples import sample_events

REGENERATE = "run `make schemas` and commit the result"
Schema = dict[str, Any]


def _load(path: Path) -> Schema:
    schema: Schema = json.loads(path.read_text(encoding="utf-8"))
    return schema


@pytest.fixture
def schema_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SCHEMA_DIR, tmp_path / "schemas"))


# --- the committed files are current --------------------------------------------------------------------


def test_committed_schemas_have_no_drift() -> None:
    stale = drift()
    assert stale == [], f"committed schemas differ from the models: {stale}; {REGENERATE}"


def test_asyncapi_has_no_drift() -> None:
    assert not asyncapi.drift(), f"{asyncapi.ASYNCAPI_PATH} differs from the topic registry; {REGENERATE}"


@pytest.mark.parametrize("spec", TOPICS, ids=lambda spec: spec.name)
def test_model_does_not_break_committed_schema(spec: TopicSpec) -> None:
    changes = breaking_changes(_load(SCHEMA_DIR / f"{spec.name}.json"), schema_for(spec.event))
    assert changes == [], f"{spec.name}: breaking changes need a new event VERSION: {changes}"


def test_check_command_passes_on_committed_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert schemas.main(["--check"]) == 0, capsys.readouterr().err


# --- drift and refusal on a copy ------------------------------------------------------------------------


def _edit(path: Path, change: Callable[[Schema], object]) -> None:
    schema = _load(path)
    change(schema)
    path.write_text(json.dumps(schema), encoding="utf-8")


def test_edited_file_is_drift(schema_copy: Path) -> None:
    name = TOPICS[0].name
    _edit(schema_copy / f"{name}.json", lambda s: s.update(description="edited by hand"))
    assert drift(schema_copy) == [name]


def test_missing_and_orphaned_files_are_drift(schema_copy: Path) -> None:
    (schema_copy / f"{TOPICS[1].name}.json").unlink()
    (schema_copy / "placement.retired.v1.json").write_text("{}\n", encoding="utf-8")
    assert drift(schema_copy) == sorted([TOPICS[1].name, "placement.retired.v1"])


def test_check_command_fails_on_drift(schema_copy: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    _edit(schema_copy / f"{TOPICS[0].name}.json", lambda s: s.update(description="edited by hand"))
    monkeypatch.setattr(schemas, "SCHEMA_DIR", schema_copy)
    assert schemas.main(["--check"]) == 1
    assert "make schemas" in capsys.readouterr().err


def _doctor_old_schema(schema_dir: Path) -> Path:
    """Pretend the committed schema had a field the model no longer has: the model 'removed' it."""
    path = schema_dir / f"{TOPICS[0].name}.json"
    _edit(path, lambda s: s["properties"].update(legacy_code={"type": "string"}))
    return path


def test_write_schemas_refuses_a_breaking_change_and_writes_nothing(schema_copy: Path) -> None:
    doctored = _doctor_old_schema(schema_copy)
    before = doctored.read_text(encoding="utf-8")
    (schema_copy / f"{TOPICS[1].name}.json").unlink()  # unrelated drift must not be repaired either
    expected = rf"{TOPICS[0].name}: \$\.legacy_code: property removed"
    with pytest.raises(BreakingChangeError, match=expected) as err:
        write_schemas(schema_copy)
    assert list(err.value.changes) == [TOPICS[0].name]
    assert doctored.read_text(encoding="utf-8") == before
    assert not (schema_copy / f"{TOPICS[1].name}.json").exists()


def test_write_schemas_allow_breaking_overwrites_and_prunes(schema_copy: Path) -> None:
    _doctor_old_schema(schema_copy)
    (schema_copy / "placement.retired.v1.json").write_text("{}\n", encoding="utf-8")
    written = write_schemas(schema_copy, allow_breaking=True)
    assert written == sorted([TOPICS[0].name, "placement.retired.v1"])
    assert drift(schema_copy) == []
    assert write_schemas(schema_copy) == []  # idempotent


# --- the breaking-change checker ------------------------------------------------------------------------

OLD: Schema = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "maxLength": 64},
        "count": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None},
        "kind": {"$ref": "#/$defs/Kind"},
        "note": {"type": "string", "maxLength": 500, "default": ""},
        "score": {"type": "integer", "minimum": 0},
        "agreement": {"$ref": "#/$defs/Agreement"},
        "cells": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "required": ["id", "kind", "agreement"],
    "$defs": {
        "Kind": {"type": "string", "enum": ["work", "training"]},
        "Agreement": {"type": "object", "properties": {
            "outcomes": {"type": "array", "items": {"$ref": "#/$defs/Outcome"}}}},
        "Outcome": {"type": "object", "required": ["outcome_id"], "properties": {
            "outcome_id": {"type": "string"}, "title": {"type": "string"}}},
    },
}


def _changed(edit: Callable[[Schema], object]) -> Schema:
    new = copy.deepcopy(OLD)
    edit(new)
    return new


def _props(schema: Schema) -> Schema:
    props: Schema = schema["properties"]
    return props


def _defs(schema: Schema, name: str) -> Schema:
    definition: Schema = schema["$defs"][name]
    return definition


def _rename(schema: Schema) -> None:
    _props(schema)["remark"] = _props(schema).pop("note")


def _add_required(schema: Schema) -> None:
    _props(schema)["phase"] = {"type": "integer"}
    schema["required"].append("phase")


def _retarget_kind(schema: Schema) -> None:
    _props(schema)["kind"] = {"$ref": "#/$defs/Code"}
    schema["$defs"]["Code"] = {"type": "integer"}


BREAKING: dict[str, tuple[Callable[[Schema], object], list[str]]] = {
    "removed field": (lambda s: _props(s).pop("note"), ["$.note: property removed"]),
    "renamed field": (_rename, ["$.note: property removed"]),
    "new required field": (_add_required, ["$.phase: new required property"]),
    "optional became required": (lambda s: s["required"].append("note"), ["$.note: became required"]),
    "nullable int to int": (lambda s: _props(s).update(count={"type": "integer"}),
                            ["$.count: no longer accepts null"]),
    "string to enum": (lambda s: _props(s).update(note={"type": "string", "enum": ["a", "b"]}),
                       ["$.note: now restricted to ['a', 'b']"]),
    "enum value removed": (lambda s: _defs(s, "Kind").update(enum=["work"]),
                           ["$.kind: values no longer allowed: ['training']"]),
    "enum to const": (lambda s: _props(s).update(kind={"const": "work"}),
                      ["$.kind: values no longer allowed: ['training']"]),
    "maxLength reduced": (lambda s: _props(s)["note"].update(maxLength=200),
                          ["$.note: maxLength 500 -> 200"]),
    "minimum raised": (lambda s: _props(s)["score"].update(minimum=1), ["$.score: minimum 0 -> 1"]),
    "pattern added": (lambda s: _props(s)["id"].update(pattern="^[a-z]+$"),
                      ["$.id: pattern 'unset' -> '^[a-z]+$'"]),
    "type changed": (lambda s: _props(s)["score"].update(type="string"),
                     ["$.score: type narrowed from integer to string"]),
    "ref retargeted": (_retarget_kind, ["$.kind: type narrowed from string to integer"]),
    "nested field removed in $defs": (lambda s: _defs(s, "Outcome")["properties"].pop("title"),
                                      ["$.agreement.outcomes[].title: property removed"]),
    "nested field required in $defs": (lambda s: _defs(s, "Outcome")["required"].append("title"),
                                       ["$.agreement.outcomes[].title: became required"]),
    "dict values narrowed": (lambda s: _props(s)["cells"].update(additionalProperties={"type": "integer"}),
                             ["$.cells{*}: type narrowed from string to integer"]),
}

NULL = {"type": "null"}
NOT_BREAKING: dict[str, Callable[[Schema], object]] = {
    "new optional field": lambda s: _props(s).update(remark={"type": "string", "default": ""}),
    "enum value added": lambda s: _defs(s, "Kind").update(enum=["work", "training", "meeting"]),
    "int to nullable int": lambda s: _props(s).update(score={"anyOf": [{"type": "integer"}, NULL]}),
    "integer to number": lambda s: _props(s)["score"].update(type="number"),
    "maxLength raised": lambda s: _props(s)["note"].update(maxLength=1000),
    "required dropped": lambda s: s["required"].remove("id"),
    "annotations edited": lambda s: _props(s)["note"].update(title="Remark", description="text", default="-"),
    "new optional field in $defs": lambda s: _props(_defs(s, "Outcome")).update(weight={"type": "number"}),
}


@pytest.mark.parametrize("case", list(BREAKING))
def test_breaking_change_is_detected(case: str) -> None:
    edit, expected = BREAKING[case]
    assert breaking_changes(OLD, _changed(edit)) == expected


@pytest.mark.parametrize("case", list(NOT_BREAKING))
def test_compatible_change_is_not_reported(case: str) -> None:
    assert breaking_changes(OLD, _changed(NOT_BREAKING[case])) == []


def test_recursive_model_terminates() -> None:
    tree: Schema = {"$ref": "#/$defs/Node", "$defs": {"Node": {"type": "object", "properties": {
        "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}}}}
    assert breaking_changes(tree, copy.deepcopy(tree)) == []


# --- the AsyncAPI document ------------------------------------------------------------------------------


@functools.cache  # parsed once: read-only in every test
def _asyncapi() -> Schema:
    doc: Schema = yaml.safe_load(asyncapi.ASYNCAPI_PATH.read_text(encoding="utf-8"))
    return doc


def _resolve(doc: Schema, ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_asyncapi_has_a_channel_per_topic_and_dlq() -> None:
    doc = _asyncapi()
    assert doc["asyncapi"] == "3.0.0"
    assert sorted(doc["channels"]) == sorted(all_topic_names())
    for spec in TOPICS:
        kafka = doc["channels"][spec.name]["bindings"]["kafka"]
        assert kafka["partitions"] == spec.partitions
        assert kafka["topicConfiguration"]["cleanup.policy"] == [spec.cleanup]


def test_asyncapi_messages_resolve_to_committed_schemas() -> None:
    doc = _asyncapi()
    for name, channel in doc["channels"].items():
        assert channel["address"] == name
        for ref in channel["messages"].values():
            message = _resolve(doc, ref["$ref"])
            payload = _load(asyncapi.ASYNCAPI_PATH.parent / message["payload"]["$ref"])
            assert payload["$id"] == schema_id(name.removesuffix(".dlq"))
            assert message["headers"]["properties"]["ce_dataschema"]["const"] == payload["$id"]


def test_asyncapi_operations_resolve() -> None:
    doc = _asyncapi()
    ops = doc["operations"].values()
    receive = {op["channel"]["$ref"].split("/")[-1] for op in ops if op["action"] == "receive"}
    assert receive == {spec.name for spec in TOPICS if spec.consumed}
    for op in doc["operations"].values():
        channel = _resolve(doc, op["channel"]["$ref"])
        assert all(_resolve(doc, m["$ref"]) in channel["messages"].values() for m in op["messages"])


# --- the schemas describe real payloads -----------------------------------------------------------------

FORMATS = FormatChecker()  # jsonschema checks uuid and date itself; date-time needs an extra package


@FORMATS.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


def _validator(event: Event) -> Draft202012Validator:
    schema = _load(SCHEMA_DIR / f"{topic_for(event).name}.json")
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FORMATS)


def test_samples_cover_every_registered_event() -> None:
    assert [type(event) for event in sample_events()] == [spec.event for spec in TOPICS]


@pytest.mark.parametrize("event", sample_events(), ids=lambda event: type(event).__name__)
def test_schema_validates_encoded_sample(event: Event) -> None:
    wire = json.loads(encode(event, source="/werkplek/tests").value)
    assert wire == event.model_dump(mode="json")
    errors = [f"{error.json_path}: {error.message}" for error in _validator(event).iter_errors(wire)]
    assert errors == []


def test_schema_rejects_what_no_producer_sends() -> None:
    """Serialization mode: a decimal travels as a string, so a JSON number is refused."""
    event = next(e for e in sample_events() if topic_for(e).name == "accounting.share.updated.v1")
    wire = event.model_dump(mode="json") | {"real_share": 0.0556}
    del wire["student_id"]
    messages = sorted(error.message for error in _validator(event).iter_errors(wire))
    assert messages == ["'student_id' is a required property", "0.0556 is not of type 'string'"]


@pytest.mark.parametrize("event", sample_events(), ids=lambda event: type(event).__name__)
def test_asyncapi_headers_describe_what_the_codec_writes(event: Event) -> None:
    record = encode(event, source="/werkplek/tests")
    headers = {key: value.decode() for key, value in record.headers}
    message = _asyncapi()["components"]["messages"][type(event).__name__]
    validator = Draft202012Validator(message["headers"], format_checker=FORMATS)
    assert [error.message for error in validator.iter_errors(headers)] == []
