"""Natural-language understanding for the embedded engine: what did the user mean, and which entities did they name?

This replaces the NLU half of a Rasa Open Source 3.6 server for chargedesk's Rasa-3-format design. It follows
Rasa's observable behaviour wherever the engine depends on it:

* button payloads (``/intent@0.9{"entity": "value"}``) are unpacked like Rasa's ``RegexMessageHandler``;
* low-confidence or ambiguous predictions become ``nlu_fallback`` like Rasa's ``FallbackClassifier``;
* entities come from the ``regex:`` blocks of ``nlu.yml`` like Rasa's ``RegexEntityExtractor`` (``entities.py``,
  which also normalises serials and references).

Only the intent classifier differs: instead of DIET it is a TF-IDF + logistic-regression model (scikit-learn),
which trains in about a second on the project's data and needs no GPU or TensorFlow. Text is normalised before it
is featurised (``normalise``: serials and references as one token each, Slack mentions dropped, apostrophes, a small
lexicon of reply words and misspellings), classes are balanced, and the softmax has a temperature fitted on
cross-validation folds (``TEMPERATURE``), so the fallback threshold compares against a calibrated confidence.
The training data is every ``data/nlu*.yml`` (``nlu_files``); ``chargedesk nlu-report`` measures the classifier.
Messages are scored with numpy alone (``bot.engine.scoring``), so a process whose model comes from the cache
(``bot.engine.model_cache``) never imports scikit-learn.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import unicodedata
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import yaml

from bot.engine.entities import EntityExtractor
from bot.engine.scoring import ANALYZER_KINDS, Analyzer, Block, Scorer

# scikit-learn (and scipy beneath it) is imported by the functions that train, never at module level: a process
# that loads a cached model (bot.engine.model_cache) scores with numpy alone and saves their import time and memory.

__all__ = [
    "DEFAULT_INTENTS",
    "FALLBACK_INTENT",
    "PAYLOAD_EXTRACTOR",
    "RANKING_LENGTH",
    "REFERENCE_TOKEN",
    "REGEX_EXTRACTOR",
    "SERIAL_TOKEN",
    "TEMPERATURE",
    "Entity",
    "Interpreter",
    "NluTrainingData",
    "ParsedMessage",
    "TrainedModel",
    "nlu_files",
    "normalise",
    "parse_payload",
    "read_nlu",
    "read_nlu_files",
]

logger = logging.getLogger(__name__)

FALLBACK_INTENT: Final = "nlu_fallback"
"""The intent Rasa's FallbackClassifier predicts when the classifier is unsure."""

DEFAULT_INTENTS: Final = frozenset({"restart", "back", "out_of_scope", "session_start", "nlu_fallback"})
"""Intents every Rasa domain contains implicitly, so a payload such as ``/restart`` is valid in any design."""

PAYLOAD_EXTRACTOR: Final = "RegexMessageHandler"
"""The ``extractor`` Rasa 3.6 writes on entities that came from a button payload."""

REGEX_EXTRACTOR: Final = "RegexEntityExtractor"
"""The ``extractor`` Rasa 3.6 writes on entities found by the ``regex:`` patterns."""

RANKING_LENGTH: Final = 10
"""How many intents the classifier ranks (DIET's default ``ranking_length``)."""

# The payload grammar of Rasa 3.6 (``YAMLStoryReader._regex_message_pattern``): the intent is everything up to the
# first "{" or "@", an optional "@<digits and dots>" confidence, an optional greedy "{...}" JSON object, and whatever
# is left over (ignored with a warning). The character classes must stay exactly like this to accept and reject the
# same texts as Rasa, e.g. "/greet{}" (the empty object does not count as entities) or "/greet me" (intent "greet me").
_PAYLOAD_PREFIX: Final = "/"
_PAYLOAD_PATTERN: Final = re.compile(
    r"^/(?P<intent>[^{@]+)(?P<confidence>@[0-9.]+)?(?P<entities>\{.+\})?(?P<rest>.*)",
)

# Entity annotations in training examples, as Rasa's entities_parser reads them:
# ``[text](entity)``, ``[text](entity:value)``, ``[text]{"entity": ...}`` and ``[text][{...}, {...}]``.
_ANNOTATION: Final = re.compile(
    r"\[(?P<text>[^\]]+?)\]"
    r"(?:\((?P<entity>[^:)]+?)(?::(?P<value>[^)]+))?\)"
    r"|\{(?P<dict>[^}]+?)\}"
    r"|\[(?P<dicts>.*?)\])",
)
_ANNOTATION_DICT: Final = re.compile(r"\{(?P<dict>[^}]+?)\}")

# Rasa strips only these around an example, so a tab inside an example's indentation survives as Rasa keeps it.
_EXAMPLE_STRIP: Final = "\n\r "
_LATEST_FORMAT_VERSION: Final = (3, 1)
_ITEM_KEYS: Final = {
    "intent": {"intent", "examples", "metadata"},
    "regex": {"regex", "examples"},
}
_UNSUPPORTED_ITEM_KEYS: Final = ("synonym", "lookup")


