"""Practices, the people who work in them, their roles and their API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models

from careledger.accounts.roles import DEFAULT_RULE_CLASS, Credential, Role, RuleClass
from careledger.lib.identifiers import npi_problem, timezone_problem


def validate_npi(value: str) -> None:
    """Refuse an NPI whose format or check digit is wrong."""
    problem = npi_problem(value)
    if problem:
        raise ValidationError(problem, code="invalid_npi")


def validate_timezone(value: str) -> None:
    """Refuse a name that is not an IANA time zone."""
    problem = timezone_problem(value)
    if problem:
        raise ValidationError(problem, code="invalid_timezone")


class User(AbstractUser):
    """One account per person (HIPAA 164.312(a)(2)(i): unique user identification)."""

    class Meta:
        db_table = "accounts_user"


class Practice(models.Model):
    """A billing entity: what an 837P needs to name it, and the zone its months are counted in."""

    class Setting(models.TextChoices):
        PHYSICIAN_OFFICE = "physician_office", "Physician office"
        FQHC = "fqhc", "Federally qualified health center"
        RHC = "rhc", "Rural health clinic"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    setting = models.CharField(
        max_length=20, choices=Setting.choices, default=Setting.PHYSICIAN_OFFICE
    )
    billing_npi = models.CharField("billing NPI", max_length=10, validators=[validate_npi])
    tax_id = models.CharField("tax id (EIN)", max_length=10, blank=True)
    taxonomy_code = models.CharField(max_length=10, blank=True)
    address_line = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    default_place_of_service = models.CharField(max_length=2, default="11")
    mac_name = models.CharField("Medicare administrative contractor", max_length=100, blank=True)
    mac_payer_id = models.CharField("MAC payer id", max_length=20, blank=True)
    claim_submitter_id = models.CharField(max_length=40, blank=True)
    federal_holidays = models.BooleanField(
        "U.S. federal holidays are not business days", default=True
    )
    pre_close_window_minutes = models.PositiveSmallIntegerField(
        default=5, help_text="The worklist lists patients this many minutes below a threshold."
    )
    min_summary_sentences = models.PositiveSmallIntegerField(
        default=2,
        help_text="Sentences of clinical content a countable time entry's summary needs.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A person's place in one practice: role, credential and what the billing rules see."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="memberships")
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    credential = models.CharField(max_length=20, choices=Credential.choices)
    rule_class = models.CharField(max_length=20, choices=RuleClass.choices, blank=True)
    bh_care_manager = models.BooleanField(
        "behavioral-health care manager",
        default=False,
        help_text="Counts toward CoCM minutes (BHI-2).",
    )
    npi = models.CharField("individual NPI", max_length=10, blank=True, validators=[validate_npi])
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "practice"], name="one_membership_per_practice")
        ]
        ordering = ["practice", "user"]

    def __str__(self) -> str:
        return f"{self.user.get_username()} @ {self.practice.slug} ({self.role})"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self.rule_class:
            self.rule_class = DEFAULT_RULE_CLASS.get(self.credential, RuleClass.NON_CLINICAL)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def bills(self) -> bool:
        """Tell whether this member can be a billing practitioner (has an NPI, is a QHP)."""
        return bool(self.npi) and self.rule_class == RuleClass.PHYSICIAN_QHP


def _hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def live(self, now: datetime) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True, expires_at__gt=now, user__is_active=True)

    def user_for(self, key: str, now: datetime) -> User | None:
        """Return the active user a live bearer token ``key`` belongs to, or None."""
        found = self.live(now).select_related("user").filter(key_hash=_hash_token(key)).first()
        return found.user if found is not None else None


class ApiToken(models.Model):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    @staticmethod
    def new_key() -> tuple[str, str]:
        """Return a fresh token and its hash."""
        key = secrets.token_urlsafe(32)
        return key, _hash_token(key)

    @staticmethod
    def hash_of(key: str) -> str:
        return _hash_token(key)


class BreakGlassGrantQuerySet(models.QuerySet["BreakGlassGrant"]):
    def in_force(self, now: datetime) -> BreakGlassGrantQuerySet:
        """Grants that have started, not expired and not been ended early at ``now``."""
        return self.filter(starts_at__lte=now, expires_at__gt=now, ended_at__isnull=True)


class BreakGlassGrant(models.Model):
    """Time-boxed emergency access: a role a member does not normally hold in a practice.

    HIPAA 164.312(a)(2)(ii) and ONC 170.315(d)(6): emergency access for named users. The grant
    expires by itself (at most 24 hours), can be ended early, and every request made under it
    writes a ``breakglass.used`` event naming it. Grants are never deleted.
    """

    MAX_HOURS = 24

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="break_glass_grants")
    practice = models.ForeignKey(
        Practice, on_delete=models.PROTECT, related_name="break_glass_grants"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    reason = models.TextField()
    granted_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="break_glass_grants_given"
    )
    starts_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="break_glass_grants_ended",
    )

    objects = BreakGlassGrantQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("starts_at")),
                name="break_glass_expires_after_start",
            ),
            models.CheckConstraint(
                condition=~models.Q(reason=""), name="break_glass_reason_required"
            ),
        ]

    def __str__(self) -> str:
        return f"break-glass #{self.pk}: {self.user.get_username()} as {self.role}"

    def in_force_at(self, now: datetime) -> bool:
        """Tell whether the grant gives access at ``now``."""
        return self.ended_at is None and self.starts_at <= now < self.expires_at
