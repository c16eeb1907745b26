"""Deterministic generator of the demo corpus: Northwind Telecom's customer conversations over
twelve weeks, in the formats vocmine reads (eml, mbox, e-mail JSON; chat JSONL, Intercom JSON,
text transcripts; tweets as API v2 and v1.1 JSON and CSV; calls as vocmine JSON, AWS Transcribe,
WhisperX, WebVTT and SRT).

What is planted, so that later stages have something true to find: thirteen themes worded many
ways (``phrases``); the eSIM-activation theme rising sharply in the last three weeks; mixed sentiment
with very negative encounters; all six journey stages; agents in teams; survey scores (NPS 0–10,
CSAT 1–5) on about a third of conversations; personal data to redact; and a handful of malformed
records that ingestion must reject with a reason.

Same seed, same files, byte for byte.
"""

from __future__ import annotations

import csv
import io
import json
import mailbox
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr, parsedate_to_datetime
from pathlib import Path

from vocmine.demo.phrases import (
    AGENT_CLOSERS,
    AGENT_OPENERS,
    FIRST_NAMES,
    LAST_NAMES,
    NEGATIVE_FOLLOWUPS,
    NEUTRAL_FOLLOWUPS,
    POSITIVE_FOLLOWUPS,
    STREETS,
    THEMES,
    VERY_NEGATIVE,
    Theme,
)

START = datetime(2026, 8, 31, tzinfo=UTC)  # a Monday; the corpus covers twelve weeks from here
WEEKS = 12
DEMO_COMPANY_DOMAINS = ["northwind-telecom.com"]
DEMO_BRAND_ACCOUNTS = ["NorthwindHelp"]
BRAND = "Northwind"

TEAMS = {
    "billing": ("a.jones", "r.singh", "m.lopez"),
    "technical": ("d.okafor", "s.muller", "k.tanaka", "l.brennan"),
    "retention": ("h.ali", "p.rossi"),
    "sales": ("j.white", "n.kim", "e.dubois"),
    "social": ("t.evans", "y.cohen"),
}
THEME_TEAM = {
    "billing_double_charge": "billing",
    "refund_delay": "billing",
    "roaming_charges": "billing",
    "outage": "technical",
    "slow_speed": "technical",
    "app_login": "technical",
    "engineer_missed": "technical",
    "esim_activation": "technical",
    "cancellation": "retention",
    "plan_prices": "sales",
    "new_plan_awareness": "sales",
    "signup_payment_failure": "sales",
    "delivery_delay": "sales",
    "praise": "billing",
}
THEME_WEIGHTS = {
    "billing_double_charge": 10,
    "refund_delay": 8,
    "delivery_delay": 8,
    "outage": 9,
    "slow_speed": 9,
    "cancellation": 7,
    "app_login": 7,
    "roaming_charges": 5,
    "plan_prices": 9,
    "new_plan_awareness": 5,
    "signup_payment_failure": 6,
    "engineer_missed": 6,
    "praise": 8,
    "esim_activation": 1.2,
}
RISING_THEME = "esim_activation"
RISING_FROM_WEEK = 9  # weeks 9, 10, 11 (0-based): the last three
RISING_FACTOR = 14


@dataclass
class Line:
    role: str  # customer | agent
    text: str


@dataclass
class Plan:
    """One conversation before it is written in a format."""

    number: int
    theme: Theme
    channel: str
    started: datetime
    tone: int
    very_negative: bool
    customer_first: str
    customer_last: str
    customer_email: str
    customer_handle: str
    customer_id: str
    agent: str
    team: str
    lines: list[Line] = field(default_factory=list)
    nps: int | None = None
    csat: int | None = None


# ---------------------------------------------------------------- personal data (fake, but valid-looking)