@dataclass(frozen=True)
class Entity:
    """One entity as Rasa reports it in ``parse_data["entities"]``.

    For regex matches ``start``/``end`` are the character span in the (stripped) message text and ``value`` is the
    text exactly as typed. For payload entities Rasa sets ``start``/``end`` to the span of the whole JSON object and
    ``value`` to whatever JSON value the payload carried. Entities annotated in training data have an empty
    ``extractor`` (Rasa's training examples carry none).
    """

    entity: str
    value: Any
    start: int | None
    end: int | None
    extractor: str

    def as_dict(self) -> dict[str, Any]:
        """The entity as Rasa writes it in ``parse_data``; ``start``/``end`` are left out when unknown."""
        data: dict[str, Any] = {"entity": self.entity}
        if self.start is not None:
            data["start"] = self.start
        if self.end is not None:
            data["end"] = self.end
        # A copy, so callers that edit the parse data cannot change this (frozen) entity through a shared dict.
        data["value"] = copy.deepcopy(self.value)
        data["extractor"] = self.extractor
        return data


@dataclass(frozen=True)
class ParsedMessage:
    """What the interpreter understood from one user message.

    ``intent_ranking`` is best first with at most ``RANKING_LENGTH`` classifier intents. When the fallback kicked in,
    Rasa puts ``nlu_fallback`` in front of the unchanged classifier ranking, so that ranking has one entry more.
    """

    text: str
    intent: str
    confidence: float
    entities: tuple[Entity, ...]
    intent_ranking: tuple[tuple[str, float], ...]

    def as_parse_data(self) -> dict[str, Any]:
        """Rasa's ``parse_data`` JSON: ``text``, ``intent``, ``entities`` and ``intent_ranking``."""
        return {
            "text": self.text,
            "intent": {"name": self.intent, "confidence": self.confidence},
            "entities": [entity.as_dict() for entity in self.entities],
            "intent_ranking": [{"name": name, "confidence": confidence} for name, confidence in self.intent_ranking],
        }

    @property
    def is_fallback(self) -> bool:
        """True when the fallback replaced the classifier's prediction."""
        return self.intent == FALLBACK_INTENT


# --------------------------------------------------------------------------------------------------------------------
# Button payloads
# --------------------------------------------------------------------------------------------------------------------


def parse_payload(
    text: str,
    known_intents: Collection[str],
    known_entities: Collection[str] | None = None,
) -> ParsedMessage | None:
    """Unpacks a button payload exactly as Rasa 3.6's ``RegexMessageHandler`` does.

    Accepted forms: ``/intent``, ``/intent@0.9``, ``/intent{"entity": "value"}`` and ``/intent@0.9{...}``, with
    surrounding whitespace ignored. The confidence defaults to 1.0, is capped at 1.0 and becomes 0.0 when it is not a
    number (e.g. ``@1.2.3``). A JSON list value becomes one entity per item; each payload entity spans the whole JSON
    object. JSON that does not decode to an object is dropped with a warning (the intent still counts), and so is
    anything after the object.

    Returns None when Rasa would treat the text as ordinary user text instead: it does not start with "/", it does
    not fit the payload grammar (e.g. "/" or "/{}"), or the intent is not in ``known_intents``. Rasa checks against
    its domain, which always contains ``DEFAULT_INTENTS`` as well; include them to behave the same.

    ``known_entities`` mirrors the domain's entity list: when given, entity types outside it are dropped with a
    warning, as Rasa does; when None, every entity type is kept (Rasa without a domain).
    """
    user_text = text.strip()
    if not user_text.startswith(_PAYLOAD_PREFIX):
        return None
    match = _PAYLOAD_PATTERN.match(user_text)
    if match is None:
        # Someone may simply have typed a slash; Rasa then classifies the text like any other message.
        logger.warning("Could not parse a %d-character payload; treating it as user text.", len(user_text))
        return None

    intent = match["intent"].strip()
    if intent not in known_intents:
        logger.warning("A payload names an unknown intent; treating it as user text.")
        return None

    confidence = _payload_confidence(match["confidence"], user_text)
    entities = _payload_entities(match, user_text, known_entities)
    if match["rest"]:
        logger.warning("Payload: ignoring %d characters after the intent, confidence and entities.", len(match["rest"]))
    return ParsedMessage(
        text=user_text,
        intent=intent,
        confidence=confidence,
        entities=entities,
        intent_ranking=((intent, confidence),),
    )


def _payload_confidence(raw: str | None, user_text: str) -> float:
    if raw is None:
        return 1.0
    number = raw.strip()[1:]  # without the "@"
    try:
        confidence = float(number)
    except ValueError:
        # The grammar allows "1.2.3" or "."; Rasa then continues with 0.0 rather than rejecting the payload.
        logger.warning("Payload: the confidence is not a number; using 0.0.")
        return 0.0
    if confidence > 1.0:
        logger.warning("Payload: confidence %s is above 1.0; using 1.0.", number)
        return 1.0
    return confidence


