"""Task 05 (in progress): the corpus split and the language-model trainer, on a committed sample of
the corpus (5 documents, 20,000 characters of public-domain text)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from core.errors import InputError
from core.registry import EXAMPLES_DIR
from core.tasks.text_generation.corpus import Document, split
from core.tasks.text_generation.train import EOS, QUICK, fit, windows

SAMPLE = EXAMPLES_DIR / "text_generation" / "corpus_sample.json"


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


def test_a_second_stage_continues_from_the_first_ones_weights_data_and_step_count(tmp_path):
    from core.tasks.text_generation.train import QUICK_STAGES

    first = fit(QUICK_STAGES[0], root=tmp_path, documents=_documents() * 21)
    second = fit(QUICK_STAGES[1], root=tmp_path, resume=True)  # no documents: it reads the first stage's data
    history = json.loads((second / "history.json").read_text())
    assert [row["step"] for row in history] == [3, 6, 9]  # the first stage's rows, then its own
    assert (second / "tokenizer.json").read_bytes() == (first / "tokenizer.json").read_bytes()
    assert np.array_equal(np.load(second / "test.npy"), np.load(first / "test.npy"))
    assert history[-1]["val_loss"] < json.loads((first / "history.json").read_text())[0]["val_loss"]


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


# ----------------------------------------------------------------------------- decoding (adapter)

@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A quick-trained model on the sample, exported and loaded as the app loads the real one."""
    from core.tasks.text_generation.adapter import load
    from core.tasks.text_generation.evaluate import export

    root = tmp_path_factory.mktemp("lm")
    run = fit(QUICK, root=root, documents=_documents() * 21)
    return load("scratch", export(run, root / "model"))


@pytest.mark.parametrize("strategy", ["greedy", "beam search", "sampling", "top-k", "nucleus", "contrastive search"])
def test_every_strategy_gives_tokens_with_probabilities_and_alternatives(tiny_model, strategy):
    from core.tasks.text_generation.adapter import Settings

    result = tiny_model.generate("The whale", Settings(strategy=strategy, max_new_tokens=8, repetition_penalty=1.0,
                                                       no_repeat_ngram_size=0, top_k=5))
    assert result["texts"][0].startswith("The whale") and result["settings"]["strategy"] == strategy
    for token in result["tokens"][0]:
        assert 0 <= token["probability"] <= 1 and len(token["alternatives"]) == 5
        scores = [p for _, p in token["alternatives"]]
        assert scores == sorted(scores, reverse=True)
    assert result["token_count"] == len(result["tokens"][0]) <= 8


def test_seeded_sampling_is_reproducible_even_with_requests_in_parallel(tiny_model):
    from concurrent.futures import ThreadPoolExecutor

    from core.tasks.text_generation.adapter import Settings

    settings = [Settings(strategy="sampling", temperature=1.5, max_new_tokens=12, seed=seed) for seed in (1, 2, 1, 2) * 3]
    alone = [tiny_model.generate("Call me", s)["texts"] for s in settings[:2]]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda s: tiny_model.generate("Call me", s)["texts"], settings))
    assert together == alone * 6 and alone[0] != alone[1]


def test_decoding_limits_are_clear(tiny_model):
    from core.errors import InputError
    from core.tasks.text_generation.adapter import Settings, settings_from

    with pytest.raises(InputError, match="empty"):
        tiny_model.generate("   ", Settings(max_new_tokens=8))
    with pytest.raises(InputError, match="Shorten it or ask for fewer new tokens"):
        tiny_model.generate("whale " * 200, Settings(max_new_tokens=8))
    with pytest.raises(InputError, match="temperature must be between"):
        tiny_model.generate("The", Settings(temperature=0, max_new_tokens=8))
    with pytest.raises(InputError, match="Unknown setting"):
        settings_from({"temprature": 1.0})
    with pytest.raises(InputError, match="at most num_beams"):
        tiny_model.generate("The", Settings(strategy="beam search", num_beams=2, num_return_sequences=3, max_new_tokens=8))


