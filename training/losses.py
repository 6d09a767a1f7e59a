import torch
import torch.nn.functional as F


def focal_loss(
    logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor, *, gamma: float = 2.0, alpha: float = 0.25
) -> torch.Tensor:
    """Mean focal loss (Lin et al., 2017) over the known entries of a multi-label batch.

    FL = -α_t (1 - p_t)^γ log(p_t), with α_t = α for positives and 1 - α for negatives.
    Entries with mask 0 (unknown labels) contribute nothing; γ = 0 gives α-weighted BCE.
    """
    bce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    p = torch.sigmoid(logits)
    p_t = p * targets + (1 - p) * (1 - targets)
    alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
    loss = alpha_t * (1 - p_t).pow(gamma) * bce * mask
    return loss.sum() / mask.sum().clamp(min=1.0)
