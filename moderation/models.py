"""ToxiScope's tables. Invariants live in the database as constraints, not only in code."""

import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.text import slugify

from moderation.text import base_language
from moderation.webhook_urls import validate_webhook_url


class Label(models.Model):
    """One label of the label set. Retired labels keep their history but are not trained."""

    name = models.SlugField(max_length=64, unique=True)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    display_order = models.PositiveSmallIntegerField(default=0)
    # How much a flag on this label raises a comment's place in its review queue.
    severity = models.FloatField(default=1.0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["display_order", "name"]
        constraints = [models.CheckConstraint(condition=Q(severity__gt=0), name="label_severity_positive")]

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """A revocable API credential. Only a SHA-256 of the secret is stored.

    Keys are 256-bit random strings, so a plain hash (no slow KDF) resists guessing; the
    prefix lets a client tell its keys apart and lets us find the row without a scan.
    """

    PREFIX_LENGTH = 8

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=PREFIX_LENGTH, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Whether its client's feedback (Perspective's suggestscore: Coral's moderators' decisions)
    # is kept as labels; an admin switches it off per key.
    accepts_feedback = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @staticmethod
    def hash_secret(raw_key: str) -> str:
        return hashlib.sha256(raw_key.encode()).hexdigest()

    @classmethod
    def generate_raw_key(cls) -> str:
        return secrets.token_urlsafe(32)


