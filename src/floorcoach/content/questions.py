"""Spoken answers to common questions, kept in a data file beside the routines and checked."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Final

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from floorcoach import commands
from floorcoach.content.catalog import (
    GUIDANCE_FILE,
    Loc,
    _describe,
    _did_you_mean,
    _read_yaml,
    _Source,
    default_routines_dir,
    load_guidance,
)
from floorcoach.content.routine import Guidance, Slug
from floorcoach.errors import RoutineError

QUESTIONS_FILE: Final = "questions.yaml"

MIN_SENTENCES: Final = 2
MAX_SENTENCES: Final = 3
MAX_WORDS_PER_SENTENCE: Final = 35
"""Longer sentences are hard to follow by ear."""

MIN_COVERAGE: Final = 0.5
"""More than this share of the asker's meaningful words (weighted by rarity) must point to
one answer: "buy milk" (one word of two) is not a question about equipment."""

WARNING_INTRO: Final = "Get medical help straight away if any of these happen."

SYMPTOM_WORDS: Final = frozenset(
    "doctor gp physio physiotherapist therapist hospital emergency symptom symptoms "
    "numb numbness tingling worse warning".split()
)
"""A phrasing with one of these asks about symptoms, so its answer must carry the warnings."""

_DIAGNOSIS_PATTERNS: Final = tuple(
    re.compile(pattern)
    for pattern in (
        r"\byou(?: have| ve)(?: probably| likely| might| may)?(?: got)?(?: a| an)? "
        r"(?:sciatica|herniat\w*|slipped|bulging|pinched|compressed|piriformis|disc|stenosis"
        r"|arthritis|tumou?r|infection|nerve damage)",
        r"\byou (?:probably|likely|might|may) have\b",
        r"\b(?:it|this|that)(?: is| s)(?: probably| likely)?(?: a| an| your)? "
        r"(?:herniat\w*|slipped|bulging|pinched|piriformis|disc|stenosis|sciatica|tumou?r"
        r"|infection|nerve)",
        r"\bsounds like\b",
        r"\b(?:is|are) caused by\b",
        r"\byour diagnosis\b",
    )
)
"""Phrasing that would tell someone what is wrong with them: never in an answer."""

_STOPWORDS: Final = frozenset(
    (
        "a an the i me my mine myself is are am be been being do does did doing should can "
        "could would will shall may might must what whats when how which who whom where to "
        "for of on in at by from it its this that these those you your or and but if so with "
        "about there their get got any some please hey tell know want wondering just really "
        "um uh okay ok coach floorcoach use using have has had than then too very much need "
        "time keep before up down out off all day now go going ever also still"
    ).split()
)
"""Words that carry no topic; "why", "long", "often" and "soon" are left in on purpose."""

_SENTENCE_END: Final = re.compile(r"(?<=[.!?])\s+")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


Phrase = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=120)]
Keyword = Annotated[str, StringConstraints(pattern=r"^[a-z]+$", min_length=2, max_length=30)]
AnswerText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=600)]


class QuestionEntry(_Model):
    """One question as written in the data file."""

    id: Slug
    phrasings: list[Phrase] = Field(min_length=2, max_length=20)
    """Ways people ask it; matched exactly first (after normalizing)."""
    keywords: list[Keyword] = Field(default_factory=list, max_length=30)
    """Extra single words that point here when someone asks in their own words."""
    answer: AnswerText
    """Two or three short sentences, said aloud as written."""
    touches_symptoms: bool
    """True: the spoken answer is followed by every warning sign from guidance.yaml."""

    @field_validator("answer")
    @classmethod
    def _spoken_answer(cls, text: str) -> str:
        problem = answer_problem(text)
        if problem:
            raise ValueError(problem)
        return text


class QuestionFile(_Model):
    """The questions file: the questions and the three examples offered for unknown ones."""

    fallback_examples: list[Slug] = Field(min_length=3, max_length=3)
    questions: list[QuestionEntry] = Field(min_length=1, max_length=100)


def answer_problem(text: str) -> str | None:
    """Why an answer is not fit to be spoken (length, digits, a diagnosis), or None."""
    sentences = [part for part in _SENTENCE_END.split(" ".join(text.split())) if part]
    if not MIN_SENTENCES <= len(sentences) <= MAX_SENTENCES:
        return f"must be {MIN_SENTENCES} or {MAX_SENTENCES} sentences (found {len(sentences)})"
    if not sentences[-1].endswith((".", "!", "?")):
        return "must end with a full stop"
    for sentence in sentences:
        words = len(sentence.split())
        if words > MAX_WORDS_PER_SENTENCE:
            return (
                f"sentence '{sentence[:40]}...' has {words} words "
                f"(at most {MAX_WORDS_PER_SENTENCE} to be easy to follow by ear)"
            )
    if re.search(r"\d", text):
        return "must write numbers as words (the voice reads digits oddly)"
    spoken = commands.normalize(text)
    for pattern in _DIAGNOSIS_PATTERNS:
        found = pattern.search(spoken)
        if found:
            return f"must not give a diagnosis (found '{found.group(0)}')"
    return None


# ---------------------------------------------------------------- loaded questions


@dataclass(frozen=True)
class Question:
    """A question ready to answer: `spoken` is what is said (warning signs included)."""

    id: str
    phrasings: tuple[str, ...]
    answer: str
    spoken: str
    touches_symptoms: bool
    keywords: tuple[str, ...] = ()

    @property
    def example(self) -> str:
        """The first phrasing, as said inside a sentence ("should I use ice or heat")."""
        return _as_example(self.phrasings[0])


@dataclass(frozen=True)
class QuestionBook:
    """Every question in a file, with the indexes that match typed or heard text."""

    path: Path
    questions: tuple[Question, ...]
    fallback_examples: tuple[Question, ...]
    warning_text: str
    _exact: Mapping[str, Question] = field(repr=False)
    _vocab: Mapping[str, frozenset[str]] = field(repr=False)
    _weights: Mapping[str, float] = field(repr=False)

    def get(self, question_id: str) -> Question:
        """The question with this id (KeyError names the known ids)."""
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(f"no question '{question_id}' (known: {', '.join(self.ids())})")

    def ids(self) -> list[str]:
        """Question ids in file order."""
        return [question.id for question in self.questions]

    def match(self, text: str) -> Question | None:
        """The question asked in `text`: an exact phrasing, a phrasing inside it, else the
        clear best keyword match.

        Never a command phrase ("how is my progress") or anything with a warning sign in it
        ("what if my foot is dragging"), so it is safe to try before `commands.parse`.
        """
        words = commands.normalize(text)
        if not words or _is_command_or_warning(words):
            return None
        exact = self._exact.get(words)
        if exact is not None:
            return exact
        padded = f" {words} "
        for phrasing in self._longest_first:
            if f" {phrasing} " in padded:  # "please, how should I sit then"
                return self._exact[phrasing]
        query = set(_content_words(words))
        if not query:
            return None
        unknown = self._unknown_weight
        total = sum(self._weights.get(word, unknown) for word in query)
        scored = sorted(
            (
                (sum(self._weights[w] for w in query & self._vocab[q.id]), index)
                for index, q in enumerate(self.questions)
            ),
            reverse=True,
        )
        best_score, best_index = scored[0]
        runner_up = scored[1][0] if len(scored) > 1 else 0.0
        if best_score <= 0 or best_score / total <= MIN_COVERAGE:
            return None
        if math.isclose(best_score, runner_up):
            return None  # two answers fit equally: better to offer examples than guess
        return self.questions[best_index]

    @functools.cached_property
    def _longest_first(self) -> list[str]:
        return sorted(self._exact, key=lambda phrasing: (-len(phrasing.split()), phrasing))

    @property
    def _unknown_weight(self) -> float:
        # a word no question uses counts as much as the rarest one: it is off topic
        return math.log(1 + len(self.questions))

    def fallback(self) -> str:
        """What is said for a question we have no answer to, with three examples."""
        examples = [question.example for question in self.fallback_examples]
        listed = ", ".join(examples[:-1]) + f", or {examples[-1]}"
        return f"I don't know that one; you can ask me: {listed}."

    def reply(self, text: str) -> str:
        """The spoken reply to `text`: the answer, or the fallback with examples."""
        question = self.match(text)
        return question.spoken if question is not None else self.fallback()

    def grammar_phrases(self) -> list[str]:
        """Every phrasing, normalized, for a recognizer's phrase list."""
        return list(self._exact)


