"""`chargedesk nlu-report`: how well the intent classifier understands, like ``rasa test nlu``.

    chargedesk nlu-report                          # 5-fold cross-validation + held-out set
    chargedesk nlu-report --quick                  # CI: 3 folds, seconds
    chargedesk nlu-report --rasa --write BENCHMARKS.md   # and a real Rasa 3.6 DIET on the same folds

Stratified k-fold cross-validation on the design's data/nlu*.yml (every example tested once, by a model that never
saw it), per-intent precision / recall / F1, macro-F1, the confusion pairs and the failed examples; then the
held-out phrasings of tests/nlu/heldout*.yml (never trained on) against a model trained on everything. Every figure
is also given per language (a file's language is its name's suffix: data/nlu_nl.yml, tests/nlu/heldout_nl.yml), with
how often language detection names the held-out phrasings' language. With
``--rasa`` the same folds and held-out set go through ``rasa train nlu`` of a Rasa 3.6 venv and the trained model's
parse (fallback included, as a Rasa server answers).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.engine.design import load_design
from bot.engine.evaluation import (
    Calibration,
    Example,
    Prediction,
    Scores,
    Split,
    annotated_text,
    calibration,
    cross_validate,
    file_language,
    folds,
    heldout_files,
    labelled_examples,
    languages_of,
    predict_with,
    read_heldout,
    scores,
    subset,
)
from bot.engine.understanding import TEMPERATURE, Interpreter, NluTrainingData, nlu_files, read_nlu_files
from bot.reports import write_section
from portal.languages import LANGUAGES, NAMES, Language
from portal.languages.detect import detect

SECTION_TITLE = "## Intent classification (`chargedesk nlu-report`)"
QUICK_FOLDS = 3
SEED = 0
FAILURES_SHOWN = 25
RASA_NAME = "Rasa 3.6 DIET (config.yml)"


@dataclass(frozen=True)
class Languages:
    """The language of each training text (by text: cross-validation predicts them in fold order) and of each
    held-out phrasing (in order: the same phrasing may be held out in two languages)."""

    training: Mapping[str, Language]
    heldout: Sequence[Language]


@dataclass(frozen=True)
class Run:
    """One classifier's predictions: cross-validation and held-out, and the wall time per fold."""

    name: str
    intents: list[str]
    predictions: list[Prediction]
    heldout_predictions: list[Prediction]
    seconds_per_fold: float
    calibration: Calibration | None = None

    def in_language(self, languages: Languages, language: Language) -> Run:
        """This run's predictions of texts in `language` only."""
        held = zip(self.heldout_predictions, languages.heldout, strict=True)
        return Run(
            self.name,
            self.intents,
            [p for p in self.predictions if languages.training.get(p.text) == language],
            [p for p, of in held if of == language],
            self.seconds_per_fold,
        )

    @property
    def cross_validation(self) -> Scores:
        return scores(self.predictions, self.intents)

    @property
    def cross_validation_without_fallback(self) -> Scores:
        return scores([p.without_fallback() for p in self.predictions], self.intents)

    @property
    def heldout(self) -> Scores | None:
        return scores(self.heldout_predictions, self.intents) if self.heldout_predictions else None


def _train_embedded(root: Path) -> Callable[[NluTrainingData], Interpreter]:
    design = load_design(root)

    def train(data: NluTrainingData) -> Interpreter:
        return Interpreter.train(
            data,
            threshold=design.nlu.threshold,
            ambiguity_threshold=design.nlu.ambiguity_threshold,
            intents=design.domain.intents,
            entities=design.domain.entities,
        )

    return train


def run_embedded(root: Path, data: NluTrainingData, splits: Sequence[Split], heldout: list[Example]) -> Run:
    train = _train_embedded(root)
    intents = sorted(data.examples)
    started = time.monotonic()
    cross = cross_validate(data, splits, train)
    elapsed = (time.monotonic() - started) / len(splits)
    held = predict_with(train(data), heldout) if heldout else []
    fitted = calibration(cross, load_design(root).nlu.threshold)
    return Run("embedded (TF-IDF + logistic regression)", intents, cross.predictions, held, elapsed, fitted)


# --------------------------------------------------------------------------------------------------------------------
# Rasa
# --------------------------------------------------------------------------------------------------------------------


def _write_rasa_nlu(path: Path, data: NluTrainingData, indices: Sequence[int] | None = None) -> None:
    chosen = data if indices is None else subset(data, indices)
    blocks: list[dict[str, object]] = []
    for intent, texts in chosen.examples.items():
        lines = [annotated_text(t, e) for t, e in zip(texts, chosen.annotated[intent], strict=True)]
        blocks.append({"intent": intent, "examples": "".join(f"- {line}\n" for line in lines)})
    for name, patterns in chosen.regexes.items():
        blocks.append({"regex": name, "examples": "".join(f"- {pattern}\n" for pattern in patterns)})
    path.write_text(yaml.safe_dump({"version": "3.1", "nlu": blocks}, sort_keys=False, allow_unicode=True), "utf-8")