def _payload_entities(
    match: re.Match[str], user_text: str, known_entities: Collection[str] | None
) -> tuple[Entity, ...]:
    raw = match["entities"]
    if raw is None:
        return ()
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError) as error:
        # ValueError covers JSONDecodeError; RecursionError guards against absurdly nested input from a client.
        logger.warning("Payload: entities are not valid JSON (%s); continuing without entities.", type(error).__name__)
        return ()
    if not isinstance(parsed, dict):
        logger.warning("Payload: entities must be a JSON object; continuing without entities.")
        return ()

    if known_entities is not None:
        unknown = sorted(name for name in parsed if name not in known_entities)
        if unknown:
            logger.warning("Payload: ignoring %d unknown entity types.", len(unknown))
            parsed = {name: value for name, value in parsed.items() if name in known_entities}

    start, end = match.start("entities"), match.end("entities")
    entities: list[Entity] = []
    for name, value in parsed.items():
        values = value if isinstance(value, list) else [value]
        entities.extend(Entity(name, item, start, end, PAYLOAD_EXTRACTOR) for item in values)
    return tuple(entities)


# --------------------------------------------------------------------------------------------------------------------
# Training data
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NluTrainingData:
    """The NLU training data of a Rasa 3 ``nlu.yml``.

    ``examples`` maps each intent to its example texts with the entity annotations replaced by their text;
    ``annotated`` holds the annotated entities of each example in the same order (offsets into the plain text);
    ``regexes`` maps each regex name (an entity name) to its patterns, in file order.
    """

    examples: dict[str, list[str]]
    annotated: dict[str, list[list[Entity]]]
    regexes: dict[str, list[str]]

    @property
    def annotated_entity_types(self) -> frozenset[str]:
        """The entity types that occur in at least one annotation."""
        return frozenset(entity.entity for per_intent in self.annotated.values() for ex in per_intent for entity in ex)


def read_nlu(path: Path) -> NluTrainingData:
    """Reads a Rasa 3 ``nlu.yml`` (format version up to "3.1").

    Supports ``- intent:`` blocks (``examples: |`` lists or lists of ``text:`` mappings, optional ``metadata``) and
    ``- regex:`` blocks. Annotations ``[text](entity)``, ``[text](entity:value)``, ``[text]{"entity": ...}`` and
    ``[text][{...}, ...]`` are stripped to their text and kept in ``annotated``. Repeated blocks for the same intent
    or regex are merged, as Rasa does.

    Raises:
        ValueError: naming the file and the offending key, for ``synonym``/``lookup`` blocks (unsupported), retrieval
            ``responses``, unknown keys, a newer format version, empty names or examples, example lines that do not
            start with "-", malformed annotations and invalid regexes. Rasa skips some of these with a warning;
            failing loudly is safer for a design that is deployed without a separate training step.
    """
    name = str(path)
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ValueError(f"{name}: not valid YAML: {error}") from error
    if content is None:
        content = {}
    if not isinstance(content, dict):
        raise ValueError(f"{name}: the top level must be a mapping with the keys 'version' and 'nlu'")

    _check_version(name, content.get("version"))
    if "responses" in content:
        raise ValueError(f"{name}: key 'responses' (retrieval intents) is not supported")

    nlu = content.get("nlu")
    if nlu is None:
        nlu = []
    if not isinstance(nlu, list):
        raise ValueError(f"{name}: key 'nlu' must be a list of blocks")

    examples: dict[str, list[str]] = {}
    annotated: dict[str, list[list[Entity]]] = {}
    regexes: dict[str, list[str]] = {}
    for index, item in enumerate(nlu):
        where = f"{name}: nlu[{index}]"
        if not isinstance(item, dict):
            raise ValueError(f"{where}: each block under key 'nlu' must be a mapping")
        for unsupported in _UNSUPPORTED_ITEM_KEYS:
            if unsupported in item:
                raise ValueError(f"{where}: key '{unsupported}' is not supported by chargedesk's engine")
        kind = next((key for key in _ITEM_KEYS if key in item), None)
        if kind is None:
            raise ValueError(f"{where}: block has none of the keys 'intent', 'regex' (found {sorted(map(str, item))})")
        extra = sorted(str(key) for key in item if key not in _ITEM_KEYS[kind])
        if extra:
            raise ValueError(f"{where}: unknown key '{extra[0]}' in {kind} block")
        block_name = item[kind]
        if not isinstance(block_name, str) or not block_name.strip():
            # PyYAML reads YAML 1.1, where a bare ``no`` or ``on`` is a boolean; Rasa (YAML 1.2) would keep the text.
            raise ValueError(f"{where}: key '{kind}' must be a non-empty string (quote it), got {block_name!r}")
        if kind == "intent":
            for plain, entities in _intent_examples(f"{where} (intent '{block_name}')", item.get("examples")):
                examples.setdefault(block_name, []).append(plain)
                annotated.setdefault(block_name, []).append(entities)
        else:
            regexes.setdefault(block_name, []).extend(_regex_examples(f"{where} (regex '{block_name}')", item))
    return NluTrainingData(examples=examples, annotated=annotated, regexes=regexes)


def nlu_files(data_dir: Path) -> list[Path]:
    """The NLU files of a design: every ``nlu*.yml`` / ``nlu*.yaml`` in ``data/``, in name order.

    Rasa reads every file under ``data/``; the design keeps NLU in files named ``nlu*.yml`` (``nlu.yml`` for the core
    intents, ``nlu_<topic>.yml`` for each topic added later) next to ``rules.yml`` and ``stories.yml``, so reading
    those names finds exactly the NLU data. Name order makes the merged data (and so training) reproducible.
    """
    return sorted(
        (path for pattern in ("nlu*.yml", "nlu*.yaml") for path in data_dir.glob(pattern) if path.is_file()),
        key=lambda path: path.name,
    )


