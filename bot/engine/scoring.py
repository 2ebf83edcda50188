"""The trained intent classifier as plain arrays, scored with numpy alone.

`Interpreter.train` fits a scikit-learn pipeline (TF-IDF words and character n-grams, then a logistic regression);
what scoring one message needs of it is small: each vectorizer's analyzer settings, vocabulary and idf, the
coefficients and the intercept. `Scorer` holds exactly that and gives `predict_proba`'s probabilities to the last
bit (tests/engine/test_understanding.py checks it), so a process that loads a cached model (`model_cache`) never
imports scikit-learn, nor scipy beneath it: about a second and a half and tens of megabytes at start-up.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np

__all__ = ["ANALYZER_KINDS", "Analyzer", "Block", "Scorer", "softmax"]

AnalyzerKind = Literal["word", "char_wb"]
ANALYZER_KINDS: Final[tuple[AnalyzerKind, ...]] = ("word", "char_wb")

# scikit-learn's VectorizerMixin._white_spaces: runs of two or more whitespace characters become one space before
# character n-grams are cut.
_WHITE_SPACES: Final = re.compile(r"\s\s+")


@dataclass(frozen=True)
class Analyzer:
    """A TfidfVectorizer's `build_analyzer()` for the two analyzers the classifier uses, without scikit-learn.

    Same steps in the same order as scikit-learn 1.x (`_analyze`): the preprocessor (which replaces lowercasing and
    accent stripping when given, as ours is), then word tokens and word n-grams, or character n-grams within word
    boundaries. Only the multiset of features matters to the counts, but the order is kept as well.
    """

    kind: AnalyzerKind
    ngram_range: tuple[int, int]
    token_pattern: str
    preprocessor: Callable[[str], str]
    _tokens: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in ANALYZER_KINDS:
            raise ValueError(f"unsupported analyzer {self.kind!r}")
        object.__setattr__(self, "_tokens", re.compile(self.token_pattern))

    def __call__(self, text: str) -> list[str]:
        document = self.preprocessor(text)
        if self.kind == "word":
            return self._word_ngrams(self._tokens.findall(document))
        return self._char_wb_ngrams(document)

    def _word_ngrams(self, tokens: list[str]) -> list[str]:
        # scikit-learn's _word_ngrams without stop words: the tokens themselves, then each longer n-gram in turn.
        min_n, max_n = self.ngram_range
        if max_n == 1:
            return tokens
        grams = list(tokens) if min_n == 1 else []
        for n in range(max(min_n, 2), min(max_n + 1, len(tokens) + 1)):
            grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
        return grams

    def _char_wb_ngrams(self, document: str) -> list[str]:
        # scikit-learn's _char_wb_ngrams: every word padded with one space each side; a word shorter than an n is
        # counted once, whole, and longer n are then skipped for it.
        min_n, max_n = self.ngram_range
        grams: list[str] = []
        for word in _WHITE_SPACES.sub(" ", document).split():
            padded = f" {word} "
            length = len(padded)
            for n in range(min_n, max_n + 1):
                offset = 0
                grams.append(padded[offset : offset + n])
                while offset + n < length:
                    offset += 1
                    grams.append(padded[offset : offset + n])
                if offset == 0:
                    break
        return grams


@dataclass(frozen=True)
class Block:
    """One TF-IDF vectorizer of the feature union, and where its columns start."""

    analyzer: Analyzer
    vocabulary: Mapping[str, int]
    idf: np.ndarray
    offset: int
    sublinear_tf: bool

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The text's columns (ascending, as scikit-learn sorts them) and their normalized tf-idf values."""
        counts: dict[int, int] = {}
        for feature in self.analyzer(text):
            index = self.vocabulary.get(feature)
            if index is not None:
                counts[index] = counts.get(index, 0) + 1
        if not counts:
            return None
        columns = np.array(sorted(counts), dtype=np.intp)
        data = np.array([counts[int(c)] for c in columns], dtype=np.float64)
        if self.sublinear_tf:
            np.log(data, data)
            data += 1.0
        data *= self.idf[columns]
        # Left to right, like sklearn's inplace_csr_row_normalize_l2 (a plain sum would pair terms differently).
        norm = float(np.add.accumulate(data * data)[-1])
        if norm != 0.0:
            data /= math.sqrt(norm)
        return columns + self.offset, data


@dataclass(frozen=True)
class Scorer:
    """`predict_proba` of the fitted pipeline for one text, to the last bit, without scikit-learn's per-call work.

    scikit-learn builds sparse matrices, validates and dispatches for every call (about 2.5 ms for one short text).
    This does the same arithmetic in the same order on small arrays: each vectorizer's counts of the features its own
    analyzer finds, sublinear tf, idf, l2 norm (summed left to right, as scikit-learn's Cython does), then the
    coefficients accumulated feature by feature in column order (as scipy's sparse product does), the intercept,
    and scikit-learn's softmax. ``coef_t`` is the transposed coefficients (one row per feature, one column per
    class), ``labels`` the classes in the columns' order.
    """

    labels: tuple[str, ...]
    blocks: tuple[Block, ...]
    coef_t: np.ndarray
    intercept: np.ndarray

    def probabilities(self, text: str) -> np.ndarray:
        columns: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for block in self.blocks:
            found = block.features(text)
            if found is not None:
                columns.append(found[0])
                values.append(found[1])
        if values:
            column = np.concatenate(columns)
            value = np.concatenate(values)
            # Row by row from zero: the order of scipy's sparse-times-dense product (a reduction over the outer
            # axis adds whole rows one after the other; it does not regroup like a sum along a row).
            scores = np.add.reduce(value[:, np.newaxis] * self.coef_t[column], axis=0, initial=0.0)
        else:
            scores = np.zeros(self.coef_t.shape[1])
        decision = (scores + self.intercept).reshape(1, -1)
        return np.asarray(softmax(decision)[0], dtype=np.float64)


def softmax(x: np.ndarray) -> np.ndarray:
    """scikit-learn's `sklearn.utils.extmath.softmax` for numpy arrays, operation for operation (rows of ``x``)."""
    result = np.array(x, dtype=np.float64)
    result -= np.max(result, axis=1).reshape((-1, 1))
    np.exp(result, out=result)
    result /= np.sum(result, axis=1).reshape((-1, 1))
    return result