def _run(executable: Path, *args: str, cwd: Path) -> None:
    environment = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="3")
    completed = subprocess.run(
        [str(executable), *args], cwd=cwd, env=environment, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{executable.name} {args[0]} failed:\n{completed.stderr[-2000:]}")


# Run by the Rasa venv's Python: parses each text with the trained model, as a Rasa server would (the
# FallbackClassifier included; `rasa test nlu` undoes the fallback before scoring, which would flatter Rasa).
_RASA_PARSE = """
import asyncio, json, sys
from rasa.core.agent import Agent

async def main():
    model, texts_path, out_path = sys.argv[1:4]
    agent = Agent.load(model_path=model)
    results = []
    for text in json.load(open(texts_path, encoding="utf-8")):
        parsed = await agent.parse_message(text)
        ranking = [r for r in parsed.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
        top = ranking[0]["name"] if ranking else parsed["intent"]["name"]
        results.append([parsed["intent"]["name"], parsed["intent"]["confidence"], top])
    json.dump(results, open(out_path, "w", encoding="utf-8"))

asyncio.run(main())
"""


def rasa_parse(venv: Path, model: Path, tested: Sequence[Example], work: Path) -> list[Prediction]:
    """The model's parse of each labelled text (after Rasa's fallback), through the Rasa venv's Python."""
    texts, out = work / "texts.json", work / "parsed.json"
    texts.write_text(json.dumps([text for text, _ in tested]), encoding="utf-8")
    _run(venv / "bin" / "python", "-c", _RASA_PARSE, str(model), str(texts), str(out), cwd=work)
    parsed = json.loads(out.read_text(encoding="utf-8"))
    return [
        Prediction(text, intent, str(name), float(confidence), str(top))
        for (text, intent), (name, confidence, top) in zip(tested, parsed, strict=True)
    ]


def _rasa_fold(
    venv: Path, root: Path, work: Path, data: NluTrainingData, train: Sequence[int] | None, test: Sequence[Example]
) -> tuple[list[Prediction], float]:
    work.mkdir(parents=True)
    _write_rasa_nlu(work / "train.yml", data, train)
    started = time.monotonic()
    _run(
        venv / "bin" / "rasa",
        "train",
        "nlu",
        "--config",
        str(root / "config.yml"),
        "--nlu",
        str(work / "train.yml"),
        "--out",
        str(work / "models"),
        "--fixed-model-name",
        "fold",
        cwd=work,
    )
    predictions = rasa_parse(venv, work / "models" / "fold.tar.gz", test, work)
    return predictions, time.monotonic() - started


def _rasa_cache(root: Path, fold_count: int, heldout: Sequence[Example]) -> Path:
    # Rasa takes minutes per fold: its predictions are kept under var/ for exactly these inputs (the NLU files,
    # config.yml, the folds and the held-out texts), so the report can be rerun after a change to the embedded
    # classifier alone without training Rasa again.
    digest = hashlib.sha256()
    for path in [*nlu_files(root / "data"), root / "config.yml"]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(json.dumps([fold_count, SEED, list(heldout)]).encode())
    return root / "var" / "nlu-report" / f"rasa-{digest.hexdigest()[:16]}.json"


def _predictions_json(predictions: Sequence[Prediction]) -> list[list[object]]:
    return [[p.text, p.intent, p.predicted, p.confidence, p.top] for p in predictions]


def _predictions_from_json(rows: Sequence[Sequence[object]]) -> list[Prediction]:
    return [Prediction(str(t), str(i), str(p), float(str(c)), str(top)) for t, i, p, c, top in rows]


def run_rasa(venv: Path, root: Path, data: NluTrainingData, splits: Sequence[Split], heldout: list[Example]) -> Run:
    """The same folds and held-out set through ``rasa train nlu`` and the trained model's parse (minutes per fold)."""
    intents = sorted(data.examples)
    cache = _rasa_cache(root, len(splits), heldout)
    if cache.exists():
        print(f"rasa: reusing {cache.relative_to(root)} (same data, config and folds)", file=sys.stderr)
        saved = json.loads(cache.read_text(encoding="utf-8"))
        cross = _predictions_from_json(saved["cross_validation"])
        held_saved = _predictions_from_json(saved["heldout"])
        return Run(RASA_NAME, intents, cross, held_saved, float(saved["train_seconds"]))
    examples = labelled_examples(data)
    predictions: list[Prediction] = []
    held_predictions: list[Prediction] = []
    seconds = 0.0
    with tempfile.TemporaryDirectory(prefix="nlu-report-rasa-") as tmp:
        for number, split in enumerate(splits, 1):
            print(f"rasa: fold {number}/{len(splits)} …", file=sys.stderr, flush=True)
            fold, elapsed = _rasa_fold(
                venv, root, Path(tmp) / f"fold{number}", data, split.train, [examples[i] for i in split.test]
            )
            predictions.extend(fold)
            seconds += elapsed
        if heldout:
            print("rasa: held-out …", file=sys.stderr, flush=True)
            held_predictions, _ = _rasa_fold(venv, root, Path(tmp) / "heldout", data, None, heldout)
    cache.parent.mkdir(parents=True, exist_ok=True)
    saved = {
        "cross_validation": _predictions_json(predictions),
        "heldout": _predictions_json(held_predictions),
        "train_seconds": seconds / len(splits),
    }
    cache.write_text(json.dumps(saved), encoding="utf-8")
    return Run(RASA_NAME, intents, predictions, held_predictions, seconds / len(splits))


# --------------------------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------------------------


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cells) + " |"

    return [line(header), "|" + "---|" * len(header), *(line(row) for row in rows)]