def read_nlu_files(paths: Sequence[Path]) -> NluTrainingData:
    """Reads several NLU files (see ``read_nlu``) and merges them as Rasa does.

    Blocks for the same intent or regex in several files are concatenated in file order, like repeated blocks in
    one file.

    Raises:
        ValueError: when ``paths`` is empty, or as ``read_nlu`` for any file.
    """
    if not paths:
        raise ValueError("no NLU files: expected data/nlu.yml (and optionally data/nlu_<topic>.yml)")
    examples: dict[str, list[str]] = {}
    annotated: dict[str, list[list[Entity]]] = {}
    regexes: dict[str, list[str]] = {}
    for path in paths:
        data = read_nlu(path)
        for intent, texts in data.examples.items():
            examples.setdefault(intent, []).extend(texts)
            annotated.setdefault(intent, []).extend(data.annotated[intent])
        for name, patterns in data.regexes.items():
            regexes.setdefault(name, []).extend(patterns)
    return NluTrainingData(examples=examples, annotated=annotated, regexes=regexes)


def _check_version(name: str, raw: Any) -> None:
    if raw is None:
        return  # Rasa reads a file without a version as the latest format.
    text = str(raw).strip("\"'")
    try:
        version = tuple(int(part) for part in text.split("."))
    except ValueError:
        raise ValueError(f"{name}: key 'version' must look like \"3.1\", got {raw!r}") from None
    if version > _LATEST_FORMAT_VERSION:
        # Rasa 3.6 skips such a file entirely; training silently without it would be worse than failing.
        raise ValueError(f"{name}: key 'version' is {text}, newer than the supported 3.1")


def _multiline_examples(where: str, examples: str) -> Iterator[str]:
    for line in examples.splitlines():
        if not line.strip():
            continue  # blank lines inside a block are harmless; Rasa only warns about them
        if not line.startswith("-"):
            raise ValueError(f"{where}: key 'examples': line {line!r} does not start with '-'")
        yield line[1:].strip(_EXAMPLE_STRIP)


def _intent_examples(where: str, examples: Any) -> Iterator[tuple[str, list[Entity]]]:
    texts: list[str]
    if isinstance(examples, str):
        texts = list(_multiline_examples(where, examples))
    elif isinstance(examples, list):
        texts = []
        for entry in examples:
            if not isinstance(entry, dict) or not isinstance(entry.get("text"), str):
                raise ValueError(f"{where}: key 'examples': each list entry needs a 'text' string, got {entry!r}")
            texts.append(entry["text"].strip(_EXAMPLE_STRIP))
    else:
        raise ValueError(f"{where}: key 'examples' must be a '|' block of '- ' lines or a list of 'text:' entries")
    if not texts:
        raise ValueError(f"{where}: key 'examples' has no examples")
    for text in texts:
        if not text:
            raise ValueError(f"{where}: key 'examples' contains an empty example")
        yield _strip_annotations(where, text)


def _strip_annotations(where: str, example: str) -> tuple[str, list[Entity]]:
    """The example's plain text and its annotated entities, with offsets into the plain text."""
    pieces: list[str] = []
    length = 0  # length of the plain text built so far
    last = 0
    entities: list[Entity] = []
    for match in _ANNOTATION.finditer(example):
        before = example[last : match.start()]
        pieces.append(before)
        length += len(before)
        surface = match["text"]
        start, end = length, length + len(surface)
        if match["entity"] is not None:
            value = match["value"] if match["value"] is not None else surface
            entities.append(Entity(match["entity"], value, start, end, ""))
        elif match["dict"] is not None:
            entities.append(_annotation_from_dict(where, example, match["dict"], surface, start, end))
        else:
            # One text annotated with several entities: ``[text][{...}, {...}]``.
            for inner in _ANNOTATION_DICT.finditer(match["dicts"]):
                entities.append(_annotation_from_dict(where, example, inner["dict"], surface, start, end))
        pieces.append(surface)
        length = end
        last = match.end()
    pieces.append(example[last:])
    return "".join(pieces), entities


def _annotation_from_dict(where: str, example: str, body: str, surface: str, start: int, end: int) -> Entity:
    try:
        data = json.loads("{" + body + "}")
    except ValueError as error:
        raise ValueError(f"{where}: key 'examples': invalid entity annotation in {example!r}: {error}") from error
    entity = data.get("entity") if isinstance(data, dict) else None
    if not isinstance(entity, str):
        raise ValueError(f"{where}: key 'examples': annotation in {example!r} needs an 'entity' string")
    value = data.get("value", surface)
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ValueError(f"{where}: key 'examples': annotation 'value' in {example!r} must be a string or number")
    return Entity(entity, value, start, end, "")


def _regex_examples(where: str, item: Mapping[str, Any]) -> list[str]:
    examples = item.get("examples")
    if not isinstance(examples, str):
        raise ValueError(f"{where}: key 'examples' must be a '|' block of '- ' lines")
    patterns = list(_multiline_examples(where, examples))
    if not patterns:
        raise ValueError(f"{where}: key 'examples' has no patterns")
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as error:
            raise ValueError(f"{where}: key 'examples': invalid regular expression {pattern!r}: {error}") from error
    return patterns


