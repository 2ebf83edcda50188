"""The NLU of the embedded engine: payloads, nlu.yml reading, the intent classifier, fallback and regex entities.

Expectations marked "Rasa 3.6.21" were produced by running Rasa Open Source 3.6.21 (``RegexMessageHandler`` with the
project's domain, ``RegexEntityExtractor`` trained on data/nlu.yml, ``entities_parser``) and are hard-coded here.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from bot.config import DESIGN_ROOT
from bot.engine.design import load_design
from bot.engine.understanding import (
    DEFAULT_INTENTS,
    FALLBACK_INTENT,
    PAYLOAD_EXTRACTOR,
    RANKING_LENGTH,
    REGEX_EXTRACTOR,
    Entity,
    Interpreter,
    NluTrainingData,
    ParsedMessage,
    nlu_files,
    parse_payload,
    read_nlu,
    read_nlu_files,
)


def _domain_intents() -> list[str]:
    # The whole domain (every file under domain/), so intents that other topics add elsewhere count too.
    return list(load_design(DESIGN_ROOT).domain.intents)


def _fallback_settings() -> tuple[float, float]:
    config = yaml.safe_load((DESIGN_ROOT / "config.yml").read_text(encoding="utf-8"))
    fallback = next(item for item in config["pipeline"] if item["name"] == "FallbackClassifier")
    return float(fallback["threshold"]), float(fallback["ambiguity_threshold"])


INTENTS = _domain_intents()
THRESHOLD, AMBIGUITY = _fallback_settings()
# What Rasa checks payload intents against: the domain's intents plus its built-in ones.
PAYLOAD_INTENTS = frozenset(INTENTS) | DEFAULT_INTENTS
ENTITIES = ("serial", "reference")


@pytest.fixture(scope="module")
def nlu() -> NluTrainingData:
    # Every data/nlu*.yml, as the engine reads them.
    return read_nlu_files(nlu_files(DESIGN_ROOT / "data"))


@pytest.fixture(scope="module")
def interpreter(nlu: NluTrainingData) -> Interpreter:
    return Interpreter.train(
        nlu, threshold=THRESHOLD, ambiguity_threshold=AMBIGUITY, intents=INTENTS, entities=ENTITIES
    )


def _payload_result(text: str, intent: str, confidence: float, entities: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities,
        "intent_ranking": [{"name": intent, "confidence": confidence}],
    }


def _payload_entity(entity: str, value: Any, start: int, end: int) -> dict[str, Any]:
    return {"entity": entity, "value": value, "start": start, "end": end, "extractor": "RegexMessageHandler"}


# --------------------------------------------------------------------------------------------------------------------
# Payloads
# --------------------------------------------------------------------------------------------------------------------

# Taken from Rasa 3.6.21: RegexMessageHandler().process() with the project's domain, on the stripped text.
RASA_PAYLOADS: list[tuple[str, dict[str, Any] | None]] = [
    ("/greet", _payload_result("/greet", "greet", 1.0, [])),
    (
        '/request_transfer{"serial": "ACE0100002"}',
        _payload_result(
            '/request_transfer{"serial": "ACE0100002"}',
            "request_transfer",
            1.0,
            [_payload_entity("serial", "ACE0100002", 17, 41)],
        ),
    ),
    (
        '/request_transfer{"serial": ["ACE0100002", "10001R002"]}',
        _payload_result(
            '/request_transfer{"serial": ["ACE0100002", "10001R002"]}',
            "request_transfer",
            1.0,
            [_payload_entity("serial", "ACE0100002", 17, 56), _payload_entity("serial", "10001R002", 17, 56)],
        ),
    ),
    (
        '/inform{"serial": ["ACE0100002", "10001R002"], "reference": "MT-000042"}',
        _payload_result(
            '/inform{"serial": ["ACE0100002", "10001R002"], "reference": "MT-000042"}',
            "inform",
            1.0,
            [
                _payload_entity("serial", "ACE0100002", 7, 72),
                _payload_entity("serial", "10001R002", 7, 72),
                _payload_entity("reference", "MT-000042", 7, 72),
            ],
        ),
    ),
    ("/affirm@0.5", _payload_result("/affirm@0.5", "affirm", 0.5, [])),
    (
        '/affirm@0.5{"serial": "ACE0100002"}',
        _payload_result(
            '/affirm@0.5{"serial": "ACE0100002"}', "affirm", 0.5, [_payload_entity("serial", "ACE0100002", 11, 35)]
        ),
    ),
    ("/affirm@1.5", _payload_result("/affirm@1.5", "affirm", 1.0, [])),  # capped at 1.0
    ("/affirm@1.2.3", _payload_result("/affirm@1.2.3", "affirm", 0.0, [])),  # not a number: 0.0
    ("/greet@abc", _payload_result("/greet@abc", "greet", 1.0, [])),  # "@abc" is ignored as leftover text
    # Invalid JSON: the intent still counts, without entities.
    (
        '/request_transfer{"serial": ACE0100002}',
        _payload_result('/request_transfer{"serial": ACE0100002}', "request_transfer", 1.0, []),
    ),
    ("/request_transfer{not json", _payload_result("/request_transfer{not json", "request_transfer", 1.0, [])),
    ("/greet{}", _payload_result("/greet{}", "greet", 1.0, [])),
    # Surrounding whitespace is stripped, also from the reported text.
    ("   /greet   ", _payload_result("/greet", "greet", 1.0, [])),
    (
        '  /request_transfer{"serial": "ACE0100002"}  ',
        _payload_result(
            '/request_transfer{"serial": "ACE0100002"}',
            "request_transfer",
            1.0,
            [_payload_entity("serial", "ACE0100002", 17, 41)],
        ),
    ),
    ("/ greet ", _payload_result("/ greet", "greet", 1.0, [])),
    # Leftover text after the JSON object is ignored.
    (
        '/greet{"serial": "x"} trailing',
        _payload_result('/greet{"serial": "x"} trailing', "greet", 1.0, [_payload_entity("serial", "x", 6, 21)]),
    ),
    # Entity types outside the domain are dropped.
    (
        '/greet{"colour": "red", "serial": "x"}',
        _payload_result(
            '/greet{"colour": "red", "serial": "x"}', "greet", 1.0, [_payload_entity("serial", "x", 6, 38)]
        ),
    ),
    # Any JSON value passes through as the entity value.
    (
        '/greet{"serial": 5}',
        _payload_result('/greet{"serial": 5}', "greet", 1.0, [_payload_entity("serial", 5, 6, 19)]),
    ),
    (
        '/greet{"serial": {"a": 1}}',
        _payload_result('/greet{"serial": {"a": 1}}', "greet", 1.0, [_payload_entity("serial", {"a": 1}, 6, 26)]),
    ),
    (
        '/greet{"serial": null}',
        _payload_result('/greet{"serial": null}', "greet", 1.0, [_payload_entity("serial", None, 6, 22)]),
    ),
    # Built-in intents are part of every Rasa domain.
    ("/restart", _payload_result("/restart", "restart", 1.0, [])),
    # Not a payload for Rasa: the message stays user text for the NLU pipeline.
    ("/unknown_intent", None),
    ('/unknown_intent{"serial": "ACE0100002"}', None),
    ("/greet trailing words", None),  # the intent would be "greet trailing words"
    ('/request_transfer["a"]', None),  # the intent would be 'request_transfer["a"]'
    ("/", None),
    ("/{}", None),
    ("/@0.5", None),
    ("hello /greet", None),
    ("greet", None),
]


@pytest.mark.parametrize(("text", "expected"), RASA_PAYLOADS)
def test_payloads_parse_like_rasa(text: str, expected: dict[str, Any] | None) -> None:
    parsed = parse_payload(text, PAYLOAD_INTENTS, ENTITIES)
    if expected is None:
        assert parsed is None
    else:
        assert parsed is not None
        assert parsed.as_parse_data() == expected


def test_payload_entities_are_typed_entities() -> None:
    parsed = parse_payload('/request_transfer{"serial": "ACE0100002"}', PAYLOAD_INTENTS)
    assert parsed == ParsedMessage(
        text='/request_transfer{"serial": "ACE0100002"}',
        intent="request_transfer",
        confidence=1.0,
        entities=(Entity("serial", "ACE0100002", 17, 41, PAYLOAD_EXTRACTOR),),
        intent_ranking=(("request_transfer", 1.0),),
    )


def test_payload_without_known_entities_keeps_every_entity_type() -> None:
    parsed = parse_payload('/greet{"colour": "red"}', PAYLOAD_INTENTS)
    assert parsed is not None
    assert [(entity.entity, entity.value) for entity in parsed.entities] == [("colour", "red")]


def test_invalid_payload_json_logs_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.engine.understanding"):
        parsed = parse_payload('/request_transfer{"serial": ACE0100002}', PAYLOAD_INTENTS)
    assert parsed is not None and parsed.entities == ()
    assert "not valid JSON" in caplog.text


def test_unknown_payload_intent_logs_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.engine.understanding"):
        assert parse_payload("/unknown_intent", PAYLOAD_INTENTS) is None
    # Said, without the words typed (people type emails and names into payload-looking text too).
    assert "unknown intent" in caplog.text and "unknown_intent" not in caplog.text


def test_deeply_nested_payload_json_does_not_crash() -> None:
    parsed = parse_payload("/greet{" + '"a": ' + "[" * 100_000 + "]" * 100_000 + "}", PAYLOAD_INTENTS)
    assert parsed is not None and parsed.intent == "greet"


def test_entity_without_span_leaves_start_and_end_out() -> None:
    assert Entity("serial", "x", None, None, "X").as_dict() == {"entity": "serial", "value": "x", "extractor": "X"}


def test_parse_data_does_not_share_mutable_values() -> None:
    parsed = parse_payload('/greet{"serial": {"a": 1}}', PAYLOAD_INTENTS)
    assert parsed is not None
    parsed.as_parse_data()["entities"][0]["value"]["a"] = 2
    assert parsed.entities[0].value == {"a": 1}


# --------------------------------------------------------------------------------------------------------------------
# nlu.yml
# --------------------------------------------------------------------------------------------------------------------


def test_read_nlu_reads_the_project_data(nlu: NluTrainingData) -> None:
    assert len(nlu.examples) == len(INTENTS) >= 24  # every intent of the domain has examples
    assert set(nlu.examples) == set(INTENTS)
    for intent, examples in nlu.examples.items():
        assert len(examples) >= 60, intent
        assert len(nlu.annotated[intent]) == len(examples)
        for example in examples:
            assert "[" not in example and "](" not in example and "]{" not in example, example
            assert example == example.strip()
    assert nlu.regexes == {
        "serial": [
            r"(?<![a-z0-9])ace[ -]?\d(?: ?\d){3,11}(?![a-z0-9])",
            r"(?<![a-z0-9])\d(?: ?\d){4} ?r ?\d(?: ?\d){2}(?![a-z0-9])",
        ],
        "reference": [r"(?<![a-z0-9])(?:st|ar|mt) ?-? ?\d{1,6}(?![a-z0-9])"],
    }


def test_read_nlu_keeps_annotations_with_offsets_into_the_plain_text(nlu: NluTrainingData) -> None:
    # Taken from Rasa 3.6.21's loaded training data: 'charger [ACE0100002](serial) is offline since yesterday'.
    index = nlu.examples["request_service_ticket"].index("charger ACE0100002 is offline since yesterday")
    assert nlu.annotated["request_service_ticket"][index] == [Entity("serial", "ACE0100002", 8, 18, "")]
    for intent, examples in nlu.examples.items():
        for example, entities in zip(examples, nlu.annotated[intent], strict=True):
            for entity in entities:
                assert entity.start is not None and entity.end is not None
                assert example[entity.start : entity.end] == entity.value
    assert nlu.annotated_entity_types == {"serial", "reference"}


def _write(tmp_path: Path, content: str, name: str = "nlu.yml") -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def test_read_nlu_annotation_forms(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """\
version: "3.1"
nlu:
- intent: move
  examples: |
    - move [ACE0100002](serial) and [10001R002]{"entity": "serial", "value": "10001-R-002"} to [us](org:our company) now
    - both [Berlin][{"entity": "city", "role": "to"}, {"entity": "place"}] ok

    - plain
