"""Loading the conversation design (domain/, data/, config.yml) into a typed model.

Only the part of Rasa 3's format that the engine implements is accepted; anything else stops start-up with a
`DesignError` naming the file and the key, so a design never silently behaves differently here than in Rasa.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_INTENTS = ("nlu_fallback", "out_of_scope", "restart", "session_start", "back")
DEFAULT_ACTIONS = (
    "action_listen",
    "action_restart",
    "action_session_start",
    "action_default_fallback",
    "action_deactivate_loop",
    "action_extract_slots",
)
SLOT_TYPES = ("text", "bool", "categorical", "float", "list", "any")
MAPPING_TYPES = ("from_entity", "from_text", "from_intent", "custom")
REQUESTED_SLOT = "requested_slot"


class DesignError(ValueError):
    """The design cannot be run: which file, which key, and why."""

    def __init__(self, file: str, key: str, message: str) -> None:
        super().__init__(f"{file}: {key}: {message}")
        self.file = file
        self.key = key


@dataclass(frozen=True)
class SlotCondition:
    active_loop: str | None
    requested_slot: str | None


@dataclass(frozen=True)
class SlotMapping:
    type: str
    entity: str | None = None
    value: Any = None
    intent: tuple[str, ...] = ()
    not_intent: tuple[str, ...] = ()
    conditions: tuple[SlotCondition, ...] = ()


@dataclass(frozen=True)
class Slot:
    name: str
    type: str
    influence_conversation: bool
    mappings: tuple[SlotMapping, ...]
    values: tuple[str, ...] = ()
    initial_value: Any = None


# --- rules and stories -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserStep:
    intents: tuple[str, ...]  # several when the step is an `or`
    entities: tuple[str, ...] = ()
    entity_values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ActionStep:
    name: str


@dataclass(frozen=True)
class SlotStep:
    slots: Mapping[str, Any]


@dataclass(frozen=True)
class LoopStep:
    name: str | None


Step = UserStep | ActionStep | SlotStep | LoopStep
NOT_GIVEN = object()  # a condition that says nothing about the active loop


@dataclass(frozen=True)
class Rule:
    name: str
    steps: tuple[Step, ...]
    condition_slots: Mapping[str, Any] = field(default_factory=dict)
    condition_loop: Any = NOT_GIVEN  # str, None (no loop), or NOT_GIVEN
    wait_for_user_input: bool = True

    @property
    def starts_with_user(self) -> bool:
        return bool(self.steps) and isinstance(self.steps[0], UserStep)

    @property
    def mentions_loop(self) -> bool:
        return self.condition_loop is not NOT_GIVEN or any(isinstance(s, LoopStep) for s in self.steps)


@dataclass(frozen=True)
class Story:
    name: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Domain:
    intents: tuple[str, ...]
    entities: tuple[str, ...]
    slots: Mapping[str, Slot]
    responses: Mapping[str, list[dict[str, Any]]]
    forms: Mapping[str, tuple[str, ...]]
    custom_actions: tuple[str, ...]
    session_expiration_minutes: float
    carry_over_slots: bool
    raw: Mapping[str, Any]  # merged domain, as sent to an action server

    @property
    def action_names(self) -> frozenset[str]:
        return frozenset((*DEFAULT_ACTIONS, *self.responses, *self.custom_actions, *self.forms))

    def ask_action(self, form: str, slot: str) -> str | None:
        """How a form asks for a slot, in Rasa's order of preference."""
        candidates = (
            f"action_ask_{form}_{slot}",
            f"utter_ask_{form}_{slot}",
            f"action_ask_{slot}",
            f"utter_ask_{slot}",
        )
        for name in candidates:
            if name in self.custom_actions or name in self.responses:
                return name
        return None


@dataclass(frozen=True)
class NluSettings:
    threshold: float
    ambiguity_threshold: float
    memoization_max_history: int | None


@dataclass(frozen=True)
class ConversationDesign:
    root: Path
    assistant_id: str
    domain: Domain
    rules: tuple[Rule, ...]
    stories: tuple[Story, ...]
    nlu: NluSettings


# --- loading -------------------------------------------------------------------------------------------------


