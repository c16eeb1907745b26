"""What an ingestion worker hands back is handed as documents, not models (``SerializedConversation``
pickles as its JSON, ``PreparedThread`` as the fields its second conversation does not share): what
arrives must be the same conversations, or the run would store something else than one process does."""

from __future__ import annotations

import pickle
from pathlib import Path

from vocmine.demo.generate import write_corpus
from vocmine.ingest.inputs.sources import expand_inputs
from vocmine.ingest.mail_threads import MessageSpool, SpooledMessage, iter_thread_conversations, plan_threads
from vocmine.ingest.prepare import Preparer
from vocmine.ingest.records import ThreadMessage
from vocmine.schema import Conversation, SerializedConversation
from vocmine.services.ingest_inputs import HowToRead, read_input
from vocmine.services.ingest_workers import ThreadTask, prepare_threads_with
from vocmine.settings import Settings

SETTINGS = Settings(company_domains=["northwind-telecom.com"], brand_accounts=["NorthwindHelp"])


def _read(folder: Path) -> tuple[list[Conversation], MessageSpool]:
    preparer, spool, whole = Preparer(SETTINGS), MessageSpool(), []
    files, _ = expand_inputs([str(folder)])
    for source in files:
        for event in read_input(source, HowToRead(SETTINGS)):
            if isinstance(event, tuple) and isinstance(event[0], Conversation):
                whole.append(preparer.conversation(event[0]))
            elif isinstance(event, tuple) and isinstance(event[0], ThreadMessage):
                spool.add(SpooledMessage.of(event[0]))
    return whole, spool


def test_conversations_and_threads_arrive_as_they_left(tmp_path: Path) -> None:
    write_corpus(tmp_path / "corpus", conversations=150)  # every channel and format: surveys, metadata, times
    whole, spool = _read(tmp_path / "corpus")
    assert len(whole) > 50 and len(spool) > 50
    for conversation in whole:
        serialized = SerializedConversation.of(conversation)
        arrived = pickle.loads(pickle.dumps(serialized))
        assert arrived == serialized and arrived.conversation == conversation

    threads, _ = plan_threads(spool.headers)
    serialised = spool.load_serialised(list(range(len(spool))))
    task = ThreadTask(
        [(t.conversation_id, [serialised[seq] for seq in t.seqs]) for t in threads], frozenset(spool.brands)
    )
    here = prepare_threads_with(Preparer(SETTINGS), task)
    arrived = pickle.loads(pickle.dumps(here))
    assert arrived.pii_turns == here.pii_turns
    # What one process merges into a stored thread: the thread built from its prepared turns.
    preparer = Preparer(SETTINGS)
    preparer.keep_handles(spool.brands)

    def prepare(message: ThreadMessage) -> ThreadMessage:
        message.turn = preparer.turn(message.turn)
        return message

    [one_process] = iter_thread_conversations(spool, threads, len(threads), prepare)
    for sent, got, expected in zip(here.threads, arrived.threads, one_process, strict=True):
        assert got.alone == sent.alone and got.pii_alone == sent.pii_alone
        assert got.conversation == expected  # rebuilt from ``alone`` and the fields it does not share
        assert got.conversation != got.alone.conversation  # (which are not nothing: ids, metadata, language)
    spool.close()