class Comment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        REJECTED = "rejected"

    text = models.TextField()
    # The API client that submitted it; null for comments brought in by the importer.
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="comments"
    )
    # NULL, not "": a comment without an external id takes no part in the uniqueness below.
    external_id = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    # The community (or import source) the comment belongs to; routing rules can be scoped to it.
    source = models.CharField(max_length=100, default="default")
    author_id = models.CharField(max_length=200, blank=True)
    # The comment's language as its source gave it (an import's column, say); "" when unknown.
    language = models.CharField(max_length=16, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The routing decision: set when the comment is routed, replaced if it is re-scored while
    # still waiting. `routed_by` is the model version whose scores decided it (null: no model).
    route_action = models.CharField(max_length=16, blank=True)
    route_reason = models.CharField(max_length=300, blank=True)
    route_queue = models.ForeignKey("ReviewQueue", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    flagged_labels = models.JSONField(default=list, blank=True)
    routed_by = models.ForeignKey(
        "ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="routed_comments"
    )
    # False for a comment its client moderates in its own tool (one stored by the Perspective
    # endpoint, or by its feedback): never routed to this platform's queues.
    moderated_here = models.BooleanField(default=True)
    # The text's SHA-256, for such a comment stored without an id of its client's: a later call
    # about the same text finds it through an index (a text is too long for one); "" otherwise.
    text_sha256 = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        constraints = [
            # A retried submit with the same external_id is stored once per client...
            models.UniqueConstraint(
                fields=["client", "external_id"],
                condition=Q(client__isnull=False, external_id__isnull=False),
                name="comment_unique_external_id_per_client",
            ),
            # ...and a re-run import stores each source row once.
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=Q(client__isnull=True, external_id__isnull=False),
                name="comment_unique_external_id_per_import_source",
            ),
            models.CheckConstraint(condition=~Q(text=""), name="comment_text_not_empty"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "approved", "rejected"]), name="comment_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["source", "created_at"]),
            models.Index(
                fields=["client", "text_sha256"],
                condition=Q(external_id__isnull=True, moderated_here=False),
                name="comment_found_by_text",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk}: {self.text[:60]}"


class LabelAnnotation(models.Model):
    """A known value of one label for one comment. An unknown label has no row at all."""

    class Origin(models.TextChoices):
        IMPORTED = "imported", "imported labels"
        MODERATOR = "moderator", "moderators' decisions"
        MODEL_AUTO = "model_auto", "the model's automatic decisions"
        # A client's own moderators' decisions, sent as Perspective's suggestscore (Coral).
        CLIENT_FEEDBACK = "client_feedback", "clients' feedback"

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="annotations")
    label = models.ForeignKey(Label, on_delete=models.PROTECT, related_name="annotations")
    value = models.BooleanField()
    origin = models.CharField(max_length=16, choices=Origin.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # One current value per origin: a moderator's correction replaces their earlier one.
            models.UniqueConstraint(fields=["comment", "label", "origin"], name="annotation_unique_per_origin"),
            models.CheckConstraint(
                condition=Q(origin__in=["imported", "moderator", "model_auto", "client_feedback"]),
                name="annotation_origin_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label_id}={self.value} on #{self.comment_id} ({self.origin})"


class ModelVersion(models.Model):
    class Status(models.TextChoices):
        CANDIDATE = "candidate"
        ACTIVE = "active"
        RETIRED = "retired"

    # Also the name of its artifact's directory in each host's cache (moderation/storage.py).
    name = models.CharField(max_length=100, unique=True)
    base_model = models.CharField(max_length=300)
    labels = models.JSONField(default=list)
    thresholds = models.JSONField(default=dict)
    metrics = models.JSONField(default=dict, blank=True)
    data_hash = models.CharField(max_length=64)
    train_size = models.PositiveIntegerField(default=0)
    seed = models.IntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CANDIDATE)
    # A shadow version scores live traffic beside the active one, without routing anything.
    is_shadow = models.BooleanField(default=False)
    # Serve the artifact's int8-quantised ONNX model: faster, with the ranking change that
    # training measured (metrics["served_forms"]).
    int8 = models.BooleanField(default=False)
    # Score with the artifact's cascade (training/cascade.py), where it has one: the bag of words
    # alone for the comments it is sure of. An admin can turn it off.
    cascade = models.BooleanField(default=True)
    # A recalibrated version: its artifact hard-links the parent's weights, with new thresholds.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    promoted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="active"), name="model_version_at_most_one_active"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["candidate", "active", "retired"]), name="model_version_status_valid"
            ),
            models.UniqueConstraint(fields=["is_shadow"], condition=Q(is_shadow=True), name="model_version_one_shadow"),
            models.CheckConstraint(
                condition=~Q(is_shadow=True, status="active"), name="model_version_shadow_not_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"

    @property
    def unreliable_labels(self) -> list[str]:
        """The labels this version's evidence (metrics "evidence", training/fairness.py) marks not
        reliable: too few validation positives, or a validation ROC-AUC whose interval reaches
        too low. A version made before evidence was recorded has none marked."""
        evidence = self.metrics.get("evidence") or {}
        return [label for label in self.labels if label in evidence and not evidence[label]["reliable"]]

    @property
    def served_languages(self) -> frozenset[str]:
        """The languages this version learnt from at least TOXISCOPE_LANGUAGE_MIN_COMMENTS
        labelled comments of (metrics "languages", by base code). A version that recorded none
        was trained on English: every version made before languages were recorded was."""
        counts: dict[str, int] = {}
        for code, count in (self.metrics.get("languages") or {"en": settings.TOXISCOPE_LANGUAGE_MIN_COMMENTS}).items():
            if code:
                counts[base_language(code)] = counts.get(base_language(code), 0) + count
        return frozenset(code for code, count in counts.items() if count >= settings.TOXISCOPE_LANGUAGE_MIN_COMMENTS)


class ArtifactBlob(models.Model):
    """One file's bytes in the database artifact store (moderation/storage.py), addressed by their
    SHA-256: stored whole (the row and every chunk in one transaction), and shared by every
    version whose artifact holds the same bytes (a recalibration shares its parent's weights)."""

    sha256 = models.CharField(max_length=64, unique=True)
    size = models.BigIntegerField()
    # Last stored or reused: pruning spares a recent blob, which an upload may be about to record.
    touched_at = models.DateTimeField()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(size__gte=0), name="artifact_blob_size_valid")]

    def __str__(self) -> str:
        return f"{self.sha256[:12]} ({self.size} bytes)"


