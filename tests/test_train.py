"""The one training loop: it learns, it is reproducible, it resumes from a checkpoint exactly, soft labels work."""

import numpy as np
import pytest
import torch

from vidstill.models import ConvNet3D
from vidstill.synthetic_set import SyntheticSet
from vidstill.train import TrainConfig, classification_loss, evaluate, lr_at, standardize, train

DEV = torch.device("cpu")


def toy_set(n_per_class=6, seed=0):
    """Two classes that differ in motion only: a bright bar moving right vs left."""
    g = torch.Generator().manual_seed(seed)
    videos, labels = [], []
    for label in (0, 1):
        for _ in range(n_per_class):
            v = 0.1 * torch.randn(8, 3, 48, 48, generator=g)
            start = int(torch.randint(0, 16, (1,), generator=g))
            for t in range(8):
                x = start + 3 * t if label == 0 else start + 21 - 3 * t
                v[t, :, :, x : x + 6] += 2.0
            videos.append(v)
            labels.append(label)
    return SyntheticSet({"videos": torch.stack(videos)}, torch.tensor(labels), 2, 8)


def small_net():
    torch.manual_seed(0)
    return ConvNet3D(2, 8, 48, widths=(8, 16, 16))


def test_training_learns_motion_and_is_reproducible():
    data = toy_set()
    cfg = TrainConfig(epochs=30, lr=0.01, batch_size=4, seed=1)
    a, b = small_net(), small_net()
    ra, rb = train(a, data, cfg, DEV), train(b, data, cfg, DEV)
    assert ra.curve[-1]["loss"] < ra.curve[0]["loss"]
    assert [r["loss"] for r in ra.curve] == [r["loss"] for r in rb.curve]
    test = toy_set(seed=5)
    acc = evaluate(a, lambda rng: iter([(test.videos(range(len(test))), test.labels)]), 2, DEV, passes=2)
    assert acc.top1 > 0.8 and len(acc.per_class) == 2


class Lookup(torch.nn.Module):
    """A 'model' whose logits for clip i are row i of a table (the clip carries i in its first value)."""

    def __init__(self, table):
        super().__init__()
        self.table = table

    def forward(self, x):
        return self.table[x[:, 0, 0, 0, 0].long()]


def test_evaluate_counts_per_class_by_the_true_label_and_top5_apart_from_top1():
    """7 classes, 4 clips. Hand-computed: top-1 hits clips 0 and 3 (2/4); top-5 also clip 1, whose class 0 ranks
    fifth (3/4); clip 2's class 6 ranks last. Per true class: class 0 (clips 0, 1) 1/2, class 3 (clip 3) 1, class 6
    (clip 2) 0, the others unseen (NaN). Counted by the predicted class instead, class 1 would be 0/1 and class 6
    unseen."""
    table = torch.tensor(
        [
            [9.0, 1, 2, 3, 4, 5, 0],  # true 0, predicted 0
            [5.0, 9, 8, 7, 6, 1, 0],  # true 0, predicted 1; class 0 ranks 5th
            [9.0, 8, 7, 6, 5, 4, 0],  # true 6, predicted 0; class 6 ranks last
            [0.0, 1, 2, 9, 3, 4, 5],  # true 3, predicted 3
        ]
    )
    labels = torch.tensor([0, 0, 6, 3])
    x = torch.arange(4).float().view(4, 1, 1, 1, 1).expand(4, 2, 1, 1, 1).contiguous()
    acc = evaluate(Lookup(table), lambda rng: iter([(x, labels)]), 7, DEV, passes=2, standardize_inputs=False)
    assert acc.top1 == pytest.approx(2 / 4) and acc.top5 == pytest.approx(3 / 4)
    assert acc.per_class[0] == pytest.approx(0.5) and acc.per_class[3] == 1.0 and acc.per_class[6] == 0.0
    assert all(np.isnan(acc.per_class[c]) for c in (1, 2, 4, 5))


class Recorder(torch.nn.Module):
    """A linear classifier on the clip's mean that records the mean and std of every batch it is trained on."""

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(1, 2)
        self.seen = []

    def forward(self, x):
        if self.training:
            self.seen.append((float(x.mean()), float(x.std())))
        return self.fc(x.flatten(1).mean(1, keepdim=True))


