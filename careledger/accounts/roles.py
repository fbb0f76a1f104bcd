"""Roles, credentials and the permission matrix: who may do what in a practice."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    COORDINATOR = "coordinator", "Care coordinator"
    PRACTITIONER = "practitioner", "Billing practitioner"
    MANAGER = "manager", "Program manager"
    BILLER = "biller", "Biller"
    AUDITOR = "auditor", "Compliance auditor"
    ADMIN = "admin", "Practice admin"


class Credential(models.TextChoices):
    RN = "RN", "Registered nurse"
    LPN = "LPN", "Licensed practical nurse"
    MA = "MA", "Medical assistant"
    CMA = "CMA", "Certified medical assistant"
    MD = "MD", "Physician (MD)"
    DO = "DO", "Physician (DO)"
    NP = "NP", "Nurse practitioner"
    PA = "PA", "Physician assistant"
    LCSW = "LCSW", "Licensed clinical social worker"
    PSYCHOLOGIST = "psychologist", "Psychologist"
    PT = "PT", "Physical therapist"
    OT = "OT", "Occupational therapist"
    SLP = "SLP", "Speech-language pathologist"
    OTHER = "other", "Other"


class RuleClass(models.TextChoices):
    """The billing engine's view of who did the work (CCM-4, P9)."""

    CLINICAL_STAFF = "clinical_staff", "Clinical staff"
    PHYSICIAN_QHP = "physician_qhp", "Physician or qualified health professional"
    NON_CLINICAL = "non_clinical", "Non-clinical staff"


# CCM-4: clinical staff under general supervision count; non-clinical staff never count.
DEFAULT_RULE_CLASS: dict[str, str] = {
    Credential.RN: RuleClass.CLINICAL_STAFF,
    Credential.LPN: RuleClass.CLINICAL_STAFF,
    Credential.MA: RuleClass.CLINICAL_STAFF,
    Credential.CMA: RuleClass.CLINICAL_STAFF,
    Credential.LCSW: RuleClass.CLINICAL_STAFF,
    Credential.PSYCHOLOGIST: RuleClass.PHYSICIAN_QHP,
    Credential.PT: RuleClass.CLINICAL_STAFF,
    Credential.OT: RuleClass.CLINICAL_STAFF,
    Credential.SLP: RuleClass.CLINICAL_STAFF,
    Credential.MD: RuleClass.PHYSICIAN_QHP,
    Credential.DO: RuleClass.PHYSICIAN_QHP,
    Credential.NP: RuleClass.PHYSICIAN_QHP,
    Credential.PA: RuleClass.PHYSICIAN_QHP,
    Credential.OTHER: RuleClass.NON_CLINICAL,
}

ALL_ROLES = frozenset(Role.values)
CLINICAL_WRITERS = frozenset({Role.COORDINATOR, Role.PRACTITIONER, Role.MANAGER, Role.ADMIN})

# The permission matrix. Every view and endpoint declares one of these names; a role not listed
# gets 403. Records of another practice are never found (404), whatever the role.
PERMISSIONS: dict[str, frozenset[str]] = {
    "patient.view": ALL_ROLES,
    "patient.edit": CLINICAL_WRITERS,
    "enrollment.edit": CLINICAL_WRITERS,
    "patient.import": frozenset({Role.MANAGER, Role.ADMIN}),
    # Right of access (HIPAA 164.524): the whole record, disclosed to the patient on request.
    "patient.record_export": frozenset({Role.PRACTITIONER, Role.MANAGER, Role.ADMIN}),
    "time.log": CLINICAL_WRITERS,
    "time.import": frozenset({Role.MANAGER, Role.ADMIN}),
    "careplan.view": ALL_ROLES,
    "careplan.edit": CLINICAL_WRITERS,
    "careplan.sign": frozenset({Role.PRACTITIONER}),
    "device.view": ALL_ROLES,
    "device.edit": CLINICAL_WRITERS,
    "reading.exclude": CLINICAL_WRITERS,
    "alert.view": ALL_ROLES,
    "alert.work": CLINICAL_WRITERS,
    "worklist.assign": frozenset({Role.MANAGER, Role.ADMIN}),
    "reading.post": CLINICAL_WRITERS,
    "alert.manage": CLINICAL_WRITERS,
    "audit.view": frozenset({Role.AUDITOR, Role.ADMIN}),
    # API.md: close and exports for managers and billers; approve (and line review) managers only.
    "month.close": frozenset({Role.MANAGER, Role.BILLER}),
    "month.approve": frozenset({Role.MANAGER}),
    "billing.export": frozenset({Role.MANAGER, Role.BILLER}),
    "billing.view": frozenset({Role.MANAGER, Role.BILLER, Role.AUDITOR, Role.ADMIN}),
    "evidence.view": frozenset({Role.MANAGER, Role.BILLER, Role.AUDITOR, Role.ADMIN}),
    # Program facts (issue 9). Other practitioners' claims and APCM attestations are entered by
    # billers, managers, admins and practitioners; MDM only by the practitioner (CCM-2).
    "facts.view": ALL_ROLES,
    "facts.edit": frozenset({Role.PRACTITIONER, Role.MANAGER, Role.ADMIN, Role.BILLER}),
    "facts.import": frozenset({Role.MANAGER, Role.ADMIN, Role.BILLER}),
    "care_facts.edit": CLINICAL_WRITERS,
    "mdm.record": frozenset({Role.PRACTITIONER}),
    # The practice's care-plan templates (issue 5, item 6): edited by its clinical leads.
    "careplan.templates": frozenset({Role.PRACTITIONER, Role.MANAGER, Role.ADMIN}),
    # Issue 11: invite people, change roles, deactivate accounts and grant break-glass access
    # (ONC 170.315(d)(1) and (d)(6)); only the practice's admins.
    "users.manage": frozenset({Role.ADMIN}),
    # Whoever holds break-glass access may end it early.
    "breakglass.end_own": ALL_ROLES,
}


def role_may(role: str, permission: str) -> bool:
    """Tell whether ``role`` holds ``permission`` (unknown permissions are denied)."""
    return role in PERMISSIONS.get(permission, frozenset())
