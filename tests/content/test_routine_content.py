"""The shipped routine content: valid, complete, true to the seed guidance, and fit for the ear.

Everything checked here is spoken aloud by espeak-ng to someone lying on the floor, so
sentences must be short and complete, and the facts (holds, reps, warning signs) must match
the physical-therapy guidance the routines were written from. These tests read only files
in this repository: CI clones nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from floorcoach.content.catalog import DEFAULT_ROUTINE, Catalog, LoadedRoutine
from floorcoach.content.check import check_files
from floorcoach.content.routine import Exercise, ExerciseKind, Guidance, Position, Sides

ROUTINES = Path(__file__).resolve().parents[2] / "routines"

ON_BACK = Position.LYING_ON_BACK
FACE_DOWN = Position.LYING_FACE_DOWN
SEATED = Position.SEATED
STANDING = Position.STANDING
ALL_FOURS = Position.ALL_FOURS
HOLD = ExerciseKind.HOLD
REPS = ExerciseKind.REPS
TIMED = ExerciseKind.TIMED

# Every exercise the seed pages describe, with the kind and position it must keep.
EXPECTED_EXERCISES: dict[str, tuple[ExerciseKind, Position]] = {
    "knee-to-chest": (HOLD, ON_BACK),
    "double-knee-to-chest": (HOLD, ON_BACK),
    "knee-to-chest-leg-straight": (HOLD, ON_BACK),
    "modified-cobra": (HOLD, FACE_DOWN),
    "prone-press-up": (HOLD, FACE_DOWN),
    "prone-lying": (HOLD, FACE_DOWN),
    "seated-hip-stretch": (HOLD, SEATED),
    "standing-hamstring-stretch": (HOLD, STANDING),
    "band-hamstring-stretch": (HOLD, ON_BACK),
    "lying-hamstring-stretch": (HOLD, ON_BACK),
    "seated-piriformis-stretch": (HOLD, SEATED),
    "supine-piriformis-stretch": (HOLD, ON_BACK),
    "figure-four-stretch": (HOLD, ON_BACK),
    "seated-pigeon": (HOLD, SEATED),
    "pelvic-tilt": (REPS, ON_BACK),
    "cat-cow": (REPS, ALL_FOURS),
    "bridge": (REPS, ON_BACK),
    "bird-dog": (REPS, ALL_FOURS),
    "arm-reach-all-fours": (REPS, ALL_FOURS),
    "partial-curl": (REPS, ON_BACK),
    "back-extension": (REPS, FACE_DOWN),
    "groin-stretch": (HOLD, SEATED),
    "ankle-pumps": (REPS, ON_BACK),
    "hip-extension-all-fours": (REPS, ALL_FOURS),
    "walking": (TIMED, STANDING),
}

ROUTINE_IDS = (
    "first-week",
    "core-routine",
    "strengthening",
    "stretch-by-region",
    "quick-test",
    "walk",
)

MAX_WORDS_PER_SENTENCE = 25
MAX_WORDS_PER_SETUP_SENTENCE = 16
QUICK_TEST_MAX_COUNTING_SECONDS = 90

# Distinctive passages of the four seed pages (shared/seeds/000-003), kept here so the
# copy check runs on a fresh clone. Content may use the seeds' facts but not their wording:
# no run of COPY_RUN_WORDS words may match, and no shorter passage may appear whole.
COPY_RUN_WORDS = 8
SEED_PASSAGES = (
    # 000
    "Lie on your back and place an object under your head to support it.",
    "Bend your knees and keep your feet hip-width apart.",
    "Then, bend one knee towards your chest and hold it with your hands.",
    "Try to keep your neck and shoulders relaxed, and only stretch as far as you can.",
    "It should not feel uncomfortable.",
    "While lying face down with your body extended, place your hands on the mat or floor "
    "at chest level slightly wider than shoulder-width apart.",
    "Keep your elbows bent, and gently press on the floor and raise your torso and head.",
    "You should feel this stretch in your hip flexors and abdominals.",
    "While in a seated position, cross your right ankle over your left knee.",
    "Lean forward with your back straight until you feel the stretch in your hip and right glute.",
    "You can press down, and hold for 30 seconds.",
    "Repeat this stretch a few times, and then do the same with the left leg.",
    "Stand up straight and raise one leg on to a step.",
    "With the leg straight and pointing up, lean forward with your back straight.",
    "Hold this position for a few seconds, and repeat.",
    # 001
    "To stretch this muscle, lie flat on your back and pull your legs up to a 45 degree angle.",
    "Place your right leg over your left as if you are crossing them, then gently pull "
    "them towards your chest until you feel the pull in your buttocks.",
    "Hold the position for a minute and then release.",
    "Switch legs and repeat the exercise.",
    "Walking is also an excellent and easy form of exercise for your lower back.",
    # 002
    "Lie flat, gently pull one knee toward your chest until you feel mild tension in your buttock.",
    "Pulling too hard caused muscle spasms. Ease into it.",
    "Sit, cross affected ankle over opposite knee. Lean forward gently.",
    "Lie knees bent, flatten lower back into floor by tightening abs",
    "On hands/knees, alternate arching and rounding back",
    "Lie face down, prop upper body on elbows. Hold 2 minutes.",
    "Only do if centralizing pain (moving pain toward spine).",
    "Place pillow under hips if uncomfortable.",
    "Lie knees bent, lift hips until shoulders/knees align. Squeeze glutes at top.",
    "On hands/knees, extend opposite arm/leg while keeping spine still.",
    "Lie knees bent, hands behind head. Lift shoulders only slightly off floor.",
    "Never hold your breath during strengthening sciatic physical therapy exercises.",
    "Severe weakness when lifting your foot",
    "Pain that keeps worsening despite rest",
    "No improvement after 4 weeks of consistent effort",
    "Skip toe-touches, deep squats, and leg presses during flare-ups. They compress discs.",
    "Mild muscle soreness happens. But sharp nerve pain means you've gone too far. Dial it back.",
    # 003
    "Try to hold the stretch for anywhere from 10-30 seconds, and stop if it feels really "
    "uncomfortable or painful.",
    "Sit on the floor and stretch your legs straight out to the sides as wide as you can.",
    "Get on all fours on the floor, and line up your hands with your shoulders and your "
    "knees with your hips.",
    "While you're sitting on a chair, cross your sore leg over your other one.",
    "Pump your ankles to release your sciatic nerve.",
    "Lay back on the floor with both knees bent.",
    "Straighten out your lifted leg for a hamstring stretch.",
    "Lay back with both of your legs stretched straight.",
    "Stand in front of a stable object, like a set of stairs or the armrest on a couch.",
    "Get on all fours, lining up your hands with your shoulders and your knees with your hips.",
)

# Characters espeak-ng reads out literally or stumbles over; abbreviations it mangles.
UNSPEAKABLE = re.compile(r"[/\\()\[\]{}<>&*_#%|~^=+@]")
ABBREVIATIONS = re.compile(r"\b(e\.g|i\.e|etc|approx|sec|secs|min|mins|reps?|x\d)\b", re.I)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


# ---------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(ROUTINES)


@pytest.fixture(scope="module")
def library(catalog: Catalog) -> dict[str, Exercise]:
    return {exercise.id: exercise for exercise in catalog.library.exercises}


@pytest.fixture(scope="module")
def guidance(catalog: Catalog) -> Guidance:
    assert catalog.guidance is not None, "routines/guidance.yaml is missing"
    return catalog.guidance


@pytest.fixture(scope="module")
def routines(catalog: Catalog) -> dict[str, LoadedRoutine]:
    return {ident: catalog.find(ident) for ident in catalog.routine_ids()}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower().replace("’", "").replace("'", ""))


def _sentences(text: str) -> list[str]:
    return [part for part in SENTENCE_END.split(" ".join(text.split())) if part]


def _spoken_texts(catalog: Catalog) -> Iterator[tuple[str, str]]:
    """Every piece of text the player may say, with where it comes from."""
    for exercise in catalog.library.exercises:
        for field in ("setup", "form_cues", "precautions"):
            for index, text in enumerate(getattr(exercise, field)):
                yield f"exercise '{exercise.id}' {field}[{index + 1}]", text
        if exercise.pain_rules is not None and exercise.pain_rules.stop_note:
            yield f"exercise '{exercise.id}' pain_rules.stop_note", exercise.pain_rules.stop_note
    for path in catalog.routine_paths:
        routine = catalog.find(path.stem).routine
        yield f"routine '{routine.id}' description", routine.description
        for index, note in enumerate(routine.safety_notes):
            yield f"routine '{routine.id}' safety_notes[{index + 1}]", note
    if catalog.guidance is not None:
        for index, stage in enumerate(catalog.guidance.progression):
            yield f"guidance stage {index + 1} goal", stage.goal
            yield f"guidance stage {index + 1} progress_marker", stage.progress_marker
        for sign in catalog.guidance.warning_signs:
            yield f"guidance warning sign '{sign.id}'", sign.description
        for index, text in enumerate(catalog.guidance.avoid_during_flare_up):
            yield f"guidance avoid_during_flare_up[{index + 1}]", text


def _counting_seconds(exercise: Exercise) -> float:
    """Seconds spent holding, moving, relaxing and resting: speech not included."""
    if exercise.kind is ExerciseKind.TIMED:
        assert exercise.duration_minutes is not None
        return exercise.duration_minutes * 60
    efforts = exercise.side_count * exercise.sets * exercise.reps
    rests = (exercise.sets - 1) * exercise.rest_seconds
    if exercise.kind is ExerciseKind.HOLD:
        return efforts * exercise.hold_seconds + (efforts - 1) * exercise.relax_seconds + rests
    moving = efforts * (exercise.tempo_seconds + exercise.hold_seconds)
    switching = (exercise.side_count - 1) * exercise.sets * exercise.relax_seconds
    return moving + switching + rests


def _item(routine: LoadedRoutine, exercise_id: str) -> Exercise:
    for item in routine.items:
        if item.exercise.id == exercise_id:
            return item.exercise
    raise AssertionError(f"routine '{routine.routine.id}' has no '{exercise_id}'")


# ---------------------------------------------------------------- files and ids


def test_all_shipped_files_pass_the_checker() -> None:
    paths = sorted(ROUTINES.glob("*.yaml"))
    assert paths, "no routine files found"
    assert check_files(paths) == []


@pytest.mark.parametrize("routine_id", ROUTINE_IDS)
def test_routine_file_exists_and_its_name_is_its_id(routine_id: str) -> None:
    path = ROUTINES / f"{routine_id}.yaml"
    assert path.exists(), f"{path} is missing"
    loaded = Catalog.load(ROUTINES).find(routine_id)
    assert loaded.routine.id == routine_id


def test_every_routine_file_stem_equals_its_id(routines: dict[str, LoadedRoutine]) -> None:
    for stem, loaded in routines.items():
        assert loaded.routine.id == stem


def test_default_routine_is_the_gentle_first_week(catalog: Catalog) -> None:
    assert DEFAULT_ROUTINE == "first-week"
    assert catalog.find(None).routine.id == "first-week"


@pytest.mark.parametrize(("exercise_id", "kind_and_position"), EXPECTED_EXERCISES.items())
def test_seed_exercise_exists_with_kind_and_position(
    library: dict[str, Exercise],
    exercise_id: str,
    kind_and_position: tuple[ExerciseKind, Position],
) -> None:
    assert exercise_id in library, f"exercise '{exercise_id}' is missing from the library"
    exercise = library[exercise_id]
    assert (exercise.kind, exercise.position) == kind_and_position


# ---------------------------------------------------------------- seed numbers


def test_knee_to_chest_holds_30_seconds_3_times_alternating(
    library: dict[str, Exercise],
) -> None:
    exercise = library["knee-to-chest"]
    assert exercise.hold_seconds == 30
    assert exercise.reps == 3
    assert exercise.sides is Sides.ALTERNATE


def test_seated_piriformis_holds_45_seconds_each_side(library: dict[str, Exercise]) -> None:
    exercise = library["seated-piriformis-stretch"]
    assert exercise.hold_seconds == 45
    assert exercise.sides is Sides.LEFT_THEN_RIGHT


def test_lying_piriformis_holds_about_a_minute(library: dict[str, Exercise]) -> None:
    assert library["supine-piriformis-stretch"].hold_seconds == 60


def test_seated_hip_stretch_holds_30_seconds_a_few_times_each_side(
    library: dict[str, Exercise],
) -> None:
    exercise = library["seated-hip-stretch"]
    assert exercise.hold_seconds == 30
    assert exercise.reps >= 2
    assert exercise.sides is Sides.LEFT_THEN_RIGHT


def test_pelvic_tilts_and_cat_cow_counts(library: dict[str, Exercise]) -> None:
    assert library["pelvic-tilt"].reps == 15
    assert library["cat-cow"].reps == 10
    assert library["cat-cow"].tempo_seconds >= 4, "cat-cow is done slowly"


def test_bridge_two_sets_of_ten_with_five_second_hold(library: dict[str, Exercise]) -> None:
    bridge = library["bridge"]
    assert (bridge.sets, bridge.reps, bridge.hold_seconds) == (2, 10, 5)


def test_press_up_starts_short_and_may_reach_two_minutes(library: dict[str, Exercise]) -> None:
    press_up = library["prone-press-up"]
    assert 30 <= press_up.hold_seconds <= 60
    assert press_up.hold_range_seconds[1] == 120


def test_press_up_stops_when_pain_spreads_down_the_leg(library: dict[str, Exercise]) -> None:
    rules = library["prone-press-up"].pain_rules
    assert rules is not None
    assert rules.stop_if_spreads_down_leg is True
    assert rules.stop_note is not None
    assert "spine" in rules.stop_note
    assert "leg" in rules.stop_note


def test_figure_four_warns_about_the_knee(library: dict[str, Exercise]) -> None:
    rules = library["figure-four-stretch"].pain_rules
    assert rules is not None
    assert rules.stop_note is not None
    assert "knee" in rules.stop_note


def test_stretches_hold_within_seed_range(library: dict[str, Exercise]) -> None:
    """Seed 003: hold stretches 10 to 30 seconds; the piriformis and press-up go longer."""
    longer = {"seated-piriformis-stretch", "supine-piriformis-stretch", "prone-press-up"}
    longer.add("prone-lying")
    for exercise in library.values():
        if exercise.kind is ExerciseKind.HOLD and exercise.id not in longer:
            assert 3 <= exercise.hold_seconds <= 30, exercise.id


def test_walking_starts_at_five_minutes_with_a_time_check_every_minute(
    library: dict[str, Exercise],
) -> None:
    walking = library["walking"]
    assert walking.duration_minutes == 5
    assert walking.time_check_every_seconds == 60


def test_core_routine_follows_seed_002(routines: dict[str, LoadedRoutine]) -> None:
    core = routines["core-routine"]
    ids = [item.exercise.id for item in core.items]
    for needed in (
        "knee-to-chest",
        "seated-piriformis-stretch",
        "pelvic-tilt",
        "cat-cow",
        "prone-press-up",
    ):
        assert needed in ids
    knee = _item(core, "knee-to-chest")
    assert (knee.hold_seconds, knee.reps, knee.sides) == (30, 3, Sides.ALTERNATE)
    assert _item(core, "seated-piriformis-stretch").hold_seconds == 45
    assert _item(core, "pelvic-tilt").reps == 15
    assert _item(core, "cat-cow").reps == 10
    assert _item(core, "prone-press-up").hold_seconds == 120


def test_strengthening_routine_has_the_strengthening_exercises(
    routines: dict[str, LoadedRoutine],
) -> None:
    strengthening = routines["strengthening"]
    ids = {item.exercise.id for item in strengthening.items}
    assert {"bridge", "bird-dog", "partial-curl", "hip-extension-all-fours", "pelvic-tilt"} <= ids
    notes = " ".join(strengthening.routine.safety_notes).lower()
    assert "never hold your breath" in notes


def test_first_week_is_gentle(routines: dict[str, LoadedRoutine]) -> None:
    first = routines["first-week"]
    for item in first.items:
        exercise = item.exercise
        assert exercise.position is not Position.STANDING, "first week stays on the floor"
        if exercise.kind is ExerciseKind.HOLD and exercise.id != "prone-lying":
            assert exercise.hold_seconds <= 30, f"{exercise.id}: first-week holds stay short"
        assert exercise.sets == 1
    minutes = sum(_counting_seconds(item.exercise) for item in first.items) / 60
    assert 5 <= minutes <= 10, f"first-week counts for {minutes:.1f} minutes"


def test_quick_test_is_short(routines: dict[str, LoadedRoutine]) -> None:
    quick = routines["quick-test"]
    assert 2 <= len(quick.items) <= 3
    kinds = {item.exercise.kind for item in quick.items}
    assert {ExerciseKind.HOLD, ExerciseKind.REPS} <= kinds
    assert any(item.exercise.sides is Sides.LEFT_THEN_RIGHT for item in quick.items)
    total = sum(_counting_seconds(item.exercise) for item in quick.items)
    assert total < QUICK_TEST_MAX_COUNTING_SECONDS, f"quick-test counts for {total:g} s"


def test_stretch_routine_goes_back_and_hips_then_legs(routines: dict[str, LoadedRoutine]) -> None:
    ids = [item.exercise.id for item in routines["stretch-by-region"].items]
    back_and_hips = ["supine-piriformis-stretch", "back-extension", "cat-cow", "groin-stretch"]
    legs = ["ankle-pumps", "band-hamstring-stretch", "standing-hamstring-stretch"]
    assert set(back_and_hips + legs) <= set(ids)
    assert max(ids.index(i) for i in back_and_hips) < min(ids.index(i) for i in legs)


# ---------------------------------------------------------------- variants and levers


def test_every_variant_exists_and_every_chain_ends(library: dict[str, Exercise]) -> None:
    for direction in ("easier", "harder"):
        for start in library.values():
            seen = [start.id]
            current = getattr(start, direction)
            while current is not None:
                assert current in library, f"{seen[-1]}: {direction} '{current}' is missing"
                assert current not in seen, f"{direction} loop: {' -> '.join([*seen, current])}"
                seen.append(current)
                current = getattr(library[current], direction)


def test_variants_keep_the_kind_of_effort(library: dict[str, Exercise]) -> None:
    """A variant must be easier or harder in practice: never walking instead of a stretch."""
    for exercise in library.values():
        for target in (exercise.easier, exercise.harder):
            if target is not None:
                assert library[target].kind is not ExerciseKind.TIMED
                assert exercise.kind is not ExerciseKind.TIMED


def test_progression_never_pushes_past_library_limits(
    library: dict[str, Exercise], guidance: Guidance
) -> None:
    hold_factor = max(stage.hold_factor for stage in guidance.progression)
    reps_factor = max(stage.reps_factor for stage in guidance.progression)
    for exercise in library.values():
        if exercise.kind is ExerciseKind.HOLD:
            assert exercise.max_hold_seconds is not None, exercise.id
            assert exercise.hold_seconds * hold_factor <= exercise.max_hold_seconds, exercise.id
        if exercise.kind is not ExerciseKind.TIMED:
            assert exercise.max_reps is not None, exercise.id
            assert round(exercise.reps * reps_factor) <= exercise.max_reps, exercise.id


# ---------------------------------------------------------------- guidance


def test_progression_has_the_four_stages_of_seed_002(guidance: Guidance) -> None:
    weeks = [(stage.weeks_from, stage.weeks_to) for stage in guidance.progression]
    assert weeks == [(1, 2), (3, 4), (5, 8), (9, None)]
    assert [stage.strengthening for stage in guidance.progression] == [False, False, True, True]
    walks = [stage.walk_minutes for stage in guidance.progression]
    assert walks[0] == 5
    assert walks[1] >= 15
    assert walks == sorted(walks)
    assert walks[-1] == 30
    holds = [stage.hold_factor for stage in guidance.progression]
    assert holds == sorted(holds)
    assert holds[1] > holds[0], "weeks 3-4 increase hold times"


def test_warning_signs_send_you_to_a_doctor(guidance: Guidance) -> None:
    signs = {sign.id: sign for sign in guidance.warning_signs}
    urgent = {"bladder-bowel", "foot-weakness", "worsening-despite-rest", "both-legs"}
    urgent.add("saddle-numbness")
    for ident in urgent:
        assert ident in signs, f"warning sign '{ident}' is missing"
        assert signs[ident].urgent, ident
    assert signs["no-improvement-four-weeks"].urgent is False
    text = {ident: sign.description.lower() for ident, sign in signs.items()}
    assert "bladder" in text["bladder-bowel"]
    assert "bowel" in text["bladder-bowel"]
    assert "foot" in text["foot-weakness"]
    assert "both" in text["both-legs"]
    assert "saddle" in text["saddle-numbness"]


def test_flare_up_advice_names_the_exercises_to_avoid(guidance: Guidance) -> None:
    text = " ".join(guidance.avoid_during_flare_up).lower()
    for needed in ("toe touches", "squats", "leg presses", "disc"):
        assert needed in text


# ---------------------------------------------------------------- written for the ear


def test_exercise_text_has_the_right_amount(library: dict[str, Exercise]) -> None:
    for exercise in library.values():
        assert 2 <= len(exercise.setup) <= 6, f"{exercise.id}: setup"
        assert 2 <= len(exercise.form_cues) <= 5, f"{exercise.id}: form_cues"
        assert 1 <= len(exercise.precautions) <= 3, f"{exercise.id}: precautions"


def test_routines_have_spoken_safety_notes(routines: dict[str, LoadedRoutine]) -> None:
    for ident, loaded in routines.items():
        assert 2 <= len(loaded.routine.safety_notes) <= 4, ident
        said = " ".join(loaded.routine.safety_notes).lower()
        assert "breath" in said, f"{ident}: say to keep breathing"


def test_every_sentence_is_short_and_complete(catalog: Catalog) -> None:
    problems = []
    for where, text in _spoken_texts(catalog):
        for sentence in _sentences(text):
            count = len(sentence.split())
            if count > MAX_WORDS_PER_SENTENCE:
                problems.append(f"{where}: {count} words: {sentence}")
            if not sentence.endswith((".", "!", "?")):
                problems.append(f"{where}: no closing punctuation: {sentence}")
            if not sentence[0].isupper():
                problems.append(f"{where}: should start with a capital: {sentence}")
    assert problems == []


def test_setup_sentences_do_one_thing_each(library: dict[str, Exercise]) -> None:
    for exercise in library.values():
        for sentence in exercise.setup:
            assert len(_sentences(sentence)) == 1, f"{exercise.id}: one sentence per step"
            words = len(sentence.split())
            assert words <= MAX_WORDS_PER_SETUP_SENTENCE, f"{exercise.id}: {sentence}"


def test_two_sided_setup_leaves_the_side_to_the_player(library: dict[str, Exercise]) -> None:
    for exercise in library.values():
        if exercise.sides is not Sides.NONE:
            for sentence in exercise.setup:
                assert not {"left", "right"} & set(_words(sentence)), f"{exercise.id}: {sentence}"


def test_spoken_text_has_nothing_espeak_reads_badly(catalog: Catalog) -> None:
    problems = []
    for where, text in _spoken_texts(catalog):
        if UNSPEAKABLE.search(text) or ABBREVIATIONS.search(text):
            problems.append(f"{where}: {text}")
    assert problems == []


def test_names_are_said_aloud_plainly(library: dict[str, Exercise]) -> None:
    for exercise in library.values():
        assert not UNSPEAKABLE.search(exercise.name), exercise.id
        assert not re.search(r"\d", exercise.name), exercise.id


def _seed_runs() -> tuple[set[tuple[str, ...]], list[str]]:
    runs: set[tuple[str, ...]] = set()
    short_passages: list[str] = []
    for passage in SEED_PASSAGES:
        words = _words(passage)
        if len(words) < COPY_RUN_WORDS:
            short_passages.append(" ".join(words))
        for start in range(len(words) - COPY_RUN_WORDS + 1):
            runs.add(tuple(words[start : start + COPY_RUN_WORDS]))
    return runs, short_passages


def _copied(text: str) -> list[str]:
    """The seed wording this text repeats: runs of COPY_RUN_WORDS words, or whole passages."""
    runs, short_passages = _seed_runs()
    words = _words(text)
    joined = f" {' '.join(words)} "
    found = [
        " ".join(words[start : start + COPY_RUN_WORDS])
        for start in range(len(words) - COPY_RUN_WORDS + 1)
        if tuple(words[start : start + COPY_RUN_WORDS]) in runs
    ]
    found += [passage for passage in short_passages if f" {passage} " in joined]
    return found


def test_no_sentence_copies_the_seed_pages(catalog: Catalog) -> None:
    problems = [
        f"{where}: copies '{run}'"
        for where, text in _spoken_texts(catalog)
        for run in _copied(text)
    ]
    assert problems == []


@pytest.mark.parametrize(
    "copied",
    [
        "Then, bend one knee towards your chest and hold it with your hands.",
        "Now stand up straight and raise one leg on to a step, slowly.",
        "Remember: switch legs and repeat the exercise.",
    ],
)
def test_copy_check_catches_seed_wording(copied: str) -> None:
    assert _copied(copied)


def test_copy_check_passes_own_wording() -> None:
    assert _copied("Slowly draw one knee up toward your chest.") == []
