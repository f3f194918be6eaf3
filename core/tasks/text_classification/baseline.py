"""The TF-IDF + logistic-regression baseline, trained and served without pickles.

Training uses scikit-learn; the fitted vocabulary, idf weights and coefficients are exported as
JSON + numpy (`save`), and `TfidfClassifier` recomputes the same features from them at serving
time. Word importance is integrated gradients of the spam logit, which for a linear model over
TF-IDF features is exact: feature value x coefficient, shared among the words that produced it.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token pattern
VOCABULARY, WEIGHTS = "tfidf_vocabulary.json", "tfidf_weights.npz"


def fit(texts: list[str], labels: np.ndarray, c: float = 20.0):
    """A fitted (vectorizer, logistic regression) pair: word 1-2-grams, sublinear tf, min_df 2."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_features=60_000,
                                 token_pattern=TOKEN.pattern, lowercase=True)
    features = vectorizer.fit_transform(texts)
    classifier = LogisticRegression(C=c, max_iter=2000).fit(features, labels)
    return vectorizer, classifier


def save(vectorizer, classifier, folder: Path) -> list[Path]:
    """Vocabulary as JSON, idf + coefficients + intercept as .npz (no pickle)."""
    folder.mkdir(parents=True, exist_ok=True)
    vocabulary = {term: int(index) for term, index in vectorizer.vocabulary_.items()}
    (folder / VOCABULARY).write_text(json.dumps(vocabulary, ensure_ascii=False))
    np.savez_compressed(folder / WEIGHTS, idf=vectorizer.idf_.astype(np.float32),
                        coef=classifier.coef_[0].astype(np.float32), intercept=np.float32(classifier.intercept_[0]))
    return [folder / VOCABULARY, folder / WEIGHTS]


class TfidfClassifier:
    """Serving side of the baseline: features, probabilities and exact word contributions."""

    def __init__(self, folder: Path) -> None:
        self.vocabulary: dict[str, int] = json.loads((folder / VOCABULARY).read_text())
        weights = np.load(folder / WEIGHTS, allow_pickle=False)
        self.idf, self.coef, self.intercept = weights["idf"], weights["coef"], float(weights["intercept"])

    def _features(self, words: list[str]) -> tuple[dict[int, float], dict[int, list[int]]]:
        """TF-IDF vector (sparse dict, l2-normalised) and, per feature, the word positions behind it."""
        counts: dict[int, int] = {}
        positions: dict[int, list[int]] = {}
        grams = [((w,), (i,)) for i, w in enumerate(words)] + [((a, b), (i, i + 1)) for i, (a, b) in
                                                                 enumerate(zip(words, words[1:]))]
        for gram, where in grams:
            index = self.vocabulary.get(" ".join(gram))
            if index is not None:
                counts[index] = counts.get(index, 0) + 1
                positions.setdefault(index, []).extend(where)
        values = {i: (1 + np.log(n)) * float(self.idf[i]) for i, n in counts.items()}
        norm = float(np.sqrt(sum(v * v for v in values.values()))) or 1.0
        return {i: v / norm for i, v in values.items()}, positions

    def classify(self, text: str) -> dict:
        """{"spam_probability", "words": [(start, end)], "word_scores": contribution of each word to the spam logit}."""
        spans = [(m.start(), m.end()) for m in TOKEN.finditer(text)]
        words = [text[a:b].lower() for a, b in spans]
        features, positions = self._features(words)
        logit = self.intercept + sum(self.coef[i] * v for i, v in features.items())
        scores = np.zeros(len(words))
        for index, value in features.items():
            where = positions[index]
            scores[where] += self.coef[index] * value / len(where)
        return {"spam_probability": float(1 / (1 + np.exp(-logit))), "spans": spans, "scores": scores}

    def spam_probabilities(self, texts: list[str]) -> np.ndarray:
        return np.array([self.classify(t)["spam_probability"] for t in texts])
