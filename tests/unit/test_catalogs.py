"""The gettext catalogs match the code, every language translates every text, and texts() reads the catalogs.

`make catalogs` extracts the marked texts into portal/languages/locale/chargedesk.pot and updates the nl, de and
fr catalogs from it; the translations are filled in by hand. These tests fail, listing the texts concerned, when
the template is older than the code or a catalog lacks a usable translation.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from portal.languages import LOCALES, Language
from portal.languages.texts import DOMAIN, LOCALE_DIR, catalog_path, load_texts, texts

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"
TRANSLATED: tuple[Language, ...] = ("nl", "de", "fr")
# The same keywords as the Makefile's `catalogs` target (Babel's spec: None is the first argument).
KEYWORDS: dict[str, tuple[int, ...] | None] = {"gettext": None, "ngettext": (1, 2), "N_": None}

MessageId = str | tuple[str, ...]


def extracted_ids() -> set[MessageId]:
    """The texts Babel's extraction finds in the code now (babel.cfg says where)."""
    with (ROOT / "babel.cfg").open() as mapping:
        method_map, options_map = parse_mapping_cfg(mapping)  # type: ignore[no-untyped-call]
    found = extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS, comment_tags=("Translators:",))
    ids: set[MessageId] = set()
    for _filename, _lineno, message, _comments, _context in found:
        ids.add(message if isinstance(message, str) else tuple(message))
    return ids


def catalog_ids(catalog: Catalog) -> set[MessageId]:
    return {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id}


def template() -> Catalog:
    with TEMPLATE.open("rb") as source:
        return read_po(source)


def shown(message_id: MessageId) -> str:
    return repr(message_id if isinstance(message_id, str) else message_id[0])


def placeholders(text: str) -> set[str] | None:
    """The `{names}` str.format fills in `text`; None when it is not a valid format string."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError:
        return None
    return {name.split(".", 1)[0].split("[", 1)[0] for name in fields}


def translation_problems(message_id: MessageId, message: Message | None) -> Iterable[str]:
    """What keeps one catalog entry from being used as the translation of `message_id`."""
    if message is None:
        yield f"missing: {shown(message_id)}"
        return
    forms = [message.string] if isinstance(message.string, str) else list(message.string or ())
    if not all(forms):
        yield f"untranslated: {shown(message_id)}"
        return
    if message.fuzzy:
        yield f"fuzzy (check it, then remove the fuzzy flag): {shown(message_id)}"
    sources = [message_id] if isinstance(message_id, str) else list(message_id)
    expected: set[str] = set()
    for source in sources:
        expected |= placeholders(source) or set()
    found: set[str] = set()
    for form in forms:
        names = placeholders(form)
        if names is None and expected:
            yield f"not a valid format string (unbalanced braces): {shown(message_id)} -> {form!r}"
            return
        found |= names or set()
    if found != expected:
        want = ", ".join(sorted(expected)) or "none"
        got = ", ".join(sorted(found)) or "none"
        yield f"placeholders differ (source: {want}; translation: {got}): {shown(message_id)}"


def catalog_problems(language: Language, directory: Path = LOCALE_DIR) -> list[str]:
    """Every text of the template that `language`'s catalog does not translate usably."""
    path = catalog_path(language, directory)
    if not path.exists():
        return [f"no catalog at {path} (run `make catalogs`)"]
    with path.open("rb") as source:
        catalog = read_po(source, locale=LOCALES[language], domain=DOMAIN)
    wanted = catalog_ids(template())
    problems: list[str] = []
    for message_id in sorted(wanted, key=str):
        problems.extend(translation_problems(message_id, catalog.get(message_id)))
    for message_id in sorted(catalog_ids(catalog) - wanted, key=str):
        problems.append(f"no longer in the template (run `make catalogs`): {shown(message_id)}")
    return problems


