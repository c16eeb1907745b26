"""The formats vocmine reads, and how an input's format is recognised.

Detection looks at the file name (after removing .gz) and at the first 64 KiB of content; the
user can force a channel (``--channel``) or a format (``--format``) when detection guesses wrong.
The tools' own exports (help desks, chat platforms, speech-to-text services, social networks) are
declared by their reader families with a content test each; those tests run first, in the order of
``FAMILIES``, because their shapes are specific, and the core formats' tests below run last.
"""

from __future__ import annotations

import re

from vocmine.errors import ConfigError
from vocmine.ingest.inputs.sniff import Format, Sniff
from vocmine.ingest.readers import (
    calls,
    chat,
    chat_platforms,
    helpdesk,
    mail,
    social,
    social_networks,
    speech,
    surveys,
)
from vocmine.schema import CHANNELS

__all__ = ["FORMATS", "Format", "detect_format"]

# Reader families whose formats carry their own content test, most specific first: surveys last,
# because a tool's own CSV (a review site's, a help desk's) may also carry a score and a comment.
FAMILIES = (speech, helpdesk, chat_platforms, social_networks, surveys)

CORE: tuple[Format, ...] = (
    Format(
        "eml",
        "email",
        mail.read_eml,
        "one RFC 822/MIME message per file",
        export="any mail client's 'Save as' .eml; Outlook on the web, Thunderbird, Gmail 'Download message'",
        reads_bytes=True,
    ),
    Format(
        "mbox",
        "email",
        mail.read_mbox,
        "mbox mailbox (mboxo/mboxrd)",
        export="Google Takeout (Mail), Thunderbird folders, Apple Mail 'Export Mailbox', mail servers",
        reads_bytes=True,
    ),
    Format(
        "email-json",
        "email",
        mail.read_email_json,
        "JSON/JSONL messages (vocmine or Microsoft Graph)",
        export="Microsoft Graph GET /users/{id}/messages (or mailFolders/{id}/messages); vocmine's e-mail JSON",
    ),
    Format(
        "chat-json",
        "chat",
        chat.read_chat_json,
        "JSON/JSONL chats (vocmine, Intercom, ABCD)",
        export="Intercom GET /conversations/{id} (or the conversations export); ABCD dialogues; vocmine JSON",
    ),
    Format(
        "chat-text",
        "chat",
        chat.read_chat_text,
        "plain-text 'Speaker: text' transcripts",
        export="chat widgets' 'Email transcript' / 'Download transcript' text (LiveChat, Tawk.to, Olark ...)",
    ),
    Format(
        "social-json",
        "social",
        social.read_posts_json,
        "Twitter/X API v1.1 or v2 JSON/JSONL",
        export="X API v2 GET /2/tweets/search/recent (response pages) or v1.1 statuses/* JSON Lines",
    ),
    Format(
        "social-csv",
        "social",
        social.read_posts_csv,
        "CSV posts (TWCS or generic columns)",
        export="any CSV of posts with a 'text' column (social listening tools' exports; the TWCS dataset)",
    ),
    Format(
        "call-json",
        "call",
        calls.read_asr_json,
        "ASR JSON (AWS Transcribe, WhisperX)",
        export="AWS Transcribe / Call Analytics / Contact Lens voice output JSON (S3); WhisperX --output_format json",
    ),
    Format(
        "call-native",
        "call",
        chat.read_chat_json,
        "vocmine JSON conversations with timed turns",
        export="vocmine's conversation JSON with start_s/end_s turns (docs/formats.md)",
    ),
    Format(
        "vtt",
        "call",
        calls.read_vtt,
        "WebVTT captions",
        export="Zoom / Teams / Google Meet meeting transcripts (.vtt); caption tools",
    ),
    Format("srt", "call", calls.read_srt, "SRT subtitles", export="speech-to-text services' and caption tools' .srt"),
)

FORMATS: dict[str, Format] = {f.name: f for family in FAMILIES for f in family.FORMATS} | {f.name: f for f in CORE}

