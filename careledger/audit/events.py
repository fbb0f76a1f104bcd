"""The one registry of audit event names. An event not listed here cannot be recorded."""

from __future__ import annotations

from typing import NamedTuple


class EventType(NamedTuple):
    action: str  # C/R/U/D/E (create, read, update, delete, execute), ASTM E2147
    summary: str


EVENTS: dict[str, EventType] = {
    # authentication and accounts
    "auth.login": EventType("E", "Signed in"),
    "auth.login_failed": EventType("E", "Sign-in refused"),
    "auth.logout": EventType("E", "Signed out"),
    "auth.token_issued": EventType("E", "API token issued"),
    "auth.token_refused": EventType("E", "API token refused"),
    "auth.session_expired": EventType("E", "Session ended after inactivity or its lifetime"),
    "auth.mfa_enrolled": EventType("C", "Authenticator app enrolled for MFA"),
    "auth.mfa_removed": EventType("D", "MFA authenticators removed"),
    "auth.recovery_codes_regenerated": EventType("U", "MFA recovery codes regenerated"),
    "auth.mfa_failed": EventType("E", "Sign-in second step refused"),
    "auth.session_ended": EventType("E", "Own other sessions ended"),
    "auth.password_changed": EventType("U", "Password changed; other sessions ended"),
    "membership.created": EventType("C", "Member added to a practice"),
    "membership.role_changed": EventType("U", "Member's role changed"),
    "practice.created": EventType("C", "Practice created"),
    "practice.updated": EventType("U", "Practice settings changed"),
    # patients
    "patient.created": EventType("C", "Patient created"),
    "patient.updated": EventType("U", "Patient corrected"),
    "patient.viewed": EventType("R", "Patient record viewed"),
    "patient.list_viewed": EventType("R", "Patient list viewed"),
    "patient.access_denied": EventType("R", "Patient record outside the caller's practice"),
    "patient.record_disclosed": EventType("E", "Whole patient record disclosed (right of access)"),
    "patient.imported": EventType("C", "Patient roster imported"),
    "condition.added": EventType("C", "Condition added"),
    "visit.recorded": EventType("C", "Visit recorded"),
    "visit.imported": EventType("C", "Visits imported"),
    "enrollment.created": EventType("C", "Enrolled in a program"),
    "enrollment.consent_recorded": EventType("U", "Consent recorded; enrollment active"),
    "enrollment.ended": EventType("U", "Enrollment ended"),
    # time log
    "timeentry.created": EventType("C", "Time entry logged"),
    "timeentry.amended": EventType("U", "Time entry amended"),
    "timeentry.voided": EventType("U", "Time entry voided"),
    "timeentry.imported": EventType("C", "Time entries imported"),
    "timer.started": EventType("C", "Timer started"),
    "timer.stopped": EventType("U", "Timer stopped and entry saved"),
    "timer.discarded": EventType("U", "Timer discarded"),
    "month.viewed": EventType("R", "Patient month viewed"),
    "dashboard.viewed": EventType("R", "Minutes dashboard viewed"),
    "worklist.viewed": EventType("R", "Pre-close worklist viewed"),
    "worklist.assigned": EventType("C", "Worklist outreach assigned"),
    "worklist.exported": EventType("E", "Pre-close worklist exported"),
    "fee.updated": EventType("C", "Practice fee estimate set for a code"),
    "timeentry.day_viewed": EventType("R", "Own day's time entries viewed"),
    # care plans
    "careplan.started": EventType("C", "Care plan started"),
    "careplan.draft_saved": EventType("U", "Care-plan draft saved"),
    "careplan.draft_conflict": EventType("U", "Care-plan draft save refused: edited meanwhile"),
    "careplan.version_published": EventType("C", "Care-plan version published"),
    "careplan.version_signed": EventType("U", "Care-plan version signed by the practitioner"),
    "careplan.sign_refused": EventType("U", "Care-plan sign-off refused"),
    "careplan.shared": EventType("C", "Care plan given to the patient"),
    "careplan.acute_event_recorded": EventType("C", "Hospital stay or ED visit recorded"),
    "careplan.viewed": EventType("R", "Care plan viewed"),
    "careplan.version_viewed": EventType("R", "Care-plan version viewed"),
    "careplan.diff_viewed": EventType("R", "Care-plan versions compared"),
    "careplan.patient_copy_viewed": EventType("R", "Care plan's patient copy opened"),
    "careplan.pdf_viewed": EventType("R", "Care-plan PDF opened"),
    "careplan.fhir_exported": EventType("R", "Care plan exported as FHIR"),
    "careplan.worklist_viewed": EventType("R", "Care-plan worklist viewed"),
    # the audit log itself
    "audit.viewed": EventType("R", "Audit log viewed"),
    # the demo
    "demo.loaded": EventType("C", "Demo data loaded"),
    # devices, readings, alerts and vendor webhooks
    "device.assigned": EventType("C", "Device assigned to a patient"),
    "device.returned": EventType("U", "Device returned"),
    "reading.received": EventType("C", "Device readings stored"),
    "reading.imported": EventType("C", "Readings file imported"),
    "reading.import_refused": EventType("E", "Readings file refused; nothing stored"),
    "reading.excluded": EventType("U", "Reading excluded from counting"),
    "reading.viewed": EventType("R", "Readings viewed"),
    "alert.raised": EventType("C", "Alert raised by a reading"),
    "alert.escalated": EventType("U", "Alert escalated to critical"),
    "alert.acknowledged": EventType("U", "Alert acknowledged"),
    "alert.resolved": EventType("U", "Alert resolved"),
    "alert.list_viewed": EventType("R", "Alert queue viewed"),
    "alert.adherence_checked": EventType("E", "Reading adherence checked"),
    "webhook.received": EventType("E", "Vendor webhook accepted"),
    "webhook.refused": EventType("E", "Vendor webhook refused"),
    "webhook.vendor_registered": EventType("C", "Device vendor registered"),
    # month close, review, approval, exports and evidence
    "month.closed": EventType("E", "Month closed: billing lines computed"),
    "month.close_refused": EventType("E", "Month close refused"),
    "month.approved": EventType("U", "Month approved and locked"),
    "billing_month.viewed": EventType("R", "Closed month viewed"),
    "line.approved": EventType("U", "Billing line approved"),
    "line.held": EventType("U", "Billing line held"),
    "line.removed": EventType("U", "Billing line removed"),
    "line.edited": EventType("U", "Billing line units edited"),
    "line.added": EventType("C", "Billing line added by hand"),
    "amendment.accepted": EventType("C", "Amendment accepted into a supplementary batch"),
    "export.csv": EventType("E", "Billing CSV exported"),
    "export.json": EventType("E", "Billing JSON exported"),
    "export.837p": EventType("E", "837P claims built"),
    "evidence.viewed": EventType("R", "Evidence packet viewed"),
    "evidence.pdf_viewed": EventType("R", "Evidence packet PDF opened"),
    "analytics.viewed": EventType("R", "Capture analytics viewed"),
    "analytics.exported": EventType("E", "Capture analytics CSV exported"),
    # program facts (issue 9)
    "setup.recorded": EventType("C", "Device set-up and education recorded"),
    "other_claim.recorded": EventType("C", "Another practitioner's claim recorded"),
    "other_claim.imported": EventType("C", "Other practitioners' claims imported"),
    "mdm.recorded": EventType("U", "Complex-CCM decision making recorded for a month"),
    "cocm_episode.started": EventType("C", "Collaborative-care episode started"),
    "cocm_episode.ended": EventType("U", "Collaborative-care episode ended"),
    "rating_scale.recorded": EventType("C", "Validated rating scale recorded"),
    "bhi_elements.recorded": EventType("U", "General-BHI service elements recorded for a month"),
    "apcm_attestation.recorded": EventType("C", "APCM attestation recorded"),
    "rtm_category.set": EventType("U", "RTM category set on an enrollment"),
    "facts.viewed": EventType("R", "Patient's program facts viewed"),
    # the practice's care-plan templates (issue 5, item 6)
    "careplan.template_saved": EventType("C", "Care-plan template saved as a new version"),
    "careplan.template_reset": EventType("C", "Care-plan template reset to the shipped one"),
    # users and break-glass access (issue 11; ONC 170.315(d)(2) privilege changes, (d)(6))
    "user.invited": EventType("C", "Person invited to the practice"),
    "user.password_set": EventType("U", "Invited person set a password; account active"),
    "user.deactivated": EventType("U", "Account deactivated; sessions and tokens revoked"),
    "user.reactivated": EventType("U", "Account reactivated"),
    "membership.deactivated": EventType("U", "Member deactivated; sessions and tokens revoked"),
    "membership.reactivated": EventType("U", "Member reactivated"),
    "breakglass.granted": EventType("C", "Break-glass access granted"),
    "breakglass.ended": EventType("U", "Break-glass access ended early"),
    "breakglass.used": EventType("E", "Request made under break-glass access"),
}


def event_type(name: str) -> EventType:
    """Return the registered type of an event name, refusing unknown names."""
    try:
        return EVENTS[name]
    except KeyError:
        raise ValueError(f"unregistered audit event {name!r}; add it to EVENTS") from None
