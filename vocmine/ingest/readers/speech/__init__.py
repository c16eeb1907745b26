"""Calls transcribed by speech-to-text services and pipelines, recognised by their content.

Each format's reader is in ``vocmine.ingest.readers.speech`` (one module a service); this module
declares the formats and their content tests. The shapes, with the documentation they follow:

* ``deepgram-json`` – Deepgram pre-recorded responses, Whisper-on-Deepgram included
  (https://developers.deepgram.com/reference/speech-to-text-api/listen): ``metadata.request_id``,
  ``results.utterances`` / ``results.channels[].alternatives[].words`` (``speaker``) / one channel a
  party; times in seconds.
* ``assemblyai-json`` – AssemblyAI transcripts (https://www.assemblyai.com/docs/api-reference/transcripts/get):
  ``id``, ``status``, ``utterances`` (``speaker`` "A", "B"; ``channel`` "1", "2"), ``words``; times in ms.
* ``google-stt-json`` – Google Cloud Speech-to-Text v1/v2 responses, long-running operations and the
  client libraries' snake_case dicts (https://cloud.google.com/speech-to-text/docs/reference/rest/v1/speech/recognize,
  https://cloud.google.com/speech-to-text/v2/docs/reference/rest/v2/projects.locations.recognizers/recognize):
  words with ``speakerTag``/``speakerLabel``, ``channelTag``; times as "1.300s".
* ``watson-stt-json`` – IBM Watson Speech to Text (https://cloud.ibm.com/apidocs/speech-to-text#recognize):
  ``results[].alternatives[].timestamps`` matched to ``speaker_labels``; asynchronous jobs too.
* ``speechmatics-json`` – Speechmatics batch ``json-v2`` (https://docs.speechmatics.com/speech-to-text/batch/output):
  ``results[]`` of words and punctuation with ``speaker`` "S1" or ``channel``; ``job.id``.
* ``revai-json`` – Rev.ai transcripts (https://docs.rev.ai/api/asynchronous/reference/#operation/GetTranscriptById):
  ``monologues[]`` of ``speaker`` and ``elements``.
* ``azure-stt-json`` – Azure AI Speech batch transcription results and fast transcription responses
  (https://learn.microsoft.com/azure/ai-services/speech-service/batch-transcription-get):
  ``recognizedPhrases[]`` with ``speaker``/``channel``, ``offsetInTicks``, ``nBest[0].display``.
* ``elevenlabs-json`` – ElevenLabs Speech to Text (https://elevenlabs.io/docs/api-reference/speech-to-text/convert):
  ``words`` with ``speaker_id`` and ``spacing`` tokens, or one ``transcripts`` entry a channel.
* ``contact-lens-json`` – Amazon Connect Contact Lens analysis files of calls
  (https://docs.aws.amazon.com/connect/latest/adminguide/contact-lens-example-output-files.html):
  ``Transcript[]`` by ``ParticipantId``, roles from ``Participants``; ``CustomerMetadata.ContactId``.
* ``whisper-json`` – Whisper without speakers: OpenAI ``verbose_json``, the ``whisper`` command's JSON
  (https://platform.openai.com/docs/api-reference/audio/verbose-json-object), Hugging Face pipeline
  ``chunks`` (insanely-fast-whisper's ``speakers`` too) and whisper.cpp's JSON.
* ``stm``, ``ctm`` – NIST segment and word time marks (https://github.com/usnistgov/SCTK/blob/master/doc/infmts.htm),
  as Kaldi/ESPnet/NeMo recipes write them; ``speaker-segments`` – "SPEAKER start end text" lines.
* ``otter-text`` – Otter.ai text exports ("Name  0:05" headers).

Mapping, the same for every service (``common.build_call``): one call a transcript (a batch
response with several audio files: one a file; STM/CTM: one a recording named in the file), turns
from consecutive pieces of one voice with ``start_s``/``end_s``, ``call_metrics`` from those times,
``source`` the service, ``source_id`` its job or request id and the id ``<source>-<id>`` (a hash of
the turns where the file has no id). Speaker labels ("speaker_0", "A", "S1") become roles through
``SpeakerRoles`` (``call_agent_labels``, ``call_customer_labels``, then ``call_first_speaker`` by
order of appearance). Channels of a stereo recording are roles by position: the first channel is
the ``call_first_speaker`` role (the agent by default, as in Amazon Transcribe's "ch_0"), the second
the other one. A transcript with neither is one customer voice, ``speakers_unlabelled``.
Diarized Whisper/WhisperX ``segments`` and Amazon Transcribe stay with the core ``call-json`` format.
"""