_KEY = re.compile(rb'"([A-Za-z_]+)"\s*:')
_TIMED_LINE = re.compile(rb"^\[[\d:/., -]+\]\s*[^\s\[\]{}\"][^:\n]{0,60}:")
_HEADER_LINE = re.compile(
    rb"^(?:From|To|Subject|Date|Message-ID|Received|Return-Path|MIME-Version|Delivered-To)\s*:",
    re.IGNORECASE | re.MULTILINE,
)


def detect_format(
    format_name: str, head: bytes, channel: str | None = None, forced: str | None = None
) -> Format | None:
    """The format of an input, or None when it is not one we read."""
    if forced:
        if forced not in FORMATS:
            raise ConfigError(f"unknown format {forced!r}", hint=f"choose from {', '.join(FORMATS)}")
        return FORMATS[forced]
    if channel is not None and channel not in CHANNELS:
        raise ConfigError(f"unknown channel {channel!r}", hint=f"choose from {', '.join(CHANNELS)}")
    sniff = Sniff(format_name.lower(), head, channel)
    found = next((f.name for family in FAMILIES for f in family.FORMATS if f.detect and f.detect(sniff)), None)
    found = found or _by_content(sniff.suffix, head, channel)
    if found and channel and FORMATS[found].channel != channel and not FORMATS[found].tickets:
        # The user said which channel; a vocmine JSON file can hold chats or calls.
        if found in ("chat-json", "call-native"):
            found = "call-native" if channel == "call" else "chat-json"
        else:
            return None
    return FORMATS[found] if found else None


def _by_content(suffix: str, head: bytes, channel: str | None) -> str | None:
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if suffix == "eml":
        return "eml"
    if suffix in ("mbox", "mbx"):
        return "mbox"
    if suffix == "vtt" or stripped.startswith(b"WEBVTT"):
        return "vtt"
    if suffix == "srt" or re.match(rb"^\d+\s*\r?\n\d{2}:\d{2}:\d{2},\d{3} --> ", stripped):
        return "srt"
    if suffix == "csv":
        return "social-csv"
    if stripped[:1] in (b"{", b"["):
        kind = _json_kind(set(_KEY.findall(head[:65536])), channel)
        if kind or not _TIMED_LINE.match(stripped):
            return kind
        # "[12:03] Customer: hi" starts like a JSON array: a plain-text transcript, tested below
    if stripped.startswith(b"From ") and _HEADER_LINE.search(stripped[:4096]):
        return "mbox"
    if _looks_like_message(stripped[:8192]):
        return "eml"
    if suffix in ("txt", "log", "text", "") and b"\x00" not in head[:4096]:
        return "chat-text"
    return None


def _looks_like_message(head: bytes) -> bool:
    """RFC 822 starts with header lines and has a From header plus at least one other kind."""
    names = {m.group(0).split(b":")[0].strip().lower() for m in _HEADER_LINE.finditer(head.split(b"\n\n", 1)[0])}
    return bool(_HEADER_LINE.match(head)) and b"from" in names and len(names) >= 2


def _json_kind(keys: set[bytes], channel: str | None) -> str | None:
    if b"Transcript" in keys and b"ParticipantRole" in keys:
        return "call-json"
    if b"results" in keys and keys & {b"transcripts", b"items", b"audio_segments", b"jobName"}:
        return "call-json"
    if b"segments" in keys and (b"speaker" in keys or b"words" in keys) and b"turns" not in keys:
        return "call-json"
    if keys & {b"internetMessageId", b"conversationId", b"message_id", b"in_reply_to", b"references"}:
        return "email-json"
    if keys & {b"conversation_parts", b"convo_id"}:
        return "chat-json"
    if keys & {
        b"id_str",
        b"in_reply_to_status_id",
        b"in_reply_to_status_id_str",
        b"referenced_tweets",
        b"author_id",
        b"retweeted_status",
    }:
        return "social-json"
    if b"turns" in keys:
        if channel == "call" or (b"start_s" in keys and channel != "chat"):
            return "call-native"
        return "chat-json"
    return None
