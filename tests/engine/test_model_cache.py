"""The trained classifier's cache (bot.engine.model_cache): used when fresh, ignored when stale or damaged, safe when
two processes start together, and scoring exactly as the freshly trained classifier does."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.config import DESIGN_ROOT, Settings
from bot.engine import model_cache
from bot.engine.design import ConversationDesign
from bot.engine.evaluation import heldout_files, read_heldout
from bot.engine.model_cache import DEFAULT_CACHE, cache_key, cache_path, load, load_or_train, save
from bot.engine.scoring import Analyzer
from bot.engine.understanding import Interpreter, normalise

HELDOUT = heldout_files(Path(__file__).resolve().parents[1] / "nlu")

# A design small enough to train in milliseconds: load_or_train reads only data/nlu*.yml and config.yml.
SMALL_NLU = """\
version: "3.1"
nlu:
- intent: greet
  examples: |
    - hello
    - hi there
    - good morning
- intent: goodbye
  examples: |
    - bye
    - see you later
    - good night
- intent: check_status
  examples: |
    - what is the status of [MT-000042](reference)
    - any news on my request
    - where is my ticket
- regex: reference
  examples: |
    - \\b[A-Z]{2}-\\d{6}\\b
"""
SMALL_INTENTS = ("greet", "goodbye", "check_status")
SMALL_ENTITIES = ("reference",)


@pytest.fixture
def small_design(tmp_path: Path) -> Path:
    root = tmp_path / "design"
    (root / "data").mkdir(parents=True)
    (root / "data" / "nlu.yml").write_text(SMALL_NLU, encoding="utf-8")
    (root / "config.yml").write_text("pipeline: []\n", encoding="utf-8")
    return root


class Trainings:
    """Counts `Interpreter.train` calls (the real training still runs)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = Interpreter.train.__func__  # type: ignore[attr-defined]

        def counting(cls: type[Interpreter], *args: Any, **kwargs: Any) -> Interpreter:
            self.count += 1
            interpreter: Interpreter = real(cls, *args, **kwargs)
            return interpreter

        monkeypatch.setattr(Interpreter, "train", classmethod(counting))


@pytest.fixture
def trainings(monkeypatch: pytest.MonkeyPatch) -> Trainings:
    return Trainings(monkeypatch)


def small(root: Path, cache: Path | None) -> Interpreter:
    return load_or_train(
        root, cache, threshold=0.3, ambiguity_threshold=0.1, intents=SMALL_INTENTS, entities=SMALL_ENTITIES
    )


def cached_files(cache: Path) -> list[str]:
    return sorted(path.name for path in cache.iterdir())


def test_a_second_start_reads_the_model_instead_of_training(
    small_design: Path, tmp_path: Path, trainings: Trainings
) -> None:
    cache = tmp_path / "models"
    first = small(small_design, cache)
    second = small(small_design, cache)
    assert trainings.count == 1
    assert len(cached_files(cache)) == 1 and cached_files(cache)[0].endswith(".npz")
    assert second._classifier is None  # from the cache: no scikit-learn pipeline behind it
    for text in ("hello", "bye bye", "status of MT-000042 please", "", "zzz qqq"):
        assert second.parse(text) == first.parse(text)


def test_no_cache_folder_always_trains(small_design: Path, trainings: Trainings) -> None:
    small(small_design, None)
    small(small_design, None)
    assert trainings.count == 2


@pytest.mark.parametrize(
    "change",
    [
        lambda root: (root / "data" / "nlu.yml").write_text(SMALL_NLU + "- intent: greet\n  examples: |\n    - hey\n"),
        lambda root: (root / "data" / "nlu_nl.yml").write_text(
            'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hallo\n'
        ),
        lambda root: (root / "config.yml").write_text("pipeline: []\nlanguage: en\n"),
    ],
    ids=["an NLU file changed", "an NLU file added", "config.yml changed"],
)
def test_changed_data_retrains_and_replaces_the_old_model(
    small_design: Path, tmp_path: Path, trainings: Trainings, change: Any
) -> None:
    cache = tmp_path / "models"
    small(small_design, cache)
    before = cached_files(cache)
    change(small_design)
    small(small_design, cache)
    assert trainings.count == 2
    after = cached_files(cache)
    assert len(after) == 1 and after != before  # the stale model is gone, not kept beside the new one
    small(small_design, cache)
    assert trainings.count == 2  # and the new one is used