from __future__ import annotations

import re

from vocmine.ingest.inputs.sniff import Format, Sniff
from vocmine.ingest.readers.speech import (
    assemblyai,
    azure,
    contactlens,
    deepgram,
    elevenlabs,
    google,
    otter,
    revai,
    speechmatics,
    watson,
    whisper,
)
from vocmine.ingest.readers.speech.common import json_reader
from vocmine.ingest.readers.speech.textlines import (
    CTM_LINE,
    SEGMENT_LINE,
    STM_LINE,
    is_comment,
    read_ctm,
    read_segments,
    read_stm,
)

# Keys of the core Amazon Transcribe shape, which shares "results"/"alternatives" with others here.
_AWS = frozenset({"transcripts", "items", "jobName", "audio_segments"})
_ASSEMBLYAI_OPTIONS = frozenset(
    {
        "acoustic_model",
        "language_model",
        "speech_model",
        "punctuate",
        "format_text",
        "word_boost",
        "webhook_url",
        "auto_highlights",
        "dual_channel",
        "speaker_labels",
        "iab_categories",
        "audio_duration",
    }
)


def _for_calls(sniff: Sniff) -> bool:
    return sniff.channel in (None, "call")


def is_deepgram(sniff: Sniff) -> bool:
    keys = sniff.keys
    return (
        _for_calls(sniff)
        and sniff.has_keys("results", "channels", "alternatives", "transcript")
        and not keys & _AWS
        and bool(keys & {"request_id", "model_info", "punctuated_word", "utterances", "word", "sha256"})
    )


def is_assemblyai(sniff: Sniff) -> bool:
    keys = sniff.keys
    if not _for_calls(sniff) or "text" not in keys or keys & {"request_params", "full_transcript", "monologues"}:
        return False
    if ("audio_url" in keys or "audio_duration" in keys) and len(keys & _ASSEMBLYAI_OPTIONS) >= 2:
        return True
    # Transcripts saved without the request options: utterances of words with "text", not "word".
    return sniff.has_keys("utterances", "words", "speaker", "confidence") and not keys & {
        "word",
        "transcript",
        "results",
        "segments",
    }


def is_google(sniff: Sniff) -> bool:
    keys = sniff.keys
    return (
        _for_calls(sniff)
        and sniff.has_keys("results", "alternatives", "transcript")
        and not keys & _AWS
        and not keys & {"channels", "result_index", "final", "timestamps", "word_confidence", "content"}
    )


def is_watson(sniff: Sniff) -> bool:
    keys = sniff.keys
    return (
        _for_calls(sniff)
        and sniff.has_keys("results", "alternatives", "transcript")
        and "channels" not in keys
        and bool(keys & {"result_index", "timestamps", "word_confidence", "final"})
    )


def is_speechmatics(sniff: Sniff) -> bool:
    keys = sniff.keys
    return (
        _for_calls(sniff)
        and sniff.has_keys("results", "alternatives", "content")
        and not keys & _AWS
        and bool(keys & {"format", "attaches_to", "is_eos", "job"})
    )


def is_revai(sniff: Sniff) -> bool:
    return _for_calls(sniff) and "monologues" in sniff.keys and bool(sniff.keys & {"elements", "terms"})


def is_azure(sniff: Sniff) -> bool:
    keys = sniff.keys
    batch = "recognizedPhrases" in keys and bool(
        keys & {"nBest", "offsetInTicks", "recognitionStatus", "combinedRecognizedPhrases"}
    )
    fast = "phrases" in keys and bool(keys & {"offsetMilliseconds", "durationMilliseconds", "combinedPhrases"})
    return _for_calls(sniff) and (batch or fast)