def load_design(root: Path) -> ConversationDesign:
    """Read and check the whole design under `root` (domain/, data/rules.yml, data/stories.yml, config.yml)."""
    domain = load_domain(root / "domain")
    rules = tuple(_read_rules(root / "data" / "rules.yml", domain))
    stories_path = root / "data" / "stories.yml"
    stories = tuple(_read_stories(stories_path, domain)) if stories_path.exists() else ()
    assistant_id, nlu = _read_config(root / "config.yml")
    return ConversationDesign(root, assistant_id, domain, rules, stories, nlu)


# libyaml's parser with PyYAML's safe constructor: the same objects as yaml.safe_load, about ten times faster, which
# is most of a start's time in reading the design (0.3 s of pure-Python parsing otherwise). PyYAML built without
# libyaml falls back to the pure-Python loader.
SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}
    except FileNotFoundError:
        raise DesignError(str(path), "-", "file not found") from None
    except yaml.YAMLError as error:
        raise DesignError(str(path), "-", f"not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise DesignError(str(path), "-", "expected a mapping at the top level")
    return data


def load_domain(directory: Path) -> Domain:
    """Merge every domain/*.yml (a key defined in two files is an error, as in Rasa) and check it."""
    files = sorted(directory.glob("*.yml")) if directory.is_dir() else [directory]
    if not files:
        raise DesignError(str(directory), "-", "no domain files")
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for path in files:
        for key, value in _yaml(path).items():
            if key == "version":
                continue
            if isinstance(value, dict):
                target = merged.setdefault(key, {})
                for name, item in value.items():
                    if name in target:
                        raise DesignError(str(path), f"{key}.{name}", f"also defined in {origin[f'{key}.{name}']}")
                    target[name] = item
                    origin[f"{key}.{name}"] = str(path)
            elif isinstance(value, list):
                merged.setdefault(key, []).extend(value)
            else:
                merged[key] = value
            origin.setdefault(key, str(path))
    return _check_domain(merged, origin)


def _check_domain(raw: dict[str, Any], origin: Mapping[str, str]) -> Domain:
    known = {"intents", "entities", "slots", "responses", "forms", "actions", "session_config"}
    for key in raw:
        if key not in known:
            raise DesignError(origin.get(key, "domain"), key, "not supported by the embedded engine")
    intents = tuple(_names(raw.get("intents", []), origin.get("intents", "domain"), "intents"))
    entities = tuple(_names(raw.get("entities", []), origin.get("entities", "domain"), "entities"))
    responses = raw.get("responses", {}) or {}
    for name, variations in responses.items():
        where = origin.get(f"responses.{name}", "domain")
        if not name.startswith("utter_"):
            raise DesignError(where, f"responses.{name}", "response names start with utter_")
        if not isinstance(variations, list) or not variations or not all(isinstance(v, dict) for v in variations):
            raise DesignError(where, f"responses.{name}", "expected a list of variations")
        for variation in variations:
            unsupported = set(variation) - {"text", "buttons", "custom", "image", "condition"}
            if unsupported:
                raise DesignError(where, f"responses.{name}", f"unsupported keys {sorted(unsupported)}")
    custom_actions = tuple(_names(raw.get("actions", []), origin.get("actions", "domain"), "actions"))
    forms: dict[str, tuple[str, ...]] = {}
    slots_raw = raw.get("slots", {}) or {}
    for name, spec in (raw.get("forms", {}) or {}).items():
        where = origin.get(f"forms.{name}", "domain")
        required = (spec or {}).get("required_slots")
        if not isinstance(required, list) or not required:
            raise DesignError(where, f"forms.{name}.required_slots", "expected a list of slot names")
        for slot in required:
            if slot not in slots_raw:
                raise DesignError(where, f"forms.{name}.required_slots", f"slot {slot!r} is not in the domain")
        forms[name] = tuple(required)
    slots = {
        name: _slot(name, spec, origin.get(f"slots.{name}", "domain"), intents, entities, forms)
        for name, spec in slots_raw.items()
    }
    slots.setdefault(REQUESTED_SLOT, Slot(REQUESTED_SLOT, "any", False, ()))
    session = raw.get("session_config", {}) or {}
    domain = Domain(
        intents=intents,
        entities=entities,
        slots=slots,
        responses=responses,
        forms=forms,
        custom_actions=custom_actions,
        session_expiration_minutes=float(session.get("session_expiration_time", 60)),
        carry_over_slots=bool(session.get("carry_over_slots_to_new_session", True)),
        raw=raw,
    )
    for form, required in forms.items():
        for slot in required:
            if domain.ask_action(form, slot) is None:
                raise DesignError(
                    origin.get(f"forms.{form}", "domain"), f"forms.{form}", f"no utter_ask_{slot} or action_ask_{slot}"
                )
    return domain


def _names(items: Iterable[Any], where: str, key: str) -> list[str]:
    names: list[str] = []
    for item in items:
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict) and len(item) == 1:
            names.append(next(iter(item)))  # `- intent: {use_entities: …}` style
        else:
            raise DesignError(where, key, f"unexpected entry {item!r}")
    return names


