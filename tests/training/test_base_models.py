import huggingface_hub.constants
import pytest

from tests.tiny import tiny_config
from training.base_models import BaseModelError, load_base_model, train_wordpiece

TEXTS = ["you are a complete idiot", "thanks for the helpful edit", "the edit was helpful and clear"] * 5


def test_scratch_vocabulary_is_the_same_every_time(demo_examples):
    texts = [example.text for example in demo_examples]
    first = train_wordpiece(texts, vocab_size=1500, min_frequency=2)
    second = train_wordpiece(list(reversed(texts)), vocab_size=1500, min_frequency=2)
    assert first.get_vocab() == second.get_vocab()


def test_scratch_tokenizer_splits_unseen_words_into_known_pieces():
    tokenizer = train_wordpiece(TEXTS, vocab_size=500, min_frequency=1)
    encoding = tokenizer.encode("Idiotic EDITS")
    assert encoding.tokens[0] == "[CLS]" and encoding.tokens[-1] == "[SEP]"
    assert "[UNK]" not in encoding.tokens
    assert encoding.tokens[1] == "idiot"


def test_scratch_is_the_bert_tiny_shape():
    base = load_base_model(
        tiny_config(scratch_hidden=128, scratch_layers=2, scratch_heads=2, scratch_intermediate=512), TEXTS
    )
    config = base.encoder.config
    assert (config.hidden_size, config.num_hidden_layers, config.num_attention_heads) == (128, 2, 2)
    assert base.pad_id == base.tokenizer.token_to_id("[PAD]")


def test_local_directory(tmp_path):
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    tokenizer = train_wordpiece(TEXTS, vocab_size=200, min_frequency=1)
    BertModel(
        BertConfig(
            vocab_size=tokenizer.get_vocab_size(),
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=32,
        )
    ).save_pretrained(tmp_path)
    PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]"
    ).save_pretrained(tmp_path)
    base = load_base_model(tiny_config(base_model=str(tmp_path)), TEXTS)
    assert base.encoder.config.hidden_size == 16
    assert base.tokenizer.get_vocab() == tokenizer.get_vocab()


def test_missing_local_directory_names_the_offline_options(tmp_path):
    with pytest.raises(BaseModelError, match="does not exist.*--base-model scratch.*--base-model minilm"):
        load_base_model(tiny_config(base_model=str(tmp_path / "nothing-here")), TEXTS)


def test_unreachable_hub_says_so_and_names_the_offline_options(monkeypatch):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(BaseModelError, match=r"prajjwal1/bert-tiny.*hub.*--base-model scratch.*--base-model minilm"):
        load_base_model(tiny_config(base_model="prajjwal1/bert-tiny"), TEXTS)


@pytest.mark.slow
def test_minilm_loads_from_the_installed_package_offline(monkeypatch):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    base = load_base_model(tiny_config(base_model="minilm"), TEXTS)
    assert base.encoder.config.num_hidden_layers == 6
    assert base.encoder.config.hidden_size == 384
    assert base.tokenizer.encode("hello").tokens == ["[CLS]", "hello", "[SEP]"]


@pytest.mark.slow
def test_minilm_tiny_is_the_bert_tiny_shape_with_minilms_words(monkeypatch):
    import torch

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    base = load_base_model(tiny_config(base_model="minilm-tiny", scratch_hidden=128, scratch_layers=2), TEXTS)
    config = base.encoder.config
    assert (config.hidden_size, config.num_hidden_layers, config.vocab_size) == (128, 2, 30522)
    assert base.tokenizer.encode("hello").tokens == ["[CLS]", "hello", "[SEP]"]

    words = base.encoder.embeddings.word_embeddings.weight

    def similarity(a: str, b: str) -> float:
        first, second = (words[base.tokenizer.token_to_id(word)].detach() for word in (a, b))
        return float(torch.cosine_similarity(first, second, dim=0))

    # The projection keeps what MiniLM knows of words (random embeddings would not).
    assert similarity("idiot", "stupid") > similarity("idiot", "table") + 0.3
    assert similarity("kill", "murder") > similarity("kill", "garden") + 0.3


def test_minilm_tiny_refuses_a_width_past_minilms():
    with pytest.raises(BaseModelError, match="at most MiniLM's width, 384"):
        load_base_model(tiny_config(base_model="minilm-tiny", scratch_hidden=512, scratch_heads=2), TEXTS)
