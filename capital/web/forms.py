"""The site updates and decisions the scheme page records, one form each: which event a
form makes, its questions, and reading what was typed into that event's payload with the
GOV.UK Design System's error messages. Whoever may record the event may use its form."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from events import EventType

# "change" is a sum of money that may be negative: a budget taken away.
Kind = Literal["date", "text", "textarea", "percent", "money", "change", "radios"]


@dataclass(frozen=True)
class Question:
    name: str
    label: str
    kind: Kind
    hint: str = ""
    required: bool = True
    # What to ask for when it is left out: "Enter {missing}" / "Select {missing}".
    missing: str = ""
    options: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class UpdateForm:
    slug: str
    event_type: EventType
    title: str
    done: str
    questions: tuple[Question, ...] = ()
    when: str = "When did this happen?"


REASON = Question("reason", "Reason", "textarea", missing="a reason")
RAG_CHOICES = (("green", "Green"), ("amber", "Amber"), ("red", "Red"))

FORMS: tuple[UpdateForm, ...] = (
    UpdateForm(
        "started",
        EventType.scheme_started,
        "Started on site",
        "Start on site recorded",
        when="When did work start on site?",
    ),
    UpdateForm(
        "phase-completed",
        EventType.phase_completed,
        "Phase complete",
        "Phase completion recorded",
        (Question("phase", "Which phase is complete?", "text", missing="the phase"),),
    ),
    UpdateForm(
        "snag-raised",
        EventType.snagging_raised,
        "Snag raised",
        "Snag recorded",
        (
            Question(
                "snag_id",
                "Snag reference",
                "text",
                hint="For example, S-014",
                missing="the snag reference",
            ),
            Question("description", "What is the snag?", "textarea", missing="what the snag is"),
        ),
    ),
    UpdateForm(
        "snag-cleared",
        EventType.snagging_cleared,
        "Snag cleared",
        "Snag cleared",
        (
            Question(
                "snag_id", "Which snag is cleared?", "radios", missing="the snag that is cleared"
            ),
        ),
    ),
    UpdateForm(
        "completion-revised",
        EventType.completion_revised,
        "Anticipated completion revised",
        "Anticipated completion revised",
        (
            Question(
                "anticipated_completion",
                "New anticipated completion date",
                "date",
                hint="For example, 27 3 2025",
            ),
            Question(
                "reason",
                "Why has the date changed?",
                "textarea",
                missing="why the date has changed",
            ),
        ),
        when="When was the new date agreed?",
    ),
    UpdateForm(
        "progress",
        EventType.progress_reported,
        "Progress note",
        "Progress recorded",
        (
            Question(
                "note",
                "What has happened on site?",
                "textarea",
                missing="what has happened on site",
            ),
            Question(
                "percent_complete",
                "Percent complete",
                "percent",
                required=False,
                hint="A whole number from 0 to 100",
            ),
        ),
        when="What date is this progress as of?",
    ),
    UpdateForm(
        "practical-completion",
        EventType.scheme_completed,
        "Practical completion",
        "Practical completion recorded",
        when="When was practical completion?",
    ),
    UpdateForm(
        "handover",
        EventType.scheme_handed_over,
        "Handed over",
        "Handover recorded",
        when="When was the scheme handed over?",
    ),
    UpdateForm("on-hold", EventType.scheme_on_hold, "On hold", "Scheme put on hold", (REASON,)),
    UpdateForm("resumed", EventType.scheme_resumed, "Resumed", "Scheme resumed", (REASON,)),
    UpdateForm(
        "rag-override",
        EventType.rag_overridden,
        "Override a RAG",
        "RAG overridden",
        (
            Question(
                "which",
                "Which RAG?",
                "radios",
                missing="which RAG to override",
                options=(("overall", "Overall"), ("programme", "Programme"), ("budget", "Budget")),
            ),
            Question(
                "value",
                "Show it as",
                "radios",
                missing="the RAG to show",
                options=(*RAG_CHOICES, ("lift", "Lift the override: computed again")),
            ),
            Question("reason", "Why?", "textarea", missing="why the RAG is overridden"),
        ),
        when="What date does the decision take effect?",
    ),
    UpdateForm(
        "forecast-revised",
        EventType.forecast_revised,
        "Forecast outturn revised",
        "Forecast outturn revised",
        (
            Question(
                "forecast_outturn", "Forecast outturn", "money", missing="the forecast outturn"
            ),
            Question("reason", "Reason", "textarea", required=False),
        ),
    ),
    UpdateForm(
        "budget-changed",
        EventType.budget_changed,
        "Budget changed",
        "Budget change recorded",
        (
            Question("funding_source", "Funding source", "text", missing="the funding source"),
            Question(
                "amount",
                "Change to the budget",
                "change",
                hint="In pounds: negative to take money away, for example -25000",
                missing="the change to the budget",
            ),
            Question("reason", "Why has the budget changed?", "textarea", missing="a reason"),
        ),
        when="When was the change approved?",
    ),
    UpdateForm(
        "rebaselined",
        EventType.scheme_rebaselined,
        "Rebaseline",
        "Scheme rebaselined",
        (
            Question(
                "baseline_completion",
                "New baseline completion date",
                "date",
                hint="For example, 27 3 2025",
            ),
            REASON,
        ),
    ),
    UpdateForm(
        "cancelled", EventType.scheme_cancelled, "Cancel the scheme", "Scheme cancelled", (REASON,)
    ),
)
BY_SLUG = {form.slug: form for form in FORMS}
WHEN = "occurred_on"


@dataclass
class Answers:
    """What was typed (to show again) and what it means, or why it does not."""

    typed: dict[str, str] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)
    occurred_on: dt.date | None = None
    errors: dict[str, str] = field(default_factory=dict)


def read_answers(form: UpdateForm, sent: Mapping[str, str]) -> Answers:
    answers = Answers(typed={k: str(v) for k, v in sent.items() if k != "csrf_token"})
    when = Question(WHEN, "The date", "date")
    answers.occurred_on = _date(when, sent, answers.errors)
    for question in form.questions:
        value = _answer(question, sent, answers.errors)
        if value is not None:
            answers.payload[question.name] = value
    if form.event_type is EventType.rag_overridden and answers.payload.get("value") == "lift":
        answers.payload["value"] = None
    return answers


def place_refusals(answers: Answers, reasons: list[str]) -> list[str]:
    """Why the service refused an update: a reason about the date is shown by the date's
    fields (in `answers.errors`); the others are returned, to show above the form."""
    problems = []
    for reason in reasons:
        if reason.startswith(WHEN):
            answers.errors[WHEN] = "The date " + reason.partition(" ")[2]
        else:
            problems.append(reason)
    return problems


def _answer(question: Question, sent: Mapping[str, str], errors: dict[str, str]) -> Any:
    if question.kind == "date":
        return _date(question, sent, errors)
    text = (sent.get(question.name) or "").strip()
    if not text:
        if question.required:
            verb = "Select" if question.kind == "radios" else "Enter"
            errors[question.name] = f"{verb} {question.missing}"
        return None
    if question.kind == "percent":
        if not text.isdigit() or int(text) > 100:
            errors[question.name] = f"{question.label} must be a whole number from 0 to 100"
            return None
        return int(text)
    if question.kind in ("money", "change"):
        return _pounds(question, text, errors)
    return text


def _pounds(question: Question, text: str, errors: dict[str, str]) -> str | None:
    signed = question.kind == "change"
    plain = text.replace(",", "").replace(" ", "")
    negative = signed and plain.startswith("-")
    try:
        amount = Decimal(plain.removeprefix("-").removeprefix("£"))
    except InvalidOperation:
        amount = Decimal(-1)
    if not amount.is_finite() or amount < 0 or amount != round(amount, 2):
        example = "like 25000 or -25000" if signed else "like 125000 or 125000.50"
        errors[question.name] = f"{question.label} must be an amount in pounds, {example}"
        return None
    return str(-amount if negative else amount)


_PARTS = ("day", "month", "year")


def _date(question: Question, sent: Mapping[str, str], errors: dict[str, str]) -> dt.date | None:
    """A GOV.UK date input's three fields as a date, or the Design System's message."""
    parts = {part: (sent.get(f"{question.name}-{part}") or "").strip() for part in _PARTS}
    label = question.label
    given = [part for part in _PARTS if parts[part]]
    if not given:
        if question.required:
            errors[question.name] = f"Enter {label[0].lower()}{label[1:]}"
        return None
    absent = [part for part in _PARTS if not parts[part]]
    if absent:
        errors[question.name] = f"{label} must include a {' and '.join(absent)}"
        return None
    if not all(re.fullmatch(r"\d{1,4}", parts[part]) for part in _PARTS) or len(parts["year"]) != 4:
        errors[question.name] = f"{label} must be a real date"
        return None
    try:
        return dt.date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except ValueError:
        errors[question.name] = f"{label} must be a real date"
        return None