# --------------------------------------------------------------------------------------------------------------------
# The interpreter
# --------------------------------------------------------------------------------------------------------------------

# Logistic regression's inverse regularisation strength. TF-IDF rows are L2-normalised, so with the default C=1 the
# probabilities of 18 classes stay flat (rarely above 0.3) and nearly everything would hit the 0.55 fallback
# threshold; a large C gives DIET-like sharp confidences for in-domain text while unseen vocabulary still yields a
# flat, low distribution that falls back.
_LOGREG_C: Final = 50.0

# Temperature of the softmax: the logits are divided by it, so below 1 sharpens and above 1 flattens. Logistic
# regression's probabilities are not calibrated for this many classes; `chargedesk nlu-report` fits the temperature
# that minimises the log-loss of the cross-validation folds (it prints it) and this is that figure, rounded, so that a
# confidence of 0.55 means about 55 % of such predictions are right and the fallback threshold means what it says.
TEMPERATURE: Final = 0.7


@dataclass(frozen=True)
class TrainedModel:
    """A trained interpreter as plain data: the numpy scorer and the entity regexes (``model_cache`` stores it)."""

    scorer: Scorer
    regexes: Mapping[str, Sequence[str]]
    annotated_entity_types: frozenset[str]


class Interpreter:
    """Understands user text: button payloads first, else the classifier, then regex entities.

    Build one with ``Interpreter.train`` (or ``from_model``, for a cached one); ``parse`` is then cheap (about
    0.1 ms) and safe to call from several threads, since it only reads the fitted model.
    """

    def __init__(
        self,
        *,
        labels: Sequence[str],
        words: Block,
        scorer: Scorer | None,
        classifier: Any,
        regexes: Mapping[str, Sequence[str]],
        annotated_entity_types: frozenset[str],
        threshold: float,
        ambiguity_threshold: float,
        payload_intents: frozenset[str],
        payload_entities: frozenset[str] | None,
    ) -> None:
        """Use ``Interpreter.train`` or ``Interpreter.from_model``; this constructor only stores what they give.

        ``scorer`` scores with numpy alone; ``classifier`` is the fitted scikit-learn pipeline, None when the model
        came from the cache (it is needed only when there is no scorer: two intents).
        """
        if scorer is None and classifier is None:
            raise ValueError("an interpreter needs a scorer or a fitted classifier")
        self._scorer = scorer
        self._classifier = classifier
        self._labels: tuple[str, ...] = tuple(labels)
        self._regexes = {name: list(patterns) for name, patterns in regexes.items()}
        self._annotated_entity_types = annotated_entity_types
        self._entities = EntityExtractor.from_regexes(self._regexes, annotated_entity_types)
        self._threshold = threshold
        self._ambiguity_threshold = ambiguity_threshold
        self._payload_intents = payload_intents
        self._payload_entities = payload_entities
        self._words = words.analyzer
        self._known_words = frozenset(feature for feature in words.vocabulary if " " not in feature)

    @classmethod
    def from_model(
        cls,
        model: TrainedModel,
        *,
        threshold: float,
        ambiguity_threshold: float,
        intents: Collection[str],
        entities: Collection[str] | None = None,
    ) -> Interpreter:
        """An interpreter of a model trained earlier (``model``), with this design's thresholds, intents and entities.

        Raises:
            ValueError: as ``train``, when the model predicts an intent that is not in ``intents``.
        """
        allowed = set(intents)
        unknown = sorted(intent for intent in model.scorer.labels if intent not in allowed)
        if unknown:
            raise ValueError(f"the training data has intents that are not in the domain: {', '.join(unknown)}")
        return cls(
            labels=model.scorer.labels,
            words=model.scorer.blocks[0],
            scorer=model.scorer,
            classifier=None,
            regexes=model.regexes,
            annotated_entity_types=model.annotated_entity_types,
            threshold=threshold,
            ambiguity_threshold=ambiguity_threshold,
            payload_intents=frozenset(allowed | DEFAULT_INTENTS),
            payload_entities=None if entities is None else frozenset(entities),
        )

    @property
    def model(self) -> TrainedModel | None:
        """What this interpreter is made of, as arrays and texts (to cache); None when scikit-learn must score it."""
        if self._scorer is None:
            return None
        return TrainedModel(self._scorer, self._regexes, self._annotated_entity_types)

    @classmethod
    def train(
        cls,
        data: NluTrainingData,
        *,
        threshold: float,
        ambiguity_threshold: float,
        intents: Collection[str],
        entities: Collection[str] | None = None,
        random_state: int = 0,
        temperature: float = TEMPERATURE,
    ) -> Interpreter:
        """Trains the intent classifier on ``data`` and prepares the regex entity extractor.

        Args:
            data: the training data from ``read_nlu``.
            threshold: FallbackClassifier ``threshold`` (config.yml).
            ambiguity_threshold: FallbackClassifier ``ambiguity_threshold`` (config.yml).
            intents: the domain's intents. Payloads may name these or one of ``DEFAULT_INTENTS``; the classifier can
                only predict the ones that have examples.
            entities: the domain's entities; payload entities of other types are dropped, as Rasa does. None keeps
                every payload entity.
            random_state: seed for the classifier, so that training is reproducible.
            temperature: the softmax temperature (``TEMPERATURE``; 1.0 gives the raw logistic regression).

        Raises:
            ValueError: when the data has an intent that is not in ``intents``, or fewer than two intents with
                examples (a classifier needs something to choose between).
        """
        allowed = set(intents)
        unknown = sorted(intent for intent in data.examples if intent not in allowed)
        if unknown:
            raise ValueError(f"the training data has intents that are not in the domain: {', '.join(unknown)}")
        labelled = [(text, intent) for intent, texts in data.examples.items() for text in texts]
        if len({intent for _, intent in labelled}) < 2:
            raise ValueError("the training data needs examples for at least two intents")

        classifier = _new_classifier(random_state)
        classifier.fit([text for text, _ in labelled], [intent for _, intent in labelled])
        if not temperature > 0:
            raise ValueError(f"the temperature must be positive, got {temperature}")
        if temperature != 1.0:
            # softmax(z / T) == softmax(W/T · x + b/T): scaling the fitted weights applies the temperature inside the
            # model, so scikit-learn's predict_proba and the hand scorer both see it, with no work per message.
            model = classifier.steps[-1][1]
            model.coef_ = model.coef_ / temperature
            model.intercept_ = model.intercept_ / temperature
        blocks = _blocks_of(classifier)
        if blocks is None:
            raise AssertionError("_new_classifier builds a word block and a character block")
        return cls(
            labels=[str(label) for label in classifier.classes_],
            words=blocks[0],
            scorer=_scorer_of(classifier, blocks),
            classifier=classifier,
            regexes=data.regexes,
            annotated_entity_types=data.annotated_entity_types,
            threshold=threshold,
            ambiguity_threshold=ambiguity_threshold,
            payload_intents=frozenset(allowed | DEFAULT_INTENTS),
            payload_entities=None if entities is None else frozenset(entities),
        )

    @property
    def intents(self) -> tuple[str, ...]:
        """The intents the classifier can predict (those with training examples), sorted."""
        return self._labels

    def parse(self, text: str) -> ParsedMessage:
        """Understands one user message.

        The text is stripped first (Rasa's ``UserMessage`` does the same), so entity offsets refer to the stripped
        text. A valid payload wins outright and carries only its own entities; anything else is classified, checked
        against the fallback thresholds and searched for regex entities. Empty text is ``nlu_fallback`` without
        entities, with the threshold as its confidence like every fallback.
        """
        user_text = text.strip()
        payload = parse_payload(user_text, self._payload_intents, self._payload_entities)
        if payload is not None:
            return payload
        ranking = self._rank(user_text) if user_text else ()
        entities = self._extract_entities(user_text)
        return self._with_fallback(user_text, ranking, entities, unknown=self._all_words_unknown(user_text))

    def _all_words_unknown(self, text: str) -> bool:
        """Several words and not one of them in any training example, in any language: gibberish, or a language we
        do not speak. Character n-grams from four languages' examples would otherwise pull it towards some intent
        ("asdfgh jkl" towards `affirm`). A single unknown word is left to the classifier: dialect greetings and
        thanks ("servas", "hallootjes") are understood by their letters."""
        unigrams = [token for token in self._words(text) if " " not in token]
        return len(unigrams) >= 2 and not any(token in self._known_words for token in unigrams)

    def probabilities(self, text: str) -> dict[str, float]:
        """The classifier's probability of every intent it knows for ``text`` (no payloads, no fallback)."""
        values = self._probabilities(text.strip())
        return {label: float(value) for label, value in zip(self._labels, values, strict=True)}

    def _rank(self, text: str) -> tuple[tuple[str, float], ...]:
        probabilities = self._probabilities(text)
        # Stable sort, so equal probabilities keep the (alphabetical) label order and the ranking is reproducible.
        order = np.argsort(-probabilities, kind="stable")[:RANKING_LENGTH]
        return tuple((self._labels[int(i)], float(probabilities[int(i)])) for i in order)

    def _probabilities(self, text: str) -> np.ndarray:
        if self._scorer is not None:
            probabilities = self._scorer.probabilities(text)
        else:
            import sklearn

            # One short text at a time: sklearn's input and parameter checks cost more than the prediction itself.
            with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
                probabilities = np.asarray(self._classifier.predict_proba([text])[0], dtype=np.float64)
        return probabilities

    def _with_fallback(
        self, text: str, ranking: tuple[tuple[str, float], ...], entities: tuple[Entity, ...], *, unknown: bool
    ) -> ParsedMessage:
        # Rasa's FallbackClassifier: a missing prediction counts as confidence 0.0; a single-intent ranking is never
        # ambiguous. Falling back puts nlu_fallback first and keeps the classifier's ranking behind it.
        top_intent, top_confidence = ranking[0] if ranking else (FALLBACK_INTENT, 0.0)
        below = top_confidence < self._threshold
        ambiguous = len(ranking) >= 2 and ranking[0][1] - ranking[1][1] < self._ambiguity_threshold
        # With the fallback switched off (threshold 0, as Rasa allows) nothing falls back, unknown words included.
        unknown = unknown and self._threshold > 0
        if not (below or ambiguous or unknown):
            return ParsedMessage(text, top_intent, top_confidence, entities, ranking)
        if ranking:
            logger.debug(
                # The message's length, never its words: people type emails and names.
                "Falling back on a %d-character message: %s at %.3f (runner-up gap %s).",
                len(text),
                top_intent,
                top_confidence,
                f"{ranking[0][1] - ranking[1][1]:.3f}" if len(ranking) >= 2 else "n/a",
            )
        # Rasa reports the fallback with the threshold itself as its confidence, whatever the classifier said.
        fallback = (FALLBACK_INTENT, self._threshold)
        return ParsedMessage(text, FALLBACK_INTENT, self._threshold, entities, (fallback, *ranking))

    def _extract_entities(self, text: str) -> tuple[Entity, ...]:
        return tuple(
            Entity(found.entity, found.value, found.start, found.end, REGEX_EXTRACTOR)
            for found in self._entities.extract(text)
        )


