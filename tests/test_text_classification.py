"""Task 04: e-mail parsing, the grouped split, both classifiers and their word importance, the
shared text limits, and /classify_text through gradio_client. Runs on committed fixtures (40
held-out e-mails and two raw .eml files), not the full corpus."""
from __future__ import annotations

import json
from email.message import EmailMessage

import numpy as np
import pytest

from core.errors import InputError
from core.registry import EXAMPLES_DIR, get_model
from core.tasks.text_classification.data import Message, email_text, grouped_split, thread_key

FIXTURES = EXAMPLES_DIR / "text_classification"


def _message(i: int, subject: str, text: str, label: int) -> Message:
    return Message(f"m{i}", "spam-1" if label else "easy-ham-1", label, subject, text)


# ----------------------------------------------------------------------------- data

def test_a_raw_email_becomes_subject_and_body_without_headers():
    subject, text = email_text((FIXTURES / "spam.eml").read_text())
    assert subject and text.startswith(subject)
    assert "Received:" not in text and "Return-Path" not in text


def test_html_is_read_as_text_and_attachments_are_dropped():
    message = EmailMessage()
    message["Subject"] = "Cheap pills"
    message.set_content("<html><body><p>Buy <b>now</b></p><script>evil()</script></body></html>", subtype="html")
    message.add_attachment(b"MZ\x90\x00binary", maintype="application", subtype="octet-stream", filename="a.exe")
    subject, text = email_text(message.as_string())
    assert subject == "Cheap pills" and "Buy now" in text
    assert "evil" not in text and "<b>" not in text and "MZ" not in text


def test_plain_text_without_headers_is_read_as_is():
    assert email_text("Hello Bob,\n\nlunch at noon?") == ("", "Hello Bob,\n\nlunch at noon?")


def test_thread_keys_ignore_reply_prefixes_and_list_tags():
    assert thread_key("Re: [SAdev] Re: Live Rule Updates") == thread_key("Live rule updates") == "live rule updates"
    assert thread_key("Fwd: RE: hello world") == "hello world"


def test_threads_and_near_duplicates_never_straddle_the_split():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(400)]
    messages = []
    for i in range(60):
        label = i % 2
        body = " ".join(rng.choice(words, 40))
        messages.append(_message(len(messages), f"topic number {i}", body, label))
        messages.append(_message(len(messages), f"Re: topic number {i}", " ".join(rng.choice(words, 40)), label))  # thread
        messages.append(_message(len(messages), f"other {i}", body + " thanks", label))  # near-duplicate text
    parts = grouped_split(messages)
    where = {int(i): name for name, idx in parts.items() for i in idx}
    assert sorted(where) == list(range(len(messages)))
    for first in range(0, len(messages), 3):
        assert where[first] == where[first + 1] == where[first + 2]
    test_share = len(parts["test"]) / len(messages)
    assert 0.1 < test_share < 0.3 and 0.3 < np.mean([messages[i].label for i in parts["test"]]) < 0.7


# ----------------------------------------------------------------------------- models

@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """A seconds-long run of the whole recipe (both models) on the committed sample."""
    from core.tasks.text_classification.train import train

    root = tmp_path_factory.mktemp("tc")
    metrics = train(root / "models" / "text_classification", root / "cards" / "text_classification", quick=True)
    return root, metrics


def test_quick_training_exports_both_models_and_writes_the_card(quick_run):
    root, metrics = quick_run
    out = root / "models" / "text_classification"
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "encoder_config.json", "lora_head.safetensors",
                                                     "tfidf_vocabulary.json", "tfidf_weights.npz"]
    assert set(metrics["variants"]) == {"minilm", "tfidf"} and metrics["headline"]["variant"] == "minilm"
    for block in metrics["variants"].values():
        assert sum(map(sum, block["confusion_matrix"]["matrix"])) == int(metrics["headline"]["split"].split()[0])
        assert 0 <= block["metrics"]["accuracy"] <= 1 and block["model"]["latency_ms"] > 0
    card = (root / "cards" / "text_classification" / "README.md").read_text()
    assert "Quick smoke run" in card and "grouped split" in card
    history = metrics["variants"]["minilm"]["history"]
    assert [r["epoch"] for r in history] == [1, 2] and history[-1]["train_loss"] < history[0]["train_loss"] + 0.2


def test_only_the_trained_tensors_are_shipped_and_they_load_back(quick_run):
    from safetensors.torch import load_file

    from core.tasks.text_classification.encoder import load

    out = quick_run[0] / "models" / "text_classification"
    shipped = load_file(str(out / "lora_head.safetensors"))
    assert shipped and all("lora_" in k or k.startswith("head.") for k in shipped)
    assert sum(v.numel() for v in shipped.values()) < 1_000_000  # the 22.7 M encoder weights stay in the pip package
    model = load(out)
    assert model.head.weight.equal(shipped["head.weight"])


def test_the_served_baseline_matches_scikit_learn_and_its_word_scores_add_up(tmp_path):
    from core.tasks.text_classification import baseline

    sample = json.loads((FIXTURES / "corpus_sample.json").read_text())
    texts, labels = [m["text"] for m in sample], np.array([m["label"] for m in sample])
    vectorizer, classifier = baseline.fit(texts, labels)
    baseline.save(vectorizer, classifier, tmp_path)
    served = baseline.TfidfClassifier(tmp_path)
    for text in texts[:6] + ["A brand new text about free money and Linux kernels."]:
        out = served.classify(text)
        assert out["spam_probability"] == pytest.approx(classifier.predict_proba(vectorizer.transform([text]))[0, 1],
                                                        abs=1e-6)
        logit = np.log(out["spam_probability"] / (1 - out["spam_probability"]))
        assert out["scores"].sum() == pytest.approx(logit - served.intercept, abs=1e-4)  # exact attributions