class ArtifactChunk(models.Model):
    blob = models.ForeignKey(ArtifactBlob, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["blob", "index"], name="artifact_chunk_unique_index")]

    def __str__(self) -> str:
        return f"{self.blob_id}#{self.index}"


class ArtifactFile(models.Model):
    """A file of a version's artifact: its name in the artifact directory and the SHA-256 of its
    bytes in the store. Recorded in the transaction that creates the version, after its bytes
    are stored: no version is ever visible with part of its artifact."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="artifact_files")
    name = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "name"], name="artifact_file_unique_name")]

    def __str__(self) -> str:
        return f"{self.version_id}/{self.name}"


class TrainingRun(models.Model):
    class Kind(models.TextChoices):
        TRAIN = "train"
        RECALIBRATE = "recalibrate"

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    UNFINISHED = (Status.QUEUED, Status.RUNNING)

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.TRAIN)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    config = models.JSONField(default=dict)
    # For a recalibration: the version whose weights get new thresholds, and so the parent of
    # the version the run makes (ModelVersion.parent): one link, one name.
    parent = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="recalibrations"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    celery_task_id = models.CharField(max_length=64, blank=True)
    cancel_requested = models.BooleanField(default=False)
    phase = models.CharField(max_length=32, blank=True)
    epoch = models.PositiveIntegerField(default=0)
    total_epochs = models.PositiveIntegerField(default=0)
    step = models.PositiveIntegerField(default=0)
    total_steps = models.PositiveIntegerField(default=0)
    loss = models.FloatField(null=True, blank=True)
    val_macro_f1 = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    model_version = models.OneToOneField(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="training_run"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "succeeded", "failed", "cancelled"]),
                name="training_run_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="succeeded", model_version__isnull=False) | ~Q(status="succeeded"),
                name="training_run_succeeded_has_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} run #{self.pk} ({self.status})"


class Prediction(models.Model):
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="predictions")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="predictions")
    scores = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["comment", "model_version"], name="prediction_unique_per_version")
        ]

    def __str__(self) -> str:
        return f"#{self.comment_id} by {self.model_version_id}"


class DriftSnapshot(models.Model):
    """How far one day's live comments had moved from what a version was measured on
    (selectors/drift.py), refreshed through the day by the periodic drift task."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="drift_snapshots")
    day = models.DateField()
    comments = models.PositiveIntegerField()  # live comments compared
    labels = models.JSONField(default=dict)  # label -> population stability index of its scores
    length_psi = models.FloatField()
    vocabulary_miss = models.JSONField(default=dict)  # "live", "reference": shares of words
    languages = models.JSONField(default=dict)  # "live", "reference": mixes; "shift": their distance
    alarms = models.JSONField(default=list)  # what crossed its threshold, in words
    # When its alarm was announced (audit event, webhooks): once per drift episode.
    alarm_sent_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["model_version", "day"], name="drift_snapshot_once_per_day"),
            models.CheckConstraint(condition=Q(length_psi__gte=0), name="drift_snapshot_psi_not_negative"),
        ]

    def __str__(self) -> str:
        return f"drift of {self.model_version_id} on {self.day}"


class TeachingDay(models.Model):
    """How many of a day's comments went to the "teach the model" queue, per share of its budget
    (TOXISCOPE_TEACH_DAILY_BUDGET): counted under a row lock, so racing submits never exceed it."""

    day = models.DateField(unique=True)
    uncertain = models.PositiveIntegerField(default=0)  # those the model was least sure of
    random = models.PositiveIntegerField(default=0)  # those drawn at random

    def __str__(self) -> str:
        return f"{self.day}: {self.uncertain} uncertain, {self.random} random"


# Pages that live beside the queues under /review/: a queue may not take their names.
RESERVED_QUEUE_SLUGS = ["history", "activity", "precision", "undo"]