def _is_command_or_warning(words: str) -> bool:
    """A command phrase or a warning sign is never taken for a question (safety first)."""
    if words in commands.PHRASE_TABLE:
        return True
    intent = commands.parse(words)
    return intent is not None and intent.red_flag is not None


def _as_example(phrasing: str) -> str:
    text = phrasing.strip().rstrip("?.! ")
    if text[:2] not in ("I ", "I'"):
        text = text[:1].lower() + text[1:]
    return text


def warning_signs_text(guidance: Guidance) -> str:
    """The warning signs as spoken after any answer that touches on symptoms."""
    urgent = [sign.description for sign in guidance.warning_signs if sign.urgent]
    other = [sign.description for sign in guidance.warning_signs if not sign.urgent]
    parts = [WARNING_INTRO, *urgent] if urgent else []
    return " ".join([*parts, *other])


def _stem(word: str) -> str:
    """A crude stemmer: enough that "stretches", "stretching" and "stretch" meet."""
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("ing") and len(word) > 5:
        word = _undouble(word[:-3])
    elif word.endswith("ed") and len(word) > 4:
        word = _undouble(word[:-2])
    elif word.endswith("es") and len(word) > 4:
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us")) and len(word) > 2:
        word = word[:-1]
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


def _undouble(word: str) -> str:
    if len(word) > 2 and word[-1] == word[-2] and word[-1] not in "ls":
        return word[:-1]
    return word


