"""ToxiScope's classifier: pure Python + torch. Nothing here imports Django."""

DEFAULT_LABELS = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate", "racism")