def _slot(
    name: str,
    spec: Any,
    where: str,
    intents: tuple[str, ...],
    entities: tuple[str, ...],
    forms: Mapping[str, tuple[str, ...]],
) -> Slot:
    key = f"slots.{name}"
    if not isinstance(spec, dict):
        raise DesignError(where, key, "expected a mapping")
    slot_type = spec.get("type")
    if slot_type not in SLOT_TYPES:
        raise DesignError(where, f"{key}.type", f"{slot_type!r} is not one of {', '.join(SLOT_TYPES)}")
    values = tuple(str(v) for v in spec.get("values", []) or [])
    if slot_type == "categorical" and not values:
        raise DesignError(where, f"{key}.values", "a categorical slot needs values")
    mappings: list[SlotMapping] = []
    for i, mapping in enumerate(spec.get("mappings", []) or []):
        mkey = f"{key}.mappings[{i}]"
        mapping_type = mapping.get("type")
        if mapping_type not in MAPPING_TYPES:
            raise DesignError(where, f"{mkey}.type", f"{mapping_type!r} is not supported ({', '.join(MAPPING_TYPES)})")
        if mapping_type == "from_entity" and mapping.get("entity") not in entities:
            raise DesignError(where, f"{mkey}.entity", f"entity {mapping.get('entity')!r} is not in the domain")
        for unsupported in ("role", "group", "action"):
            if unsupported in mapping:
                raise DesignError(where, f"{mkey}.{unsupported}", "not supported by the embedded engine")
        filters = {}
        for field_name in ("intent", "not_intent"):
            listed = mapping.get(field_name, [])
            listed = [listed] if isinstance(listed, str) else list(listed or [])
            for intent in listed:
                if intent not in intents and intent not in DEFAULT_INTENTS:
                    raise DesignError(where, f"{mkey}.{field_name}", f"intent {intent!r} is not in the domain")
            filters[field_name] = tuple(listed)
        conditions = []
        for condition in mapping.get("conditions", []) or []:
            loop = condition.get("active_loop")
            if loop is not None and loop not in forms:
                raise DesignError(where, f"{mkey}.conditions", f"form {loop!r} is not in the domain")
            conditions.append(SlotCondition(loop, condition.get("requested_slot")))
        mappings.append(
            SlotMapping(
                mapping_type,
                mapping.get("entity"),
                mapping.get("value"),
                filters["intent"],
                filters["not_intent"],
                tuple(conditions),
            )
        )
    return Slot(
        name,
        slot_type,
        bool(spec.get("influence_conversation", slot_type != "any")),
        tuple(mappings),
        values,
        spec.get("initial_value"),
    )


def _read_config(path: Path) -> tuple[str, NluSettings]:
    config = _yaml(path)
    assistant_id = str(config.get("assistant_id") or "")
    if not assistant_id:
        raise DesignError(str(path), "assistant_id", "missing")
    threshold, ambiguity = 0.0, 0.0
    for component in config.get("pipeline", []) or []:
        if component.get("name") == "FallbackClassifier":
            threshold = float(component.get("threshold", 0.3))
            ambiguity = float(component.get("ambiguity_threshold", 0.1))
    memo: int | None = None
    for policy in config.get("policies", []) or []:
        if policy.get("name") == "MemoizationPolicy":
            memo = int(policy.get("max_history", 5))
    return assistant_id, NluSettings(threshold, ambiguity, memo)