def _content_words(normalized: str) -> list[str]:
    stems = (_stem(word) for word in normalized.split() if word not in _STOPWORDS)
    return [stem for stem in stems if stem not in _STOPWORDS]


def build_book(path: Path, entries: QuestionFile, guidance: Guidance) -> QuestionBook:
    """Questions with their spoken text and match indexes (the file is already checked)."""
    warning = warning_signs_text(guidance)
    questions: list[Question] = []
    for entry in entries.questions:
        spoken = f"{entry.answer} {warning}" if entry.touches_symptoms else entry.answer
        questions.append(
            Question(
                id=entry.id,
                phrasings=tuple(entry.phrasings),
                answer=entry.answer,
                spoken=" ".join(spoken.split()),
                touches_symptoms=entry.touches_symptoms,
                keywords=tuple(entry.keywords),
            )
        )
    exact: dict[str, Question] = {}
    vocab: dict[str, frozenset[str]] = {}
    for question in questions:
        words: set[str] = set()
        for phrasing in question.phrasings:
            normalized = commands.normalize(phrasing)
            exact.setdefault(normalized, question)
            words.update(_content_words(normalized))
        words.update(_stem(keyword) for keyword in question.keywords)
        vocab[question.id] = frozenset(words)
    count = len(questions)
    document_frequency: dict[str, int] = {}
    for question_words in vocab.values():
        for word in question_words:
            document_frequency[word] = document_frequency.get(word, 0) + 1
    weights = {word: math.log(1 + count / df) for word, df in document_frequency.items()}
    by_id = {question.id: question for question in questions}
    examples = tuple(by_id[ident] for ident in entries.fallback_examples)
    return QuestionBook(path, tuple(questions), examples, warning, exact, vocab, weights)


# ---------------------------------------------------------------- loading and checking


def load_questions(
    path: Path | None = None, *, guidance: Guidance | None = None, folder: Path | None = None
) -> QuestionBook:
    """Load and check a questions file; the warning signs come from guidance.yaml beside it."""
    folder = folder or default_routines_dir()
    path = path or folder / QUESTIONS_FILE
    source = _read_yaml(path)
    entries = _validate(source)
    problems = _file_problems(source, entries)
    if problems:
        raise RoutineError(problems[0], problems)
    if guidance is None:
        guidance = _guidance_for(path, folder)
    return build_book(path, entries, guidance)


def check_questions(path: Path, folder: Path | None = None) -> list[str]:
    """One line per problem in a questions file (empty when all is well): for `check`."""
    try:
        load_questions(path, folder=folder)
    except RoutineError as exc:
        return exc.problems
    return []


def _guidance_for(path: Path, folder: Path) -> Guidance:
    beside = path.parent / GUIDANCE_FILE
    candidate = beside if beside.exists() else folder / GUIDANCE_FILE
    if not candidate.exists():
        raise RoutineError(
            f"{path}:1: the warning signs said with symptom answers come from {GUIDANCE_FILE}, "
            f"which is not beside it or in {folder}"
        )
    return load_guidance(candidate)


@functools.cache
def _cached_book(folder: Path) -> QuestionBook:
    return load_questions(folder=folder)


def default_book() -> QuestionBook:
    """The shipped questions (`$FLOORCOACH_ROUTINES_DIR` or routines/), loaded once."""
    return _cached_book(default_routines_dir().resolve())


def match_question(text: str, book: QuestionBook | None = None) -> Question | None:
    """The question asked in typed or recognized text, or None (then say `fallback()`)."""
    return (book or default_book()).match(text)


def reply_to(text: str, book: QuestionBook | None = None) -> str:
    """What to say back: the answer (with warning signs if needed) or the fallback."""
    return (book or default_book()).reply(text)


def _validate(source: _Source) -> QuestionFile:
    try:
        return QuestionFile.model_validate(source.data)
    except ValidationError as exc:
        problems = [_problem(source, dict(error)) for error in exc.errors()]
        raise RoutineError(problems[0], problems) from None


