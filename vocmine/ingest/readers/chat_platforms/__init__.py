"""Chat platforms and dialogue corpora: the exports and API responses of the tools CX teams chat
through, and the research corpora used as chat data. Each tool's reader lives in its own module,
whose docstring gives the documented shape (with its URL) and the field mapping:

* ``amazon_connect_chat`` – Amazon Connect chat transcripts (S3, ``GetTranscript``) and Contact Lens
  chat analysis output (``connect-chat-json``);
* ``slack`` – Slack workspace export day files and API message pages (``slack-export``), and the
  export's workspace files, which hold no messages (``slack-metadata``);
* ``whatsapp`` – WhatsApp "Export chat" text files (``whatsapp-text``), and the media files of an
  export zip, which hold no text (``whatsapp-media``);
* ``rasa`` – Rasa conversation trackers (``rasa-tracker``);
* ``dialogue_corpora`` – MultiWOZ, Schema-Guided Dialogue, Taskmaster and the ABCD corpus file
  (``dialogue-corpus-json``);
* ``messaging_apis`` – LivePerson Messaging Interactions API pages (``liveperson-json``) and Twilio
  Conversations message pages (``twilio-conversations-json``);
* ``genesys`` – Genesys Cloud conversation transcripts (calls, chats, messages, e-mails:
  ``genesys-transcript-json``), message histories (``genesys-messages-json``), and conversation
  details, which hold no text (``genesys-conversation-details``).

Every ``detect`` tests content (keys, values or line patterns that only that tool writes), so a file
is recognised under any name; they run before the core formats, so the chat-only Contact Lens file is
taken here before ``call-json`` (which reads voice Contact Lens files) and a WhatsApp export before
``chat-text``.
"""

from __future__ import annotations

from vocmine.ingest.inputs.sniff import Format
from vocmine.ingest.readers.chat_platforms import (
    amazon_connect_chat,
    dialogue_corpora,
    genesys,
    messaging_apis,
    rasa,
    slack,
    whatsapp,
)

FORMATS: list[Format] = [
    Format(
        "connect-chat-json",
        "chat",
        amazon_connect_chat.read_connect_chat,
        "Amazon Connect chat transcripts and Contact Lens chat analysis (JSON)",
        export="Amazon Connect: the instance's S3 bucket (ChatTranscripts/, Analysis/Chat/), or "
        "aws connectparticipant get-transcript",
        detect=amazon_connect_chat.detect,
    ),
    Format(
        "slack-export",
        "chat",
        slack.read_slack,
        "Slack export day files (channel/YYYY-MM-DD.json) and conversations.history pages",
        export="Slack: Workspace settings > Import/Export Data > Export (a zip; give the zip or its folder)",
        detect=slack.detect,
    ),
    Format(
        "slack-metadata",
        "chat",
        slack.read_slack_metadata,
        "Slack export workspace files (users.json, channels.json, …): recognised, no messages",
        export="Slack: part of the workspace export zip",
        detect=slack.detect_metadata,
    ),
    Format(
        "whatsapp-text",
        "chat",
        whatsapp.read_whatsapp,
        "WhatsApp chat exports (.txt, Android and iPhone layouts, any date locale)",
        export="WhatsApp: open the chat > More > Export chat (the .txt, or the zip with it)",
        detect=whatsapp.detect,
    ),
    Format(
        "whatsapp-media",
        "chat",
        whatsapp.read_whatsapp_media,
        "media files of a WhatsApp export zip (IMG-…-WA….jpg): recognised, no text",
        export="WhatsApp: Export chat > Attach media",
        detect=whatsapp.detect_media,
    ),
    Format(
        "rasa-tracker",
        "chat",
        rasa.read_rasa,
        "Rasa conversation trackers (JSON/JSONL)",
        export="Rasa: GET /conversations/{conversation_id}/tracker, or a tracker store dump",
        detect=rasa.detect,
    ),
    Format(
        "dialogue-corpus-json",
        "chat",
        dialogue_corpora.read_dialogue_corpus,
        "MultiWOZ, Schema-Guided Dialogue, Taskmaster and ABCD corpus files",
        export="the corpora's repositories (MultiWOZ data.json, dialogues_*.json, Taskmaster, abcd_v1.1.json)",
        detect=dialogue_corpora.detect,
    ),
    Format(
        "liveperson-json",
        "chat",
        messaging_apis.read_liveperson,
        "LivePerson Messaging Interactions API conversations (JSON)",
        export="LivePerson: POST /messaging_history/api/account/{accountID}/conversations/search",
        detect=messaging_apis.detect_liveperson,
    ),
    Format(
        "twilio-conversations-json",
        "chat",
        messaging_apis.read_twilio,
        "Twilio Conversations messages (JSON)",
        export="Twilio: GET https://conversations.twilio.com/v1/Conversations/{ConversationSid}/Messages",
        detect=messaging_apis.detect_twilio,
    ),
    Format(
        "genesys-transcript-json",
        "call",
        genesys.read_transcripts,
        "Genesys Cloud speech and text analytics transcripts (calls, chats, messages, e-mails; JSON)",
        export="Genesys Cloud: GET /api/v2/speechandtextanalytics/conversations/{conversationId}/communications/"
        "{communicationId}/transcripturl, then download the JSON its url points to",
        detect=genesys.detect_transcript,
        tickets=True,
    ),
    Format(
        "genesys-messages-json",
        "chat",
        genesys.read_messages,
        "Genesys Cloud messaging conversation messages and web messaging history (JSON)",
        export="Genesys Cloud: POST /api/v2/conversations/messages/{conversationId}/messages/bulk, or "
        "GET /api/v2/webmessaging/messages",
        detect=genesys.detect_messages,
        tickets=True,
    ),
    Format(
        "genesys-conversation-details",
        "call",
        genesys.read_conversation_details,
        "Genesys Cloud analytics conversation details: recognised, no text (each conversation rejected)",
        export="Genesys Cloud: POST /api/v2/analytics/conversations/details/query or a details job's results",
        detect=genesys.detect_details,
    ),
]
