"""Shakespeare corpus, whole-play split and tokenizers."""
import pytest
import torch

from workbench.data import shakespeare as sh
from workbench.data.text import (TextTokenizer, bpe_tokenizer, char_tokenizer, class_batches, lm_batches, pad_sequences,
                                 shakespeare_tokenizer)
from workbench.errors import WorkbenchError

PLAY = """# A Play

## ACT II

### SCENE III. A room.

_Enter HAMLET and
HORATIO, talking_

**HAMLET**  
To be, or not to be: _\\[Aside]_ that is the question:  
Whether 'tis nobler in the mind to suffer

_Exit HORATIO_

**HORATIO**  
*Sound a horn.*  
My lord, \\[To the KING] farewell.
"""


def test_parse_keeps_spoken_text_and_metadata_only():
    speeches = sh.parse_play(PLAY, "a-play", "tragedies")
    assert [s.speaker for s in speeches] == ["HAMLET", "HORATIO"]
    assert speeches[0].text == "To be, or not to be: that is the question:\nWhether 'tis nobler in the mind to suffer"
    assert speeches[1].text == "My lord, farewell."
    assert (speeches[0].act, speeches[0].scene, speeches[0].genre) == (2, 3, "tragedies")
    joined = sh.join_speeches(speeches)
    for leaked in ("Enter", "Exit", "HAMLET", "ACT", "Sound a horn", "_", "*", "[", "#"):
        assert leaked not in joined


def test_whole_play_split_holds_out_three_plays_per_genre_and_nothing_leaks():
    train, held = sh.plays("train"), sh.plays("held_out")
    assert not set(train) & set(held)
    assert len(train) + len(held) == 38
    for genre in sh.GENRES:
        assert sum(g == genre for g in held.values()) >= 3
    train_text = sh.corpus_text("train")
    assert len(train_text) > 3_000_000
    for s in sh.speeches("held_out"):
        assert s.play not in train
    long_lines = [line for s in sh.speeches("held_out")[::20] for line in s.text.split("\n") if len(line) >= 45]
    assert len(long_lines) > 200
    assert not [line for line in long_lines if line in train_text]
    assert "**" not in train_text and "_" not in train_text


SAMPLE = "Now, fair Hippolyta, our nuptial hour\nDraws on apace; four happy days bring in\n\nAnother moon: but, O, methinks, how slow\n" * 20


def test_char_tokenizer_round_trip(tmp_path):
    tok = char_tokenizer(SAMPLE)
    text = "Draws on apace;\n\nO, methinks"
    assert tok.decode(tok.encode(text)) == text
    assert len(tok.encode(text)) == len(text)
    tok.save(tmp_path)
    again = TextTokenizer.load(tmp_path)
    assert again.kind == "char" and again.encode(text) == tok.encode(text)
    assert tok.encode("Z")[0] == 1  # unseen characters become <unk>


def test_bpe_tokenizer_round_trip_and_hf_compatible_file(tmp_path):
    tok = bpe_tokenizer(SAMPLE, vocab_size=300)
    for text in ("Now, fair Hippolyta", "unseen words: Zyzzyva, café, 日本\n\nend"):
        assert tok.decode(tok.encode(text)) == text  # byte-level: never an unknown token
    assert len(tok.encode("Now, fair Hippolyta")) < len("Now, fair Hippolyta")
    tok.save(tmp_path)
    again = TextTokenizer.load(tmp_path)
    assert again.kind == "bpe" and again.encode(SAMPLE[:200]) == tok.encode(SAMPLE[:200])
    from transformers import PreTrainedTokenizerFast

    hf = PreTrainedTokenizerFast(tokenizer_file=str(tmp_path / "tokenizer.json"))
    assert hf("Now, fair")["input_ids"] == tok.encode("Now, fair")


def test_shakespeare_bpe_is_cached_and_sized():
    tok = shakespeare_tokenizer("bpe")
    assert tok.vocab_size == 2048
    assert shakespeare_tokenizer("bpe").encode("To be, or not") == tok.encode("To be, or not")
    with pytest.raises(WorkbenchError, match="choose one of"):
        shakespeare_tokenizer("words")


def test_batchers():
    ids = torch.arange(1000, dtype=torch.int16)
    b = next(lm_batches(ids, 16, 4, torch.Generator().manual_seed(0)))["input_ids"]
    assert b.shape == (4, 16) and torch.all(b[:, 1:] - b[:, :-1] == 1)
    x, m = pad_sequences([[5, 6, 7], [8]])
    assert x.tolist() == [[5, 6, 7], [8, 0, 0]] and m.tolist() == [[1, 1, 1], [1, 0, 0]]
    labels = torch.tensor([1, 0] * 6)
    groups = torch.arange(12) // 2
    batch = next(class_batches(torch.zeros(12, 3, dtype=torch.long), torch.ones(12, 3, dtype=torch.long), labels, 4,
                               torch.Generator().manual_seed(0), groups=groups))
    assert batch["labels"].tolist() == [1, 0, 1, 0]  # twins travel together