def _luhn_card(rng: random.Random) -> str:
    digits = [4] + [rng.randrange(10) for _ in range(14)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        total += d if i % 2 else (d * 2 - 9 if d * 2 > 9 else d * 2)
    digits.append((10 - total % 10) % 10)
    s = "".join(map(str, digits))
    return f"{s[:4]} {s[4:8]} {s[8:12]} {s[12:]}"


def _pii_sentence(rng: random.Random, plan: Plan) -> str:
    kind = rng.choice(["phone", "email", "card", "address", "iban"])
    if kind == "phone":
        return rng.choice(
            [
                f"You can call me on 07700 900{rng.randrange(100, 999)}.",
                f"My number is +44 7700 900{rng.randrange(100, 999)}.",
                f"Call me back at (415) 555-0{rng.randrange(100, 199)}.",
            ]
        )
    if kind == "email":
        return f"Please reply to {plan.customer_email} rather than this address."
    if kind == "card":
        return f"The card you charged is {_luhn_card(rng)}."
    if kind == "address":
        return f"I live at {rng.randrange(2, 180)} {rng.choice(STREETS)}, Bristol."
    return "Refund it to my account GB82 WEST 1234 5698 7654 32."


# ---------------------------------------------------------------- planning


def _fill(template: str, rng: random.Random, plan: Plan) -> str:
    return template.format(
        amount=f"£{rng.randrange(12, 160)}.{rng.randrange(0, 99):02d}",
        month=rng.choice(["September", "October", "November"]),
        day=rng.randrange(1, 28),
        account=f"NW{rng.randrange(100000, 999999)}",
        ref=f"{rng.choice('ABCDEFGH')}{rng.randrange(10000, 99999)}",
        street=rng.choice(STREETS),
        years=rng.randrange(2, 15),
        agent=plan.agent.split(".")[1].title(),
    )


# (language, (first and last customer message), agent reply): real-sounding complaints in languages
# the shipped models do not read.
OTHER_LANGUAGE_CHATS = [
    (
        "fr",
        (
            "Bonjour, cela fait trois semaines que ma carte SIM eSIM ne s'active pas et personne ne répond.",
            "C'est inadmissible, je vais résilier mon abonnement si ce n'est pas réglé demain.",
        ),
        "Je suis désolé, je transmets votre dossier au service technique.",
    ),
    (
        "fr",
        (
            "J'ai été prélevé deux fois ce mois-ci, je veux un remboursement immédiat.",
            "Merci, j'attends la confirmation par e-mail.",
        ),
        "Je vérifie votre facture et je lance le remboursement.",
    ),
    (
        "es",
        (
            "Hola, mi conexión a internet se corta cada hora desde el lunes y ya llamé cuatro veces.",
            "Es la peor atención que he recibido, quiero hablar con un supervisor.",
        ),
        "Lo siento mucho, le paso con mi responsable ahora mismo.",
    ),
    (
        "es",
        (
            "Buenas tardes, quiero cambiar mi tarifa a una con más datos para el verano.",
            "Perfecto, muchas gracias por la ayuda, muy amables.",
        ),
        "Claro, le he cambiado a la tarifa con cincuenta gigas desde hoy.",
    ),
    (
        "de",
        (
            "Guten Tag, meine Rechnung ist viel zu hoch und niemand erklärt mir warum.",
            "Das ist eine Frechheit, ich werde mich bei der Verbraucherzentrale beschweren.",
        ),
        "Das tut mir leid, ich prüfe die Rechnung sofort.",
    ),
    (
        "de",
        (
            "Hallo, wann kommt das neue Handy, das ich letzte Woche bestellt habe?",
            "Super, vielen Dank für die schnelle Antwort!",
        ),
        "Die Lieferung ist für Donnerstag geplant, Sie bekommen eine Sendungsnummer.",
    ),
]


def _customer_message(rng: random.Random, plan: Plan, short: bool) -> str:
    t = plan.theme
    parts = [_fill(rng.choice(t.cores), rng, plan)]
    if not short:
        if rng.random() < 0.6:
            parts.insert(0, rng.choice(t.openings))
        parts += [_fill(d, rng, plan) for d in rng.sample(t.details, k=min(len(t.details), rng.randint(1, 2)))]
        if plan.very_negative:
            parts += rng.sample(VERY_NEGATIVE, k=rng.randint(1, 2))
        if rng.random() < 0.15:
            parts.append(_pii_sentence(rng, plan))
        if t.closings and rng.random() < 0.7:
            parts.append(rng.choice(t.closings))
    elif plan.very_negative:
        parts.append(rng.choice(VERY_NEGATIVE))
    return " ".join(parts)


def _plan(rng: random.Random, number: int) -> Plan:
    day = rng.randrange(WEEKS * 7)
    week = day // 7
    weights = {
        k: w * (RISING_FACTOR if k == RISING_THEME and week >= RISING_FROM_WEEK else 1)
        for k, w in THEME_WEIGHTS.items()
    }
    theme = rng.choices(THEMES, weights=[weights[t.key] for t in THEMES])[0]
    channel = rng.choices(["email", "chat", "social", "call"], weights=[28, 30, 20, 22])[0]
    started = START + timedelta(
        days=day, hours=rng.randrange(7, 22), minutes=rng.randrange(60), seconds=rng.randrange(60)
    )
    tone = max(-2, min(2, theme.tone + rng.choice([-1, 0, 0, 0, 1])))
    very_negative = tone <= -2 and rng.random() < 0.45
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    team = "social" if channel == "social" else THEME_TEAM[theme.key]
    plan = Plan(
        number=number,
        theme=theme,
        channel=channel,
        started=started,
        tone=tone,
        very_negative=very_negative,
        customer_first=first,
        customer_last=last,
        customer_email=f"{first.lower()}.{last.lower().replace(chr(39), '')}{rng.randrange(10, 99)}@example.com".encode(
            "ascii", "ignore"
        ).decode(),
        customer_handle=f"{first.lower()}_{rng.randrange(100, 9999)}".encode("ascii", "ignore").decode(),
        customer_id=f"C{rng.randrange(10000, 99999)}",
        agent=rng.choice(TEAMS[team]),
        team=team,
    )
    short = channel == "social"
    plan.lines.append(Line("customer", _customer_message(rng, plan, short)))
    reply = _fill(rng.choice(theme.agent_replies), rng, plan)
    plan.lines.append(Line("agent", reply))
    # How the conversation ends sets its trajectory: better, worse or unchanged.
    if rng.random() < 0.7:
        outcome = rng.random() + 0.25 * tone
        followups = POSITIVE_FOLLOWUPS if outcome > 0.55 else NEGATIVE_FOLLOWUPS if outcome < 0.2 else NEUTRAL_FOLLOWUPS
        plan.lines.append(Line("customer", rng.choice(followups)))
        if rng.random() < 0.5:
            plan.lines.append(
                Line(
                    "agent",
                    rng.choice(
                        ["You're welcome, have a good day.", "Happy to help.", "I'll keep an eye on this for you."]
                    ),
                )
            )
    if channel != "social" and rng.random() < 0.42:  # social posts come without surveys
        low, high = {-2: (0, 3), -1: (1, 6), 0: (5, 8), 1: (7, 9), 2: (9, 10)}[tone]
        plan.nps = rng.randint(low, high)
        plan.csat = max(1, min(5, round(1 + plan.nps * 0.4 + rng.uniform(-0.6, 0.6))))
    return plan


# ---------------------------------------------------------------- writers


class CorpusWriter:
    def __init__(self, root: Path, rng: random.Random) -> None:
        self.root = root
        self.rng = rng
        self.counts: Counter[str] = Counter()
        self.buckets: dict[str, list] = {}

    def path(self, *parts: str) -> Path:
        path = self.root.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def bucket(self, name: str) -> list:
        return self.buckets.setdefault(name, [])

    # -------------------------------------------------- e-mail

    def email(self, plan: Plan) -> None:
        # Surveys travel in the formats that carry them; the others are e-mail as it usually comes.
        kind = "json" if plan.nps is not None else self.rng.choices(["eml", "mbox", "json"], weights=[38, 55, 7])[0]
        messages = self._email_messages(plan)
        week = (plan.started - START).days // 7
        if kind == "eml":
            for k, message in enumerate(messages):
                self.path("email", "eml", f"{plan.number:05d}-{k}.eml").write_bytes(bytes(message))
        elif kind == "mbox":
            self.bucket(f"mbox/week-{week:02d}").extend(messages)
        else:
            for message in messages:
                self.bucket(f"email-json/week-{week:02d}").append(_email_json(message, plan))
        self.counts[f"email ({kind})"] += 1

    def _email_messages(self, plan: Plan) -> list[EmailMessage]:
        rng = self.rng
        customer = f"{plan.customer_first} {plan.customer_last} <{plan.customer_email}>"
        agent_name = plan.agent.split(".")[1].title()
        agent = f"{agent_name} (Northwind) <{plan.agent}@northwind-telecom.com>"
        subject = " ".join(plan.lines[0].text.split()[:6]).rstrip(",.:!?")
        messages: list[EmailMessage] = []
        when = plan.started
        previous_body = ""
        for k, line in enumerate(plan.lines):
            message = EmailMessage()
            sender, recipient = (customer, agent) if line.role == "customer" else (agent, customer)
            message["From"] = sender
            message["To"] = recipient
            message["Subject"] = subject if k == 0 else f"Re: {subject}"
            message["Date"] = format_datetime(when)
            host = "example.com" if line.role == "customer" else "northwind-telecom.com"
            message["Message-ID"] = f"<{plan.number}.{k}.{rng.randrange(10**6)}@{host}>"
            if messages:
                parent = messages[-1]["Message-ID"]
                message["In-Reply-To"] = parent
                refs = [m["Message-ID"] for m in messages]
                message["References"] = " ".join(refs)
            body = line.text
            if line.role == "agent":
                body = (
                    f"{rng.choice(AGENT_OPENERS).format(name=plan.customer_first)}\n\n{body}\n\n"
                    f"{rng.choice(AGENT_CLOSERS)}\n{agent_name}\nNorthwind Customer Care"
                )
            else:
                signature = rng.choice(
                    [
                        f"\n\n-- \n{plan.customer_first} {plan.customer_last}\n07700 900{rng.randrange(100, 999)}",
                        "\n\nSent from my iPhone",
                        f"\n\nThanks,\n{plan.customer_first}",
                        "",
                    ]
                )
                body += signature
            if previous_body:
                body += "\n\n" + _quote(previous_body, messages[-1], rng)
            previous_body = body
            html_only = line.role == "customer" and rng.random() < 0.15
            latin1 = not html_only and rng.random() < 0.12 and _encodable(body, "iso-8859-1")
            if html_only:
                paragraphs = "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in body.split("\n\n"))
                message.set_content(f"<html><body>{paragraphs}</body></html>", subtype="html")
            elif latin1:
                message.set_content(body, charset="iso-8859-1", cte="quoted-printable")
            else:
                message.set_content(body)
            messages.append(message)
            when += timedelta(hours=rng.randrange(1, 30), minutes=rng.randrange(60))
        return messages

    # -------------------------------------------------- chat

    def chat(self, plan: Plan) -> None:
        kind = self.rng.choices(
            ["jsonl", "text", "intercom"], weights=[55, 20, 25] if plan.nps is None else [70, 0, 30]
        )[0]
        week = (plan.started - START).days // 7
        times = _times(plan, self.rng, step=(20, 180))
        if kind == "jsonl":
            record = {
                "id": f"chat-{plan.number:05d}",
                "channel": "chat",
                "customer_id": plan.customer_id,
                "agent_id": plan.agent,
                "team_id": plan.team,
                "brand": BRAND,
                "product": plan.theme.product,
                "turns": [
                    {
                        "role": line.role,
                        "speaker": plan.agent if line.role == "agent" else None,
                        "text": line.text,
                        "timestamp": t.isoformat(),
                    }
                    for line, t in zip(plan.lines, times, strict=True)
                ],
            }
            if plan.nps is not None:
                record["survey"] = {"nps": plan.nps, "csat": plan.csat}
            self.bucket(f"chat-jsonl/week-{week:02d}").append(record)
        elif kind == "text":
            header = [
                f"Chat ID: {plan.number:05d}",
                f"Date: {plan.started:%Y-%m-%d}",
                f"Team: {plan.team}",
                f"Brand: {BRAND}",
                f"Product: {plan.theme.product}",
                "",
            ]
            body = []
            for line, t in zip(plan.lines, times, strict=True):
                label = "Customer" if line.role == "customer" else f"Agent {plan.agent.split('.')[1].title()}"
                text = line.text
                if line.role == "customer" and len(text) > 120 and self.rng.random() < 0.5:
                    cut = text.find(". ", 60)
                    text = text[: cut + 1] + "\n" + text[cut + 2 :] if cut > 0 else text  # a multi-line turn
                body.append(f"[{t:%H:%M:%S}] {label}: {text}")
            self.bucket(f"chat-text/week-{week:02d}").append("\n".join(header + body))
        else:
            parts = [
                {
                    "part_type": "comment",
                    "body": f"<p>{line.text}</p>",
                    "created_at": int(t.timestamp()),
                    "author": {
                        "type": "admin" if line.role == "agent" else "user",
                        "id": plan.agent if line.role == "agent" else plan.customer_id,
                        "name": plan.agent.split(".")[1].title() if line.role == "agent" else None,
                    },
                }
                for line, t in zip(plan.lines[1:], times[1:], strict=True)
            ]
            record = {
                "type": "conversation",
                "id": f"ic{plan.number:05d}",
                "created_at": int(times[0].timestamp()),
                "source": {"body": f"<p>{plan.lines[0].text}</p>", "author": {"type": "user", "id": plan.customer_id}},
                "conversation_parts": {"conversation_parts": parts},
                "admin_assignee_id": plan.agent,
                "team_assignee_id": plan.team,
            }
            if plan.csat is not None:
                record["conversation_rating"] = {"rating": plan.csat}
            self.bucket(f"intercom/week-{week:02d}").append(record)
        self.counts[f"chat ({kind})"] += 1

    # -------------------------------------------------- social

    def social(self, plan: Plan) -> None:
        kind = self.rng.choices(["v2", "v1", "csv"], weights=[40, 30, 30])[0]
        week = (plan.started - START).days // 7
        times = _times(plan, self.rng, step=(300, 5400))
        base = 10**17 + plan.number * 100
        posts = []
        for k, (line, t) in enumerate(zip(plan.lines, times, strict=True)):
            is_brand = line.role == "agent"
            author = DEMO_BRAND_ACCOUNTS[0] if is_brand else plan.customer_handle
            prefix = f"@{plan.customer_handle} " if is_brand else f"@{DEMO_BRAND_ACCOUNTS[0]} "
            text = (prefix + line.text)[:280]
            if is_brand:
                text += f" ^{plan.agent.split('.')[0].upper()}{plan.agent.split('.')[1][0].upper()}"
            posts.append(
                {
                    "id": str(base + k),
                    "author": author,
                    "text": text,
                    "created_at": t,
                    "parent": str(base + k - 1) if k else None,
                    "root": str(base),
                }
            )
        for post in posts:
            if kind == "v2":
                self.bucket(f"tweets-v2/week-{week:02d}").append(post)
            elif kind == "v1":
                self.bucket(f"tweets-v1/week-{week:02d}").append(post)
            else:
                self.bucket(f"tweets-csv/week-{week:02d}").append(post)
        self.counts[f"social ({kind})"] += 1

    # -------------------------------------------------- calls

    def call(self, plan: Plan) -> None:
        kind = (
            "native"
            if plan.nps is not None
            else self.rng.choices(["native", "aws", "whisperx", "vtt", "srt"], weights=[25, 20, 20, 20, 15])[0]
        )
        agent_first = plan.agent.split(".")[1].title()
        lines = [
            Line("agent", f"Thank you for calling Northwind, my name is {agent_first}, how can I help you today?"),
            *plan.lines,
        ]
        timeline = []
        clock = 0.0
        for line in lines:
            duration = max(1.5, len(line.text.split()) / 2.6)
            # Occasional overtalk (the customer cuts in) and long holds.
            gap = self.rng.choice([-0.8, 0.3, 0.6, 1.0, 2.5]) if timeline else 0.4
            if line.role == "agent" and self.rng.random() < 0.15:
                gap += self.rng.uniform(20, 90)
            start = max(0.0, clock + gap)
            timeline.append((line, round(start, 2), round(start + duration, 2)))
            clock = start + duration
        stem = f"call-{plan.number:05d}"
        if kind == "native":
            record = {
                "id": stem,
                "channel": "call",
                "started_at": plan.started.isoformat(),
                "customer_id": plan.customer_id,
                "agent_id": plan.agent,
                "team_id": plan.team,
                "brand": BRAND,
                "product": plan.theme.product,
                "turns": [{"role": line.role, "text": line.text, "start_s": s, "end_s": e} for line, s, e in timeline],
            }
            if plan.nps is not None:
                record["survey"] = {"nps": plan.nps, "csat": plan.csat}
            self.path("calls", "native", f"{stem}.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
        elif kind == "aws":
            labels = {"agent": "spk_0", "customer": "spk_1"}
            record = {
                "jobName": stem,
                "accountId": "000000000000",
                "status": "COMPLETED",
                "results": {
                    "transcripts": [{"transcript": " ".join(line.text for line, _, _ in timeline)}],
                    "speaker_labels": {
                        "speakers": 2,
                        "segments": [
                            {
                                "speaker_label": labels[line.role],
                                "start_time": f"{s:.2f}",
                                "end_time": f"{e:.2f}",
                                "items": [],
                            }
                            for line, s, e in timeline
                        ],
                    },
                    "audio_segments": [
                        {
                            "id": i,
                            "transcript": line.text,
                            "start_time": f"{s:.2f}",
                            "end_time": f"{e:.2f}",
                            "speaker_label": labels[line.role],
                            "items": [],
                        }
                        for i, (line, s, e) in enumerate(timeline)
                    ],
                },
            }
            self.path("calls", "aws", f"{stem}.json").write_text(json.dumps(record), encoding="utf-8")
        elif kind == "whisperx":
            labels = {"agent": "SPEAKER_00", "customer": "SPEAKER_01"}
            record = {
                "segments": [
                    {"start": s, "end": e, "text": " " + line.text, "speaker": labels[line.role]}
                    for line, s, e in timeline
                ],
                "language": "en",
            }
            self.path("calls", "whisperx", f"{stem}.json").write_text(json.dumps(record), encoding="utf-8")
        elif kind == "vtt":
            voice = self.rng.random() < 0.5
            cues = ["WEBVTT", ""]
            for line, s, e in timeline:
                who = "Agent" if line.role == "agent" else "Customer"
                text = f"<v {who}>{line.text}" if voice else f"{who}: {line.text}"
                cues += [f"{_stamp(s, '.')} --> {_stamp(e, '.')}", text, ""]
            self.path("calls", "vtt", f"{stem}.vtt").write_text("\n".join(cues), encoding="utf-8")
        else:
            blocks = []
            for i, (line, s, e) in enumerate(timeline, start=1):
                who = "AGENT" if line.role == "agent" else "CUSTOMER"
                blocks.append(f"{i}\n{_stamp(s, ',')} --> {_stamp(e, ',')}\n{who}: {line.text}\n")
            self.path("calls", "srt", f"{stem}.srt").write_text("\n".join(blocks), encoding="utf-8")
        self.counts[f"call ({kind})"] += 1

    # -------------------------------------------------- buckets to files

    def flush(self) -> None:
        for name, items in sorted(self.buckets.items()):
            folder, stem = name.split("/")
            if folder == "mbox":
                box = mailbox.mbox(self.path("email", "mbox", f"{stem}.mbox"), create=True)
                for message in items:
                    # An explicit envelope line keeps the file identical from run to run (mailbox would
                    # otherwise stamp the current time).
                    entry = mailbox.mboxMessage(message)
                    sent = parsedate_to_datetime(str(message["Date"]))
                    entry.set_from(parseaddr(str(message["From"]))[1], sent.utctimetuple())
                    box.add(entry)
                box.close()
            elif folder == "email-json":
                _write_jsonl(self.path("email", "json", f"{stem}.jsonl"), items)
            elif folder == "chat-jsonl":
                _write_jsonl(self.path("chat", "jsonl", f"{stem}.jsonl"), items)
            elif folder == "chat-text":
                self.path("chat", "text", f"{stem}.txt").write_text("\n-----\n".join(items) + "\n", encoding="utf-8")
            elif folder == "intercom":
                self.path("chat", "intercom", f"{stem}.json").write_text(json.dumps(items, indent=1), encoding="utf-8")
            elif folder == "tweets-v2":
                users = sorted({p["author"] for p in items})
                page = {
                    "data": [
                        {
                            "id": p["id"],
                            "text": p["text"],
                            "author_id": f"u-{p['author']}",
                            "created_at": p["created_at"].isoformat().replace("+00:00", "Z"),
                            "conversation_id": p["root"],
                            **(
                                {"referenced_tweets": [{"type": "replied_to", "id": p["parent"]}]}
                                if p["parent"]
                                else {}
                            ),
                        }
                        for p in items
                    ],
                    "includes": {"users": [{"id": f"u-{u}", "username": u} for u in users]},
                }
                self.path("social", "v2", f"{stem}.json").write_text(json.dumps(page), encoding="utf-8")
            elif folder == "tweets-v1":
                _write_jsonl(
                    self.path("social", "v1", f"{stem}.jsonl"),
                    [
                        {
                            "id_str": p["id"],
                            "full_text": p["text"],
                            "user": {"screen_name": p["author"]},
                            "created_at": p["created_at"].strftime("%a %b %d %H:%M:%S +0000 %Y"),
                            "in_reply_to_status_id_str": p["parent"],
                        }
                        for p in items
                    ],
                )
            elif folder == "tweets-csv":
                buffer = io.StringIO()
                writer = csv.writer(buffer, lineterminator="\r\n")
                writer.writerow(["id", "author", "text", "created_at", "in_reply_to"])
                for p in items:
                    writer.writerow([p["id"], p["author"], p["text"], p["created_at"].isoformat(), p["parent"] or ""])
                self.path("social", "csv", f"{stem}.csv").write_text(buffer.getvalue(), encoding="utf-8", newline="")

    def other_languages(self, rng: random.Random) -> None:
        """A few chats in French, Spanish and German: the shipped models read English only, so these
        must come out of analysis as unsupported_language, counted, not scored."""
        records = []
        for number, (language, customer, agent) in enumerate(
            [entry for entry in OTHER_LANGUAGE_CHATS for _ in range(3)], start=1
        ):
            started = START + timedelta(days=rng.randrange(80), minutes=rng.randrange(600))
            records.append(
                {
                    "id": f"chat-{language}-{number:03d}",
                    "channel": "chat",
                    "brand": BRAND,
                    "turns": [
                        {"role": "customer", "text": customer[0], "timestamp": started.isoformat()},
                        {"role": "agent", "text": agent, "timestamp": (started + timedelta(minutes=2)).isoformat()},
                        {
                            "role": "customer",
                            "text": customer[1],
                            "timestamp": (started + timedelta(minutes=5)).isoformat(),
                        },
                    ],
                }
            )
        _write_jsonl(self.path("chat", "jsonl", "other-languages.jsonl"), records)
        self.counts["chat (other languages)"] += len(records)

    def malformed(self) -> None:
        """Deliberately broken inputs: each must come out of ingestion as a rejection with a reason."""
        self.path("email", "eml", "zz-binary-junk.eml").write_bytes(bytes(self.rng.randrange(256) for _ in range(600)))
        self.path("chat", "jsonl", "zz-broken.jsonl").write_text(
            '{"id": "chat-broken-1", "turns": [{"role": "customer", "text": "My bill is wrong and'
            '\n{"id": "chat-broken-2", "turns": [{"role": "shopper", "text": "hello"}]}\n'
            '{"id": "chat-broken-3", "turns": []}\n',
            encoding="utf-8",
        )
        self.path("calls", "aws", "zz-truncated.json").write_text(
            '{"jobName": "x", "results": {"audio_segments": [{"tr', encoding="utf-8"
        )
        self.path("calls", "vtt", "zz-bad-timestamps.vtt").write_text(
            "WEBVTT\n\n00:00:01.000 --> soon\nCustomer: hello?\n", encoding="utf-8"
        )
        self.path("calls", "srt", "zz-empty.srt").write_text("", encoding="utf-8")
        self.path("social", "csv", "zz-short-row.csv").write_text(
            "id,author,text,created_at,in_reply_to\n900001,someone,this row is fine,2026-10-01T10:00:00+00:00,\n"
            "900002,someone_else,this row lost a field\n",
            encoding="utf-8",
        )
        self.counts["malformed inputs"] += 6


def _quote(previous: str, previous_message: EmailMessage, rng: random.Random) -> str:
    if rng.random() < 0.6:
        quoted = "\n".join("> " + line if line else ">" for line in previous.split("\n"))
        return f"On {previous_message['Date']}, {previous_message['From']} wrote:\n{quoted}"
    return (
        "-----Original Message-----\n"
        f"From: {previous_message['From']}\nSent: {previous_message['Date']}\n"
        f"To: {previous_message['To']}\nSubject: {previous_message['Subject']}\n\n{previous}"
    )


def _encodable(text: str, charset: str) -> bool:
    try:
        text.encode(charset)
    except UnicodeEncodeError:
        return False
    return True


def _email_json(message: EmailMessage, plan: Plan) -> dict:
    body = message.get_body(preferencelist=("plain", "html"))
    content = body.get_content() if body else ""
    survey = {"survey": {"nps": plan.nps, "csat": plan.csat}} if plan.nps is not None else {}
    return {
        **survey,
        "message_id": message["Message-ID"],
        "in_reply_to": message["In-Reply-To"],
        "references": str(message["References"] or "").split(),
        "from": str(message["From"]),
        "to": [str(message["To"])],
        "subject": str(message["Subject"]),
        "date": str(message["Date"]),
        ("html" if body and body.get_content_subtype() == "html" else "text"): content,
    }


def _times(plan: Plan, rng: random.Random, step: tuple[int, int]) -> list[datetime]:
    times, t = [], plan.started
    for _ in plan.lines:
        times.append(t)
        t += timedelta(seconds=rng.randrange(*step))
    return times


def _stamp(seconds: float, separator: str) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{int(hours):02d}:{int(minutes):02d}:{int(secs):02d}{separator}{round((secs % 1) * 1000) % 1000:03d}"


def _write_jsonl(path: Path, items: list[dict]) -> None:
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")


def write_corpus(out_dir: Path, *, conversations: int = 3200, seed: int = 7) -> dict[str, int]:
    """Write the corpus under ``out_dir`` (replacing an earlier one); returns counts by format."""
    import shutil

    if out_dir.exists():
        shutil.rmtree(out_dir)
    rng = random.Random(seed)
    writer = CorpusWriter(out_dir, rng)
    for number in range(conversations):
        plan = _plan(rng, number)
        getattr(writer, plan.channel)(plan)
    writer.flush()
    writer.other_languages(random.Random(seed + 1))  # its own generator: the English corpus stays as it was
    writer.malformed()
    return dict(writer.counts)
