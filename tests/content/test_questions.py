"""Questions answered by voice: the shipped file, matching, the fallback, safety, bad files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from floorcoach import commands
from floorcoach.content.catalog import load_guidance
from floorcoach.content.questions import (
    QuestionBook,
    answer_problem,
    check_questions,
    load_questions,
    match_question,
    reply_to,
    warning_signs_text,
)
from floorcoach.errors import RoutineError

REPO = Path(__file__).resolve().parents[2]
ROUTINES = REPO / "routines"
QUESTIONS = ROUTINES / "questions.yaml"

REQUIRED = (
    "ice-or-heat",
    "exercises-to-avoid",
    "pain-worse",
    "how-soon",
    "equipment",
    "how-to-sit",
    "how-to-sleep",
    "see-a-doctor",
)
"""The questions issue 9 names; the file may have more."""

PARAPHRASES: dict[str, tuple[str, ...]] = {
    "ice-or-heat": ("would a hot water bottle help", "is a cold pack better than a heating pad"),
    "exercises-to-avoid": ("is it ok to do deep squats", "which movements are harmful"),
    "pain-worse": ("is soreness after stretching normal", "will the exercises hurt me"),
    "how-soon": ("how long before I notice a difference", "how many months to recover"),
    "equipment": ("do I need a resistance band", "what gear should I get"),
    "how-to-sit": ("what about sitting at a computer", "how should I sit in my office chair"),
    "how-to-sleep": ("can I lie on my front at night", "what mattress is best for sleeping"),
    "see-a-doctor": ("should I go to the emergency room", "do I need a physio"),
    "how-often": ("how many times a week should I do the routine", "is daily too much"),
    "walking": ("how much walking should I do", "is a long walk ok"),
    "standing-breaks": ("how often do I need a break", "when do I stand"),
    "rest-or-move": ("is it better to stay active", "should I keep resting"),
    "flare-up": ("I keep getting flare ups", "what if I have a relapse"),
    "breathing": ("should I breathe out when lifting", "do I inhale or exhale"),
    "why-exercise": ("why bother stretching", "what is the point of the exercises"),
}
"""Ways of asking that are not in the file: keyword matching must still find the answer."""

UNRELATED = (
    "what time is it",
    "what is the weather like today",
    "play some music",
    "tell me a joke",
    "good morning",
    "thank you",
    "where are my keys",
    "I need to buy milk",
    "turn the volume up",
    "how long left",
    "call my daughter",
    "what is the capital of France",
    "",
    "   ",
    "?!",
)


@pytest.fixture(scope="module")
def book() -> QuestionBook:
    return load_questions(QUESTIONS)


def _all_phrasings() -> list[tuple[str, str]]:
    data = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    return [
        (entry["id"], phrasing) for entry in data["questions"] for phrasing in entry["phrasings"]
    ]


# ---------------------------------------------------------------- the shipped file


def test_shipped_file_has_the_required_questions(book: QuestionBook) -> None:
    assert set(REQUIRED) <= set(book.ids())
    assert check_questions(QUESTIONS) == []


def test_every_answer_is_two_or_three_sentences_with_no_digits(book: QuestionBook) -> None:
    for question in book.questions:
        assert answer_problem(question.answer) is None, question.id
        sentences = [s for s in question.answer.replace("?", ".").split(". ") if s]
        assert 2 <= len(sentences) <= 3, question.id


@pytest.mark.parametrize(("question_id", "phrasing"), _all_phrasings())
def test_every_phrasing_matches_its_question(
    book: QuestionBook, question_id: str, phrasing: str
) -> None:
    assert _id(book.match(phrasing)) == question_id
    assert _id(book.match(f"  {phrasing.upper()}?? ")) == question_id
    assert _id(book.match(f"please, {phrasing}")) == question_id


def test_every_question_has_a_paraphrase_under_test(book: QuestionBook) -> None:
    assert set(book.ids()) == set(PARAPHRASES), "add paraphrases for new questions"


@pytest.mark.parametrize(
    ("question_id", "paraphrase"),
    [(qid, text) for qid, texts in PARAPHRASES.items() for text in texts],
)
def test_paraphrases_match_by_keywords(
    book: QuestionBook, question_id: str, paraphrase: str
) -> None:
    phrasings = {commands.normalize(p) for p in book.get(question_id).phrasings}
    assert commands.normalize(paraphrase) not in phrasings  # really a paraphrase
    assert _id(book.match(paraphrase)) == question_id


@pytest.mark.parametrize("text", UNRELATED)
def test_unrelated_sentences_match_nothing(book: QuestionBook, text: str) -> None:
    assert book.match(text) is None


def test_commands_and_warning_signs_are_never_taken_for_questions(book: QuestionBook) -> None:
    taken = {phrase: book.match(phrase) for phrase in commands.PHRASE_TABLE}
    assert {phrase: q.id for phrase, q in taken.items() if q is not None} == {}
    # a red flag inside a question-like sentence stays a red flag
    assert book.match("what if my foot is dragging") is None
    assert book.match("should I see a doctor about numbness between my legs") is None
    assert book.match("should I see a doctor") is not None


def test_unknown_question_gets_three_askable_examples(book: QuestionBook) -> None:
    reply = book.reply("can I eat chocolate")
    assert reply == (
        "I don't know that one; you can ask me: should I use ice or heat, "
        "how should I sit, or when should I see a doctor."
    )
    assert reply == book.fallback()
    examples = reply.split(": ", 1)[1].rstrip(".").replace(", or ", ", ").split(", ")
    assert len(examples) == 3
    assert [_id(book.match(example)) for example in examples] == [
        q.id for q in book.fallback_examples
    ]


def test_module_functions_use_the_shipped_file() -> None:
    assert _id(match_question("ice or heat")) == "ice-or-heat"
    assert reply_to("ice or heat").startswith("Ice before you exercise")
    assert reply_to("something else entirely").startswith("I don't know that one")


def test_grammar_phrases_are_every_phrasing_normalized(book: QuestionBook) -> None:
    expected = {commands.normalize(phrasing) for _, phrasing in _all_phrasings()}
    assert set(book.grammar_phrases()) == expected


# ---------------------------------------------------------------- safety (issue section 3)


def test_see_a_doctor_and_every_symptom_answer_carry_every_warning_sign(
    book: QuestionBook,
) -> None:
    guidance = load_guidance(ROUTINES / "guidance.yaml")
    signs = [sign.description for sign in guidance.warning_signs]
    doctor = book.get("see-a-doctor")
    assert doctor.touches_symptoms
    symptom_answers = [q for q in book.questions if q.touches_symptoms]
    assert {"see-a-doctor", "pain-worse", "flare-up"} <= {q.id for q in symptom_answers}
    for question in symptom_answers:
        assert question.spoken.startswith(question.answer), question.id
        for sign in signs:
            assert sign in question.spoken, (question.id, sign)
    for question in book.questions:
        if not question.touches_symptoms:
            assert question.spoken == question.answer
            assert not any(sign in question.spoken for sign in signs)


def test_warning_signs_come_from_guidance_at_load_time(tmp_path: Path) -> None:
    shutil.copy(QUESTIONS, tmp_path / "questions.yaml")
    guidance = yaml.safe_load((ROUTINES / "guidance.yaml").read_text(encoding="utf-8"))
    new_sign = "You suddenly cannot stand on your toes."
    guidance["warning_signs"].insert(0, {"id": "toe-stand", "description": new_sign})
    (tmp_path / "guidance.yaml").write_text(yaml.safe_dump(guidance), encoding="utf-8")
    book = load_questions(tmp_path / "questions.yaml")
    assert new_sign in book.get("see-a-doctor").spoken
    assert new_sign in book.get("pain-worse").spoken
    assert new_sign not in book.get("ice-or-heat").spoken


def test_urgent_signs_come_first_behind_the_call_to_act() -> None:
    guidance = load_guidance(ROUTINES / "guidance.yaml")
    text = warning_signs_text(guidance)
    assert text.startswith("Get medical help straight away if any of these happen.")
    urgent = [s.description for s in guidance.warning_signs if s.urgent]
    other = [s.description for s in guidance.warning_signs if not s.urgent]
    assert max(text.index(s) for s in urgent) < min(text.index(s) for s in other)


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("Only one sentence here.", "must be 2 or 3 sentences (found 1)"),
        ("One. Two. Three. Four.", "must be 2 or 3 sentences (found 4)"),
        ("Walk for 5 minutes. Then rest.", "must write numbers as words"),
        (
            "You have a herniated disc. Rest.",
            "must not give a diagnosis (found 'you have a herniat",
        ),
        ("It sounds like sciatica. See a doctor.", "must not give a diagnosis (found 'sounds like"),
        ("This is probably a slipped disc. Rest.", "must not give a diagnosis"),
        ("Your pain is caused by a tight muscle. Stretch.", "must not give a diagnosis"),
        ("You may have sciatica. Rest.", "must not give a diagnosis"),
    ],
)
def test_answers_that_cannot_be_spoken_or_diagnose_are_rejected(answer: str, problem: str) -> None:
    found = answer_problem(answer)
    assert found is not None
    assert found.startswith(problem)


def test_answers_may_say_you_have_gone_too_far() -> None:
    assert answer_problem("You have gone too far. Ease off.") is None


# ---------------------------------------------------------------- bad files: one line each

GOOD_HEAD = "fallback_examples: [a-one, b-two, c-three]\nquestions:\n"


def _entry(ident: str, phrasings: list[str], touches: bool = False, extra: str = "") -> str:
    listed = "".join(f"      - {p}\n" for p in phrasings)
    return (
        f"  - id: {ident}\n"
        f"    phrasings:\n{listed}"
        "    answer: First sentence here. Second sentence here.\n"
        f"    touches_symptoms: {'true' if touches else 'false'}\n"
        f"{extra}"
    )


GOOD_BODY = (
    _entry("a-one", ["first question", "first asked"])
    + _entry("b-two", ["second question", "second asked"])
    + _entry("c-three", ["third question", "third asked"])
)


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "questions.yaml"
    path.write_text(text, encoding="utf-8")
    shutil.copy(ROUTINES / "guidance.yaml", tmp_path / "guidance.yaml")
    problems = check_questions(path)
    with pytest.raises(RoutineError) as caught:
        load_questions(path)
    assert caught.value.problems == problems
    assert all("\n" not in problem for problem in problems)
    return [problem.replace(f"{path}:", "Q:") for problem in problems]


def test_a_good_small_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "questions.yaml"
    path.write_text(GOOD_HEAD + GOOD_BODY, encoding="utf-8")
    shutil.copy(ROUTINES / "guidance.yaml", tmp_path / "guidance.yaml")
    assert check_questions(path) == []
    assert _id(load_questions(path).match("second asked")) == "b-two"


def test_doctor_question_without_warning_signs_is_rejected(tmp_path: Path) -> None:
    body = GOOD_BODY + _entry("doc", ["should I see a doctor", "see the doctor"], touches=False)
    assert _problems(tmp_path, GOOD_HEAD + body) == [
        "Q:26: question 'doc': touches_symptoms must be true: phrasing 'should I see a "
        "doctor' asks about 'doctor', so the answer must carry the warning signs"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            GOOD_HEAD + GOOD_BODY + _entry("a-one", ["fourth question", "fourth asked"]),
            ["Q:21: question 'a-one': duplicate id (first defined on line 3)"],
        ),
        (
            GOOD_HEAD + GOOD_BODY + _entry("d-four", ["First question?", "fourth asked"]),
            [
                "Q:23: question 'd-four': phrasing 'First question?' is also a phrasing of "
                "question 'a-one' (line 5)"
            ],
        ),
        (
            GOOD_HEAD + GOOD_BODY + _entry("d-four", ["pause", "fourth asked"]),
            ["Q:23: question 'd-four': phrasing 'pause' is already the spoken command 'pause'"],
        ),
        (
            GOOD_HEAD + GOOD_BODY + _entry("d-four", ["what if I cannot lift my foot", "x y"]),
            [
                "Q:23: question 'd-four': phrasing 'what if I cannot lift my foot' would be "
                "heard as the warning sign 'foot_weakness'"
            ],
        ),
        (
            GOOD_HEAD + GOOD_BODY + _entry("d-four", ["one", "two"], extra="    phrasing: [x]\n"),
            [
                "Q:27: question 'd-four': unknown key 'phrasing' (did you mean 'phrasings'?)",
            ],
        ),
        (
            "fallback_examples: [a-one, b-two, c-thre]\nquestions:\n" + GOOD_BODY,
            [
                "Q:1: fallback_examples[3]: question 'c-thre' is not in the file "
                "(did you mean 'c-three'?)"
            ],
        ),
        (
            "fallback_examples: [a-one, b-two]\nquestions:\n" + GOOD_BODY,
            ["Q:1: fallback_examples must have at least 3 entries"],
        ),
        (
            GOOD_HEAD
            + GOOD_BODY.replace(
                "First sentence here. Second sentence here.\n    touches_symptoms: false\n",
                "You have sciatica. Rest.\n    touches_symptoms: false\n",
                1,
            ),
            [
                "Q:7: question 'a-one': answer: must not give a diagnosis (found 'you have "
                "sciatica')"
            ],
        ),
        (
            GOOD_HEAD + GOOD_BODY.replace("    touches_symptoms: false\n", "", 1),
            ["Q:3: question 'a-one': touches_symptoms is required"],
        ),
        (
            GOOD_HEAD + GOOD_BODY.replace("id: b-two", "id: B two"),
            [
                "Q:9: question 'B two': id must be lower-case words joined by hyphens, like "
                "'knee-to-chest' (got 'B two')"
            ],
        ),
        (
            "fallback_examples: [a-one, b-two, c-three\nquestions:\n",
            ["Q:2: not valid YAML: expected ',' or ']', but got ':'"],
        ),
    ],
)
def test_bad_files_get_one_line_per_problem(tmp_path: Path, text: str, expected: list[str]) -> None:
    assert _problems(tmp_path, text) == expected


def test_missing_guidance_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "questions.yaml"
    path.write_text(GOOD_HEAD + GOOD_BODY, encoding="utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    problems = check_questions(path, folder=empty)
    assert problems == [
        f"{path}:1: the warning signs said with symptom answers come from guidance.yaml, "
        f"which is not beside it or in {empty}"
    ]


def _id(question: object) -> str | None:
    return getattr(question, "id", None)