@pytest.mark.parametrize("standardize_inputs", [True, False])
def test_train_standardizes_each_batch_only_when_asked(standardize_inputs):
    data = SyntheticSet(
        {"videos": 5.0 + 3.0 * torch.randn(8, 2, 3, 4, 4, generator=torch.Generator().manual_seed(0))},
        torch.tensor([0, 1] * 4),
        2,
        2,
    )
    model = Recorder()
    train(model, data, TrainConfig(epochs=2, lr=0.01, batch_size=4, standardize=standardize_inputs), DEV)
    means, stds = np.array(model.seen).T
    assert len(means) == 4
    if standardize_inputs:
        assert np.allclose(means, 0, atol=1e-5) and np.allclose(stds, 1, atol=1e-4)
    else:
        assert (means > 4).all() and (stds > 2).all()


def test_resume_from_checkpoint_equals_uninterrupted(tmp_path):
    data = toy_set()
    cfg = TrainConfig(epochs=6, lr=0.01, batch_size=4, seed=2)
    ref = small_net()
    train(ref, data, cfg, DEV)

    class Interrupt(Exception):
        pass

    def stop_at_4(epoch, model):
        if epoch == 4:
            raise Interrupt

    ckpt = tmp_path / "ckpt.pt"
    net = small_net()
    with pytest.raises(Interrupt):
        train(net, data, cfg, DEV, checkpoint=ckpt, checkpoint_every=2, on_epoch_end=stop_at_4)
    assert ckpt.exists()
    resumed = small_net()
    result = train(resumed, data, cfg, DEV, checkpoint=ckpt, checkpoint_every=2)
    assert result.resumed_from == 2 and not ckpt.exists()
    for p, q in zip(ref.parameters(), resumed.parameters()):
        assert torch.allclose(p, q, atol=1e-6)


def test_schedules_and_losses():
    cfg = TrainConfig(epochs=10, lr=0.1)
    assert lr_at(cfg, 4) == 0.1 and lr_at(cfg, 5) == pytest.approx(0.01)
    assert lr_at(TrainConfig(epochs=10, lr=0.1, schedule="cosine"), 10) == pytest.approx(0.0)
    logits = torch.randn(4, 3)
    hard = torch.tensor([0, 1, 2, 0])
    soft = torch.nn.functional.one_hot(hard, 3).float()
    assert torch.allclose(classification_loss(logits, hard), classification_loss(logits, soft))
    # mse regresses label vectors (FRePo's learned labels): hard labels are their one-hot vectors
    assert torch.allclose(classification_loss(logits, hard, "mse"), ((logits - soft) ** 2).sum(1).mean())
    assert float(classification_loss(soft, soft - 0.0, "mse")) == 0.0
    with pytest.raises(ValueError, match="label_loss"):
        classification_loss(logits, hard, "hinge")
    x = standardize(torch.randn(3, 4) * 5 + 2)
    assert abs(float(x.mean())) < 1e-5 and abs(float(x.std()) - 1) < 1e-4


def test_warmup_cosine_and_adamw_are_frepos_evaluation():
    """10 % linear warm-up from 1 % of the lr, times a cosine decay to 1 %: at epoch 0 1 % (x ~1), at the end of
    the warm-up about the full lr, at the end 1 %; AdamW is built for optimizer adamw."""
    cfg = TrainConfig(epochs=100, lr=1e-4, schedule="warmup_cosine", optimizer="adamw", weight_decay=5e-4)
    assert lr_at(cfg, 0) == pytest.approx(1e-6)
    assert lr_at(cfg, 10) == pytest.approx(1e-4 * (0.01 + 0.99 * 0.5 * (1 + np.cos(np.pi * 0.1))))
    assert lr_at(cfg, 100) == pytest.approx(1e-6 * 1.0)
    assert max(lr_at(cfg, e) for e in range(100)) == lr_at(cfg, 10)
    from vidstill.optim import AdamW
    from vidstill.train import make_optimizer

    opt = make_optimizer(small_net().parameters(), cfg)
    assert isinstance(opt, AdamW) and opt.param_groups[0]["decoupled_weight_decay"] == 5e-4
