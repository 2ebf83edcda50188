"""The classifier understands phrasings it was never trained on (tests/nlu/heldout.yml), and the cases issue 13 names.

The held-out file was written before the training corpus was grown, without looking at the training examples; it is
never trained on. Measured when this floor was set: 187 of 200 (0.935) with the corpus and classifier of issue 13
(0.795 before). The floor sits below that so a small, honest change in the data does not break the build.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.config import DESIGN_ROOT
from bot.engine.design import load_design
from bot.engine.evaluation import file_language, heldout_files, predict_with, read_heldout, scores
from bot.engine.understanding import Interpreter, NluTrainingData, nlu_files, normalise, read_nlu_files

ROOT = Path(__file__).resolve().parents[2]
HELDOUT_FLOOR = 0.90  # measured 0.919 after the corpus clean-up of issue 13 (0.908 before)


@pytest.fixture(scope="module")
def data() -> NluTrainingData:
    return read_nlu_files(nlu_files(DESIGN_ROOT / "data"))


@pytest.fixture(scope="module")
def interpreter(data: NluTrainingData) -> Interpreter:
    design = load_design(DESIGN_ROOT)
    return Interpreter.train(
        data,
        threshold=design.nlu.threshold,
        ambiguity_threshold=design.nlu.ambiguity_threshold,
        intents=design.domain.intents,
        entities=design.domain.entities,
    )


def test_heldout_is_never_trained_on(data: NluTrainingData) -> None:
    training = {text.lower() for texts in data.examples.values() for text in texts}
    heldout = read_heldout(ROOT / "tests" / "nlu" / "heldout.yml", set(data.examples))
    assert len(heldout) >= 10 * len(data.examples)
    for intent in data.examples:
        assert sum(label == intent for _, label in heldout) >= 10, intent
    assert [text for text, _ in heldout if text.lower() in training] == []


# Issue 15: each language's held-out phrasings (tests/nlu/heldout_<language>.yml), written apart from the training
# examples. Measured when these floors were set: macro-F1 Dutch 0.955, German 0.952, French 0.972 (English 0.942).
LANGUAGE_FLOOR = 0.92
LANGUAGE_FILES = [path for path in heldout_files(ROOT / "tests" / "nlu") if file_language(path) != "en"]


@pytest.mark.parametrize("path", LANGUAGE_FILES, ids=[file_language(p) for p in LANGUAGE_FILES])
def test_each_languages_heldout_is_never_trained_on_and_understood(
    data: NluTrainingData, interpreter: Interpreter, path: Path
) -> None:
    training = {normalise(text) for texts in data.examples.values() for text in texts}
    heldout = read_heldout(path, set(data.examples))
    for intent in data.examples:
        assert sum(label == intent for _, label in heldout) >= 12, intent
    assert [text for text, _ in heldout if normalise(text) in training] == []
    result = scores(predict_with(interpreter, heldout), data.examples)
    print(f"\nheld-out {file_language(path)}: accuracy {result.accuracy:.3f}, macro-F1 {result.macro_f1:.3f}")
    assert result.macro_f1 >= LANGUAGE_FLOOR


def test_heldout_accuracy_has_a_floor(data: NluTrainingData, interpreter: Interpreter) -> None:
    heldout = read_heldout(ROOT / "tests" / "nlu" / "heldout.yml", set(data.examples))
    result = scores(predict_with(interpreter, heldout), data.examples)
    print(
        f"\nheld-out: {result.total - len(result.failures)}/{result.total} = {result.accuracy:.3f}, "
        f"macro-F1 {result.macro_f1:.3f}"
    )
    assert result.accuracy >= HELDOUT_FLOOR


# The failure classes issue 13 names, in phrasings that are in no training file.
ISSUE_CASES = [
    ("ace0100002 not charging", "request_service_ticket"),
    ("10001r002 wont power up", "request_service_ticket"),
    ("the charger in our car park is dead again", "request_service_ticket"),
    ("our chargr keeps faling every night", "request_service_ticket"),
    ("we are the service operator and our charger does not work", "request_service_ticket"),
    ("why cant i open a ticket, we got the charger via a reseller", "faq_cannot_select_charger"),
    ("when raising a ticket my charger is missing from the list", "faq_cannot_select_charger"),
    ("wat does servce oprator mean", "faq_what_is_so"),
    ("plz transfer ace0100007 to our company", "request_transfer"),
    ("hey @chargedesk, morning :wave:", "greet"),
]


@pytest.mark.parametrize(("text", "intent"), ISSUE_CASES)
def test_the_issues_failure_classes_are_understood(
    data: NluTrainingData, interpreter: Interpreter, text: str, intent: str
) -> None:
    assert text.lower() not in {t.lower() for texts in data.examples.values() for t in texts}
    assert interpreter.parse(text).intent == intent


def test_normaliser_folds_what_customers_vary() -> None:
    assert normalise("<@U0123> Hi @chargedesk ACE0100002 can\u2019t charge :wave:") == "hello serialno cant charge wave"
    assert normalise("ace 010 0002 and 10001 r 001 and ACE-0100002") == "serialno and serialno and serialno"
    assert normalise("any news on MT-000042? st-42") == "any news on referenceno ? referenceno"
    assert normalise("THX!!! thanksss") == "thanks!!! thanks"
    assert normalise("  nvm   the chargr  ") == "cancel the charger"


def test_one_message_costs_well_under_a_millisecond(data: NluTrainingData, interpreter: Interpreter) -> None:
    texts = [text for texts in data.examples.values() for text in texts][:400]
    for text in texts[:20]:
        interpreter.parse(text)  # warm up
    started = time.process_time()
    for text in texts:
        interpreter.parse(text)
    per_message = (time.process_time() - started) / len(texts)
    print(f"\nparse: {per_message * 1e6:.0f} µs of CPU per message over {len(texts)} training texts")
    assert per_message < 0.001
