"""Speech-to-text services' transcripts: detection by content, mapping to calls, rejections."""

from __future__ import annotations

import io

import pytest

from tests.conftest import DATA
from vocmine.ingest.inputs.formats import FORMATS, detect_format
from vocmine.ingest.readers.speech.common import language_code, seconds
from vocmine.ingest.records import ReadContext, Rejection
from vocmine.schema import Conversation
from vocmine.settings import Settings

SPEECH = DATA / "speech"

# file, format, calls stored, rejections (the bad record each file holds)
FILES = [
    ("deepgram.json", "deepgram-json", 4, 1),
    ("assemblyai.json", "assemblyai-json", 4, 1),
    ("google_stt.json", "google-stt-json", 3, 1),
    ("watson_stt.json", "watson-stt-json", 3, 1),
    ("speechmatics.json", "speechmatics-json", 3, 1),
    ("revai.json", "revai-json", 2, 1),
    ("azure_stt.json", "azure-stt-json", 3, 1),
    ("whisper.json", "whisper-json", 4, 1),
    ("elevenlabs.json", "elevenlabs-json", 2, 1),
    ("contact_lens.json", "contact-lens-json", 1, 1),
    ("calls.stm", "stm", 2, 1),
    ("calls.ctm", "ctm", 2, 1),
    ("segments.txt", "speaker-segments", 1, 1),
    ("otter.txt", "otter-text", 1, 0),
]


def read(name: str, settings: Settings | None = None) -> tuple[list[Conversation], list[Rejection]]:
    """Read a sample with the format detection picks, without redaction (mapping as read)."""
    data = (SPEECH / name).read_bytes()
    found = detect_format(name, data[:65536])
    assert found is not None
    items = list(found.reader(io.BytesIO(data), ReadContext(name, settings or Settings())))
    calls = [i for i in items if isinstance(i, Conversation)]
    rejections = [i for i in items if isinstance(i, Rejection)]
    assert len(calls) + len(rejections) == len(items)
    return calls, rejections


def lines(call: Conversation) -> list[tuple[str, str | None, str]]:
    return [(t.role, t.speaker, t.text) for t in call.turns]


# ---------------------------------------------------------------- detection


@pytest.mark.parametrize(("name", "expected", "stored", "rejected"), FILES)
@pytest.mark.parametrize("given_name", ["own", "upload.txt", "export", "data.csv.json"])
def test_detected_by_content_whatever_the_name(name, expected, stored, rejected, given_name):
    head = (SPEECH / name).read_bytes()[:65536]
    found = detect_format(name if given_name == "own" else given_name, head)
    assert found is not None and found.name == expected


@pytest.mark.parametrize(
    "sample",
    [
        "calls/aws_items.json",
        "calls/aws_stereo_channels.json",
        "calls/call_analytics.json",
        "calls/whisperx.json",
        "chat/transcript.txt",
        "chat/intercom.json",
        "email/graph.json",
        "social/v2_page.json",
    ],
)
def test_other_formats_are_left_to_their_readers(sample):
    head = (DATA / sample).read_bytes()[:65536]
    found = detect_format(sample, head)
    speech_formats = {name for name, fmt in FORMATS.items() if fmt.detect is not None and fmt.channel == "call"}
    assert found is not None and found.name not in speech_formats


def test_a_channel_other_than_call_leaves_the_file_to_the_core_formats():
    head = (SPEECH / "calls.stm").read_bytes()
    assert detect_format("calls.stm", head, channel="call").name == "stm"  # type: ignore[union-attr]
    assert detect_format("calls.txt", head, channel="chat").name == "chat-text"  # type: ignore[union-attr]


def test_each_format_is_listed_with_where_to_export_it():
    for _, expected, _, _ in FILES:
        assert FORMATS[expected].channel == "call" and FORMATS[expected].export


# ---------------------------------------------------------------- end to end


