"""The engine reads every data/nlu*.yml file, so each topic can keep its intents in its own file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import DESIGN_ROOT
from bot.engine.understanding import Entity, nlu_files, read_nlu_files


def _write(path: Path, content: str) -> Path:
    path.write_text(content, encoding="utf-8")
    return path


def test_every_nlu_file_in_data_is_read_in_name_order(tmp_path: Path) -> None:
    _write(tmp_path / "rules.yml", 'version: "3.1"\nrules: []\n')
    _write(tmp_path / "stories.yml", 'version: "3.1"\nstories: []\n')
    _write(tmp_path / "nlu_zeta.yml", 'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - yo\n')
    _write(
        tmp_path / "nlu.yml",
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n'
        "- intent: inform\n  examples: |\n    - it is [ACE0100002](serial)\n"
        "- regex: serial\n  examples: |\n    - ACE\\d+\n",
    )
    _write(
        tmp_path / "nlu_flow.yaml",
        'version: "3.1"\nnlu:\n- intent: request_human\n  examples: |\n    - a person please\n'
        "- regex: serial\n  examples: |\n    - \\d{5}R\\d{3}\n",
    )
    paths = nlu_files(tmp_path)
    assert [path.name for path in paths] == ["nlu.yml", "nlu_flow.yaml", "nlu_zeta.yml"]
    data = read_nlu_files(paths)
    assert data.examples == {
        "greet": ["hi", "yo"],
        "inform": ["it is ACE0100002"],
        "request_human": ["a person please"],
    }
    assert data.annotated["inform"] == [[Entity("serial", "ACE0100002", 6, 16, "")]]
    assert data.annotated["greet"] == [[], []]
    assert data.regexes == {"serial": [r"ACE\d+", r"\d{5}R\d{3}"]}


def test_no_nlu_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no NLU files"):
        read_nlu_files(nlu_files(tmp_path))


def test_a_broken_topic_file_is_named(tmp_path: Path) -> None:
    _write(tmp_path / "nlu.yml", 'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n')
    _write(tmp_path / "nlu_broken.yml", 'version: "3.1"\nnlu:\n- intent: greet\n')
    with pytest.raises(ValueError, match=r"nlu_broken\.yml"):
        read_nlu_files(nlu_files(tmp_path))


def test_the_project_reads_its_nlu_files() -> None:
    assert (DESIGN_ROOT / "data" / "nlu.yml") in nlu_files(DESIGN_ROOT / "data")
