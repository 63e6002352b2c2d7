"""IDTD's redundancy analysis (§4.5, Fig. 4): per class, how redundant its videos are within a sample (R_t) and
across samples (R_IC), measured with a trained network's features, beside the gain of IDTD over an ablation.

R_t = tanh(1 / mean_b mean_d var_t F_t(b)), F_t the (t, d) features of a middle layer (ConvNet3D's second block:
time kept, channels × space flattened); R_IC = tanh(1 / mean_d var_b F_IC), F_IC the embedding before the classifier.
The printed R_IC divides the variance by B once more (tanh(1 / (var / B))), which makes it depend on how many clips
a class has and saturates at 1 for any realistic B; we use the same form as R_t, and keep the raw variances as
columns so a reader can apply any other normalisation. Variances are population variances (÷ n).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from vidstill.data.clips import ClipStore, sample_clips
from vidstill.models import ConvNet3D
from vidstill.train import standardize


@torch.no_grad()
def clip_features(net: nn.Module, clips: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(F_t (B, t, d), F_IC (B, d̃)) of a batch of (B, T, C, H, W) clips; ConvNet3D only (its blocks are known)."""
    if not isinstance(net, ConvNet3D):
        raise ValueError(f"the redundancy analysis reads ConvNet3D's blocks; got {type(net).__name__}")
    x = clips.permute(0, 2, 1, 3, 4)
    per_block = len(net.features) // len([m for m in net.features if isinstance(m, nn.Conv3d)])
    middle = net.features[: 2 * per_block](x)  # (B, C, t, H', W') after the second block
    f_t = middle.permute(0, 2, 1, 3, 4).flatten(2)
    f_ic = net.features[2 * per_block :](middle).flatten(1)
    return f_t, f_ic


def class_redundancy(
    net: nn.Module, store: ClipStore, device: torch.device, batch_size: int = 64, standardize_inputs: bool = True
) -> pd.DataFrame:
    """One row per class of `store` (its centre clips): raw variances and R_t, R_IC."""
    net.eval()
    f_t, f_ic = [], []
    indices = np.arange(len(store))
    for k in range(0, len(indices), batch_size):
        clips = sample_clips(store, indices[k : k + batch_size]).to(device)
        a, b = clip_features(net, standardize(clips) if standardize_inputs else clips)
        f_t.append(a.cpu())
        f_ic.append(b.cpu())
    ft, fic = torch.cat(f_t), torch.cat(f_ic)
    labels = store.labels.numpy()
    names = store.table.drop_duplicates("label").set_index("label")["class"]
    rows = []
    for c in range(store.num_classes):
        sel = torch.from_numpy(labels == c)
        var_t = float(ft[sel].var(dim=1, unbiased=False).mean())  # over time, per sample and feature
        var_ic = float(fic[sel].var(dim=0, unbiased=False).mean()) if int(sel.sum()) > 1 else float("nan")
        rows.append(
            {
                "label": c,
                "class": names.get(c, str(c)),
                "clips": int(sel.sum()),
                "within_variance": var_t,
                "inter_variance": var_ic,
                "R_t": float(np.tanh(1 / var_t)),
                "R_IC": float(np.tanh(1 / var_ic)),
            }
        )
    return pd.DataFrame(rows)


def per_class_accuracy(runs: pd.DataFrame) -> np.ndarray:
    """Mean per-class accuracy over every evaluation run (and distillation seed) of one method."""
    return np.nanmean(np.stack([np.asarray(p, dtype=float) for p in runs["per_class"]]), axis=0)


def redundancy_gain_table(
    redundancy: pd.DataFrame,
    method_runs: pd.DataFrame,
    baseline_runs: pd.DataFrame,
    names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The redundancy table with each method's per-class accuracy (%) and the gain of the method over the baseline."""
    out = redundancy.copy()
    acc_m, acc_b = 100 * per_class_accuracy(method_runs), 100 * per_class_accuracy(baseline_runs)
    out["method_accuracy"], out["baseline_accuracy"] = acc_m[out["label"]], acc_b[out["label"]]
    out["gain"] = out["method_accuracy"] - out["baseline_accuracy"]
    if names:
        out["method"], out["baseline"] = names["method"], names["baseline"]
    return out


def correlations(table: pd.DataFrame, columns: Sequence[str] = ("R_t", "R_IC")) -> dict[str, float]:
    """Spearman correlation of the per-class gain with each redundancy (what Fig. 4 claims is positive)."""
    if table["gain"].nunique() < 2:
        return {}
    return {c: float(table[c].rank().corr(table["gain"].rank())) for c in columns if table[c].nunique() > 1}


__all__ = ["class_redundancy", "clip_features", "correlations", "per_class_accuracy", "redundancy_gain_table"]
