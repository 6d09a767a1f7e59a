import math

import pytest
import torch
import torch.nn.functional as F

from training.losses import focal_loss


def test_focal_loss_matches_a_hand_computed_value():
    # One positive with logit 0 (p = 0.5) and one negative with logit 2 (p = 0.8808).
    logits = torch.tensor([[0.0, 2.0]])
    targets = torch.tensor([[1.0, 0.0]])
    mask = torch.ones_like(targets)
    p_neg = 1 / (1 + math.exp(-2.0))
    positive = 0.25 * (1 - 0.5) ** 2 * -math.log(0.5)
    negative = 0.75 * p_neg**2 * -math.log(1 - p_neg)
    expected = (positive + negative) / 2
    assert focal_loss(logits, targets, mask, gamma=2.0, alpha=0.25).item() == pytest.approx(expected, rel=1e-6)


def test_gamma_zero_is_alpha_weighted_bce():
    torch.manual_seed(0)
    logits = torch.randn(8, 7)
    targets = (torch.rand(8, 7) > 0.7).float()
    mask = torch.ones_like(targets)
    weights = 0.25 * targets + 0.75 * (1 - targets)
    expected = F.binary_cross_entropy_with_logits(logits, targets, weight=weights)
    assert focal_loss(logits, targets, mask, gamma=0.0, alpha=0.25).item() == pytest.approx(expected.item(), rel=1e-6)


def test_unknown_labels_contribute_nothing():
    logits = torch.tensor([[0.3, -1.0, 4.0]])
    targets = torch.tensor([[1.0, 0.0, 0.0]])
    only_first_two = torch.tensor([[1.0, 1.0, 0.0]])
    loss = focal_loss(logits, targets, only_first_two)
    # The masked entry is confidently wrong; changing it must not move the loss.
    changed = focal_loss(torch.tensor([[0.3, -1.0, -9.0]]), torch.tensor([[1.0, 0.0, 1.0]]), only_first_two)
    assert loss.item() == pytest.approx(changed.item())
    assert loss.item() == pytest.approx(focal_loss(logits[:, :2], targets[:, :2], torch.ones(1, 2)).item())


def test_masked_entries_get_no_gradient():
    logits = torch.zeros(2, 2, requires_grad=True)
    mask = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    focal_loss(logits, torch.ones(2, 2), mask).backward()
    assert torch.all(logits.grad[:, 1] == 0)
    assert torch.all(logits.grad[:, 0] != 0)
