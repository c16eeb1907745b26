"""Task-oriented dialogue corpora that CX teams use as chat data, in the shapes their authors ship:

* MultiWOZ 2.0/2.1 (``data.json``, https://github.com/budzianowski/multiwoz): one object mapping each
  dialogue id to ``{"goal": {...}, "log": [{"text", "metadata", "dialog_act", "span_info"}, ...]}``;
  the log alternates user (even positions) and system (odd positions, with a filled ``metadata``
  belief state).
* MultiWOZ 2.2 (``dialogues_001.json``,
  https://github.com/budzianowski/multiwoz/tree/master/data/MultiWOZ_2.2) and Schema-Guided Dialogue
  (https://github.com/google-research-datasets/dstc8-schema-guided-dialogue): arrays of
  ``{"dialogue_id", "services", "turns": [{"speaker": "USER" | "SYSTEM", "utterance", "frames"}]}``.
* ConvLab-3's unified format for these corpora (``{"dataset", "data_split", "dialogue_id", "turns":
  [{"speaker": "user" | "system", "utterance"}]}``, https://github.com/ConvLab/ConvLab-3/tree/master/data/unified_datasets),
  read like MultiWOZ 2.2, with the dataset's name as source.
* Taskmaster-1/2/3 (https://github.com/google-research-datasets/Taskmaster): arrays of
  ``{"conversation_id", "instruction_id" | "vertical", "utterances": [{"index", "speaker":
  "USER" | "ASSISTANT", "text", "segments"}]}``.
* ABCD (https://github.com/asappresearch/abcd), the whole-corpus file ``abcd_v1.1.json``: an object of
  splits ``{"train": [...], "dev": [...], "test": [...]}`` of dialogues ``{"convo_id", "scenario",
  "original": [[speaker, text], ...]}``. (A single ABCD dialogue, or an array of them, is read by the
  core ``chat-json`` format; the split object is read here, with the same ids.)

Whole-corpus files are larger than one record may be, so they are streamed member by member
(``jsonstream.iter_container_members``). Roles: the user is the customer; the system/assistant side
is the agent, because in these corpora it plays a company's clerk (human "wizards" in MultiWOZ and
Taskmaster-1, crowd-written agents in SGD and Taskmaster-3), so agent analytics see it; ABCD's
"action" lines are system turns. Ids: ``multiwoz-<id>`` (without ".json"), ``sgd-<id>``, ``taskmaster-<id>``,
``abcd-<id>``; the corpus's domains/services, instruction or scenario, and split go to metadata.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from pydantic import ValidationError

from vocmine.ingest.cleaning import clean_text
from vocmine.ingest.inputs.jsonstream import Member, iter_container_members
from vocmine.ingest.inputs.sniff import Sniff
from vocmine.ingest.records import Item, Location, ReadContext, Rejection
from vocmine.schema import Conversation, SpeakerRole, Turn, conversation_id_from_content

_SPLITS = {"train", "dev", "test", "valid", "validation", "val"}
_ABCD_SPLITS = re.compile(rb'^\s*\{\s*"(?:train|dev|test)"\s*:\s*\[')
# First keys of a dialogue record: an object that starts with one of them is a record, not a corpus.
_RECORD_KEYS = {
    "dialogue_id", "turns", "services", "conversation_id", "utterances", "instruction_id", "vertical",
    "convo_id", "scenario", "original", "delexed", "goal", "log", "id", "type",
}  # fmt: skip
_ROLES: dict[str, SpeakerRole] = {
    "user": "customer",
    "customer": "customer",
    "system": "agent",
    "assistant": "agent",
    "agent": "agent",
    "action": "system",
}
_SAFE = re.compile(r"^[\w.:-]{1,120}$")
_GOAL_SKIP = {"topic", "message"}


def detect(sniff: Sniff) -> bool:
    if not sniff.is_json:
        return False
    multiwoz = sniff.has_keys("goal", "log") and bool(sniff.keys & {"metadata", "dialog_act", "text"})
    schema_guided = sniff.has_keys("dialogue_id", "turns", "speaker", "utterance")
    taskmaster = sniff.has_keys("conversation_id", "utterances", "speaker", "text")
    abcd = bool(_ABCD_SPLITS.match(sniff.stripped)) and sniff.has_keys("convo_id")
    return multiwoz or schema_guided or taskmaster or abcd


def read_dialogue_corpus(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    for record in iter_container_members(stream, ctx, is_container=lambda key: key not in _RECORD_KEYS):
        if isinstance(record, Rejection):
            yield record
        else:
            yield _dialogue(record)


def _dialogue(member: Member) -> Item:
    value, location = member.value, member.location
    if not isinstance(value, dict):
        return Rejection(location, f"expected a dialogue object, found {type(value).__name__}")
    try:
        if isinstance(value.get("log"), list):
            return _multiwoz(value, member.key, location)
        if isinstance(value.get("turns"), list):
            return _schema_guided(value, location, member.key)
        if isinstance(value.get("utterances"), list):
            return _taskmaster(value, location)
        if isinstance(value.get("original"), list):
            return _abcd(value, location, member.key)
    except (ValidationError, ValueError, TypeError, AttributeError) as exc:
        return Rejection(location, f"malformed dialogue: {type(exc).__name__}: {str(exc)[:200]}")
    return Rejection(location, "not a dialogue: no 'log', 'turns', 'utterances' or 'original' list")


def _conversation(
    source: str, prefix: str, dialogue_id: Any, turns: list[Turn], location: Location, metadata: dict[str, Any]
) -> Item:
    turns = [t for t in turns if t.text]
    if not turns:
        return Rejection(location, "dialogue without any text")
    raw = str(dialogue_id).removesuffix(".json") if dialogue_id not in (None, "") else ""
    return Conversation(
        id=(f"{prefix}-{raw}" if prefix else raw) if _SAFE.match(raw) else conversation_id_from_content("chat", turns),
        channel="chat",
        source=source,
        source_id=raw or None,
        metadata={k: v for k, v in metadata.items() if v not in (None, "", [], {})},
        turns=turns,
    )


def _role(speaker: Any) -> SpeakerRole:
    role = _ROLES.get(str(speaker).strip().lower())
    if role is None:
        raise ValueError(f"unknown speaker {str(speaker)[:40]!r}")
    return role


def _multiwoz(value: dict[str, Any], key: str | None, location: Location) -> Item:
    turns = []
    for index, entry in enumerate(value["log"]):
        text = entry.get("text") if isinstance(entry, dict) else None
        turns.append(Turn(role="customer" if index % 2 == 0 else "agent", text=clean_text(str(text or ""))))
    goal = _dict(value.get("goal"))
    domains = [d for d, spec in goal.items() if d not in _GOAL_SKIP and spec]
    dialogue_id = key if key and key not in _SPLITS else value.get("dialogue_id")
    return _conversation("multiwoz", "multiwoz", dialogue_id, turns, location, {"domains": domains})


def _schema_guided(value: dict[str, Any], location: Location, key: str | None) -> Item:
    turns = []
    for turn in value["turns"]:
        if not isinstance(turn, dict):
            raise ValueError("a turn is not an object")
        turns.append(Turn(role=_role(turn.get("speaker")), text=clean_text(str(turn.get("utterance") or ""))))
    dialogue_id = str(value.get("dialogue_id") or "")
    multiwoz = dialogue_id.endswith(".json") or re.match(r"^(?:PMUL|MUL|SNG|WOZ)\d", dialogue_id)
    # ConvLab-3's unified format names its corpus ("dataset": "multiwoz21") and prefixes the id with it.
    dataset = str(value.get("dataset") or "")
    source = dataset if _SAFE.match(dataset) else "multiwoz" if multiwoz else "sgd"
    split = key if key in _SPLITS else value.get("data_split")
    services = value.get("services") or value.get("domains") or []
    metadata = {"services": [str(s) for s in services] if isinstance(services, list) else [], "split": split}
    prefix = "" if dataset and dialogue_id.startswith(dataset) else source
    return _conversation(source, prefix, dialogue_id, turns, location, metadata)


def _taskmaster(value: dict[str, Any], location: Location) -> Item:
    utterances = [u for u in value["utterances"] if isinstance(u, dict)]
    utterances.sort(key=lambda u: u["index"] if isinstance(u.get("index"), int) else 0)
    turns = [Turn(role=_role(u.get("speaker")), text=clean_text(str(u.get("text") or ""))) for u in utterances]
    metadata = {
        "instruction_id": value.get("instruction_id"),
        "vertical": value.get("vertical"),
        "scenario": value.get("scenario") if isinstance(value.get("scenario"), str) else None,
    }
    return _conversation("taskmaster", "taskmaster", value.get("conversation_id"), turns, location, metadata)


def _abcd(value: dict[str, Any], location: Location, key: str | None) -> Item:
    turns = []
    for pair in value["original"]:
        speaker, text = pair
        turns.append(Turn(role=_role(speaker), speaker=str(speaker), text=clean_text(str(text))))
    scenario = _dict(value.get("scenario"))
    personal = _dict(scenario.get("personal"))
    conversation = _conversation(
        "abcd",
        "abcd",
        value.get("convo_id"),
        turns,
        location,
        {"flow": scenario.get("flow"), "subflow": scenario.get("subflow"), "split": key if key in _SPLITS else None},
    )
    if isinstance(conversation, Conversation):
        customer = personal.get("username") or personal.get("email") or personal.get("customer_name")
        return conversation.model_copy(update={"customer_id": str(customer) if customer else None})
    return conversation


def _dict(value: Any) -> dict[str, Any]:
    """The value when it is an object, else an empty one (optional parts are often null)."""
    return value if isinstance(value, dict) else {}