def _read_steps(path: Path, block: str, raw_steps: Any, domain: Domain) -> list[Step]:
    where = str(path)
    if not isinstance(raw_steps, list):
        raise DesignError(where, f"{block}.steps", "expected a list")
    steps: list[Step] = []
    for i, raw in enumerate(raw_steps):
        key = f"{block}.steps[{i}]"
        if not isinstance(raw, dict):
            raise DesignError(where, key, "expected a mapping")
        if "intent" in raw:
            steps.append(_user_step([raw], where, key, domain))
        elif "or" in raw:
            steps.append(_user_step(raw["or"], where, f"{key}.or", domain))
        elif "action" in raw:
            name = raw["action"]
            if name not in domain.action_names:
                raise DesignError(where, f"{key}.action", f"action {name!r} is not in the domain")
            steps.append(ActionStep(name))
        elif "slot_was_set" in raw:
            steps.append(SlotStep(_slot_values(raw["slot_was_set"], where, key, domain)))
        elif "active_loop" in raw:
            loop = raw["active_loop"]
            if loop is not None and loop not in domain.forms:
                raise DesignError(where, f"{key}.active_loop", f"form {loop!r} is not in the domain")
            steps.append(LoopStep(loop))
        else:
            supported = "intent, or, action, slot_was_set, active_loop"
            raise DesignError(where, key, f"unsupported step {sorted(raw)} (supported: {supported})")
    return steps


def _user_step(options: Any, where: str, key: str, domain: Domain) -> UserStep:
    intents: list[str] = []
    entities: list[str] = []
    values: dict[str, Any] = {}
    for option in options:
        if not isinstance(option, dict) or "intent" not in option:
            raise DesignError(where, key, "an `or` may only list intents")
        intent = option["intent"]
        if intent not in domain.intents and intent not in DEFAULT_INTENTS:
            raise DesignError(where, f"{key}.intent", f"intent {intent!r} is not in the domain")
        intents.append(intent)
        for entity in option.get("entities", []) or []:
            name, value = next(iter(entity.items())) if isinstance(entity, dict) else (entity, None)
            if name not in domain.entities:
                raise DesignError(where, f"{key}.entities", f"entity {name!r} is not in the domain")
            entities.append(name)
            if value is not None:
                values[name] = value
    return UserStep(tuple(intents), tuple(entities), values)


def _slot_values(raw: Any, where: str, key: str, domain: Domain) -> dict[str, Any]:
    items = raw if isinstance(raw, list) else [raw]
    values: dict[str, Any] = {}
    for item in items:
        pairs = item.items() if isinstance(item, dict) else [(item, True)]
        for name, value in pairs:
            slot = domain.slots.get(name)
            if slot is None:
                raise DesignError(where, f"{key}.slot_was_set", f"slot {name!r} is not in the domain")
            if slot.type == "categorical" and value is not None and str(value) not in slot.values:
                raise DesignError(where, f"{key}.slot_was_set.{name}", f"{value!r} is not one of {list(slot.values)}")
            values[name] = value
    return values


def _read_rules(path: Path, domain: Domain) -> Iterable[Rule]:
    data = _yaml(path)
    for i, raw in enumerate(data.get("rules", []) or []):
        block = f"rules[{i}]"
        name = raw.get("rule", block)
        unsupported = set(raw) - {"rule", "steps", "condition", "wait_for_user_input"}
        if unsupported:
            raise DesignError(str(path), f"{block} ({name})", f"unsupported keys {sorted(unsupported)}")
        condition_slots: dict[str, Any] = {}
        condition_loop: Any = NOT_GIVEN
        for item in raw.get("condition", []) or []:
            if "active_loop" in item:
                condition_loop = item["active_loop"]
                if condition_loop is not None and condition_loop not in domain.forms:
                    raise DesignError(str(path), f"{block}.condition", f"form {condition_loop!r} is not in the domain")
            elif "slot_was_set" in item:
                condition_slots |= _slot_values(item["slot_was_set"], str(path), f"{block}.condition", domain)
            else:
                raise DesignError(str(path), f"{block}.condition", f"unsupported condition {sorted(item)}")
        steps = _read_steps(path, f"{block} ({name})", raw.get("steps"), domain)
        if not any(isinstance(s, ActionStep) for s in steps):
            raise DesignError(str(path), f"{block} ({name})", "a rule needs at least one action")
        yield Rule(name, tuple(steps), condition_slots, condition_loop, bool(raw.get("wait_for_user_input", True)))


def _read_stories(path: Path, domain: Domain) -> Iterable[Story]:
    data = _yaml(path)
    for i, raw in enumerate(data.get("stories", []) or []):
        block = f"stories[{i}]"
        name = raw.get("story", block)
        unsupported = set(raw) - {"story", "steps"}
        if unsupported:
            raise DesignError(str(path), f"{block} ({name})", f"unsupported keys {sorted(unsupported)}")
        yield Story(name, tuple(_read_steps(path, f"{block} ({name})", raw.get("steps"), domain)))
