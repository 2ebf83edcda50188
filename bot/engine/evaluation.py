"""Measuring the intent classifier like ``rasa test nlu``: stratified k-fold cross-validation and a held-out set.

A prediction counts as right only when it is the labelled intent after the fallback: a message that falls back to
``nlu_fallback`` was not understood, which is what the customer sees ("Sorry, I didn't understand that").
Precision, recall and F1 are per labelled intent; macro-F1 is their plain mean, as in Rasa's ``intent_report.json``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from bot.engine.understanding import Entity, Interpreter, NluTrainingData, read_nlu_files
from portal.languages import DEFAULT_LANGUAGE, LANGUAGES, Language

__all__ = [
    "Calibration",
    "CrossValidation",
    "Example",
    "Prediction",
    "Scores",
    "Split",
    "annotated_text",
    "calibration",
    "cross_validate",
    "file_language",
    "folds",
    "heldout_files",
    "labelled_examples",
    "languages_of",
    "predict_with",
    "read_heldout",
    "scores",
    "subset",
]

Example = tuple[str, str]
"""A text and its labelled intent."""


@dataclass(frozen=True)
class Prediction:
    """What a classifier made of one labelled text."""

    text: str
    intent: str
    predicted: str
    confidence: float
    top: str = ""
    """The classifier's best intent before the fallback (the same as ``predicted`` unless it fell back)."""

    @property
    def correct(self) -> bool:
        return self.predicted == self.intent

    def without_fallback(self) -> Prediction:
        """This prediction as if there were no fallback: the classifier's best intent."""
        return Prediction(self.text, self.intent, self.top or self.predicted, self.confidence, self.top)


@dataclass(frozen=True)
class IntentScores:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Scores:
    """Per-intent precision / recall / F1, macro-F1, accuracy, the confusions and the failed predictions."""

    per_intent: dict[str, IntentScores]
    macro_f1: float
    accuracy: float
    confusions: list[tuple[str, str, int]] = field(default_factory=list)
    failures: list[Prediction] = field(default_factory=list)
    total: int = 0


@dataclass(frozen=True)
class Split:
    """One fold: the indices (into the labelled examples) to train on and to test on."""

    train: list[int]
    test: list[int]


def labelled_examples(data: NluTrainingData) -> list[Example]:
    """Every training example with its intent, intents in data order."""
    return [(text, intent) for intent, texts in data.examples.items() for text in texts]


def folds(data: NluTrainingData, count: int, seed: int = 0) -> list[Split]:
    """Stratified, shuffled k-fold splits of the labelled examples (the same for every classifier compared).

    Raises:
        ValueError: when ``count`` is below 2 or an intent has fewer examples than folds.
    """
    if count < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    labels = [intent for _, intent in labelled_examples(data)]
    smallest = min(Counter(labels).values())
    if smallest < count:
        raise ValueError(f"an intent has only {smallest} examples: use at most {smallest} folds")
    # Imported here: `chargedesk` builds its argument parser from bot.nlu_report, which imports this module, and
    # every other command (the shell, the Slack app) must not pay for scikit-learn (bot.engine.model_cache).
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=count, shuffle=True, random_state=seed)
    return [
        Split(train=[int(i) for i in train], test=[int(i) for i in test])
        for train, test in splitter.split(labels, labels)
    ]


def subset(data: NluTrainingData, indices: Iterable[int]) -> NluTrainingData:
    """The training data restricted to the labelled examples at ``indices`` (regexes kept)."""
    wanted = set(indices)
    examples: dict[str, list[str]] = {}
    annotated: dict[str, list[list[Entity]]] = {}
    position = 0
    for intent, texts in data.examples.items():
        for text, entities in zip(texts, data.annotated[intent], strict=True):
            if position in wanted:
                examples.setdefault(intent, []).append(text)
                annotated.setdefault(intent, []).append(entities)
            position += 1
    return NluTrainingData(examples=examples, annotated=annotated, regexes=dict(data.regexes))


def annotated_text(text: str, entities: Sequence[Entity]) -> str:
    """The example with its entity annotations written back (``[ACE0100002](serial)``), for Rasa to train on."""
    pieces: list[str] = []
    last = 0
    for entity in sorted(entities, key=lambda e: e.start or 0):
        if entity.start is None or entity.end is None or entity.start < last:
            continue
        surface = text[entity.start : entity.end]
        value = "" if entity.value == surface else f":{entity.value}"
        pieces.append(text[last : entity.start] + f"[{surface}]({entity.entity}{value})")
        last = entity.end
    pieces.append(text[last:])
    return "".join(pieces)


def predict_with(interpreter: Interpreter, examples: Iterable[Example]) -> list[Prediction]:
    """The interpreter's predictions (after the fallback) for labelled texts."""
    predictions = []
    for text, intent in examples:
        parsed = interpreter.parse(text)
        # When it fell back, the classifier's own ranking follows nlu_fallback.
        top = parsed.intent_ranking[1][0] if parsed.is_fallback and len(parsed.intent_ranking) > 1 else parsed.intent
        predictions.append(Prediction(text, intent, parsed.intent, parsed.confidence, top))
    return predictions