def test_the_template_holds_exactly_the_texts_of_the_code() -> None:
    in_code, in_template = extracted_ids(), catalog_ids(template())
    added = sorted(shown(m) for m in in_code - in_template)
    removed = sorted(shown(m) for m in in_template - in_code)
    report = [f"in the code, not in {TEMPLATE.name}: {m}" for m in added]
    report += [f"in {TEMPLATE.name}, no longer in the code: {m}" for m in removed]
    if report:
        print("\n".join(report))
    assert not report, "run `make catalogs`:\n" + "\n".join(report)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_text_is_translated(language: Language) -> None:
    problems = catalog_problems(language)
    if problems:
        print(f"{language}: {len(problems)} texts to translate or fix\n" + "\n".join(problems))
    assert not problems, f"{language}: {len(problems)} texts to translate or fix:\n" + "\n".join(problems)


def write_catalog(
    directory: Path, language: Language, entries: dict[str, tuple[str, bool]], *, plurals: bool = False
) -> None:
    """A catalog of `entries` (source -> (translation, fuzzy)) for `language` under `directory`; with `plurals`,
    also the template's plural messages, each form written as «source»."""
    catalog = Catalog(locale=LOCALES[language], domain=DOMAIN)
    for source, (translation, fuzzy) in entries.items():
        catalog.add(source, translation, flags=("fuzzy",) if fuzzy else ())
    if plurals:
        for message in template():
            if isinstance(message.id, tuple):
                forms = tuple(f"«{form}»" for form in (message.id * catalog.num_plurals)[: catalog.num_plurals])
                catalog.add(message.id, forms)
    path = catalog_path(language, directory)
    path.parent.mkdir(parents=True)
    with path.open("wb") as target:
        write_po(target, catalog)


def test_texts_reads_a_languages_catalog(tmp_path: Path) -> None:
    write_catalog(
        tmp_path,
        "nl",
        {
            "Cancel": ("Annuleren", False),
            "Withdraw {reference}": ("{reference} intrekken", False),
            "Change something": ("Iets wijzigen?", True),  # a fuzzy guess is not used
        },
    )
    dutch = load_texts("nl-NL", tmp_path)  # a Slack locale is a language too
    assert dutch.language == "nl"
    assert dutch.gettext("Cancel") == "Annuleren"
    assert dutch.gettext("Withdraw {reference}").format(reference="ST-000001") == "ST-000001 intrekken"
    assert dutch.gettext("Change something") == "Change something"
    assert dutch.gettext("Keep them all") == "Keep them all"  # not translated yet: the English source
    assert dutch.day(date(2027, 2, 1)) == "1 februari 2027"
    # English needs no catalog, and an unknown language is English.
    assert load_texts("en", tmp_path).gettext("Cancel") == "Cancel"
    assert load_texts("xx", tmp_path).language == "en"
    # A language without a catalog reads English texts, with its own dates.
    assert load_texts("de", tmp_path).gettext("Cancel") == "Cancel"
    assert load_texts("de", tmp_path).day(date(2027, 2, 1)) == "1. Februar 2027"


@pytest.mark.parametrize("language", TRANSLATED)
def test_texts_gives_the_repositorys_translations(language: Language) -> None:
    with catalog_path(language).open("rb") as source:
        catalog = read_po(source, locale=LOCALES[language], domain=DOMAIN)
    for message in catalog:
        if message.id and isinstance(message.id, str) and message.string and not message.fuzzy:
            assert texts(language).gettext(message.id) == message.string


def test_the_checks_name_what_is_wrong(tmp_path: Path) -> None:
    """The catalog check itself: each kind of problem is reported with the text concerned."""
    sources = sorted(str(m) for m in catalog_ids(template()) if isinstance(m, str))
    assert "Withdraw {reference}" in sources
    entries = {s: (f"«{s}»", False) for s in sources}
    entries["Withdraw {reference}"] = ("{referentie} intrekken", False)
    entries["Cancel"] = ("Annuleren", True)
    entries["Keep them all"] = ("", False)
    del entries["No, keep it"]
    entries["A text nobody uses"] = ("Een tekst", False)
    write_catalog(tmp_path, "nl", entries, plurals=True)
    problems = catalog_problems("nl", tmp_path)
    assert problems == [
        "fuzzy (check it, then remove the fuzzy flag): 'Cancel'",
        "untranslated: 'Keep them all'",
        "missing: 'No, keep it'",
        "placeholders differ (source: reference; translation: referentie): 'Withdraw {reference}'",
        "no longer in the template (run `make catalogs`): 'A text nobody uses'",
    ]
