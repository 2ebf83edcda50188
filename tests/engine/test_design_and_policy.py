"""The loader's start-up errors, and the policy against every story in data/stories.yml."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.config import DESIGN_ROOT
from bot.engine.design import SAFE_LOADER, ConversationDesign, DesignError, load_design
from bot.engine.policy import Policy
from bot.engine.replay import check_story
from bot.engine.understanding import Interpreter


def test_every_story_is_what_the_engine_does(trained: tuple[ConversationDesign, Interpreter]) -> None:
    design, _ = trained
    policy = Policy(design)
    assert len(design.stories) >= 8
    mismatches = [m for story in design.stories for m in check_story(policy, design.domain, story)]
    print(f"{len(design.stories)} stories replayed, {len(mismatches)} mismatching actions")
    assert mismatches == []


def test_a_wrong_story_is_caught(trained: tuple[ConversationDesign, Interpreter]) -> None:
    """The replay would notice a story the engine does not follow (guards the test above)."""
    from bot.engine.design import ActionStep, Story, UserStep

    design, _ = trained
    wrong = Story("greet answered with the categories", (UserStep(("greet",)), ActionStep("utter_ask_category")))
    [mismatch] = check_story(Policy(design), design.domain, wrong)
    assert (mismatch.expected, mismatch.predicted) == ("utter_ask_category", "utter_greet")


@pytest.fixture
def design_copy(tmp_path: Path) -> Path:
    for part in ("domain", "data"):
        shutil.copytree(DESIGN_ROOT / part, tmp_path / part)
    shutil.copy(DESIGN_ROOT / "config.yml", tmp_path / "config.yml")
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "old", "new", "key", "message", "reported"),
    [
        (
            "data/rules.yml",
            "- intent: greet",
            "- intent: greeet",
            "rules[0]",
            "intent 'greeet' is not in the domain",
            "rules.yml",
        ),
        (
            "data/rules.yml",
            "- action: utter_greet",
            "- action: utter_hello",
            "rules[0]",
            "action 'utter_hello'",
            "rules.yml",
        ),
        (
            "domain/forms.yml",
            "      - serial\n",
            "      - serial_number\n",
            "forms.service_ticket_form",
            "slot 'serial_number'",
            "forms.yml",
        ),
        (
            "domain/slots.yml",
            "type: from_entity\n        entity: serial",
            "type: from_trigger_intent\n        entity: serial",
            "slots.serial.mappings[0].type",
            "not supported",
            "slots.yml",
        ),
        (
            "domain/responses.yml",
            "  utter_ask_service_ticket_form_description:",
            "  utter_ask_ticket_description:",
            "forms.service_ticket_form",
            "no utter_ask_description",
            "forms.yml",
        ),
        (
            "data/stories.yml",
            "  - story: carla",
            "  - checkpoint: x\n    story: carla",
            "stories[0]",
            "unsupported keys",
            "stories.yml",
        ),
        ("config.yml", "assistant_id: chargedesk", "assistant_id: ''", "assistant_id", "missing", "config.yml"),
    ],
)
def test_inconsistent_designs_stop_start_up_naming_file_and_key(
    design_copy: Path, file: str, old: str, new: str, key: str, message: str, reported: str
) -> None:
    edit(design_copy / file, old, new)
    with pytest.raises(DesignError) as error:
        load_design(design_copy)
    assert key in str(error.value)
    assert message in str(error.value)
    assert Path(error.value.file).name == reported


def test_a_response_defined_twice_is_an_error(design_copy: Path) -> None:
    (design_copy / "domain" / "extra.yml").write_text('version: "3.1"\nresponses:\n  utter_greet:\n  - text: hi\n')
    with pytest.raises(DesignError, match=r"responses\.utter_greet: also defined in"):
        load_design(design_copy)


def test_per_channel_response_variations_are_refused(design_copy: Path) -> None:
    edit(
        design_copy / "domain" / "responses.yml",
        '  utter_goodbye:\n    - text: "Bye!',
        '  utter_goodbye:\n    - channel: slack\n      text: "Bye!',
    )
    with pytest.raises(DesignError, match="unsupported keys"):
        load_design(design_copy)


def test_a_rule_that_names_an_entity_wins_over_the_same_rule_without_it(
    trained: tuple[ConversationDesign, Interpreter],
) -> None:
    """As in Rasa, each entity a rule names is a feature of its state: the follow-up button (reopen_request with a
    `follow_up` entity) starts follow_up_form, the plain intent runs action_reopen_request (data/rules.yml)."""
    from bot.engine.design import ActionStep, LoopStep, Story, UserStep

    design, _ = trained
    button = UserStep(("reopen_request",), ("follow_up",), {"follow_up": "ST-000001"})
    plain = UserStep(("reopen_request",), ("reference",), {"reference": "ST-000001"})
    starts_form = (button, ActionStep("follow_up_form"), LoopStep("follow_up_form"))
    cases = {"the button starts the form": starts_form, "words reopen": (plain, ActionStep("action_reopen_request"))}
    for name, steps in cases.items():
        story = Story(name, steps)
        assert check_story(Policy(design), design.domain, story) == []


def test_the_fast_yaml_loader_reads_every_design_file_as_the_safe_loader_does() -> None:
    # libyaml's parser (SAFE_LOADER) makes reading the design fast at start-up; it must read the same objects.
    files = [
        DESIGN_ROOT / "config.yml",
        *sorted(DESIGN_ROOT.glob("domain/*.yml")),
        *sorted(DESIGN_ROOT.glob("data/*.yml")),
    ]
    assert len(files) > 5
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert yaml.load(text, Loader=SAFE_LOADER) == yaml.safe_load(text), path