# What the classifier sees is normalised first, so that the ways customers write the same thing look the same:
# the letters of a particular serial or reference say nothing about the intent (that it *is* a serial does), Slack
# adds mentions and emoji codes, and apostrophes come and go ("can't", "cant", and with a typographic apostrophe).
_MENTION: Final = re.compile(r"<[@#!][^>]*>|@chargedesk\b")
_EMOJI_CODE: Final = re.compile(r":([a-z0-9_+-]+):")
_SERIAL_LIKE: Final = re.compile(r"\bace[\s-]?\d[\d\s]{2,14}\d\b|\b\d{5}\s?r\s?\d{3}\b")
_REFERENCE_LIKE: Final = re.compile(r"\b(?:st|ar|mt)-?\s?\d{1,6}\b")
_APOSTROPHES: Final = re.compile("['\u2019`\u00b4]")  # straight, typographic, grave, acute
_REPEATS: Final = re.compile(r"([a-z])\1{2,}")
_SPACES: Final = re.compile(r"\s+")
# Words customers use for the same short reply, and common misspellings of the domain's words, mapped to one form
# (a lexicon, like Rasa's synonyms for the classifier): a word seen once in training then stands for all of them.
# Written from general knowledge of how people write; words that failed in tests/nlu/heldout.yml were deliberately
# left out, so the held-out figure stays a measure of generalisation.
_LEXICON: Final[dict[str, tuple[str, ...]]] = {
    "hello": ("hi", "hii", "hey", "heyy", "heya", "hiya", "helo", "hallo", "hullo", "howdy", "moin", "hai", "heyo"),
    "bye": ("byee", "goodbye", "goodbey", "cya", "ttyl", "laters", "adios", "farewell", "g2g", "gtg"),
    "thanks": ("thx", "thanx", "thnx", "tks", "ty", "tysm", "thnaks", "thankyou", "thanku", "thankss", "thanxs"),
    "yes": (
        "y",
        "yep",
        "yup",
        "yeah",
        "yea",
        "yeh",
        "yas",
        "yess",
        "ja",
        "certainly",
        "absolutely",
        "indeed",
        "affirmative",
        "mhm",
        "mhmm",
    ),
    "ok": ("okay", "okey", "k", "kk", "okk", "okie", "oki"),
    "no": ("n", "nope", "nopes", "nah", "nay", "nein", "non", "noo", "nö", "negative"),
    "please": ("pls", "plz", "plss", "pleas", "pleae", "plse"),
    "you": ("u",),
    "help": ("halp", "hlep", "hepl", "helpp"),
    "question": ("qustion", "quesiton", "questoin", "q"),
    "cancel": ("canel", "cancle", "cancell", "cancl", "cnacel", "abort", "nvm", "nevermind", "nevermnd"),
    # Verbs that mean "stop what we are doing" in a chat; a few examples of each could never cover them all.
    "stop": ("quit", "exit", "halt", "abandon", "discard", "scrap", "scratch"),
    "change": ("chnage", "chagne", "chnge", "cange", "chang"),
    "edit": ("edti", "eidt"),
    "submit": ("sumbit", "submitt", "sbumit", "subimt"),
    "serial": ("serail", "seriel", "srial"),
    "charger": ("chargr", "chrager", "charher", "chager", "wallbox", "wallboxes"),
    "chargers": ("chargrs", "chragers"),
    "operator": ("oprator", "operater", "opertor", "operatr"),
    "service": ("servce", "serivce", "servcie", "sevice", "servise"),
    "ticket": ("tiket", "tickt", "ticet"),
    "select": ("selct", "selcet", "slect", "selec"),
    "linked": ("linkd", "lnked"),
    "status": ("staus", "stauts", "statsu"),
    "request": ("reqeust", "requst", "rquest"),
    "management": ("mangement", "managment", "managament"),
    "transfer": ("tranfer", "trasnfer", "transfere"),
    "account": ("acount", "accout", "acc"),
    "company": ("compny", "comapny", "compnay"),
    "organisation": ("organization", "org", "organisaton", "organiztion"),
    "address": ("adress", "addres"),
    "working": ("workin", "wokring", "workng"),
    "broken": ("brokn", "borken", "broke"),
}
_LEXICON_WORDS: Final = {variant: canonical for canonical, variants in _LEXICON.items() for variant in variants}
_WORD: Final = re.compile(r"[^\W\d_]+", re.UNICODE)
SERIAL_TOKEN: Final = "serialno"
"""What every serial number becomes before classification."""
REFERENCE_TOKEN: Final = "referenceno"
"""What every request reference becomes before classification."""


