"""Genesys Cloud CX: speech and text analytics transcripts (calls, chats, messages, e-mails), messaging
conversation messages, and the analytics conversation details, which carry no text.

Shapes:

* **Transcript** (``genesys-transcript-json``): the JSON document behind the pre-signed URL that
  ``GET /api/v2/speechandtextanalytics/conversations/{conversationId}/communications/{communicationId}/
  transcripturl`` (and the bulk ``…/transcripturls``) returns; schema in "Transcript URL",
  https://developer.genesys.cloud/analyticsdatamanagement/speechtextanalytics/transcript-url (and
  https://developer.genesys.cloud/api/rest/v2/speechtextanalytics/transcript_url). One document per
  communication: ``{"organizationId", "conversationId", "communicationId", "mediaType": "call" | "chat"
  | "message" | "email" | "callback", "conversationStartTime", "startTime", "duration": {"milliseconds"},
  "transcripts": [{"transcriptId", "language", "startTime", "subject", "phrases": [{"text",
  "decoratedText", "stability", "confidence", "offset": {"milliseconds"}, "startTimeMs", "duration":
  {"milliseconds"}, "words", "participantPurpose": "external" | "internal" | …, "phraseIndex"}],
  "analytics": {"sentiment", "topics", "acoustic"}}], "participants": [{"participantPurpose", "userId",
  "teamId", "queueId", "ani", "from", "startTimeMs", "endTimeMs", …}], "uri"}``. A file holds one
  document (as downloaded), or several as a JSON array or JSON Lines. The same format reads the
  real-time **transcription notifications** of the ``v2.conversations.{id}.transcription`` topic
  (https://developer.genesys.cloud/analyticsdatamanagement/speechtextanalytics/transcription-notifications;
  ``{"topicName", "eventBody": {"conversationId", "communicationId", "sessionStartTimeMs",
  "transcriptionStartTimeMs", "transcripts": [{"utteranceId", "isFinal", "channel": "EXTERNAL" |
  "INTERNAL", "alternatives": [{"transcript", "decoratedTranscript", "offsetMs", "durationMs"}],
  "dialect"}], "status": {"status"}}}``, or the bare event body), one per line as a listener logs them.
* **Messages** (``genesys-messages-json``): messaging conversations' messages,
  ``POST /api/v2/conversations/messages/{conversationId}/messages/bulk`` (a ``TextMessageListing``
  page ``{"entities": [MessageData], "pageSize", …}``; MessageData: ``id``, ``conversationId``,
  ``timestamp``, ``direction`` inbound/outbound, ``messengerType``, ``fromAddress``, ``textBody``,
  ``createdBy``, ``normalizedMessage``), and normalized messages as the web messaging guest API
  ``GET /api/v2/webmessaging/messages`` returns them (``{"entities": [{"id", "channel": {"time",
  "from"}, "type": "Text" | "Structured" | "Event" | "Receipt", "text", "content", "direction":
  "Inbound" | "Outbound", "originatingEntity": "Human" | "Bot"}]}``); models in the Platform API
  reference, https://developer.genesys.cloud/devapps/api-explorer (MessageData,
  ConversationNormalizedMessage, WebMessagingMessage).
* **Conversation details** (``genesys-conversation-details``): ``POST /api/v2/analytics/conversations/
  details/query``, the details jobs' results and ``GET /api/v2/analytics/conversations/{id}/details``
  (``{"conversations": [{"conversationId", "conversationStart", "participants": [{"purpose",
  "sessions": [{"mediaType", "segments", "metrics"}]}]}]}``;
  https://developer.genesys.cloud/analyticsdatamanagement/analytics/detail/), and the conversation
  records of ``GET /api/v2/conversations/{id}`` and ``GET /api/v2/conversations/messages/{id}``
  (participants with their ``calls``/``messages``: states, times and message ids). These records hold
  who took part, when and for how long, but not a word of what was said (the message record lists
  message ids only), so each conversation is rejected with a reason that names the transcript and
  message endpoints to export instead.

Transcript mapping: id ``genesys-<conversationId>``, source ``genesys``. ``mediaType`` call/callback
(or "voice") makes a call, email an e-mail conversation, anything else a chat. A phrase's text is its
``decoratedText`` (punctuated) else ``text``. Roles from ``participantPurpose``: external/customer →
customer; internal/agent/user → agent, except that an internal phrase said while only an IVR, ACD,
bot or flow participant was connected (the participants' ``startTimeMs``–``endTimeMs``) is the bot's;
ivr/acd/bot/botflow/workflow/api → bot; others (voicemail, fax, dialer, …) → system; a phrase
without a purpose is the customer's. Consecutive
phrases of one party (within one transcript) merge into one turn. Times: ``startTimeMs`` is epoch
milliseconds (a small value is read as an offset); call turns get ``start_s``/``end_s`` from the
conversation start (``conversationStartTime``), so the communications of one call share one clock,
else from the phrase ``offset`` (or ``offsetMs``), and ``call_metrics`` from them; ``started_at`` and
``ended_at`` are the first and last turns' times. ``language``
"en-US" → "en"; the agent participant's ``userId`` is ``agent_id`` and its ``teamId`` ``team_id``;
the customer's ``ani`` (or ``from``) ``customer_id``; an e-mail's ``subject`` the subject; topics,
average sentiment per role, acoustic event counts, queue ids, media and communication ids go to
metadata.

A notification holds the final utterances of a few seconds of a call (``isFinal`` false ones come
again, complete, and are skipped): ``channel`` EXTERNAL → customer, INTERNAL → agent; times are
``transcriptionStartTimeMs`` + ``offsetMs``, ``start_s`` from ``sessionStartTimeMs``; a notification
without final text (the periodic ``SESSION_ONGOING`` ones, ``SESSION_ENDED``) is rejected with its
status. Pieces this small get no call metrics.

Several communications of one conversation (a transferred call: one transcript per recorded leg) are
separate documents with the same ``conversationId``. Each becomes a conversation with the
conversation's id, and the formats are ``tickets`` formats: the pieces are combined with what is
stored under that id (union of turns, by their keys ``genesys:<communicationId>:<transcriptId>:
<phraseIndex>``), whichever file or run they come in, rather than the later replacing the earlier.
Message pages and transcription notifications of one conversation combine the same way. Call
metrics are those of the piece stored last (the combining step keeps the later piece's metrics).

Messages mapping: one conversation per conversation id (``conversationId``; consecutive messages of
one conversation in a JSON array or JSON Lines, or all of a page's), id ``genesys-<conversationId>``
(a guest history has none: an id from its content). Inbound → customer; outbound → bot when
``originatingEntity`` is "Bot", an agent when it is "Human" or a user sent it (``createdBy``), else
the bot (flows' automatic replies have no user). Text is ``normalizedMessage.text``, else
``textBody``, else a quick-reply or button answer's text; attachments without text, receipts and
events are not turns (counted in ``metadata.non_text_messages`` and ``metadata.events``). The
customer's address (``fromAddress``) is ``customer_id`` and the sending user's id ``agent_id``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO

from pydantic import ValidationError

from vocmine.ingest.cleaning import clean_text
from vocmine.ingest.inputs.jsonstream import iter_json_records
from vocmine.ingest.inputs.sniff import Sniff
from vocmine.ingest.readers.calls import call_metrics
from vocmine.ingest.records import Item, Location, ReadContext, Rejection, parse_timestamp
from vocmine.schema import Channel, Conversation, SpeakerRole, Turn, conversation_id_from_content

_SAFE = re.compile(r"^[\w.:@-]{1,128}$")
_MALFORMED = (ValidationError, ValueError, TypeError, AttributeError, OverflowError, OSError)
_EPOCH_MS = 1e11  # larger values are epoch milliseconds, smaller ones offsets

_PURPOSE_ROLES: dict[str, SpeakerRole] = {
    "external": "customer",
    "customer": "customer",
    "internal": "agent",
    "agent": "agent",
    "user": "agent",
    "ivr": "bot",
    "acd": "bot",
    "bot": "bot",
    "botflow": "bot",
    "workflow": "bot",
    "api": "bot",
}
_CALL_MEDIA = {"call", "callback", "voice"}
# the media lists of a conversation record's participants
_MEDIA_LISTS = ("calls", "callbacks", "chats", "emails", "messages", "socialExpressions", "videos")
_DETAILS_REASON = (
    "Genesys conversation details carry no transcript text (only participants, sessions and metrics); "
    "export the transcripts instead: GET /api/v2/speechandtextanalytics/conversations/{conversationId}/"
    "communications/{communicationId}/transcripturl (calls, chats, e-mails), or POST /api/v2/conversations/"
    "messages/{conversationId}/messages/bulk (messaging)"
)
_NORMALIZED_DIRECTION = re.compile(rb'"direction"\s*:\s*"(?:Inbound|Outbound)"')


# ---------------------------------------------------------------- detection


def detect_transcript(sniff: Sniff) -> bool:
    if not sniff.is_json:
        return False
    if sniff.has_keys("transcripts", "phrases"):
        return bool(sniff.keys & {"participantPurpose", "communicationId", "decoratedText"})
    # real-time transcription notifications
    return sniff.has_keys("transcripts", "alternatives", "utteranceId") and bool(
        sniff.keys & {"transcriptionStartTimeMs", "sessionStartTimeMs", "eventBody", "isFinal"}
    )


def detect_messages(sniff: Sniff) -> bool:
    if not sniff.is_json:
        return False
    keys = sniff.keys
    if "messengerType" in keys and keys & {"textBody", "normalizedMessage"} and "direction" in keys:
        return True  # MessageData
    if "normalizedMessage" in keys and keys & {"conversationId", "fromAddress"}:
        return True
    # Normalized messages: Genesys writes the direction capitalised, and originatingEntity is its own.
    return (
        sniff.has_keys("direction", "channel")
        and bool(keys & {"originatingEntity", "platform"})
        and bool(_NORMALIZED_DIRECTION.search(sniff.head))
    )


def detect_details(sniff: Sniff) -> bool:
    if not sniff.is_json:
        return False
    if sniff.has_keys("conversationId", "conversationStart", "participants", "sessions"):
        return bool(sniff.keys & {"purpose", "mediaType", "segments"})
    # conversation records (GET /api/v2/conversations/{id}, …/messages/{id}): participants' media
    return sniff.has_keys("participants", "purpose") and bool(
        sniff.keys & {"connectedTime", "messageURI", "recordingState", "wrapupRequired", "otherMediaUris"}
    )


# ---------------------------------------------------------------- conversation details


def read_conversation_details(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    for record in iter_json_records(stream, ctx):
        if isinstance(record, Rejection):
            yield record
            continue
        value = record.value
        page = _dict(value)
        conversations = page.get("conversations", page.get("entities"))
        if isinstance(conversations, list):
            if not conversations:
                yield Rejection(record.location, "Genesys conversation details page without conversations")
            for index, conversation in enumerate(conversations):
                where = Location(record.location.file, f"{record.location.position}, conversation {index}")
                yield _details(conversation, where)
        else:
            yield _details(value, record.location)


def _details(value: Any, location: Location) -> Rejection:
    record = _dict(value)
    conversation_id = record.get("conversationId") or record.get("id")
    if not conversation_id or not isinstance(record.get("participants"), list):
        return Rejection(location, "not a Genesys conversation record: no 'conversationId' and 'participants'")
    participants = [_dict(p) for p in record["participants"]]
    media = sorted(
        {str(session["mediaType"]) for p in participants for session in _sessions(p) if session.get("mediaType")}
        | {kind for p in participants for kind in _MEDIA_LISTS if p.get(kind)}
    )
    what = f" ({', '.join(media)[:40]})" if media else ""
    return Rejection(location, f"conversation {str(conversation_id)[:64]}{what}: {_DETAILS_REASON}")


# ---------------------------------------------------------------- transcripts


def read_transcripts(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    for record in iter_json_records(stream, ctx):
        if isinstance(record, Rejection):
            yield record
        else:
            yield _transcript(record.value, record.location)


@dataclass
class _Phrase:
    role: SpeakerRole
    speaker: str | None
    text: str
    key: str
    timestamp: datetime | None
    start_s: float | None
    end_s: float | None


@dataclass
class _Party:
    """What the document's ``participants`` say: who the customer and agent are, and when each
    internal party (IVR, queue, agent) was connected."""

    customer_id: str | None = None
    agent_id: str | None = None
    team_id: str | None = None
    queue_ids: list[str] = field(default_factory=list)
    direction: str | None = None
    windows: list[tuple[float, float, SpeakerRole, str | None]] = field(default_factory=list)

    @classmethod
    def of(cls, participants: Any) -> _Party:
        party = cls()
        for participant in _list(participants):
            participant = _dict(participant)
            purpose = str(participant.get("participantPurpose") or participant.get("purpose") or "").lower()
            role = _PURPOSE_ROLES.get(purpose, "system")
            user = _text(participant.get("userId"))
            if role == "customer":
                party.customer_id = party.customer_id or _text(participant.get("ani") or participant.get("from"))
                party.direction = party.direction or _text(participant.get("initialDirection"))
                continue
            if role == "agent" and user and party.agent_id is None:
                party.agent_id, party.team_id = user, _text(participant.get("teamId"))
            queue = _text(participant.get("queueId"))
            if queue and queue not in party.queue_ids:
                party.queue_ids.append(queue)
            start, end = _number(participant.get("startTimeMs")), _number(participant.get("endTimeMs"))
            if start is not None and start > _EPOCH_MS:
                party.windows.append((start, end if end is not None else float("inf"), role, user))
        return party

    def internal(self, at_ms: float | None) -> tuple[SpeakerRole, str | None]:
        """Who spoke an internal phrase: an agent connected at that moment, else the IVR or queue
        (their prompts and hold messages are on the internal channel too), else an agent."""
        if at_ms is None:
            return "agent", None
        connected = [(role, user) for start, end, role, user in self.windows if start <= at_ms <= end]
        for role, user in connected:
            if role == "agent":
                return "agent", user
        if connected and all(role == "bot" for role, _ in connected):
            return "bot", None
        return "agent", None


def _transcript(value: Any, location: Location) -> Item:
    if isinstance(value, dict) and (isinstance(value.get("eventBody"), dict) or "transcriptionStartTimeMs" in value):
        return _notification(value, location)
    if not isinstance(value, dict) or not isinstance(value.get("transcripts"), list):
        return Rejection(location, "not a Genesys Cloud transcript: no 'transcripts' list")
    media = str(value.get("mediaType") or "").lower()
    try:
        channel = _transcript_channel(media, value["transcripts"])
        party = _Party.of(value.get("participants"))
        turns: list[Turn] = []
        for index, transcript in enumerate(value["transcripts"]):
            phrases = _phrases(_dict(transcript), value, index, party, channel)
            turns.extend(_merge(phrases, channel))
        if not turns:
            kind = f" {media[:20]}" if media else ""
            return Rejection(location, f"Genesys{kind} transcript without any phrase text")
        return _transcript_conversation(value, turns, channel, party, media)
    except _MALFORMED as exc:
        return Rejection(location, f"malformed Genesys transcript: {type(exc).__name__}: {str(exc)[:200]}")


def _transcript_channel(media: str, transcripts: list[Any]) -> Channel:
    if media in _CALL_MEDIA:
        return "call"
    if media == "email":
        return "email"
    if media:
        return "chat"
    # No media type: phrase offsets and durations are what a voice transcript has.
    timed = any(
        isinstance(p, dict)
        and (p.get("offset") or p.get("offsetMs") is not None)
        and (p.get("duration") or p.get("durationMs") is not None)
        for t in transcripts
        for p in _list(_dict(t).get("phrases"))
    )
    return "call" if timed else "chat"


def _phrases(
    transcript: dict[str, Any], doc: dict[str, Any], index: int, party: _Party, channel: Channel
) -> list[_Phrase]:
    base_ms = _number(doc.get("conversationStartTime"))
    doc_start = _number(transcript.get("startTime")) or _number(doc.get("startTime"))
    prefix = f"genesys:{_text(doc.get('communicationId')) or '-'}:{_text(transcript.get('transcriptId')) or index}"
    phrases = []
    for position, phrase in enumerate(_list(transcript.get("phrases"))):
        if not isinstance(phrase, dict):
            continue
        text = clean_text(str(phrase.get("decoratedText") or phrase.get("text") or ""))
        if not text:
            continue
        at_ms, offset_ms, duration_ms = _phrase_times(phrase, doc_start)
        role, speaker = _phrase_role(phrase, party, at_ms)
        start_s, end_s = _span(at_ms, base_ms, offset_ms, duration_ms) if channel == "call" else (None, None)
        number = phrase.get("phraseIndex") if isinstance(phrase.get("phraseIndex"), int) else position
        stamp = parse_timestamp(at_ms) if at_ms else None
        phrases.append(_Phrase(role, speaker, text, f"{prefix}:{number}", stamp, start_s, end_s))
    if all(p.timestamp for p in phrases):
        phrases.sort(key=lambda p: p.timestamp.timestamp())  # type: ignore[union-attr]
    return phrases


def _phrase_times(phrase: dict[str, Any], doc_start: float | None) -> tuple[float | None, float | None, float | None]:
    """(epoch ms the phrase starts, its offset in the recording in ms, its duration in ms)."""
    start = _number(phrase.get("startTimeMs"))
    offset = _millis(phrase.get("offset"))
    offset = offset if offset is not None else _number(phrase.get("offsetMs"))
    if start is not None and start <= _EPOCH_MS:  # an offset written where the time should be
        offset, start = (offset if offset is not None else start), None
    if start is None and offset is not None and doc_start and doc_start > _EPOCH_MS:
        start = doc_start + offset
    duration = _millis(phrase.get("duration"))
    duration = duration if duration is not None else _number(phrase.get("durationMs"))
    if duration is None:
        duration = _words_duration(phrase, start, offset)
    return start, offset, duration


def _words_duration(phrase: dict[str, Any], start: float | None, offset: float | None) -> float | None:
    """A phrase without a duration ends where its last word does."""
    words = [w for w in _list(phrase.get("words")) if isinstance(w, dict)]
    if not words:
        return None
    last = words[-1]
    length = _millis(last.get("duration")) or _number(last.get("durationMs")) or 0.0
    word_start, word_offset = _number(last.get("startTimeMs")), _millis(last.get("offset"))
    if start is not None and word_start is not None and word_start > _EPOCH_MS:
        return max(word_start + length - start, 0.0)
    if offset is not None and word_offset is not None:
        return max(word_offset + length - offset, 0.0)
    return None


def _phrase_role(phrase: dict[str, Any], party: _Party, at_ms: float | None) -> tuple[SpeakerRole, str | None]:
    channel = phrase.get("channel") if isinstance(phrase.get("channel"), str) else None
    purpose = str(phrase.get("participantPurpose") or channel or "").lower()
    if purpose == "internal":
        return party.internal(at_ms)
    role = _PURPOSE_ROLES.get(purpose)
    if role is None:
        return ("system", None) if purpose else ("customer", None)
    return role, None


def _merge(phrases: list[_Phrase], channel: Channel) -> list[Turn]:
    """Consecutive phrases of one party make one turn: a voice transcript cuts a turn into
    phrases at every pause."""
    turns: list[Turn] = []
    group: list[_Phrase] = []
    for phrase in [*phrases, None]:
        if group and (phrase is None or (phrase.role, phrase.speaker) != (group[0].role, group[0].speaker)):
            turns.append(_turn(group, channel))
            group = []
        if phrase is not None:
            group.append(phrase)
    return turns


def _turn(group: list[_Phrase], channel: Channel) -> Turn:
    first = group[0]
    ends = [p.end_s for p in group if p.end_s is not None]
    return Turn(
        key=first.key,
        role=first.role,
        speaker=first.speaker,
        text=(" " if channel == "call" else "\n").join(p.text for p in group),
        timestamp=first.timestamp,
        start_s=first.start_s,
        end_s=max(ends) if ends and first.start_s is not None else None,
    )


def _transcript_conversation(
    value: dict[str, Any], turns: list[Turn], channel: Channel, party: _Party, media: str
) -> Conversation:
    conversation_id = _text(value.get("conversationId")) or ""
    transcripts = [_dict(t) for t in value["transcripts"]]
    language = next((str(t["language"]) for t in transcripts if t.get("language")), "")
    subject = next((clean_text(str(t["subject"])) for t in transcripts if t.get("subject")), None)
    # started_at/ended_at come from the turns: combining the pieces of a conversation recomputes
    # them so, and a piece must read the same alone as combined, or every re-ingest would change it.
    return Conversation(
        id=_conversation_id(conversation_id, channel, turns),
        channel=channel,
        source="genesys",
        source_id=conversation_id or None,
        subject=subject or None,
        customer_id=party.customer_id,
        agent_id=party.agent_id or next((t.speaker for t in turns if t.role == "agent" and t.speaker), None),
        team_id=party.team_id,
        language=language.split("-")[0].lower() or None,
        call_metrics=call_metrics(turns) if channel == "call" else None,
        metadata=_transcript_metadata(value, transcripts, party, media),
        turns=turns,
    ).with_time_bounds()


def _transcript_metadata(
    value: dict[str, Any], transcripts: list[dict[str, Any]], party: _Party, media: str
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"media_type": media} if media else {}
    if value.get("communicationId"):
        metadata["communication_id"] = str(value["communicationId"])
    if party.queue_ids:
        metadata["queue_ids"] = party.queue_ids
    if party.direction:
        metadata["direction"] = party.direction
    analytics = [_dict(t.get("analytics")) for t in transcripts]
    topics = sorted(
        {str(_dict(t).get("topicName")) for a in analytics for t in _list(a.get("topics")) if _dict(t).get("topicName")}
    )
    if topics:
        metadata["topics"] = topics
    sentiment = _sentiment_by_role([s for a in analytics for s in _list(a.get("sentiment"))])
    if sentiment:
        metadata["genesys_sentiment"] = sentiment
    acoustic = Counter(
        str(_dict(e).get("eventType"))
        for a in analytics
        for e in _list(a.get("acoustic") or a.get("acoustics"))
        if _dict(e).get("eventType")
    )
    if acoustic:
        metadata["acoustic_events"] = dict(acoustic)
    return metadata


def _sentiment_by_role(events: list[Any]) -> dict[str, float]:
    """Average phrase sentiment (−1 to 1) per role, as Genesys scored it."""
    scores: dict[str, list[float]] = {}
    for event in events:
        event = _dict(event)
        score = _number(event.get("sentiment"))
        role = _PURPOSE_ROLES.get(str(event.get("participant") or "").lower())
        if score is not None and role is not None and -1 <= score <= 1:
            scores.setdefault(role, []).append(score)
    return {role: round(sum(values) / len(values), 3) for role, values in scores.items()}


def _notification(value: dict[str, Any], location: Location) -> Item:
    """A ``v2.conversations.{id}.transcription`` notification: the final utterances of a few
    seconds of a call, as a piece of the call (the pieces are combined by their keys)."""
    body = _dict(value.get("eventBody")) or value
    conversation_id = _text(body.get("conversationId")) or _topic_conversation(value.get("topicName")) or ""
    status = _text(_dict(body.get("status")).get("status"))
    try:
        phrases = _notification_phrases(body)
        if not phrases:
            what = f" (status {status[:40]})" if status else ""
            return Rejection(location, f"Genesys transcription notification without final transcripts{what}")
        turns = _merge(phrases, "call")
        dialect = next((str(t["dialect"]) for t in _list(body.get("transcripts")) if _dict(t).get("dialect")), "")
        metadata: dict[str, Any] = {"media_type": "call"}
        if body.get("communicationId"):
            metadata["communication_id"] = str(body["communicationId"])
        return Conversation(
            id=_conversation_id(conversation_id, "call", turns),
            channel="call",
            source="genesys",
            source_id=conversation_id or None,
            language=dialect.split("-")[0].lower() or None,
            # no call metrics: a notification holds a few seconds of the call, not the call
            metadata=metadata,
            turns=turns,
        ).with_time_bounds()
    except _MALFORMED as exc:
        return Rejection(
            location, f"malformed Genesys transcription notification: {type(exc).__name__}: {str(exc)[:200]}"
        )


def _notification_phrases(body: dict[str, Any]) -> list[_Phrase]:
    """Final utterances only: a partial one comes again, complete, with the same ``utteranceId``.
    ``offsetMs`` counts from the start of the transcription session."""
    session = _number(body.get("sessionStartTimeMs"))
    started = _number(body.get("transcriptionStartTimeMs")) or session
    prefix = f"genesys:{_text(body.get('communicationId')) or '-'}"
    phrases = []
    for index, result in enumerate(_list(body.get("transcripts"))):
        result = _dict(result)
        if result.get("isFinal") is False:
            continue
        alternative = next((a for a in _list(result.get("alternatives")) if isinstance(a, dict)), {})
        text = clean_text(str(alternative.get("decoratedTranscript") or alternative.get("transcript") or ""))
        if not text:
            continue
        offset, duration = _number(alternative.get("offsetMs")), _number(alternative.get("durationMs"))
        at_ms = started + offset if started and started > _EPOCH_MS and offset is not None else None
        start_s, end_s = _span(at_ms, session, offset, duration)
        role = _PURPOSE_ROLES.get(str(result.get("channel") or "").lower(), "system")
        key = f"{prefix}:{_text(result.get('utteranceId')) or index}"
        stamp = parse_timestamp(at_ms) if at_ms else None
        phrases.append(_Phrase(role, None, text, key, stamp, start_s, end_s))
    return phrases


def _topic_conversation(topic: Any) -> str | None:
    parts = str(topic or "").split(".")
    return parts[2] if len(parts) == 4 and parts[:2] == ["v2", "conversations"] else None


# ---------------------------------------------------------------- messages


@dataclass
class _Group:
    key: str | None
    location: Location
    messages: list[dict[str, Any]] = field(default_factory=list)


def read_messages(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    """A page's messages are grouped by conversation; so are consecutive messages of one conversation
    in an array or JSON Lines (the file is read in order, never whole)."""
    group: _Group | None = None
    for record in iter_json_records(stream, ctx):
        if isinstance(record, Rejection):
            yield record
            continue
        value = record.value
        if isinstance(value, dict) and isinstance(value.get("entities"), list):
            if group:
                yield _messages_conversation(group)
                group = None
            yield from _page(value["entities"], record.location)
        elif _is_message(value):
            key = _conversation_key(value)
            if group and key is not None and group.key is not None and key != group.key:
                yield _messages_conversation(group)
                group = None
            group = group or _Group(key, record.location)
            group.key = group.key or key
            group.messages.append(value)
        else:
            yield Rejection(record.location, "not a Genesys message: no 'direction' with a message or 'entities' page")
    if group:
        yield _messages_conversation(group)


def _page(entities: list[Any], location: Location) -> Iterator[Item]:
    groups: dict[str | None, _Group] = {}
    for index, message in enumerate(entities):
        if not _is_message(message):
            where = Location(location.file, f"{location.position}, message {index}")
            yield Rejection(where, "not a Genesys message: no 'direction'")
            continue
        key = _conversation_key(message)
        groups.setdefault(key, _Group(key, location)).messages.append(message)
    if not groups and not entities:
        yield Rejection(location, "Genesys message page without messages")
    for group in groups.values():
        yield _messages_conversation(group)


def _is_message(value: Any) -> bool:
    return isinstance(value, dict) and bool(
        value.get("direction") or _dict(value.get("normalizedMessage")).get("direction")
    )


def _conversation_key(message: dict[str, Any]) -> str | None:
    return _text(message.get("conversationId") or _dict(message.get("conversation")).get("id"))


def _messages_conversation(group: _Group) -> Item:
    try:
        events: Counter[str] = Counter()
        turns = []
        for message in group.messages:
            turn = _message_turn(message, events)
            if turn is not None:
                turns.append(turn)
        if not turns:
            return Rejection(group.location, "Genesys messaging conversation without any text message")
        # the web messaging history lists the newest first
        if all(t.timestamp for t in turns):
            turns.sort(key=lambda t: t.timestamp.timestamp())  # type: ignore[union-attr]
        conversation_id = group.key or ""
        metadata: dict[str, Any] = {}
        if events:
            metadata["events"] = dict(events)
        if events.get("attachment"):
            metadata["non_text_messages"] = events["attachment"]
        platform = next((p for m in group.messages if (p := _platform(m))), None)
        if platform:
            metadata["messenger_type"] = platform
        return Conversation(
            id=_conversation_id(conversation_id, "chat", turns),
            channel="chat",
            source="genesys",
            source_id=conversation_id or None,
            customer_id=next((_customer_address(m) for m in group.messages if _customer_address(m)), None),
            agent_id=next((str(u["id"]) for m in group.messages if (u := _dict(m.get("createdBy"))).get("id")), None),
            metadata=metadata,
            turns=turns,
        ).with_time_bounds()
    except _MALFORMED as exc:
        return Rejection(group.location, f"malformed Genesys messages: {type(exc).__name__}: {str(exc)[:200]}")


def _message_turn(message: dict[str, Any], events: Counter[str]) -> Turn | None:
    normalized = _dict(message.get("normalizedMessage")) or message
    kind = str(normalized.get("type") or "Text").lower()
    if kind in ("receipt", "event"):
        events[kind] += 1
        return None
    text = clean_text(str(normalized.get("text") or message.get("textBody") or _content_text(normalized) or ""))
    if not text:
        events["attachment" if message.get("media") or normalized.get("content") else "empty"] += 1
        return None
    direction = str(message.get("direction") or normalized.get("direction") or "").lower()
    role = _message_role(direction, message, normalized)
    channel = _dict(normalized.get("channel"))
    message_id = _text(message.get("id") or normalized.get("id"))
    return Turn(
        key=f"genesys:{message_id}" if message_id else None,
        role=role,
        speaker=_message_speaker(role, message, channel),
        text=text,
        timestamp=parse_timestamp(message.get("timestamp") or channel.get("time")),
    )


def _message_role(direction: str, message: dict[str, Any], normalized: dict[str, Any]) -> SpeakerRole:
    if direction == "inbound":
        return "customer"
    entity = str(normalized.get("originatingEntity") or "").lower()
    if entity == "bot":
        return "bot"
    if entity == "human" or _dict(message.get("createdBy")).get("id"):
        return "agent"
    return "bot"  # an outbound message no user sent: a flow's automatic reply


def _message_speaker(role: SpeakerRole, message: dict[str, Any], channel: dict[str, Any]) -> str | None:
    sender = _dict(channel.get("from"))
    if role == "customer":
        return _text(message.get("fromAddress") or sender.get("id") or sender.get("nickname"))
    user = _dict(message.get("createdBy"))
    return _text(user.get("name") or user.get("id") or sender.get("nickname"))


def _customer_address(message: dict[str, Any]) -> str | None:
    normalized = _dict(message.get("normalizedMessage")) or message
    if str(message.get("direction") or normalized.get("direction") or "").lower() == "inbound":
        return _text(message.get("fromAddress") or _dict(_dict(normalized.get("channel")).get("from")).get("id"))
    return None


def _content_text(normalized: dict[str, Any]) -> str | None:
    """The text of a quick-reply or button answer (a Structured message without ``text``)."""
    for content in _list(normalized.get("content")):
        content = _dict(content)
        for part in ("buttonResponse", "quickReply"):
            text = _dict(content.get(part)).get("text")
            if text:
                return str(text)
    return None


def _platform(message: dict[str, Any]) -> str | None:
    channel = _dict(_dict(message.get("normalizedMessage")).get("channel") or message.get("channel"))
    return _text(message.get("messengerType") or channel.get("platform"))


# ---------------------------------------------------------------- helpers


def _conversation_id(conversation_id: str, channel: Channel, turns: list[Turn]) -> str:
    return (
        f"genesys-{conversation_id}" if _SAFE.match(conversation_id) else conversation_id_from_content(channel, turns)
    )


def _sessions(participant: dict[str, Any]) -> list[dict[str, Any]]:
    return [session for session in _list(participant.get("sessions")) if isinstance(session, dict)]


def _millis(value: Any) -> float | None:
    """``{"milliseconds": n}`` (the transcript's offsets and durations) or a bare number."""
    if isinstance(value, dict):
        return _number(value.get("milliseconds"))
    return _number(value)


def _span(
    at_ms: float | None, base_ms: float | None, offset_ms: float | None, duration_ms: float | None
) -> tuple[float | None, float | None]:
    """A call turn's start and end in seconds: from the conversation's start (``base_ms``) when the
    phrase's time is known, so every piece of a call counts from the same moment, else its offset."""
    start = _seconds(at_ms - base_ms) if at_ms is not None and base_ms and at_ms >= base_ms else None
    start = start if start is not None else _seconds(offset_ms)
    if start is None:
        return None, None
    return start, round(start + max(duration_ms or 0.0, 0.0) / 1000, 3)


def _seconds(millis: float | None) -> float | None:
    return round(millis / 1000, 3) if millis is not None and millis >= 0 else None


def _number(value: Any) -> float | None:
    """A finite number, also when written as a string; None otherwise."""
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) < 1e15 else None


def _text(value: Any) -> str | None:
    return str(value)[:256] if value not in (None, "") and not isinstance(value, dict | list) else None


def _dict(value: Any) -> dict[str, Any]:
    """The value when it is an object, else an empty one (optional parts are often null)."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
