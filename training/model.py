import torch
from torch import nn


class MultiLabelClassifier(nn.Module):
    """An encoder, mean pooling over real tokens, and one logit per label.

    Mean pooling, not [CLS]: it works for encoders never trained with a [CLS] objective
    (MiniLM is a mean-pooled sentence model; `scratch` starts from nothing).
    """

    def __init__(self, encoder: nn.Module, n_labels: int, dropout: float):
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.config.hidden_size, n_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
        return self.head(self.dropout(pooled))