def report(
    runs: Sequence[Run],
    *,
    command: str,
    examples: int,
    intents: int,
    fold_count: int,
    heldout: int,
    languages: Languages | None = None,
) -> str:
    """The Markdown section: summary side by side, per language, per-intent scores, confusions and failed examples."""
    lines = [
        SECTION_TITLE,
        "",
        f"`{command}` — {examples} training examples, {intents} intents, stratified {fold_count}-fold "
        f"cross-validation (seed {SEED}); held-out: {heldout} phrasings never trained on (tests/nlu/heldout*.yml). "
        "A message that falls back (`nlu_fallback`) counts as not understood.",
        "",
    ]
    names = [run.name for run in runs]
    summary = [
        ["cross-validation macro-F1", *(f"{run.cross_validation.macro_f1:.3f}" for run in runs)],
        ["cross-validation accuracy", *(f"{run.cross_validation.accuracy:.3f}" for run in runs)],
        [
            "cross-validation macro-F1, fallback ignored",
            *(f"{run.cross_validation_without_fallback.macro_f1:.3f}" for run in runs),
        ],
        ["held-out macro-F1", *(f"{run.heldout.macro_f1:.3f}" if run.heldout else "-" for run in runs)],
        ["held-out accuracy", *(f"{run.heldout.accuracy:.3f}" if run.heldout else "-" for run in runs)],
        ["wall time per fold (train + test)", *(f"{run.seconds_per_fold:.2f} s" for run in runs)],
    ]
    lines += _table(["", *names], summary)
    if languages:
        lines += ["", *_per_language(runs, languages)]
    fitted = runs[0].calibration
    if fitted is not None:
        lines += [
            "",
            f"Calibration of the embedded classifier (cross-validation): of the {fitted.above[0]} predictions at or "
            f"above the fallback threshold {fitted.above[1]:.1%} were right; of the {fitted.below[0]} below it "
            f"{fitted.below[1]:.1%} would have been. Softmax temperature in use {TEMPERATURE}; the folds' best "
            f"{TEMPERATURE * fitted.temperature:.2f} (log-loss {fitted.log_loss:.3f} → {fitted.fitted_log_loss:.3f}).",
        ]
    lines += ["", "Per intent (cross-validation):", ""]
    header = ["intent", "support"]
    for run in runs:
        short = run.name.split(" ")[0]
        header += [f"{short} P", f"{short} R", f"{short} F1"]
    rows = []
    for intent, embedded in runs[0].cross_validation.per_intent.items():
        row = [intent, str(embedded.support)]
        for run in runs:
            s = run.cross_validation.per_intent[intent]
            row += [f"{s.precision:.2f}", f"{s.recall:.2f}", f"{s.f1:.2f}"]
        rows.append(row)
    lines += _table(header, rows)
    for run in runs:
        lines += ["", f"Confusions of {run.name} (cross-validation, labelled → predicted):", ""]
        pairs = run.cross_validation.confusions[:12]
        lines += [f"- {true} → {predicted}: {count}" for true, predicted, count in pairs] or ["- none"]
    first = runs[0]
    shown = first.cross_validation.failures[:FAILURES_SHOWN]
    lines += ["", f"Failed examples of {first.name} (cross-validation, first {len(shown)}):", ""]
    lines += [f"- `{p.text}`: {p.intent} → {p.predicted} ({p.confidence:.2f})" for p in shown] or ["- none"]
    if first.heldout is not None:
        lines += ["", f"Failed held-out phrasings of {first.name}:", ""]
        failed = first.heldout.failures
        lines += [f"- `{p.text}`: {p.intent} → {p.predicted} ({p.confidence:.2f})" for p in failed] or ["- none"]
    return "\n".join(lines) + "\n"