def test_the_key_covers_the_domain_and_the_code(small_design: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = cache_key(small_design, SMALL_INTENTS, SMALL_ENTITIES)
    assert cache_key(small_design, SMALL_INTENTS, SMALL_ENTITIES) == key
    assert cache_key(small_design, (*SMALL_INTENTS, "thank"), SMALL_ENTITIES) != key
    assert cache_key(small_design, SMALL_INTENTS, None) != key
    code = small_design / "code.py"
    code.write_text("# another version of the code\n")
    monkeypatch.setattr(model_cache, "_CODE", (code,))
    assert cache_key(small_design, SMALL_INTENTS, SMALL_ENTITIES) != key


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(b"not a zip file"),
        lambda path: path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2]),
        lambda path: path.write_bytes(b""),
    ],
    ids=["garbage", "truncated", "empty"],
)
def test_a_damaged_file_is_ignored_and_replaced(
    small_design: Path,
    tmp_path: Path,
    trainings: Trainings,
    damage: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache = tmp_path / "models"
    expected = small(small_design, cache).parse("hi there")
    (path,) = cache.iterdir()
    damage(path)
    with caplog.at_level(logging.WARNING, logger="bot.engine.model_cache"):
        assert small(small_design, cache).parse("hi there") == expected
    assert trainings.count == 2
    assert "Ignoring the cached model" in caplog.text
    key = cache_key(small_design, SMALL_INTENTS, SMALL_ENTITIES)
    assert load(path, key) is not None  # written again, whole


def test_a_file_of_another_key_is_not_used(small_design: Path, tmp_path: Path) -> None:
    cache = tmp_path / "models"
    small(small_design, cache)
    (path,) = cache.iterdir()
    other = "0" * 64  # a file copied or renamed to another key's name
    shutil.copy(path, cache_path(cache, other))
    assert load(cache_path(cache, other), other) is None


def test_arrays_that_do_not_fit_together_are_refused(small_design: Path, tmp_path: Path) -> None:
    cache = tmp_path / "models"
    model = small(small_design, cache).model
    assert model is not None
    key = cache_key(small_design, SMALL_INTENTS, SMALL_ENTITIES)
    path = cache_path(cache, key)
    with np.load(path, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    arrays["coef_t"] = arrays["coef_t"][:-1]  # one feature short
    with path.open("wb") as handle:
        np.savez(handle, allow_pickle=False, **arrays)
    assert load(path, key) is None
    arrays["coef_t"] = np.zeros((3, 3), dtype=object)  # never unpickled
    with path.open("wb") as handle:
        np.savez(handle, allow_pickle=True, **arrays)
    assert load(path, key) is None


def test_an_unwritable_cache_costs_only_a_warning(
    small_design: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    with caplog.at_level(logging.WARNING, logger="bot.engine.model_cache"):
        interpreter = small(small_design, blocked / "models")
    assert interpreter.parse("hello").intent == "greet"
    assert "Could not cache the trained model" in caplog.text


def test_writing_leaves_no_temporary_files(small_design: Path, tmp_path: Path) -> None:
    cache = tmp_path / "models"
    model = small(small_design, cache).model
    assert model is not None
    key = cache_key(small_design, SMALL_INTENTS, SMALL_ENTITIES)
    for _ in range(3):
        assert save(cache_path(cache, key), key, model)
    assert cached_files(cache) == [cache_path(cache, key).name]


STARTER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from bot.engine.model_cache import load_or_train
    root, cache = Path(sys.argv[1]), Path(sys.argv[2])
    interpreter = load_or_train(
        root, cache, threshold=0.3, ambiguity_threshold=0.1,
        intents=("greet", "goodbye", "check_status"), entities=("reference",),
    )
    print(json.dumps([interpreter.parse(text).as_parse_data() for text in ("hello", "bye", "news on MT-000042")]))
    """
)


def test_processes_starting_together_do_not_break_each_other(small_design: Path, tmp_path: Path) -> None:
    cache = tmp_path / "models"
    command = [sys.executable, "-c", STARTER, str(small_design), str(cache)]
    # Cold: all train and write at once; then warm: all read at once.
    for _ in range(2):
        processes = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(4)]
        outputs = [process.communicate(timeout=120)[0] for process in processes]
        assert [process.returncode for process in processes] == [0] * 4
        assert len({output for output in outputs}) == 1
    assert len(cached_files(cache)) == 1
    key = cache_key(small_design, SMALL_INTENTS, SMALL_ENTITIES)
    assert load(cache_path(cache, key), key) is not None


WARM_START = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from bot.config import DESIGN_ROOT
    from bot.engine.engine import prepare
    _, interpreter = prepare(DESIGN_ROOT, Path(sys.argv[1]))
    texts = json.loads(sys.argv[2])
    print(json.dumps({
        "parsed": [interpreter.parse(text).as_parse_data() for text in texts],
        "imported": sorted(name for name in ("sklearn", "scipy") if name in sys.modules),
    }))
    """
)


@pytest.fixture(scope="module")
def warm_cache(tmp_path_factory: pytest.TempPathFactory, trained: tuple[ConversationDesign, Interpreter]) -> Path:
    """The real design's cache, written from the session's trained interpreter (no second training)."""
    design, interpreter = trained
    cache = tmp_path_factory.mktemp("models")
    key = cache_key(DESIGN_ROOT, design.domain.intents, design.domain.entities)
    assert interpreter.model is not None
    assert save(cache_path(cache, key), key, interpreter.model)
    return cache


def heldout_texts() -> list[str]:
    return [text for path in HELDOUT for text, _ in read_heldout(path)]


def test_a_warm_start_imports_no_scikit_learn_and_understands_the_same(
    warm_cache: Path, trained: tuple[ConversationDesign, Interpreter]
) -> None:
    _, interpreter = trained
    texts = [*heldout_texts()[::10], "", "/greet", "my charger ACE0100002 is broken"]
    result = subprocess.run(
        [sys.executable, "-c", WARM_START, str(warm_cache), json.dumps(texts)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    found = json.loads(result.stdout)
    assert found["imported"] == []
    assert found["parsed"] == [json.loads(json.dumps(interpreter.parse(text).as_parse_data())) for text in texts]


SHELL = textwrap.dedent(
    """
    import atexit, sys
    atexit.register(lambda: print("IMPORTED", *sorted(name for name in sys.argv[1:] if name in sys.modules)))
    from bot.cli import main
    sys.exit(main(["shell", "--as", "carla@citycharge.example", "--lang", "en"]))
    """
)


def test_the_shell_with_a_warm_cache_answers_without_scikit_learn_scipy_or_aiohttp(
    warm_cache: Path, tmp_path: Path
) -> None:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SLACK_", "RASA_", "ACTION_ENDPOINT", "DATABASE_", "CHARGEDESK_"))
    }
    env.update(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'shell.db'}", CHARGEDESK_MODEL_CACHE=str(warm_cache))
    result = subprocess.run(
        [sys.executable, "-c", SHELL, "sklearn", "scipy", "aiohttp"],
        input="hello\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=True,
    )
    assert "you> chargedesk: " in result.stdout  # it answered
    assert result.stdout.rstrip().endswith("IMPORTED")  # and none of the three was imported


def test_the_cached_scorer_gives_the_trained_probabilities_to_the_bit(
    warm_cache: Path, trained: tuple[ConversationDesign, Interpreter]
) -> None:
    design, interpreter = trained
    key = cache_key(DESIGN_ROOT, design.domain.intents, design.domain.entities)
    model = load(cache_path(warm_cache, key), key)
    assert model is not None
    cached = Interpreter.from_model(
        model,
        threshold=design.nlu.threshold,
        ambiguity_threshold=design.nlu.ambiguity_threshold,
        intents=design.domain.intents,
        entities=design.domain.entities,
    )
    texts = heldout_texts()
    assert len(texts) > 500
    pipeline = interpreter._classifier
    for text in texts:
        probabilities = cached.probabilities(text)
        assert probabilities == interpreter.probabilities(text), text
        assert np.array_equal(list(probabilities.values()), pipeline.predict_proba([text])[0]), text
        assert cached.parse(text) == interpreter.parse(text), text


def test_the_analyzers_cut_features_as_scikit_learn_does(trained: tuple[ConversationDesign, Interpreter]) -> None:
    _, interpreter = trained
    union = interpreter._classifier.steps[0][1]
    texts = [*heldout_texts(), "", "  a  b\t\tc \n d ", "Grüße, ça marche ? ß", "x" * 300, "a", "ab cd", "!?"]
    for _, vectorizer in union.transformer_list:
        ours = Analyzer(vectorizer.analyzer, vectorizer.ngram_range, vectorizer.token_pattern, normalise)
        theirs = vectorizer.build_analyzer()
        for text in texts:
            assert ours(text) == theirs(text), (vectorizer.analyzer, text)


def test_the_setting_defaults_to_the_engines_cache_and_reads_its_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert Settings().model_cache == DEFAULT_CACHE
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    monkeypatch.setenv("CHARGEDESK_MODEL_CACHE", str(tmp_path / "elsewhere"))
    assert Settings.from_env().model_cache == tmp_path / "elsewhere"