def normalise(text: str) -> str:
    """The text as the classifier sees it: lowercase, serials and references as one token each, no Slack mentions,
    emoji codes as their words, no apostrophes, letters typed three or more times in a row ("hiiii") kept twice,
    no accents ("lädt", "géén", "ça" as "ladt", "geen", "ca": customers type them or not, in every language).

    Used as the vectorizers' ``preprocessor``, so scikit-learn and the hand scorer apply it identically.
    """
    lowered = _MENTION.sub(" ", _without_accents(text.lower()))
    lowered = _EMOJI_CODE.sub(r" \1 ", lowered)
    lowered = _SERIAL_LIKE.sub(f" {SERIAL_TOKEN} ", lowered)
    lowered = _REFERENCE_LIKE.sub(f" {REFERENCE_TOKEN} ", lowered)
    lowered = _APOSTROPHES.sub("", lowered)
    lowered = _REPEATS.sub(r"\1\1", lowered)
    lowered = _WORD.sub(_canonical_word, lowered)
    return _SPACES.sub(" ", lowered).strip()


def _without_accents(text: str) -> str:
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text.replace("ß", "ss").replace("œ", "oe"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _canonical_word(match: re.Match[str]) -> str:
    word = match.group()
    return _LEXICON_WORDS.get(word, word)


def _new_classifier(random_state: int) -> Any:
    # scikit-learn ships no type information (no py.typed), so mypy --strict needs the ignores in pyproject.toml.
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    words = TfidfVectorizer(
        analyzer="word",
        ngram_range=(1, 2),
        preprocessor=normalise,
        # Keep one-character tokens: "y", "n", "?" and "so" carry the meaning of short replies.
        token_pattern=r"(?u)\b\w+\b|[?!]",
        sublinear_tf=True,
    )
    # Character n-grams within word boundaries make the model robust to the typos users make ("servce", "chargr").
    # min_df=2: a character n-gram seen in one example only describes that example, not its intent; without them,
    # gibberish no longer drifts towards the intent with the most varied examples (out_of_scope) and falls back.
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), preprocessor=normalise, sublinear_tf=True, min_df=2)
    # newton-cg converges in a handful of iterations on this small, well-conditioned problem: about 0.1 s where lbfgs
    # needs several times longer for the same optimum (the loss is convex, so the solver does not change the model).
    # Balanced class weights: intents with more examples (service tickets) must not win ties by sheer numbers.
    return Pipeline(
        [
            ("features", FeatureUnion([("words", words), ("chars", chars)])),
            (
                "model",
                LogisticRegression(
                    C=_LOGREG_C,
                    class_weight="balanced",
                    solver="newton-cg",
                    max_iter=1000,
                    random_state=random_state,
                ),
            ),
        ]
    )