- intent: move
  examples:
  - text: |
      listed [ACE0100003](serial)
    metadata: {sentiment: neutral}
- regex: serial
  examples: |
    - ACE\\d+
""",
    )
    data = read_nlu(path)
    # Texts and offsets taken from Rasa 3.6.21's entities_parser for the same examples.
    assert data.examples == {
        "move": ["move ACE0100002 and 10001R002 to us now", "both Berlin ok", "plain", "listed ACE0100003"]
    }
    assert data.annotated["move"] == [
        [
            Entity("serial", "ACE0100002", 5, 15, ""),
            Entity("serial", "10001-R-002", 20, 29, ""),
            Entity("org", "our company", 33, 35, ""),
        ],
        [Entity("city", "Berlin", 5, 11, ""), Entity("place", "Berlin", 5, 11, "")],
        [],
        [Entity("serial", "ACE0100003", 7, 17, "")],
    ]
    assert data.regexes == {"serial": [r"ACE\d+"]}


@pytest.mark.parametrize(
    ("content", "key"),
    [
        ('version: "3.1"\nnlu:\n- synonym: charger\n  examples: |\n    - wallbox\n', "synonym"),
        ('version: "3.1"\nnlu:\n- lookup: city\n  examples: |\n    - Berlin\n', "lookup"),
        ('version: "3.1"\nnlu:\n  intent: greet\n', "nlu"),
        ('version: "3.1"\nnlu:\n- intent: greet\n  exmples: |\n    - hi\n', "exmples"),
        ('version: "3.1"\nnlu:\n- intent: greet\n', "examples"),
        ('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    hi\n', "examples"),
        ('version: "3.1"\nnlu:\n- intent: greet\n  examples: 42\n', "examples"),
        ('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi [x]{"value": 1}\n', "examples"),
        ('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi [x]{"entity": }\n', "examples"),
        ('version: "3.1"\nnlu:\n- intent:\n  examples: |\n    - hi\n', "intent"),
        ('version: "3.1"\nnlu:\n- intent: no\n  examples: |\n    - nope\n', "intent"),
        ('version: "3.1"\nnlu:\n- regex: serial\n  examples: |\n    - ACE(\\d+\n', "examples"),
        ('version: "3.1"\nnlu:\n- greeting: hi\n', "intent"),
        ('version: "3.1"\nnlu:\n- just a string\n', "nlu"),
        ('version: "3.2"\nnlu: []\n', "version"),
        ('version: "three"\nnlu: []\n', "version"),
        ('version: "3.1"\nresponses:\n  utter_faq/x:\n  - text: hi\n', "responses"),
        ("- not a mapping\n", "version"),
        ('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n  - oops: [\n', "YAML"),
    ],
)
def test_read_nlu_rejects_malformed_files_naming_file_and_key(tmp_path: Path, content: str, key: str) -> None:
    path = _write(tmp_path, content, name="broken_nlu.yml")
    with pytest.raises(ValueError, match=r"broken_nlu\.yml") as raised:
        read_nlu(path)
    assert key in str(raised.value)


def test_read_nlu_accepts_a_file_without_version(tmp_path: Path) -> None:
    data = read_nlu(_write(tmp_path, "nlu:\n- intent: greet\n  examples: |\n    - hi\n"))
    assert data.examples == {"greet": ["hi"]}


# --------------------------------------------------------------------------------------------------------------------
# Classifier and fallback
# --------------------------------------------------------------------------------------------------------------------


def test_training_time_is_printed(nlu: NluTrainingData, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.perf_counter()
    interpreter = Interpreter.train(nlu, threshold=THRESHOLD, ambiguity_threshold=AMBIGUITY, intents=INTENTS)
    elapsed = time.perf_counter() - started
    examples = sum(len(texts) for texts in nlu.examples.values())
    with capsys.disabled():
        print(f"\nInterpreter.train on {examples} examples / {len(interpreter.intents)} intents: {elapsed:.3f} s")


def test_classifier_fits_its_training_data(nlu: NluTrainingData, interpreter: Interpreter) -> None:
    pairs = [(text, intent) for intent, texts in nlu.examples.items() for text in texts]
    correct = sum(interpreter.parse(text).intent == intent for text, intent in pairs)
    assert correct / len(pairs) >= 0.95


def test_hand_scoring_gives_scikit_learns_probabilities_to_the_bit(
    nlu: NluTrainingData, interpreter: Interpreter
) -> None:
    # The interpreter scores one text without scikit-learn's per-call machinery (Interpreter._scorer); it must
    # not change a single probability, or rankings and fallback decisions could change.
    scorer, pipeline = interpreter._scorer, interpreter._classifier
    assert scorer is not None
    texts = [text for texts in nlu.examples.values() for text in texts]
    texts += [text for text, _ in UNSEEN] + ["", "  ", "?!", "zzqx", "Grüße, ça marche ? ß", "x" * 3000, "ACE0100002"]
    for text in texts:
        assert np.array_equal(scorer.probabilities(text), pipeline.predict_proba([text])[0]), text


UNSEEN = [
    ("hi there", "greet"),
    ("good morning everyone", "greet"),
    ("bye for now", "goodbye"),
    ("thank you, that was helpful", "thank"),
    ("yeah sure", "affirm"),
    ("nope not that", "deny"),
    ("please forget the request", "cancel"),
    ("tell me something funny", "out_of_scope"),
    ("i have a quick question", "have_question"),
    ("please update the address of our company", "request_admin_change"),
    ("my charger ACE0100002 shows error 42, can someone come fix it", "request_service_ticket"),
    ("our wallbox is broken and needs a technician", "request_service_ticket"),
    ("we bought 3 chargers from a reseller and want to manage them ourselves", "request_transfer"),
    ("any news on MT-000042", "check_status"),
    ("the serial is ACE0101010", "inform"),
    ("what exactly is a service operator", "faq_what_is_so"),
    ("why are we not the service operator of our own charger", "faq_why_not_so"),
    ("how do i become service operator", "faq_become_so"),
    ("my charger is not in the dropdown list", "faq_cannot_select_charger"),
    ("the portal says my account is not linked", "faq_not_linked"),
]


@pytest.mark.parametrize(("text", "intent"), UNSEEN)
def test_unseen_sentences_get_the_right_intent(
    nlu: NluTrainingData, interpreter: Interpreter, text: str, intent: str
) -> None:
    seen = {example.lower() for examples in nlu.examples.values() for example in examples}
    assert text.lower() not in seen, "the sentence must not be a training example"
    parsed = interpreter.parse(text)
    assert parsed.intent == intent
    assert parsed.confidence >= THRESHOLD
    assert parsed.intent_ranking[0] == (intent, parsed.confidence)
    assert len(parsed.intent_ranking) == RANKING_LENGTH
    confidences = [confidence for _, confidence in parsed.intent_ranking]
    assert confidences == sorted(confidences, reverse=True)


def test_status_question_carries_the_reference(interpreter: Interpreter) -> None:
    parsed = interpreter.parse("any news on MT-000042")
    assert parsed.intent == "check_status"
    assert parsed.entities == (Entity("reference", "MT-000042", 12, 21, REGEX_EXTRACTOR),)


@pytest.mark.parametrize("text", ["purple monkey dishwasher quantum", "asdf qwer zxcv", "banana"])
def test_nonsense_falls_back_like_rasa(interpreter: Interpreter, text: str) -> None:
    parsed = interpreter.parse(text)
    # Rasa's FallbackClassifier: the threshold becomes the confidence, and nlu_fallback is put in front of the
    # classifier's ranking, which stays as it was (so there are RANKING_LENGTH + 1 entries).
    assert parsed.intent == FALLBACK_INTENT
    assert parsed.confidence == THRESHOLD
    assert parsed.is_fallback
    assert parsed.intent_ranking[0] == (FALLBACK_INTENT, THRESHOLD)
    assert len(parsed.intent_ranking) == RANKING_LENGTH + 1
    original = parsed.intent_ranking[1:]
    # Below the threshold, or not one word the classifier knows (see the next test).
    assert original[0][1] < THRESHOLD or interpreter._all_words_unknown(text)
    assert {name for name, _ in original} <= set(INTENTS)
    assert parsed.as_parse_data()["intent"] == {"name": FALLBACK_INTENT, "confidence": THRESHOLD}


@pytest.mark.parametrize("text", ["asdfgh jkl", "purple monkey dishwasher quantum", "qwertz uiop asdf"])
def test_several_words_none_of_them_known_fall_back_whatever_the_classifier_leans_to(
    interpreter: Interpreter, text: str
) -> None:
    assert interpreter._all_words_unknown(text)
    assert interpreter.parse(text).intent == FALLBACK_INTENT


@pytest.mark.parametrize(("text", "intent"), [("tschüssle", "goodbye"), ("hallootjes", "greet"), ("dankeee", "thank")])
def test_a_single_unknown_word_is_still_read_by_its_letters(interpreter: Interpreter, text: str, intent: str) -> None:
    assert not interpreter._all_words_unknown(text)
    assert interpreter.parse(text).intent == intent


def test_ambiguous_prediction_falls_back(nlu: NluTrainingData) -> None:
    # No threshold but an ambiguity threshold above any possible gap: every prediction is "ambiguous".
    always = Interpreter.train(nlu, threshold=0.0, ambiguity_threshold=1.01, intents=INTENTS)
    parsed = always.parse("hi there")
    assert parsed.intent == FALLBACK_INTENT
    assert parsed.confidence == 0.0
    assert parsed.intent_ranking[0] == (FALLBACK_INTENT, 0.0)
    assert parsed.intent_ranking[1][0] == "greet"
    assert len(parsed.intent_ranking) == RANKING_LENGTH + 1
    never = Interpreter.train(nlu, threshold=0.0, ambiguity_threshold=0.0, intents=INTENTS)
    assert never.parse("purple monkey dishwasher quantum").intent != FALLBACK_INTENT


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_text_falls_back(interpreter: Interpreter, text: str) -> None:
    parsed = interpreter.parse(text)
    assert parsed == ParsedMessage("", FALLBACK_INTENT, THRESHOLD, (), ((FALLBACK_INTENT, THRESHOLD),))


def test_very_long_text_is_handled(interpreter: Interpreter) -> None:
    text = ("my charger ACE0100002 is broken and shows an error " * 250)[:10_240]
    parsed = interpreter.parse(text)
    assert parsed.intent == "request_service_ticket"
    assert len(parsed.entities) == text.count("ACE0100002")


def test_training_is_deterministic(nlu: NluTrainingData, interpreter: Interpreter) -> None:
    again = Interpreter.train(
        nlu, threshold=THRESHOLD, ambiguity_threshold=AMBIGUITY, intents=INTENTS, entities=ENTITIES
    )
    for text, _ in UNSEEN:
        assert again.parse(text) == interpreter.parse(text)


def test_only_domain_intents_are_predicted(nlu: NluTrainingData, interpreter: Interpreter) -> None:
    assert set(interpreter.intents) == set(nlu.examples)
    with pytest.raises(ValueError, match="not in the domain: faq_become_so"):
        Interpreter.train(
            nlu,
            threshold=THRESHOLD,
            ambiguity_threshold=AMBIGUITY,
            intents=[intent for intent in INTENTS if intent != "faq_become_so"],
        )


def test_training_needs_two_intents() -> None:
    data = NluTrainingData(examples={"greet": ["hi", "hello"]}, annotated={"greet": [[], []]}, regexes={})
    with pytest.raises(ValueError, match="at least two intents"):
        Interpreter.train(data, threshold=THRESHOLD, ambiguity_threshold=AMBIGUITY, intents=INTENTS)


def test_intents_without_examples_are_never_predicted() -> None:
    data = NluTrainingData(
        examples={"greet": ["hi", "hello", "hey"], "goodbye": ["bye", "see you", "ciao"]},
        annotated={"greet": [[], [], []], "goodbye": [[], [], []]},
        regexes={},
    )
    small = Interpreter.train(data, threshold=0.0, ambiguity_threshold=0.0, intents=INTENTS)
    assert small.intents == ("goodbye", "greet")
    assert {name for name, _ in small.parse("what is a service operator").intent_ranking} <= {"goodbye", "greet"}


# --------------------------------------------------------------------------------------------------------------------
# Entities and payloads through the interpreter
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Spans as Rasa 3.6's RegexEntityExtractor finds them with data/nlu.yml's patterns (case_sensitive: false);
        # values normalised by the engine (Rasa reports the text as typed: "ace0100002").
        (
            "the charger ace0100002 and 10001R002 are offline",
            [("serial", "10001R002", 27, 36), ("serial", "ACE0100002", 12, 22)],
        ),
        # Pattern order ("name+pattern" sorted: "\\d…" before "ace…"), not text order.
        ("ACE0100002 then 10001R002", [("serial", "10001R002", 16, 25), ("serial", "ACE0100002", 0, 10)]),
        # The patterns bring their own boundaries: nothing inside longer tokens.
        ("XACE0100002Y and 1234510001R0029", []),
        ("st-000042 and MT-0000421", [("reference", "ST-000042", 0, 9)]),
        ("ACE01234567890123", []),
        ("nothing here", []),
    ],
)
def test_regex_entities_match_rasa(
    interpreter: Interpreter, text: str, expected: list[tuple[str, str, int, int]]
) -> None:
    parsed = interpreter.parse(text)
    assert parsed.entities == tuple(
        Entity(name, value, start, end, REGEX_EXTRACTOR) for name, value, start, end in expected
    )


def test_entity_offsets_refer_to_the_stripped_text(interpreter: Interpreter) -> None:
    parsed = interpreter.parse("   charger ACE0100002 is broken  ")
    assert parsed.text == "charger ACE0100002 is broken"
    assert parsed.entities == (Entity("serial", "ACE0100002", 8, 18, REGEX_EXTRACTOR),)
    assert parsed.as_parse_data()["entities"] == [
        {"entity": "serial", "start": 8, "end": 18, "value": "ACE0100002", "extractor": "RegexEntityExtractor"}
    ]


def test_payload_entities_come_from_the_payload_only(interpreter: Interpreter) -> None:
    parsed = interpreter.parse(' /request_transfer{"serial": "ACE0100002", "colour": "red"} ')
    assert parsed == ParsedMessage(
        text='/request_transfer{"serial": "ACE0100002", "colour": "red"}',
        intent="request_transfer",
        confidence=1.0,
        entities=(Entity("serial", "ACE0100002", 17, 58, PAYLOAD_EXTRACTOR),),
        intent_ranking=(("request_transfer", 1.0),),
    )


def test_payload_with_low_confidence_is_not_a_fallback(interpreter: Interpreter) -> None:
    # RegexMessageHandler runs after the FallbackClassifier in Rasa's graph, so "@0.1" stays as given.
    parsed = interpreter.parse("/affirm@0.1")
    assert (parsed.intent, parsed.confidence) == ("affirm", 0.1)


def test_builtin_payload_intents_are_accepted(interpreter: Interpreter) -> None:
    assert interpreter.parse("/session_start").intent == "session_start"


def test_unknown_payload_intent_is_classified_as_text(interpreter: Interpreter) -> None:
    text = '/unknown_intent{"serial": "ACE0100002"}'
    parsed = interpreter.parse(text)
    assert parsed.intent != "unknown_intent"
    assert parsed.intent in {*INTENTS, FALLBACK_INTENT}
    start = text.index("ACE")
    assert parsed.entities == (Entity("serial", "ACE0100002", start, start + 10, REGEX_EXTRACTOR),)


def test_regexes_without_annotated_entity_are_not_extracted() -> None:
    data = NluTrainingData(
        examples={"greet": ["hi", "hello"], "inform": ["it is ACE0100001", "zip 12345"]},
        annotated={"greet": [[], []], "inform": [[Entity("serial", "ACE0100001", 6, 16, "")], []]},
        regexes={"serial": [r"ACE\d+"], "zipcode": [r"\d{5}"]},
    )
    small = Interpreter.train(data, threshold=0.0, ambiguity_threshold=0.0, intents=["greet", "inform"])
    assert [entity.entity for entity in small.parse("ACE0100002 in 54321").entities] == ["serial"]