class ReviewQueue(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    sla_minutes = models.PositiveIntegerField(default=24 * 60)
    # Audit queues hold blind samples of automatic decisions.
    is_audit = models.BooleanField(default=False)
    # A retired queue takes nothing new (no active rule, no escalation); its open items stay
    # until someone decides them. Rules and items keep pointing at it: history stays whole.
    is_retired = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(slug__in=RESERVED_QUEUE_SLUGS),
                name="review_queue_slug_not_reserved",
                violation_error_message="That name belongs to a page of the workspace; choose another.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def default_slug() -> str:
        """The slug of the queue that takes every comment no rule sends elsewhere."""
        return slugify(settings.TOXISCOPE_DEFAULT_QUEUE)

    @property
    def is_teaching(self) -> bool:
        """The "teach the model" queue (TOXISCOPE_TEACH_QUEUE): it takes only comments chosen to
        be labelled, within a daily budget (services/triage.py)."""
        return self.slug == settings.TOXISCOPE_TEACH_QUEUE

    def clean(self) -> None:
        # Held in the database too (migrations 0018, 0021): what the admin's form says first.
        if self.is_audit and self.pk and self.rules.exists():
            raise ValidationError(
                {"is_audit": "Routing rules send comments to this queue: it cannot be the audit queue."}
            )
        if self.is_retired and self.slug == self.default_slug():
            raise ValidationError({"is_retired": "The default queue takes what no rule sends elsewhere: it stays."})
        if self.is_retired and self.pk and self.rules.filter(is_active=True).exists():
            raise ValidationError(
                {"is_retired": "Active routing rules send comments to this queue: point them elsewhere first."}
            )


class RoutingRule(models.Model):
    """One step of routing, evaluated in `order` by the rule engine (moderation/engine/rules.py)."""

    class Action(models.TextChoices):
        REVIEW = "review", "Review"
        AUTO_REJECT = "auto_reject", "Auto-reject"
        AUTO_APPROVE = "auto_approve", "Auto-approve"

    order = models.PositiveIntegerField(default=100)
    label = models.ForeignKey(Label, null=True, blank=True, on_delete=models.PROTECT, related_name="routing_rules")
    action = models.CharField(max_length=16, choices=Action.choices)
    # Review and auto-reject rules: the score at or over which they act; for a review rule, None
    # means "the active model's calibrated threshold for this label".
    threshold = models.FloatField(null=True, blank=True)
    # Auto-approve rules only: how far below every label's review threshold each score must be.
    margin = models.FloatField(null=True, blank=True)
    queue = models.ForeignKey(ReviewQueue, null=True, blank=True, on_delete=models.PROTECT, related_name="rules")
    # Empty means every source/community.
    source = models.CharField(max_length=100, blank=True)
    # The version whose scores a fixed threshold was chosen on (the simulator's): every version
    # is routed by it, so a promotion or rollback names the thresholds tuned on another.
    tuned_on = models.ForeignKey("ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(threshold__isnull=True) | Q(threshold__gte=0, threshold__lte=1),
                name="routing_rule_threshold_in_unit_interval",
            ),
            models.CheckConstraint(
                condition=Q(margin__isnull=True) | Q(margin__gte=0, margin__lte=1),
                name="routing_rule_margin_in_unit_interval",
            ),
            # A margin is an auto-approve rule's, and a threshold never is.
            models.CheckConstraint(
                condition=Q(action="auto_approve", threshold__isnull=True)
                | Q(~Q(action="auto_approve"), margin__isnull=True),
                name="routing_rule_margin_for_auto_approve_only",
            ),
            models.CheckConstraint(
                condition=~Q(action="review") | Q(queue__isnull=False), name="routing_rule_review_has_queue"
            ),
            models.CheckConstraint(
                condition=Q(action__in=["review", "auto_reject", "auto_approve"]), name="routing_rule_action_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order}: {self.action} {self.label or 'any label'} {self.source or 'all sources'}"


class ReviewItem(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        DECIDED = "decided"

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="review_items")
    queue = models.ForeignKey(ReviewQueue, on_delete=models.PROTECT, related_name="items")
    # Rules are deactivated, never deleted: an item always names the rule that routed it.
    rule = models.ForeignKey(RoutingRule, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=300, blank=True)
    # From the scores, set when routed. The queue order adds age: effective priority =
    # priority + hours waited × TOXISCOPE_PRIORITY_PER_HOUR. Since "now" is the same for every
    # item, ordering by it equals ordering by priority − hours-since-epoch(created) × that
    # rate: a key fixed at routing time, so a queue is read in index order.
    priority = models.FloatField(default=0.0)
    queue_order = models.FloatField(default=0.0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    # A claim is a lease: it lapses at claimed_until, and the item is free again.
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # A comment waits in at most one queue at a time.
            models.UniqueConstraint(fields=["comment"], condition=Q(status="open"), name="review_item_one_open"),
            models.CheckConstraint(
                condition=Q(claimed_by__isnull=True, claimed_until__isnull=True)
                | Q(claimed_by__isnull=False, claimed_until__isnull=False),
                name="review_item_claim_has_expiry",
            ),
        ]
        indexes = [models.Index(fields=["queue", "status", "-queue_order"])]

    def __str__(self) -> str:
        return f"#{self.comment_id} in {self.queue_id} ({self.status})"

    @staticmethod
    def order_key(priority: float, created_at) -> float:
        return priority - created_at.timestamp() / 3600 * settings.TOXISCOPE_PRIORITY_PER_HOUR

    # The item's two transitions, in one place (the caller saves): STATUS_FIELDS is what they set.
    STATUS_FIELDS = ("status", "claimed_by", "claimed_until")

    def close(self) -> None:
        """Decided, by a person or the model: out of its queue, and nobody's claim."""
        self.status, self.claimed_by, self.claimed_until = self.Status.DECIDED, None, None

    def reopen(self, *, claimed_by=None, claimed_until=None) -> None:
        """Open in its queue: free for anyone, or held by `claimed_by` until `claimed_until`."""
        self.status, self.claimed_by, self.claimed_until = self.Status.OPEN, claimed_by, claimed_until


class DecisionReason(models.Model):
    """The reasons a moderator may pick from; an admin edits the list."""

    text = models.CharField(max_length=200, unique=True)
    is_active = models.BooleanField(default=True)
    display_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["display_order", "text"]

    def __str__(self) -> str:
        return self.text


class Decision(models.Model):
    class Action(models.TextChoices):
        APPROVE = "approve"
        REJECT = "reject"
        ESCALATE = "escalate"

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="decisions")
    review_item = models.ForeignKey(
        ReviewItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions"
    )
    moderator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="decisions")
    action = models.CharField(max_length=16, choices=Action.choices)
    reason = models.CharField(max_length=200, blank=True)
    # The label values the moderator confirmed, {label: bool}.
    labels = models.JSONField(default=dict, blank=True)
    # True: `labels` holds exactly the labels a person set. False: a decision made before that
    # rule, whose labels may be the model's suggestions saved as they were (find_suggested_labels).
    labels_confirmed = models.BooleanField(default=False)
    escalated_to = models.ForeignKey(ReviewQueue, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # What the decision replaced, so an undo restores it: the comment's status and the
    # moderator annotations ({label: bool or null for none}).
    previous = models.JSONField(default=dict, blank=True)
    # A bulk decision was made on a filtered selection, without opening each comment.
    is_bulk = models.BooleanField(default=False)
    # The decisions of one bulk action share it: undone together, as one action.
    bulk_id = models.UUIDField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=["approve", "reject", "escalate"]), name="decision_action_valid"
            ),
            models.CheckConstraint(
                condition=Q(action="escalate", escalated_to__isnull=False) | ~Q(action="escalate"),
                name="decision_escalate_has_queue",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} #{self.comment_id} by {self.moderator_id}"