def is_elevenlabs(sniff: Sniff) -> bool:
    keys = sniff.keys
    single = sniff.has_keys("text", "words", "type") and bool(keys & {"language_probability", "logprob", "speaker_id"})
    multichannel = sniff.has_keys("transcripts", "channel_index", "words") and "results" not in keys
    return _for_calls(sniff) and (single or multichannel) and not keys & {"confidence", "word", "segments"}


def is_contact_lens(sniff: Sniff) -> bool:
    return (
        _for_calls(sniff)
        and sniff.has_keys("Transcript", "ParticipantId", "BeginOffsetMillis")
        and bool(sniff.keys & {"Participants", "CustomerMetadata", "ConversationCharacteristics"})
    )


def is_whisper(sniff: Sniff) -> bool:
    keys = sniff.keys
    if not _for_calls(sniff):
        return False
    if "transcription" in keys and "offsets" in keys and bool(keys & {"systeminfo", "timestamps", "params"}):
        return True  # whisper.cpp
    if sniff.has_keys("chunks", "timestamp", "text"):
        return True  # Hugging Face pipeline / insanely-fast-whisper
    if "segments" in keys and not keys & {"speaker", "turns"}:
        # Whisper's own segment fields, or the bare start/end/text that scripts keep of them.
        return bool(keys & {"avg_logprob", "no_speech_prob", "compression_ratio", "seek"}) or sniff.has_keys(
            "start", "end", "text"
        )
    return sniff.has_keys("task", "language", "duration", "text")


def _text_lines(sniff: Sniff, limit: int = 40) -> list[str]:
    """The first lines of a text input, without comments and the line the head may cut."""
    lines = sniff.once("speech lines", lambda: [line.strip() for line in sniff.lines if not is_comment(line)])
    return lines[:limit]


def _mostly(sniff: Sniff, pattern: re.Pattern[str]) -> bool:
    def test() -> bool:
        lines = _text_lines(sniff)
        needed = max(2, 0.8 * len(lines))
        matched = unmatched = 0
        for line in lines:
            if pattern.match(line):
                matched += 1
            else:
                unmatched += 1
                if len(lines) - unmatched < needed:  # too few lines left to match: most inputs stop early
                    return False
        return matched >= needed

    return _for_calls(sniff) and sniff.once(pattern, test)


def is_ctm(sniff: Sniff) -> bool:
    return _mostly(sniff, CTM_LINE)


def is_stm(sniff: Sniff) -> bool:
    return not is_ctm(sniff) and _mostly(sniff, STM_LINE)


def is_segments(sniff: Sniff) -> bool:
    return not is_ctm(sniff) and not is_stm(sniff) and _mostly(sniff, SEGMENT_LINE)


def is_otter(sniff: Sniff) -> bool:
    if not _for_calls(sniff):
        return False
    lines = _text_lines(sniff, 200)  # stripped, and blank lines are comments
    if not any(otter.HEADER.match(line) for line in lines[:4]):
        return False  # the first header must be among the first four lines: the rest need not be read
    headers = [i for i, line in enumerate(lines) if otter.HEADER.match(line)]
    followed = [i for i in headers if i + 1 < len(lines) and not otter.HEADER.match(lines[i + 1])]
    return len(followed) >= 2 and headers[0] <= 3


