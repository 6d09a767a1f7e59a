"""Scoring texts with a trained artifact: calibrated probabilities, read window by window.

A comment longer than the model's `max_len` tokens is cut into overlapping windows; each label's
score is its highest over the windows, so an insult past the first window still counts, and the
window that gave it is known (its character span), for a moderator to see.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from training.artifacts import load_artifact
from training.calibration import apply_probability_maps, blend
from training.cascade import Band
from training.drift import vocabulary_miss_share
from training.normalise import normalise_aligned, original_span
from training.onnx_model import INT8_FILE, ONNX_FILE, RUNTIMES, OnnxModel
from training.span_tagger import WORD

logger = logging.getLogger(__name__)

# Tokens shared by consecutive windows: a phrase cut by one window's edge is whole in the next.
WINDOW_OVERLAP = 32
MAX_OCCLUDED_WORDS = 40  # measured on one thread: p50 1.7 ms, p95 11 ms a comment (docs/benchmarks.md)
# Which words drive a score: at most DRIVING_WORDS, each of whose removal lowers the raw score
# by more than OCCLUSION_MIN_DROP and by at least DRIVING_SHARE of the largest drop. Chosen on
# 1,200 posts of toxic_spans_train.csv for the character F1 against annotators' spans (0.521 ->
# 0.550 there; bench/spans.py measures the trial posts, which no choice saw).
OCCLUSION_MIN_DROP = 0.0
DRIVING_SHARE = 0.5
DRIVING_WORDS = 2


def encode(tokenizer: Any, texts: Sequence[str], max_len: int) -> list[list[int]]:
    """The first `max_len` tokens of each text (training reads the first window only)."""
    tokenizer.enable_truncation(max_length=max_len)
    tokenizer.no_padding()
    return [encoding.ids for encoding in tokenizer.encode_batch(list(texts))]


@dataclass(frozen=True)
class Windows:
    token_ids: list[list[int]]  # each window with the encoding's first and last special tokens
    owner: np.ndarray  # the text each window belongs to
    spans: np.ndarray  # (windows, 2): the window's character span in its text


def split_windows(tokenizer: Any, texts: Sequence[str], max_len: int, overlap: int = WINDOW_OVERLAP) -> Windows:
    tokenizer.no_truncation()
    tokenizer.no_padding()
    token_ids, owner, spans = [], [], []
    body_len = max_len - 2  # room for [CLS] … [SEP]
    step = max(body_len - overlap, 1)
    for index, encoding in enumerate(tokenizer.encode_batch(list(texts))):
        ids, offsets = encoding.ids, encoding.offsets
        if len(ids) <= max_len:
            token_ids.append(ids)
            owner.append(index)
            spans.append((0, len(texts[index])))
            continue
        head, tail, body, body_offsets = ids[0], ids[-1], ids[1:-1], offsets[1:-1]
        start = 0
        while True:
            piece = body[start : start + body_len]
            token_ids.append([head, *piece, tail])
            owner.append(index)
            spans.append((body_offsets[start][0], body_offsets[start + len(piece) - 1][1]))
            if start + body_len >= len(body):
                break
            start += step
    return Windows(token_ids, np.asarray(owner, dtype=np.int64), np.asarray(spans, dtype=np.int64).reshape(-1, 2))


def unlearned_labels(metrics: dict[str, Any], labels: Sequence[str]) -> list[str]:
    """Labels the model never saw a positive of, from true labels or a teacher (racism on
    Jigsaw data): their head is untrained, its output noise near 0.5. They score 0, and so
    never flag, until people have labelled some and a new version learns them."""
    positives = metrics.get("split", {}).get("train_positives", {})
    distilled = set((metrics.get("teacher") or {}).get("distilled", []))
    return [label for label in labels if positives.get(label, 1) == 0 and label not in distilled]


_warned_torch: set[Path] = set()  # artifacts already logged as served by torch


class Scorer:
    """A loaded model that turns texts into per-label probabilities. Thresholds are not its
    business: a version's thresholds are the database's (ModelVersion.thresholds).

    `runtime` is "onnx" (the artifact's model.onnx in ONNX Runtime), "onnx-int8" (its int8
    quantisation) or "torch". An artifact without ONNX files (made before ONNX serving) is
    scored by torch, and that is logged once per artifact."""

    def __init__(
        self,
        artifact_path: str | Path,
        *,
        root: str | Path | None = None,
        batch_size: int = 64,
        runtime: str = "onnx",
        threads: int = 1,
        cascade: bool = False,
    ):
        if runtime not in RUNTIMES:
            raise ValueError(f"runtime must be one of {RUNTIMES}, not {runtime!r}")
        self.artifact = load_artifact(artifact_path, root)
        onnx_file = self.artifact.path / (INT8_FILE if runtime == "onnx-int8" else ONNX_FILE)
        if runtime != "torch" and not onnx_file.is_file():
            if self.artifact.path not in _warned_torch:
                _warned_torch.add(self.artifact.path)
                logger.warning("artifact %s has no %s: scoring with torch", self.artifact.path, onnx_file.name)
            runtime = "torch"
        self.runtime = runtime
        self._onnx = OnnxModel(onnx_file, threads=threads) if runtime != "torch" else None
        self.labels: list[str] = list(self.artifact.labels)
        self.max_len: int = self.artifact.config["max_len"]
        self.pad_id: int = self.artifact.config["pad_id"]
        self.batch_size = batch_size
        self.unlearned: list[str] = unlearned_labels(self.artifact.metrics(), self.labels)
        self.tfidf_blend: float = self.artifact.config["training"]["tfidf_blend"] if self.artifact.tfidf else 0.0
        self._unlearned_columns = [self.labels.index(label) for label in self.unlearned]
        self.normaliser: int = self.artifact.config["training"]["normaliser"]
        # The cascade, where asked for and the artifact has a band (and so a bag of words).
        self.band: Band | None = self.artifact.cascade if cascade and self.tfidf_blend else None

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), len(labels)) probabilities, in the order given."""
        return self.score_with_spans(texts)[0]

    def vocabulary_miss_share(self, texts: Sequence[str]) -> float:
        """The share of the words it reads (normalised) that are outside its vocabulary."""
        return vocabulary_miss_share(self.artifact.tokenizer, self._read(texts)[0])

    def windows_needed(self, text: str) -> int:
        """How many windows `text` is read in (tokenising only: cheap)."""
        read = normalise_aligned(text, self.normaliser)[0]
        return int(np.sum(split_windows(self.artifact.tokenizer, [read], self.max_len).owner == 0))

    def word_drops(self, text: str, label: str, max_words: int = MAX_OCCLUDED_WORDS) -> list[tuple[int, int, float]]:
        """Token occlusion: for each word of `text`, its character span and how much the
        transformer's `label` score drops when that word is left out. One batch of words + 1
        texts (the transformer alone: where the score comes from, as for the driving window).
        A text of more than `max_words` words gets nothing: its cost would grow with its square."""
        words = [match.span() for match in WORD.finditer(text)]
        if not words or len(words) > max_words:
            return []
        # Normalised once: each variant leaves out what the word became (its characters'
        # origins), rather than normalising every variant again (a quarter of the page's cost).
        (read,), (origin,) = self._read([text])
        variants, origins = [read], [origin]
        for start, end in words:
            kept = [index for index, source in enumerate(origin) if not start <= source < end]
            variants.append("".join(read[index] for index in kept))
            origins.append([origin[index] for index in kept])
        raw = self._windows([text] * len(variants), (variants, origins))[0][:, self.labels.index(label)]
        return [(start, end, float(raw[0] - raw[index + 1])) for index, (start, end) in enumerate(words)]

    def driving_words(self, text: str, label: str) -> list[tuple[int, int]]:
        """The character spans of the few words (at most DRIVING_WORDS) that drive `label`'s
        score most: each lowers the transformer's raw score by more than OCCLUSION_MIN_DROP, and
        by at least DRIVING_SHARE of the largest drop, when left out. A text of more words than
        MAX_OCCLUDED_WORDS is read in runs of that many: the words are sought in the run the
        transformer scores highest. What the work page marks and bench/spans.py measures
        against annotators' spans."""
        words = [match.span() for match in WORD.finditer(text)]
        offset = 0
        if len(words) > MAX_OCCLUDED_WORDS:
            runs = [words[i : i + MAX_OCCLUDED_WORDS] for i in range(0, len(words), MAX_OCCLUDED_WORDS)]
            run_texts = [text[run[0][0] : run[-1][1]] for run in runs]
            best = int(np.argmax(self._windows(run_texts)[0][:, self.labels.index(label)]))
            offset, text = runs[best][0][0], run_texts[best]
        drops = [(start + offset, end + offset, drop) for start, end, drop in self.word_drops(text, label)]
        if not drops:
            return []
        floor = max(OCCLUSION_MIN_DROP, max(drop for _, _, drop in drops) * DRIVING_SHARE)
        chosen = sorted(
            (span for span in drops if span[2] > OCCLUSION_MIN_DROP and span[2] >= floor), key=lambda span: -span[2]
        )[:DRIVING_WORDS]
        return sorted((start, end) for start, end, _ in chosen)

    def driving_spans(self, texts: Sequence[str]) -> np.ndarray:
        """For each text and label, the character span of the window with the transformer's
        highest score: where the score came from (the blend and maps do not move it)."""
        return self._windows(texts)[1]

    def _read(self, texts: Sequence[str]) -> tuple[list[str], list[list[int]]]:
        """What the models read (each text normalised) and where each character came from."""
        aligned = [normalise_aligned(text, self.normaliser) for text in texts]
        return [read for read, _ in aligned], [origin for _, origin in aligned]

    def _windows(
        self, texts: Sequence[str], read: tuple[list[str], list[list[int]]] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The transformer's highest raw score per text and label over its windows, and that
        window's character span in the text as given. `read` is `self._read(texts)`, if known."""
        n_labels = len(self.labels)
        read_texts, origins = read or self._read(texts)
        windows = split_windows(self.artifact.tokenizer, read_texts, self.max_len)
        if self._onnx is not None:
            raw = self._onnx.predict(windows.token_ids, self.pad_id, self.batch_size)
        else:
            raw = _torch_predict(self.artifact.model, windows.token_ids, n_labels, self.pad_id, self.batch_size)
        best = np.full((len(texts), n_labels), -1.0, dtype=np.float32)
        best_window = np.zeros((len(texts), n_labels), dtype=np.int64)
        # Windows come in text order: one pass keeps each text's best window per label.
        for window, (text, row) in enumerate(zip(windows.owner, raw, strict=True)):
            better = row > best[text]
            best[text][better] = row[better]
            best_window[text][better] = window
        spans = windows.spans[best_window]
        for index, (text, origin) in enumerate(zip(texts, origins, strict=True)):
            if len(origin) != len(text) or read_texts[index] != text:
                for label in range(n_labels):
                    start, end = spans[index, label]
                    spans[index, label] = original_span(origin, int(start), int(end), len(text))
        return best, spans

    def score_with_spans(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The probabilities, and for each text and label the character span (start, end) of
        the window that gave the score: (len(texts), len(labels), 2)."""
        probs, spans, _ = self.score_with_parts(texts)
        return probs, spans

    def score_with_parts(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """score_with_spans's two, and the blend's parts as probabilities, (len(texts),
        len(labels), 2): the transformer's and the bag of words' (None for a model without one).
        Where they disagree, a person's label teaches most (moderation/engine/teaching.py).
        With the cascade, a comment the bag of words is sure of is not read by the transformer:
        the bag of words stands in for it (both parts its score), its span the whole text."""
        return self._score(texts)[:3]

    def skipped(self, texts: Sequence[str]) -> np.ndarray:
        """Which of `texts` the cascade scores without the transformer."""
        return self._score(texts)[3]

    def _score(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
        n_labels = len(self.labels)
        if not texts:
            empty = np.zeros(0, dtype=bool)
            return np.zeros((0, n_labels), dtype=np.float32), np.zeros((0, n_labels, 2), dtype=np.int64), None, empty
        read = self._read(texts)
        tfidf = None
        if self.tfidf_blend and self.artifact.tfidf is not None:  # the bag of words reads the whole text at once
            tfidf = apply_probability_maps(
                self.artifact.tfidf.predict_proba(read[0]), self.artifact.part_maps["tfidf"], self.labels
            )
        skip = np.zeros(len(texts), dtype=bool)
        if self.band is not None and tfidf is not None:
            skip = self.band.skipped(texts, read[0], tfidf, self.labels)
        best = np.zeros((len(texts), n_labels), dtype=np.float32)
        spans = np.zeros((len(texts), n_labels, 2), dtype=np.int64)
        spans[:, :, 1] = np.array([len(text) for text in texts])[:, None]
        asked = np.flatnonzero(~skip).tolist()
        if len(asked):
            best[asked], spans[asked] = self._windows(
                [texts[i] for i in asked], ([read[0][i] for i in asked], [read[1][i] for i in asked])
            )
        parts = None
        if tfidf is not None:
            neural = apply_probability_maps(best, self.artifact.part_maps["neural"], self.labels)
            neural[skip] = tfidf[skip]
            best = blend(neural, tfidf, self.tfidf_blend)
            parts = np.stack([neural, tfidf], axis=2)
            parts[:, self._unlearned_columns] = 0.0
        # The maps are monotone: the calibrated maximum is the calibrated raw maximum.
        probs = apply_probability_maps(best, self.artifact.probability_maps, self.labels)
        probs[:, self._unlearned_columns] = 0.0
        return probs, spans, parts, skip

    def score_dicts(self, texts: Sequence[str]) -> list[dict[str, float]]:
        return by_label(self.labels, self.score(texts))


def by_label(labels: Sequence[str], rows: np.ndarray) -> list[dict[str, float]]:
    """Each row of a (texts, labels) score matrix as {label: score}: what predictions store."""
    return [dict(zip(labels, map(float, row), strict=True)) for row in rows]


def _torch_predict(model: Any, token_ids: list[list[int]], n_labels: int, pad_id: int, batch_size: int) -> np.ndarray:
    """The torch model's raw scores. Torch is imported here, not at the top: a process serving
    with ONNX Runtime never loads it (tests/toxiscope/test_boot.py)."""
    from training.batches import unlabelled
    from training.loop import predict

    return predict(model, unlabelled(token_ids, n_labels, pad_id), batch_size)
