"""The text forgetting experiment: a frozen probe forgets nothing, fine-tuning moves the held-out LM loss,
L2-SP toward the pretrained body holds it back, and the LM head a pooled classifier never uses stays put."""
import pytest
import torch

from workbench.data.text import shakespeare_tokenizer
from workbench.experiments.lab_text import lm_loss, text_forgetting
from workbench.pretrain.text import PretrainedText
from workbench.tasks.text import GenreTask
from workbench.models.text import TinyConfig, TinyLM
from workbench.train.recipe import get_recipe


@pytest.fixture(scope="module")
def genre():
    tok = shakespeare_tokenizer("bpe")
    torch.manual_seed(0)
    lm = TinyLM(TinyConfig(vocab_size=tok.vocab_size, n_layer=1, n_head=2, n_embd=16, block_size=128))
    return GenreTask(pretrained=PretrainedText(lm, tok, {}, []), device="cpu", test_per_class=10)


def test_lm_loss_of_a_classifier_reads_its_body_through_the_lm_head(genre):
    from workbench.models.text import TinyClassifier

    windows = torch.randint(3, genre.pretrained.tokenizer.vocab_size, (4, 32))
    clf = TinyClassifier.from_lm(genre.pretrained.model, 3)
    assert lm_loss(clf, windows) == pytest.approx(lm_loss(genre.pretrained.model, windows), abs=1e-6)


def test_probe_forgets_nothing_finetune_does_and_l2sp_holds_it_back(genre):
    ft = get_recipe("finetune", "text", steps=8, batch_size=6, lr=3e-3)
    recipes = {"probe": (get_recipe("probe", "text", steps=8, batch_size=6), 0.0), "finetune": (ft, 0.0),
               "finetune + L2-SP": (ft, 50.0)}
    df = text_forgetting(genre, budget=12, seeds=(0,), recipes=recipes, windows=8).set_index("recipe")
    assert df.loc["probe", "forgetting"] == 0.0  # frozen body, untouched LM head: the same model for the source task
    assert abs(df.loc["finetune", "forgetting"]) > 1e-3
    assert abs(df.loc["finetune + L2-SP", "forgetting"]) < abs(df.loc["finetune", "forgetting"])
    assert df.source_loss_before.nunique() == 1 and df.target_score.between(0, 1).all()


def test_pooled_fine_tuning_leaves_the_lm_head_exactly_as_pretrained(genre):
    run = genre.run(get_recipe("finetune", "text", steps=4, batch_size=6, lr=3e-3), 12, 0)
    assert torch.equal(run.model.lm_head.weight.cpu(), genre.pretrained.model.lm_head.weight.cpu())