def test_greedy_decoding_with_the_cache_matches_transformers_generate(tiny_model):
    import torch

    from core.tasks.text_generation.adapter import Settings

    settings = Settings(strategy="greedy", max_new_tokens=10, repetition_penalty=1.0, no_repeat_ngram_size=0)
    ours = [t["text"] for t in tiny_model.generate("Call me Ishmael", settings)["tokens"][0]]
    prompt = torch.tensor([tiny_model.tokenizer.encode("Call me Ishmael").ids])
    reference = tiny_model.model.generate(prompt, attention_mask=torch.ones_like(prompt), do_sample=False,
                                          max_new_tokens=10, pad_token_id=tiny_model.eos, eos_token_id=tiny_model.eos)
    expected = [tiny_model.tokenizer.decode([int(i)]) for i in reference[0, prompt.shape[1]:] if int(i) != tiny_model.eos]
    assert ours == expected[:len(ours)] and ours


# ----------------------------------------------------------------------------- API (the shipped model)

def test_api_generate_text_returns_the_final_result(client):
    text, table, summary, result = client.predict(prompt="Call me Ishmael.", strategy="greedy", max_new_tokens=12,
                                                  api_name="/generate_text")
    assert result["model"] == "text_generation/scratch" and result["texts"][0].startswith("Call me Ishmael.")
    assert 1 <= result["token_count"] <= 12 and result["tokens_per_s"] > 0
    assert result["settings"]["strategy"] == "greedy" and result["settings"]["max_new_tokens"] == 12
    again = client.predict(prompt="Call me Ishmael.", strategy="greedy", max_new_tokens=12, api_name="/generate_text")[-1]
    assert again["texts"] == result["texts"]  # greedy is deterministic
    sampled = [client.predict(prompt="The whale", strategy="sampling", seed=7, max_new_tokens=12, num_return_sequences=2,
                              api_name="/generate_text")[-1]["texts"] for _ in range(2)]
    assert sampled[0] == sampled[1] and len(sampled[0]) == 2


def test_api_bad_prompts_and_settings_get_clear_errors(client):
    with pytest.raises(Exception, match="empty"):
        client.predict(prompt="  ", api_name="/generate_text")
    with pytest.raises(Exception, match="Shorten it"):
        client.predict(prompt="whale " * 400, max_new_tokens=20, api_name="/generate_text")
    with pytest.raises(Exception, match="not in the list of choices|strategy must be"):
        client.predict(prompt="The", strategy="telepathy", api_name="/generate_text")
    assert client.predict(prompt="The", max_new_tokens=3, api_name="/generate_text")[-1]["token_count"] >= 1


# ----------------------------------------------------------------------------- opt-in Hub variant

def test_the_hub_variant_is_refused_until_installed_then_installs_from_a_folder_and_generates(tmp_path, monkeypatch):
    """Offline, "hub" answers with the install command; `--from DIR` installs a GPT-2-family folder
    (here a tiny stand-in with the project's tokenizer, saved as safetensors) and it then generates."""
    from transformers import GPT2Config, GPT2LMHeadModel

    from core.registry import MODELS_DIR
    from core.tasks.text_generation import hub
    from core.tasks.text_generation.adapter import Settings, load

    monkeypatch.setenv("ML_PORTFOLIO_CACHE", str(tmp_path / "cache"))
    with pytest.raises(InputError, match="not installed.*ALLOW_NETWORK=1"):
        load("hub", MODELS_DIR / "text_generation")
    with pytest.raises(SystemExit, match="Network access is off"):
        hub.main([])
    source = tmp_path / "stand_in"
    tokenizer = MODELS_DIR / "text_generation" / "tokenizer.json"
    GPT2LMHeadModel(GPT2Config(vocab_size=4096, n_positions=64, n_embd=32, n_layer=1, n_head=2)).save_pretrained(source)
    (source / "tokenizer.json").write_bytes(tokenizer.read_bytes())
    hub.main(["--from", str(source)])
    assert hub.available() and sorted(p.name for p in hub.hub_dir().iterdir()) == sorted(hub.FILES)
    result = load("hub", MODELS_DIR / "text_generation").generate("The whale", Settings(strategy="greedy", max_new_tokens=5))
    assert result["variant"] == "hub" and result["token_count"] == 5


def test_api_the_hub_model_offline_says_how_to_install_it(client):
    from core.tasks.text_generation import hub

    if hub.available():
        pytest.skip("the Hub variant is installed in this cache")
    with pytest.raises(Exception, match="not installed"):
        client.predict(prompt="The", model="hub", api_name="/generate_text")