def _per_language(runs: Sequence[Run], languages: Languages) -> list[str]:
    """Macro-F1 per language and classifier, and how well detection names each held-out phrasing's language."""
    header = ["language", "training", "held-out"]
    for run in runs:
        short = run.name.split(" ")[0]
        header += [f"{short} CV macro-F1", f"{short} held-out macro-F1", f"{short} held-out accuracy"]
    header += ["detected right", "too short to tell", "detected wrong"]
    rows = []
    for language in LANGUAGES:
        parts = [run.in_language(languages, language) for run in runs]
        if not parts[0].predictions:
            continue
        row = [NAMES[language], str(len(parts[0].predictions)), str(len(parts[0].heldout_predictions))]
        for part in parts:
            held = part.heldout
            row += [
                f"{part.cross_validation.macro_f1:.3f}",
                f"{held.macro_f1:.3f}" if held else "-",
                f"{held.accuracy:.3f}" if held else "-",
            ]
        detected = [detect(p.text) for p in parts[0].heldout_predictions]
        total = len(detected) or 1
        right = sum(found == language for found in detected)
        unknown = sum(found is None for found in detected)
        row += [f"{right / total:.1%}", f"{unknown / total:.1%}", f"{(total - right - unknown) / total:.1%}"]
        rows.append(row)
    note = (
        "Per language (an example's language is its file's: data/nlu_nl.yml, tests/nlu/heldout_nl.yml). Detection "
        "(portal/languages/detect.py) on the held-out phrasings: a message too short to tell keeps the "
        "conversation's language, so only a wrong detection changes the language a customer is answered in."
    )
    return [note, "", *_table(header, rows)]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    parser.add_argument("--quick", action="store_true", help=f"CI size: {QUICK_FOLDS} folds, no Rasa")
    parser.add_argument(
        "--heldout",
        type=Path,
        default=Path("tests/nlu"),
        help="held-out phrasings: a file, or a folder of heldout*.yml",
    )
    parser.add_argument("--rasa", action="store_true", help="also a real Rasa 3.6 DIET on the same folds (minutes)")
    parser.add_argument("--rasa-venv", type=Path, default=Path(".venv-rasa"), help="the Rasa 3.6 venv")
    parser.add_argument("--write", type=Path, help="update this Markdown file's section (e.g. BENCHMARKS.md)")


def main(args: argparse.Namespace, argv: Sequence[str], root: Path) -> int:
    """Runs the report; 0 on success, 2 when the data or the Rasa venv is unusable (the reason on stderr)."""
    fold_count = QUICK_FOLDS if args.quick else args.folds
    try:
        data = read_nlu_files(nlu_files(root / "data"))
        splits = folds(data, fold_count, SEED)
        heldout_path = args.heldout if args.heldout.is_absolute() else root / args.heldout
        if heldout_path.is_dir():
            paths = heldout_files(heldout_path)
        else:
            paths = [heldout_path] if heldout_path.exists() else []
        heldout: list[Example] = []
        heldout_languages: list[Language] = []
        for path in paths:
            read = read_heldout(path, set(data.examples))
            heldout += read
            heldout_languages += [file_language(path)] * len(read)
        languages = Languages(languages_of(nlu_files(root / "data")), heldout_languages)
    except ValueError as error:
        print(f"nlu-report: {error}", file=sys.stderr)
        return 2
    with_rasa = args.rasa and not args.quick
    venv = args.rasa_venv if args.rasa_venv.is_absolute() else root / args.rasa_venv
    if with_rasa and not (venv / "bin" / "rasa").exists():
        print(f"nlu-report: no Rasa at {venv}/bin/rasa (make rasa-check builds .venv-rasa)", file=sys.stderr)
        return 2
    runs = [run_embedded(root, data, splits, heldout)]
    if with_rasa:
        try:
            runs.append(run_rasa(venv, root, data, splits, heldout))
        except RuntimeError as error:
            print(f"nlu-report: {error}", file=sys.stderr)
            return 2
    section = report(
        runs,
        command=f"chargedesk nlu-report {' '.join(argv)}".strip(),
        examples=len(labelled_examples(data)),
        intents=len(data.examples),
        fold_count=fold_count,
        heldout=len(heldout),
        languages=languages,
    )
    print(section)
    print(f"macro-F1 (cross-validation): {runs[0].cross_validation.macro_f1:.3f}")
    for language in LANGUAGES:
        part = runs[0].in_language(languages, language)
        if part.predictions:
            held = part.heldout
            print(
                f"macro-F1 ({language}): cross-validation {part.cross_validation.macro_f1:.3f}, "
                f"held-out {held.macro_f1:.3f}"
                if held
                else "held-out -"
            )
    if args.write:
        write_section(args.write, section)
    return 0