@pytest.mark.parametrize(("name", "expected", "stored", "rejected"), FILES)
def test_ingests_every_call_and_rejects_the_bad_record(ingest, store, name, expected, stored, rejected):
    report = ingest(SPEECH / name)
    assert report.records_stored == stored, report.rejection_samples
    assert report.records_rejected == rejected
    assert report.records_by_format[expected] == stored
    for call in store.iter_conversations():
        assert call.channel == "call" and call.turns


@pytest.mark.parametrize(("name", "expected", "stored", "rejected"), FILES)
def test_truncated_files_never_raise(name, expected, stored, rejected):
    data = (SPEECH / name).read_bytes()
    reader = FORMATS[expected].reader
    for cut in (1, len(data) // 3, len(data) // 2, len(data) - 2):
        items = list(reader(io.BytesIO(data[:cut]), ReadContext(name, Settings())))
        assert items and all(isinstance(i, Conversation | Rejection) for i in items)


# ---------------------------------------------------------------- Deepgram


def test_deepgram_utterances_become_turns_with_times_metrics_and_the_request_id():
    calls, rejections = read("deepgram.json")
    call = calls[0]
    assert call.id == "deepgram-5d7c1a8e-1f3b-4c4e-9a51-0b3f2d9e7a10" and call.source == "deepgram"
    assert call.source_id == "5d7c1a8e-1f3b-4c4e-9a51-0b3f2d9e7a10"
    assert [t.role for t in call.turns] == ["agent", "customer"] * 3
    assert call.turns[1].speaker == "speaker_1" and call.turns[1].start_s == 4.4 and call.turns[1].end_s == 10.1
    assert call.turns[1].text.startswith("Hi, I was charged twice for my March bill")
    assert call.call_metrics is not None and call.call_metrics.overtalk_s == 0.2  # 14.0-14.2
    assert call.metadata["asr_models"] == ["2-general-nova"]
    assert call.metadata["summary"].startswith("A customer charged twice")
    assert "no 'results' object" in rejections[0].reason and "element 4" in rejections[0].location.position


def test_deepgram_multichannel_puts_the_agent_on_channel_0():
    calls, _ = read("deepgram.json")
    stereo = calls[1]
    assert [(t.role, t.speaker) for t in stereo.turns] == [
        ("agent", "channel_0"),
        ("customer", "channel_1"),
        ("agent", "channel_0"),
        ("customer", "channel_1"),
    ]
    assert stereo.turns[1].text == "Hi Tom, my parcel was due on Friday and the tracking hasn't moved."


def test_first_speaker_setting_puts_the_customer_on_channel_0():
    calls, _ = read("deepgram.json", Settings(call_first_speaker="customer"))
    assert [t.role for t in calls[1].turns] == ["customer", "agent", "customer", "agent"]


def test_deepgram_whisper_words_by_speaker_and_a_plain_transcript():
    calls, _ = read("deepgram.json")
    whisper, plain = calls[2], calls[3]
    assert whisper.metadata["asr_models"] == ["whisper-medium"] and whisper.language == "en"
    assert [t.role for t in whisper.turns] == ["agent", "customer", "agent"]
    assert whisper.turns[1].text == "my router keeps dropping the connection every evening since the update"
    assert plain.metadata["speakers_unlabelled"] is True and plain.call_metrics is None
    assert [t.role for t in plain.turns] == ["customer"]


# ---------------------------------------------------------------- AssemblyAI


def test_assemblyai_utterances_in_milliseconds_and_sentiment_counts():
    calls, rejections = read("assemblyai.json")
    call = calls[0]
    assert call.id == "assemblyai-6rlr37h8c3-9d5c-4a1c-a2a7-1d6f3e7b9c02" and call.language == "en"
    assert lines(call)[1] == (
        "customer",
        "B",
        "Hi, my order was supposed to arrive an hour ago and the driver isn't moving on the map.",
    )
    assert (call.turns[0].start_s, call.turns[0].end_s) == (0.4, 3.8)
    assert call.metadata["asr_sentiment_counts"] == {"neutral": 2, "negative": 1, "positive": 1}
    assert (
        rejections[0].reason.startswith("AssemblyAI transcript is 'error'") and "Download error" in rejections[0].reason
    )


def test_assemblyai_multichannel_words_only_and_unlabelled():
    calls, _ = read("assemblyai.json")
    stereo, words_only, plain = calls[1], calls[2], calls[3]
    assert [(t.role, t.speaker) for t in stereo.turns] == [
        ("agent", "channel_0"),
        ("customer", "channel_1"),
        ("agent", "channel_0"),
    ]
    assert [t.role for t in words_only.turns] == ["agent", "customer", "agent"]
    assert words_only.turns[1].text == "Hi, my internet has been down since yesterday."
    assert plain.metadata["speakers_unlabelled"] is True and plain.turns[0].text.startswith("Hi, this is a voicemail")


# ---------------------------------------------------------------- Google


def test_google_v1_diarization_reads_the_last_result_once():
    calls, rejections = read("google_stt.json")
    call = calls[0]
    assert call.id == "google-stt-7723415902818845611" and call.language == "en"
    assert [(t.role, t.speaker) for t in call.turns] == [
        ("agent", "speaker_1"),
        ("customer", "speaker_2"),
        ("agent", "speaker_1"),
    ]
    assert call.turns[2].text == "Let me check. Your adjuster visit is booked for Thursday morning."
    assert call.turns[1].start_s == 4.0
    assert "Google operation failed" in rejections[0].reason


def test_google_operation_channels_and_client_library_snake_case():
    calls, _ = read("google_stt.json")
    operation, v2 = calls[1], calls[2]
    assert operation.id == "google-stt-4218871950323469122"
    assert [(t.role, t.speaker) for t in operation.turns] == [
        ("agent", "channel_0"),
        ("customer", "channel_1"),
        ("agent", "channel_0"),
    ]
    assert operation.turns[0].end_s == 3.1 and operation.turns[0].start_s is None  # no word offsets asked for
    assert [t.role for t in v2.turns] == ["agent", "customer", "agent"]
    assert v2.turns[1].start_s == 4.6 and v2.source_id is None and v2.id.startswith("call-")


# ---------------------------------------------------------------- Watson


def test_watson_words_follow_speaker_labels_and_jobs_keep_their_id():
    calls, rejections = read("watson_stt.json")
    sync, job, unlabelled = calls
    assert lines(sync)[3] == ("customer", "speaker_1", "that's not fair nobody told me")
    assert sync.turns[0].start_s == 0.41
    assert job.id == "watson-stt-4bd734c0-e575-21f3-de03-f932aa0468a0"
    assert [t.role for t in job.turns] == ["agent", "customer"]
    assert unlabelled.metadata["speakers_unlabelled"] is True
    assert "no 'results' list" in rejections[0].reason


# ---------------------------------------------------------------- Speechmatics


def test_speechmatics_punctuation_attaches_and_unattributed_words_join_their_neighbour():
    calls, rejections = read("speechmatics.json")
    call = calls[0]
    assert call.id == "speechmatics-yjbmf9kqub"
    assert lines(call)[0] == ("agent", "S1", "Hello, Lumen Airlines, Grace speaking. hmm")
    assert lines(call)[1] == ("customer", "S2", "Hi, my flight was cancelled and the app won't let me rebook.")
    assert call.metadata["audio_duration_s"] == 16.0
    assert "no 'results' list" in rejections[0].reason


def test_speechmatics_channel_diarization_labels_and_default_channels():
    calls, _ = read("speechmatics.json")
    labelled, default = calls[1], calls[2]
    assert [(t.role, t.speaker) for t in labelled.turns] == [
        ("agent", "Agent"),
        ("customer", "Caller"),
        ("agent", "Agent"),
    ]
    assert [(t.role, t.speaker) for t in default.turns] == [("agent", "Channel 1"), ("customer", "Channel 2")]
    assert default.turns[1].text == "I was charged for a room I cancelled within the free period."


# ---------------------------------------------------------------- Rev.ai


def test_revai_monologues_keep_spacing_and_named_speakers():
    calls, rejections = read("revai.json")
    first, named = calls
    assert lines(first)[0] == ("agent", "speaker_0", "Hi, thanks for calling Summit Fitness member services.")
    assert (first.turns[1].start_s, first.turns[1].end_s) == (4.8, 10.96)
    assert [(t.role, t.speaker) for t in named.turns] == [("agent", "Agent"), ("customer", "Customer")]
    assert "no 'monologues' list" in rejections[0].reason


# ---------------------------------------------------------------- Azure


def test_azure_batch_ticks_speakers_and_skipped_no_match():
    calls, rejections = read("azure_stt.json")
    diarized, stereo, fast = calls
    assert [t.role for t in diarized.turns] == ["agent", "customer", "agent"]
    assert (diarized.turns[1].start_s, diarized.turns[1].end_s) == (4.4, 9.9)
    assert "source" not in diarized.metadata  # the audio URL may hold an access token
    assert [(t.role, t.speaker) for t in stereo.turns] == [
        ("agent", "channel_0"),
        ("customer", "channel_1"),
        ("agent", "channel_0"),
    ]
    assert fast.language == "en" and fast.turns[0].start_s == 0.96
    assert "not a time: 'soon'" in rejections[0].reason


# ---------------------------------------------------------------- Whisper


def test_whisper_json_is_one_unlabelled_voice_and_whisper_cpp_turns_alternate():
    calls, rejections = read("whisper.json")
    verbose, cpp, words_only, _ = calls
    assert verbose.metadata["speakers_unlabelled"] is True and verbose.language == "en"
    assert verbose.turns[0].text.endswith("I took the day off work for the appointment and nobody called.")
    assert cpp.source == "whisper-cpp" and [t.role for t in cpp.turns] == ["agent", "customer", "agent"]
    assert cpp.turns[1].start_s == 3.6 and cpp.turns[1].end_s == 8.9
    assert words_only.turns[0].text == "Please call me back about my refund." and words_only.turns[0].end_s == 3.86
    assert "no 'segments' or 'text'" in rejections[0].reason


def test_insanely_fast_whisper_speakers_and_chunks():
    calls, _ = read("whisper.json")
    diarized = calls[3]
    assert [(t.role, t.speaker) for t in diarized.turns] == [
        ("agent", "SPEAKER_00"),
        ("customer", "SPEAKER_01"),
        ("agent", "SPEAKER_00"),
    ]
    assert diarized.turns[1].text == "Hi, I was billed twice for my dog's vaccination."
    assert (diarized.turns[1].start_s, diarized.turns[1].end_s) == (3.5, 8.2)


def test_bare_whisper_segments_are_whisper_json():
    head = b'{"language": "en", "segments": [{"start": 0.0, "end": 2.5, "text": " My refund is late."}]}'
    found = detect_format("transcript.json", head)
    assert found is not None and found.name == "whisper-json"
    [call] = list(found.reader(io.BytesIO(head), ReadContext("transcript.json", Settings())))
    assert isinstance(call, Conversation) and call.turns[0].text == "My refund is late."


# ---------------------------------------------------------------- ElevenLabs


def test_elevenlabs_words_by_speaker_id_spacing_and_audio_events():
    calls, rejections = read("elevenlabs.json")
    diarized, multichannel = calls
    assert diarized.id == "elevenlabs-uL3dxPQ4cHVhGvX2nBq7" and diarized.language == "en"
    assert lines(diarized)[1] == (
        "customer",
        "speaker_1",
        "Hi, my smart meter stopped sending readings and my bill is estimated.",
    )
    assert "(sighs)" not in " ".join(t.text for t in diarized.turns)
    assert [(t.role, t.speaker, t.text) for t in multichannel.turns] == [
        ("agent", "channel_0", "Welcome to Tidewater Bank."),
        ("customer", "channel_1", "Someone used my card abroad, I need it blocked now."),
    ]
    assert "not an ElevenLabs transcription" in rejections[0].reason


# ---------------------------------------------------------------- Contact Lens


def test_contact_lens_participants_give_roles_and_the_contact_id_names_the_call():
    calls, rejections = read("contact_lens.json")
    [call] = calls
    assert call.id == "contact-lens-9a1f2c3d-4b5e-6f70-8192-a3b4c5d6e7f8" and call.language == "en"
    assert [(t.role, t.speaker) for t in call.turns] == [
        ("agent", "AGENT"),
        ("customer", "CUSTOMER"),
        ("agent", "AGENT"),
        ("customer", "CUSTOMER"),
    ]
    assert (call.turns[1].start_s, call.turns[1].end_s) == (4.3, 11.2)
    assert call.metadata["categories"] == ["LostBaggage"]
    assert call.metadata["overall_sentiment"] == {"AGENT": 2.5, "CUSTOMER": 0.4}
    assert rejections[0].reason == "Contact Lens analysis is 'FAILED', not 'COMPLETED'"


# ---------------------------------------------------------------- STM, CTM, segments, Otter


def test_stm_one_call_per_recording_with_speakers_or_channels():
    calls, rejections = read("calls.stm")
    broadband, billing = calls
    assert broadband.id == "stm-call_0417" and broadband.source_id == "call_0417"
    assert [t.role for t in broadband.turns] == ["agent", "customer", "agent", "customer", "agent"]
    assert broadband.turns[1].speaker == "cust_0417" and broadband.turns[-1].end_s == 20.2  # ignored segment skipped
    assert [(t.role, t.speaker) for t in billing.turns] == [
        ("agent", "channel_0"),
        ("customer", "channel_1"),
        ("agent", "channel_0"),
    ]
    assert rejections[0].location.position == "line 13" and "not an STM line" in rejections[0].reason


def test_ctm_words_by_speaker_field_or_channel():
    calls, rejections = read("calls.ctm")
    water, pets = calls
    assert lines(water)[1] == ("customer", "caller", "my water bill is three times higher than usual")
    assert "[noise]" not in water.turns[-1].text
    assert [(t.role, t.speaker) for t in pets.turns] == [
        ("agent", "channel_0"),  # channel A
        ("customer", "channel_1"),
        ("agent", "channel_0"),
    ]
    assert "not a CTM line" in rejections[0].reason


def test_speaker_segment_lines_of_both_layouts():
    calls, rejections = read("segments.txt")
    [call] = calls
    assert [t.role for t in call.turns] == ["agent", "customer", "agent", "customer", "agent"]
    assert (call.turns[-1].start_s, call.turns[-1].end_s, call.turns[-1].text) == (
        16.5,
        19.2,
        "You're welcome, have a nice day.",
    )
    assert rejections[0].location.position == "line 6"


def test_otter_text_headers_multiline_turns_title_and_no_footer():
    calls, rejections = read("otter.txt")
    [call] = calls
    assert not rejections and call.source == "otter"
    assert call.metadata["title"] == "Call with Ridgeview Motors service desk"
    assert [(t.role, t.speaker) for t in call.turns][:2] == [("agent", "Chris Bell"), ("customer", "Speaker 2")]
    assert call.turns[1].text.endswith("nobody has called me.\nIt's now Thursday.")
    assert (call.turns[1].start_s, call.turns[1].end_s) == (5.0, 14.0)
    assert "otter.ai" not in call.turns[-1].text


# ---------------------------------------------------------------- notations


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.300s", 1.3),
        ({"seconds": "5", "nanos": 400000000}, 5.4),
        ("PT1M2.5S", 62.5),
        ("00:01:02,500", 62.5),
        ("1:02", 62.0),
        (7, 7.0),
        ("", None),
        (None, None),
    ],
)
def test_time_notations(value, expected):
    assert seconds(value) == pytest.approx(expected) if expected is not None else seconds(value) is None


@pytest.mark.parametrize("value", ["soon", True, "PT", [1]])
def test_bad_times_are_errors(value):
    with pytest.raises(ValueError):
        seconds(value)


def test_language_tags_become_iso_codes():
    assert [language_code(v) for v in ("en-US", "en_us", "english", "Klingon", None)] == ["en", "en", "en", None, None]
