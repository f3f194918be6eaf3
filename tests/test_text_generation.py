"""Task 05 (in progress): the corpus split and the language-model trainer, on a committed sample of
the corpus (5 documents, 20,000 characters of public-domain text)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from core.tasks.text_generation.corpus import Document, split
from core.tasks.text_generation.train import EOS, QUICK, fit, windows

SAMPLE = Path(__file__).parent / "fixtures" / "text_generation_documents.json"


def _documents() -> list[Document]:
    return [Document(**d) for d in json.loads(SAMPLE.read_text())]


def test_split_keeps_whole_documents_apart():
    documents = [Document("sotu", f"doc_{i}", f"text {i}") for i in range(45)]
    parts = split(documents)
    assert [d.name for d in parts["test"]] == ["doc_0", "doc_20", "doc_40"]
    assert [d.name for d in parts["validation"]] == ["doc_1", "doc_21", "doc_41"]
    names = [d.name for part in parts.values() for d in part]
    assert sorted(names) == sorted(d.name for d in documents) and len(set(names)) == 45


def test_windows_pair_each_token_with_the_next():
    blocks = windows(np.arange(10, dtype=np.uint16), context=3)
    assert blocks.tolist() == [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]]


def test_quick_training_learns_logs_and_resumes(tmp_path):
    from tokenizers import Tokenizer

    documents = _documents() * 21  # 105 documents: every split gets some
    run = fit(QUICK, root=tmp_path, documents=documents)
    history = json.loads((run / "history.json").read_text())
    assert [row["step"] for row in history] == [3, 6]
    assert history[-1]["val_loss"] < history[0]["val_loss"] < np.log(QUICK.vocab_size) + 1  # it learns
    tokenizer = Tokenizer.from_file(str(run / "tokenizer.json"))
    text = "Call me Ishmael."
    assert tokenizer.decode(tokenizer.encode(text).ids) == text and tokenizer.token_to_id(EOS) is not None
    assert "step 6/6" in (run / "train.log").read_text()
    resumed = fit(QUICK, root=tmp_path, resume=True)  # already finished: nothing more to do
    assert json.loads((resumed / "history.json").read_text()) == history


def test_export_loads_back_without_pickles_and_both_models_are_scored(tmp_path):
    """The exported float16 weights load into a fresh network and score the test documents; the
    trigram baseline is measured on the same tokens."""
    from core.tasks.text_generation.evaluate import evaluate, export, load_model

    run = fit(QUICK, root=tmp_path, documents=_documents() * 21)
    out = export(run, tmp_path / "model")
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "gpt2_scratch.safetensors", "tokenizer.json"]
    model, tokenizer = load_model(out)
    assert model.transformer.wte.weight.data_ptr() == model.lm_head.weight.data_ptr()  # tied, as trained
    result = evaluate(run, out)
    assert result["test_tokens"] > 0 and 1 < result["model_perplexity"] < QUICK.vocab_size * 2
    assert 1 < result["trigram_perplexity"] < QUICK.vocab_size
    assert json.loads((run / "evaluation.json").read_text()) == result


def test_kneser_ney_trigram_is_a_distribution():
    from core.tasks.text_generation.ngram import KneserNeyTrigram

    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 50, size=5000)
    model = KneserNeyTrigram(vocab_size=60).fit(tokens)
    for u, v in [(int(tokens[10]), int(tokens[11])), (3, 4), (59, 59)]:  # seen, maybe seen, never seen
        p = model.probabilities(np.full(60, u), np.full(60, v), np.arange(60))
        assert np.all(p > 0) and abs(p.sum() - 1) < 1e-9
    assert model.perplexity(tokens[:500]) < 50  # better than uniform over the 50 tokens used