# A comment's status after each routing outcome and each moderator decision (an escalation
# leaves it as it is): the one map, for triage and review alike.
COMMENT_STATUS_AFTER = {
    RoutingRule.Action.REVIEW: Comment.Status.PENDING,
    RoutingRule.Action.AUTO_APPROVE: Comment.Status.APPROVED,
    RoutingRule.Action.AUTO_REJECT: Comment.Status.REJECTED,
    Decision.Action.APPROVE: Comment.Status.APPROVED,
    Decision.Action.REJECT: Comment.Status.REJECTED,
}


class Webhook(models.Model):
    """A URL that receives every decision, signed with its secret (HMAC-SHA256)."""

    name = models.CharField(max_length=100)
    # Refused at registration for what a delivery would refuse (moderation/webhook_urls.py).
    url = models.URLField(max_length=500, validators=[validate_webhook_url])
    secret = models.CharField(max_length=200, default=secrets.token_urlsafe)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} → {self.url}"


class SavedFilter(models.Model):
    """A moderator's named filter of a queue, one click away on the queue page."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters")
    queue = models.ForeignKey(ReviewQueue, on_delete=models.CASCADE, related_name="saved_filters")
    name = models.CharField(max_length=60)
    query = models.CharField(max_length=1000)  # the queue page's query string, validated when saved
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "queue", "name"], name="saved_filter_name_unique"),
            models.CheckConstraint(condition=~Q(name="") & ~Q(query=""), name="saved_filter_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.queue.slug})"


class AuthorAction(models.Model):
    """A moderator's word about a comment's author to the client site, which owns its users:
    flag them for a closer look, or suggest a ban. Sent as a signed webhook event; ToxiScope
    itself bans nobody."""

    class Action(models.TextChoices):
        FLAG = "flag", "flag the author"
        SUGGEST_BAN = "suggest_ban", "suggest a ban"

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="author_actions")
    author_id = models.CharField(max_length=200)
    action = models.CharField(max_length=16, choices=Action.choices)
    note = models.CharField(max_length=500, blank=True)
    moderator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(action__in=["flag", "suggest_ban"]), name="author_action_valid"),
            models.CheckConstraint(condition=~Q(author_id=""), name="author_action_has_author"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.author_id}"


class WebhookDelivery(models.Model):
    """One event for one webhook, and the outcome of its latest attempt: the delivery log."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    # What the event is about: a decision, a word about an author, or a model's drift (exactly one).
    decision = models.ForeignKey(Decision, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries")
    author_action = models.ForeignKey(
        AuthorAction, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    drift_snapshot = models.ForeignKey(
        DriftSnapshot, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=64)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    # When a failed delivery is due again; the sweep re-sends those whose task was lost.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # While a worker is sending it (the claim's lease): no second worker sends it meanwhile.
    sending_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["webhook", "decision", "event"], name="webhook_delivery_once_per_event"),
            models.CheckConstraint(
                condition=Q(decision__isnull=False, author_action__isnull=True, drift_snapshot__isnull=True)
                | Q(decision__isnull=True, author_action__isnull=False, drift_snapshot__isnull=True)
                | Q(decision__isnull=True, author_action__isnull=True, drift_snapshot__isnull=False),
                name="webhook_delivery_one_subject",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "delivered", "failed"]), name="webhook_delivery_status_valid"
            ),
        ]

    def __str__(self) -> str:
        if self.decision_id:
            subject = f"decision #{self.decision_id}"
        elif self.author_action_id:
            subject = f"author action #{self.author_action_id}"
        else:
            subject = f"drift snapshot #{self.drift_snapshot_id}"
        return f"{self.event} {subject} → {self.webhook_id} ({self.status})"


class AuditEvent(models.Model):
    """Who did what to which object, with the state before and after."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now(), db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}#{self.target_id}"