FORMATS: list[Format] = [
    Format(
        "deepgram-json",
        "call",
        json_reader(deepgram.convert, "Deepgram response"),
        "Deepgram pre-recorded transcription responses (diarized, multichannel or plain)",
        "the JSON body of POST https://api.deepgram.com/v1/listen (or its callback), saved as .json",
        is_deepgram,
    ),
    Format(
        "assemblyai-json",
        "call",
        json_reader(assemblyai.convert, "AssemblyAI transcript"),
        "AssemblyAI transcripts with utterances/words (speaker labels or multichannel)",
        "GET https://api.assemblyai.com/v2/transcript/{id}, or the SDK's transcript.json_response",
        is_assemblyai,
    ),
    Format(
        "google-stt-json",
        "call",
        json_reader(google.convert, "Google Speech-to-Text response"),
        "Google Cloud Speech-to-Text v1/v2 results (diarization, channels, operations)",
        "the response of speech:recognize / operations.get (longrunningrecognize), a v2 batchRecognize "
        "result file, or the client library's to_dict()",
        is_google,
    ),
    Format(
        "watson-stt-json",
        "call",
        json_reader(watson.convert, "Watson Speech to Text result"),
        "IBM Watson Speech to Text results with timestamps and speaker_labels",
        "POST /v1/recognize with timestamps=true&speaker_labels=true, or GET /v1/recognitions/{id}",
        is_watson,
    ),
    Format(
        "speechmatics-json",
        "call",
        json_reader(speechmatics.convert, "Speechmatics transcript"),
        "Speechmatics batch json-v2 transcripts (speaker or channel diarization)",
        "GET https://asr.api.speechmatics.com/v2/jobs/{id}/transcript?format=json-v2",
        is_speechmatics,
    ),
    Format(
        "revai-json",
        "call",
        json_reader(revai.convert, "Rev.ai transcript"),
        "Rev.ai transcripts (monologues of elements)",
        "GET https://api.rev.ai/speechtotext/v1/jobs/{id}/transcript "
        "(Accept: application/vnd.rev.transcript.v1.0+json)",
        is_revai,
    ),
    Format(
        "azure-stt-json",
        "call",
        json_reader(azure.convert, "Azure Speech transcription"),
        "Azure AI Speech batch transcription results and fast transcription responses",
        "the contentUrl of a 'Transcription' file from GET /speechtotext/transcriptions/{id}/files, "
        "or the response of POST /speechtotext/transcriptions:transcribe",
        is_azure,
    ),
    Format(
        "elevenlabs-json",
        "call",
        json_reader(elevenlabs.convert, "ElevenLabs transcription"),
        "ElevenLabs Speech to Text (Scribe) responses, diarized or multichannel",
        "the JSON response of POST https://api.elevenlabs.io/v1/speech-to-text (or the SDK's convert())",
        is_elevenlabs,
    ),
    Format(
        "contact-lens-json",
        "call",
        json_reader(contactlens.convert, "Contact Lens analysis file"),
        "Amazon Connect Contact Lens analysis files of voice contacts",
        "Analysis/Voice/YYYY/MM/DD/<contact id>_analysis_<time>.json in the Amazon Connect instance's S3 bucket",
        is_contact_lens,
    ),
    Format(
        "whisper-json",
        "call",
        json_reader(whisper.convert, "Whisper transcript"),
        "Whisper JSON without speakers (OpenAI verbose_json, whisper CLI, whisper.cpp)",
        "POST /v1/audio/transcriptions with response_format=verbose_json, `whisper --output_format json`, "
        "or whisper.cpp `--output-json`",
        is_whisper,
    ),
    Format(
        "ctm",
        "call",
        read_ctm,
        "NIST CTM time-marked words (speaker in the 8th field, or channels A/B)",
        "the .ctm a Kaldi/ESPnet/NeMo decoding or alignment writes",
        is_ctm,
    ),
    Format(
        "stm",
        "call",
        read_stm,
        "NIST STM segments (file channel speaker begin end [<label>] text)",
        "the .stm reference or hypothesis a Kaldi/ESPnet/NeMo recipe or sclite setup writes",
        is_stm,
    ),
    Format(
        "speaker-segments",
        "call",
        read_segments,
        "text lines 'SPEAKER start end text' or '[start --> end] SPEAKER: text'",
        "what diarization scripts (pyannote + Whisper and the like) print or save",
        is_segments,
    ),
    Format(
        "otter-text",
        "call",
        otter.read_otter,
        "Otter.ai text exports ('Name  0:05' headers)",
        "Otter.ai: a conversation's ⋮ > Export text > TXT, speaker names and timestamps on",
        is_otter,
    ),
]