def _blocks_of(classifier: Any) -> tuple[Block, ...] | None:
    """The feature blocks of a pipeline built by `_new_classifier`, with analyzers that need no scikit-learn; None for
    any other shape (scikit-learn then scores it)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion, Pipeline

    if not isinstance(classifier, Pipeline) or len(classifier.steps) != 2:
        return None
    union = classifier.steps[0][1]
    if not isinstance(union, FeatureUnion) or union.transformer_weights is not None:
        return None
    blocks: list[Block] = []
    offset = 0
    for _, vectorizer in union.transformer_list:
        if not (
            isinstance(vectorizer, TfidfVectorizer)
            and vectorizer.analyzer in ANALYZER_KINDS
            and vectorizer.preprocessor is normalise
            and vectorizer.tokenizer is None
            and vectorizer.stop_words is None
            and vectorizer.input == "content"
            and vectorizer.norm == "l2"
            and vectorizer.use_idf
            and not vectorizer.binary
            and vectorizer.dtype == np.float64
        ):
            return None
        vocabulary: dict[str, int] = vectorizer.vocabulary_
        analyzer = Analyzer(vectorizer.analyzer, tuple(vectorizer.ngram_range), vectorizer.token_pattern, normalise)
        blocks.append(Block(analyzer, vocabulary, vectorizer.idf_, offset, bool(vectorizer.sublinear_tf)))
        offset += len(vocabulary)
    return tuple(blocks) if blocks and blocks[0].analyzer.kind == "word" else None


def _scorer_of(classifier: Any, blocks: tuple[Block, ...]) -> Scorer | None:
    """The numpy scorer of a fitted `_new_classifier` pipeline; None for two classes (a logistic, not a softmax)."""
    from sklearn.linear_model import LogisticRegression

    model = classifier.steps[1][1]
    if not isinstance(model, LogisticRegression) or len(model.classes_) < 3:
        return None
    coef_t = np.ascontiguousarray(model.coef_.T, dtype=np.float64)
    labels = tuple(str(label) for label in model.classes_)
    return Scorer(labels, blocks, coef_t, np.asarray(model.intercept_, dtype=np.float64))
