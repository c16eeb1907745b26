"""Amazon Connect Contact Lens analysis files of voice contacts.

Shape (https://docs.aws.amazon.com/connect/latest/adminguide/contact-lens-example-output-files.html)::

    {"Version": "1.1.0", "AccountId", "Channel": "VOICE", "JobStatus": "COMPLETED", "LanguageCode": "en-US",
     "CustomerMetadata": {"ContactId", "InstanceId", "InputS3Uri"},
     "Participants": [{"ParticipantId": "CUSTOMER", "ParticipantRole": "CUSTOMER"}, ...],
     "Categories": {"MatchedCategories": [...]},
     "ConversationCharacteristics": {"Sentiment": {"OverallSentiment": {"AGENT": 2.8, "CUSTOMER": -1.2}}, ...},
     "Transcript": [{"Id", "ParticipantId": "AGENT", "Content", "BeginOffsetMillis", "EndOffsetMillis",
                     "Sentiment": "NEUTRAL", "LoudnessScore": [...]}]}

Unlike Amazon Transcribe Call Analytics (the core ``call-json``), the turns name their participant by
``ParticipantId``; ``Participants`` says that participant's role (AGENT, CUSTOMER, SYSTEM).
The id is ``contact-lens-<ContactId>``; matched categories and the overall sentiment per role go to
``metadata``. Contact Lens analyses of chats (``"Channel": "CHAT"``) are not calls and not read here.
"""

from __future__ import annotations

from typing import Any

from vocmine.ingest.readers.speech.common import CallFacts, Piece, build_call, language_code, obj, scaled, text_of
from vocmine.ingest.records import Item, Location, ReadContext, Rejection
from vocmine.schema import SPEAKER_ROLES, SpeakerRole


def convert(value: dict[str, Any], location: Location, ctx: ReadContext) -> Item:
    status = value.get("JobStatus")
    if status not in (None, "COMPLETED"):
        return Rejection(location, f"Contact Lens analysis is {status!r}, not 'COMPLETED'")
    if str(value.get("Channel") or "VOICE").upper() != "VOICE":
        return Rejection(location, f"a Contact Lens analysis of a {value['Channel']} contact, not a call")
    transcript = value.get("Transcript")
    if not isinstance(transcript, list):
        return Rejection(location, "no 'Transcript' list: not a Contact Lens analysis file")
    roles = {
        str(p.get("ParticipantId")): str(p.get("ParticipantRole") or "").lower()
        for p in value.get("Participants") or []
        if isinstance(p, dict)
    }
    pieces = [_piece(part, roles) for part in transcript if isinstance(part, dict)]
    contact_id = obj(value.get("CustomerMetadata")).get("ContactId")
    characteristics = obj(value.get("ConversationCharacteristics"))
    facts = CallFacts(
        source="contact-lens",
        source_id=str(contact_id) if contact_id else None,
        language=language_code(value.get("LanguageCode")),
        metadata={
            "categories": obj(value.get("Categories")).get("MatchedCategories") or None,
            "overall_sentiment": obj(obj(characteristics.get("Sentiment")).get("OverallSentiment")) or None,
            "total_duration_s": scaled(characteristics.get("TotalConversationDurationMillis"), 1000),
        },
    )
    return build_call(pieces, location, ctx, facts)


def _piece(part: dict[str, Any], roles: dict[str, str]) -> Piece:
    participant = text_of(part.get("ParticipantId") or part.get("ParticipantRole")) or None
    role = roles.get(participant or "", "") or (participant or "").lower()
    return Piece(
        text_of(part.get("Content")),
        scaled(part.get("BeginOffsetMillis"), 1000),
        scaled(part.get("EndOffsetMillis"), 1000),
        participant,
        _role(role),
    )


def _role(name: str) -> SpeakerRole | None:
    for role in SPEAKER_ROLES:
        if name == role:
            return role
    return None