def test_integrated_gradients_add_up_to_the_change_of_the_logit():
    """Completeness: the token attributions sum to margin(input) - margin(baseline), within the error
    of the 8-step Riemann sum the app uses."""
    import torch

    from core.tasks.text_classification.encoder import integrated_gradients

    served = get_model("text_classification", "minilm")
    encoded = served.tokenizer("Win a FREE holiday now, click here to claim your prize!", return_tensors="pt")
    ids, mask = encoded["input_ids"], encoded["attention_mask"]
    _, attributions = integrated_gradients(served.model, ids, mask)
    with torch.no_grad():
        margin = served.model(ids, mask)
        special = (ids == 101) | (ids == 102)
        base = torch.where(special.unsqueeze(-1), served.model.embeddings(ids),
                           served.model.embeddings(torch.zeros_like(ids)))
        base_margin = served.model(inputs_embeds=base, attention_mask=mask)
    change = float((margin[0, 1] - margin[0, 0]) - (base_margin[0, 1] - base_margin[0, 0]))
    assert attributions.sum() == pytest.approx(change, abs=0.1 + 0.1 * abs(change))


def test_wordpieces_are_merged_into_words():
    from core.tasks.text_classification.adapter import merge_pieces

    text = "Unbelievable offer!"
    offsets = [(0, 0), (0, 2), (2, 7), (7, 12), (13, 18), (18, 19), (0, 0)]  # [CLS] un ##believ ##able offer ! [SEP]
    words = merge_pieces(offsets, np.array([9, 1, 2, 3, 4, 5, 9.0]), text)
    assert [(text[a:b], s) for a, b, s in words] == [("Unbelievable", 6.0), ("offer", 4.0), ("!", 5.0)]


@pytest.mark.parametrize("variant", ["minilm", "tfidf"])
def test_classify_returns_the_contract_and_says_where_it_stopped_reading(variant):
    served = get_model("text_classification", variant)
    spam = json.loads((FIXTURES / "examples.json").read_text())[-1]["text"]
    result = served.classify(spam)
    assert [p["label"] for p in result["predictions"]] in (["spam", "ham"], ["ham", "spam"])
    assert sum(p["score"] for p in result["predictions"]) == pytest.approx(1, abs=1e-3)
    assert result["importance"] and all(-1 <= w["score"] <= 1 for w in result["importance"])
    assert max(abs(w["score"]) for w in result["importance"]) == pytest.approx(1)
    assert all(result["text"][a:b] == w["token"] for (a, b), w in zip(result["spans"], result["importance"]))
    long = served.classify(spam * 40)
    if variant == "minilm":
        assert long["truncated_at"] is not None and long["tokens_seen"] == served.max_length
        assert any("not read" in note for note in long["notes"])
        assert max(b for _, b in long["spans"]) <= long["truncated_at"]
    else:
        assert long["truncated_at"] is None  # the baseline reads everything


def test_bad_text_gets_clear_messages(monkeypatch):
    served = get_model("text_classification", "tfidf")
    with pytest.raises(InputError, match="empty"):
        served.classify("   \n ")
    with pytest.raises(InputError, match="binary"):
        served.classify("\x00\x01\x02PK\x03\x04" * 10)
    with pytest.raises(InputError, match="must be a string"):
        served.classify({"text": "hi"})
    monkeypatch.setenv("MAX_TEXT_CHARS", "500")
    result = served.classify("free money " * 200)
    assert result["input_truncated"] and "first 500 of 2,200 characters" in result["notes"][0]


def test_text_files_are_read_and_binary_files_refused(tmp_path):
    from core.text_input import read_text_file

    assert read_text_file(FIXTURES / "ham.eml").startswith("From ")
    latin = tmp_path / "old.txt"
    latin.write_bytes("Caf\xe9 cr\xe8me".encode("latin-1"))
    assert read_text_file(latin) == "Café crème"
    binary = tmp_path / "fake.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
    with pytest.raises(InputError, match="binary"):
        read_text_file(binary)
    with pytest.raises(InputError, match="Upload a text file"):
        read_text_file(tmp_path / "picture.png")
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"  \n")
    with pytest.raises(InputError, match="empty"):
        read_text_file(empty)


# ----------------------------------------------------------------------------- API (the shipped models)

def test_api_classify_text_returns_predictions_and_importance(client):
    spam = json.loads((FIXTURES / "examples.json").read_text())[-1]["text"]
    for model in ("minilm", "tfidf"):
        *_, result = client.predict(text=spam, model=model, api_name="/classify_text")
        assert result["model"] == model and {p["label"] for p in result["predictions"]} == {"ham", "spam"}
        assert result["importance"] and {"token", "score"} <= set(result["importance"][0])
    *_, default = client.predict(text="Meeting moved to 3pm, see you there.", api_name="/classify_text")
    assert default["model"] == "minilm"


def test_api_bad_text_gets_clear_errors(client):
    with pytest.raises(Exception, match="empty"):
        client.predict(text="", api_name="/classify_text")
    with pytest.raises(Exception, match="not in the list of choices|Unknown model"):
        client.predict(text="hello there", model="bayes", api_name="/classify_text")


def test_a_message_starting_like_a_header_is_still_read_as_text():
    from core.tasks.text_classification.data import looks_like_email

    assert email_text("Re: lunch\n\nSee you at noon.") == ("", "Re: lunch\n\nSee you at noon.")
    assert looks_like_email("Subject: hi\nTo: bob@example.org\n\nbody") and not looks_like_email("Note: call Bob")