def _problem(source: _Source, error: dict[str, Any]) -> str:
    loc: Loc = tuple(error["loc"])
    line = source.lines.line(loc)
    where = _where(source.data, loc)
    inner = loc[2:] if len(loc) >= 2 and loc[0] == "questions" else loc
    if error["type"] == "extra_forbidden":
        allowed = QuestionEntry.model_fields if len(loc) > 2 else QuestionFile.model_fields
        parent = _field_label(inner[:-1])
        label = f"{parent}: " if parent else ""
        return (
            f"{source.path}:{line}: {where}{label}unknown key '{loc[-1]}'"
            f"{_did_you_mean(str(loc[-1]), allowed)}"
        )
    name = _field_label(inner)
    message = _describe(error, QuestionFile)
    label = (f"{name}: " if error["type"] == "value_error" else f"{name} ") if name else ""
    return f"{source.path}:{line}: {where}{label}{message}"


def _where(data: Any, loc: Loc) -> str:
    if len(loc) >= 2 and loc[0] == "questions" and isinstance(loc[1], int):
        questions = data.get("questions") if isinstance(data, dict) else None
        entry = questions[loc[1]] if isinstance(questions, list) else None
        ident = entry.get("id") if isinstance(entry, dict) else None
        return f"question '{ident}': " if isinstance(ident, str) else f"question {loc[1] + 1}: "
    return ""


def _field_label(loc: Sequence[str | int]) -> str:
    text = ""
    for part in loc:
        text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _file_problems(source: _Source, entries: QuestionFile) -> list[str]:
    """Checks across entries: unique ids and phrasings, examples exist, safety, no clashes."""
    problems: list[str] = []
    path = source.path
    first_id_line: dict[str, int] = {}
    owner: dict[str, tuple[str, int]] = {}
    for index, entry in enumerate(entries.questions):
        where = f"question '{entry.id}': "
        id_line = source.lines.line(("questions", index, "id"))
        if entry.id in first_id_line:
            problems.append(
                f"{path}:{id_line}: {where}duplicate id "
                f"(first defined on line {first_id_line[entry.id]})"
            )
        first_id_line.setdefault(entry.id, id_line)
        for number, phrasing in enumerate(entry.phrasings):
            line = source.lines.line(("questions", index, "phrasings", number))
            normalized = commands.normalize(phrasing)
            clash = _command_clash(normalized)
            if not normalized:
                problems.append(f"{path}:{line}: {where}phrasing '{phrasing}' has no words")
            elif normalized in owner and owner[normalized][0] != entry.id:
                other, other_line = owner[normalized]
                problems.append(
                    f"{path}:{line}: {where}phrasing '{phrasing}' is also a phrasing of "
                    f"question '{other}' (line {other_line})"
                )
            elif clash:
                problems.append(f"{path}:{line}: {where}phrasing '{phrasing}' {clash}")
            owner.setdefault(normalized, (entry.id, line))
            symptom = SYMPTOM_WORDS.intersection(normalized.split())
            if symptom and not entry.touches_symptoms:
                flag_line = source.lines.line(("questions", index, "touches_symptoms"))
                problems.append(
                    f"{path}:{flag_line}: {where}touches_symptoms must be true: phrasing "
                    f"'{phrasing}' asks about '{sorted(symptom)[0]}', so the answer must "
                    "carry the warning signs"
                )
                break
    known = {entry.id for entry in entries.questions}
    for number, ident in enumerate(entries.fallback_examples):
        if ident not in known:
            line = source.lines.line(("fallback_examples", number))
            problems.append(
                f"{path}:{line}: fallback_examples[{number + 1}]: question '{ident}' is not in "
                f"the file{_did_you_mean(ident, known)}"
            )
    if len(set(entries.fallback_examples)) != len(entries.fallback_examples):
        line = source.lines.line(("fallback_examples",))
        problems.append(f"{path}:{line}: fallback_examples must name three different questions")
    return problems


def _command_clash(normalized: str) -> str | None:
    """Why a phrasing would be taken for a command or a warning sign, or None."""
    intent = commands.PHRASE_TABLE.get(normalized)
    if intent is not None:
        return f"is already the spoken command '{intent.value}'"
    parsed = commands.parse(normalized)
    if parsed is not None and parsed.red_flag is not None:
        return f"would be heard as the warning sign '{parsed.red_flag.value}'"
    return None


__all__ = [
    "QUESTIONS_FILE",
    "Question",
    "QuestionBook",
    "QuestionEntry",
    "QuestionFile",
    "answer_problem",
    "check_questions",
    "default_book",
    "load_questions",
    "match_question",
    "reply_to",
    "warning_signs_text",
]