def scores(predictions: Sequence[Prediction], intents: Collection[str] | None = None) -> Scores:
    """Per-intent precision / recall / F1 over the labelled ``intents`` (default: those in the predictions).

    A prediction of an intent outside the labels (``nlu_fallback``) lowers recall only, as in Rasa's report.
    """
    labels = sorted(intents if intents is not None else {p.intent for p in predictions})
    per_intent: dict[str, IntentScores] = {}
    for label in labels:
        true_positive = sum(p.intent == label and p.predicted == label for p in predictions)
        predicted = sum(p.predicted == label for p in predictions)
        support = sum(p.intent == label for p in predictions)
        precision = true_positive / predicted if predicted else 0.0
        recall = true_positive / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_intent[label] = IntentScores(precision, recall, f1, support)
    macro = sum(s.f1 for s in per_intent.values()) / len(per_intent) if per_intent else 0.0
    correct = sum(p.correct for p in predictions)
    confusions = Counter((p.intent, p.predicted) for p in predictions if not p.correct)
    return Scores(
        per_intent=per_intent,
        macro_f1=macro,
        accuracy=correct / len(predictions) if predictions else 0.0,
        confusions=[(true, predicted, n) for (true, predicted), n in confusions.most_common()],
        failures=[p for p in predictions if not p.correct],
        total=len(predictions),
    )


@dataclass(frozen=True)
class CrossValidation:
    """Every example's prediction by the fold that did not train on it, and that model's probability of each intent."""

    predictions: list[Prediction]
    probabilities: list[dict[str, float]]


def cross_validate(
    data: NluTrainingData,
    splits: Sequence[Split],
    train: Callable[[NluTrainingData], Interpreter],
) -> CrossValidation:
    """Trains on each split's training part and predicts its test part; every example is tested exactly once."""
    examples = labelled_examples(data)
    predictions: list[Prediction] = []
    probabilities: list[dict[str, float]] = []
    for split in splits:
        interpreter = train(subset(data, split.train))
        tested = [examples[i] for i in split.test]
        predictions.extend(predict_with(interpreter, tested))
        probabilities.extend(interpreter.probabilities(text) for text, _ in tested)
    return CrossValidation(predictions, probabilities)


@dataclass(frozen=True)
class Calibration:
    """How far the confidences can be trusted, and the temperature that would make them most trustworthy.

    ``temperature`` is relative to the model that produced the probabilities (multiply by the temperature it was
    trained with). ``above`` / ``below``: how many top predictions had a confidence at or above / below the
    threshold, and what share of them named the right intent.
    """

    temperature: float
    log_loss: float
    fitted_log_loss: float
    above: tuple[int, float]
    below: tuple[int, float]


def calibration(cross: CrossValidation, threshold: float) -> Calibration:
    """Fits a softmax temperature to the out-of-fold probabilities by minimising their log-loss (grid 0.2 to 3)."""
    intents = sorted({intent for p in cross.probabilities for intent in p})
    column = {intent: i for i, intent in enumerate(intents)}
    matrix = np.array([[p.get(intent, 0.0) for intent in intents] for p in cross.probabilities], dtype=np.float64)
    truth = np.array([column.get(p.intent, -1) for p in cross.predictions])
    known = truth >= 0
    logs = np.log(np.clip(matrix[known], 1e-300, None))
    rows = np.arange(int(known.sum()))

    def log_loss(temperature: float) -> float:
        scaled = logs / temperature
        scaled -= scaled.max(axis=1, keepdims=True)
        normaliser = np.log(np.exp(scaled).sum(axis=1))
        return float(np.mean(normaliser - scaled[rows, truth[known]]))

    grid = np.round(np.arange(0.2, 3.0001, 0.01), 2)
    losses = [log_loss(float(t)) for t in grid]
    best = int(np.argmin(losses))
    top = matrix.argmax(axis=1)
    confident = matrix.max(axis=1) >= threshold
    right = top == truth

    def share(mask: np.ndarray) -> tuple[int, float]:
        count = int(mask.sum())
        return count, float(right[mask].mean()) if count else 0.0

    return Calibration(float(grid[best]), log_loss(1.0), losses[best], share(confident), share(~confident))


def read_heldout(path: Path, intents: Collection[str] | None = None) -> list[Example]:
    """A held-out file: a YAML mapping of intent → list of texts.

    Raises:
        ValueError: naming the file, when it is not such a mapping, a text is not a string, or an intent is not in
            ``intents`` (when given).
    """
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(content, Mapping):
        raise ValueError(f"{path}: expected a mapping of intent to a list of texts")
    examples: list[Example] = []
    for intent, texts in content.items():
        if intents is not None and intent not in intents:
            raise ValueError(f"{path}: intent {intent!r} is not in the domain")
        if not isinstance(texts, list) or not all(isinstance(text, str) for text in texts):
            raise ValueError(f"{path}: intent {intent!r} needs a list of texts (quote texts with ': ')")
        examples.extend((text, str(intent)) for text in texts)
    return examples


def file_language(path: Path) -> Language:
    """The language of an NLU or held-out file: `nlu_nl.yml`, `heldout_de.yml` name theirs; any other is English."""
    suffix = path.stem.rsplit("_", 1)[-1] if "_" in path.stem else ""
    return next((language for language in LANGUAGES if language == suffix), DEFAULT_LANGUAGE)


def languages_of(paths: Iterable[Path]) -> dict[str, Language]:
    """Each training text's language, from the file it is in."""
    found: dict[str, Language] = {}
    for path in paths:
        language = file_language(path)
        for texts in read_nlu_files([path]).examples.values():
            found.update((text, language) for text in texts)
    return found


def heldout_files(directory: Path) -> list[Path]:
    """The held-out files: `heldout.yml` (English) and `heldout_<language>.yml`, in name order."""
    return sorted(directory.glob("heldout*.yml"))
