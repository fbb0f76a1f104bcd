"""Export a patient's whole record as one FHIR R4B ``collection`` Bundle.

Clinical records map to their FHIR resources (Patient, Condition, Encounter, EpisodeOfCare,
Consent, Procedure, CarePlan and Goal, Communication, Device, Observation, Flag, ChargeItem);
the care-plan and condition mappers are the ones the care-plan export uses. Records FHIR has no
resource for (history versions, program facts, closed-month findings) travel as ``Basic``
resources carrying every field, so the Bundle holds everything the PDF shows.
"""

from __future__ import annotations

import json
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from careledger.billing.models import BillingLine
from careledger.careplans.fhir import ICD10CM, MRN_SYSTEM, UCUM, _condition, _urn, export_bundle
from careledger.careplans.models import CarePlanVersion, Sharing
from careledger.devices.models import Alert, Device, Reading, ReadingType
from careledger.patients.models import Condition, Enrollment, Patient, Visit
from careledger.programs.models import RatingScale, SetupEvent
from careledger.records.selectors import PatientRecord
from careledger.timelog.models import TimeEntry

LOINC = "http://loinc.org"
CPT = "http://www.ama-assn.org/go/cpt"
MBI_SYSTEM = "http://hl7.org/fhir/sid/us-mbi"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
RECORD_SECTION = "urn:careledger:record-section"
RECORD_FIELD = "urn:careledger:record-field"

# Sections carried as ``Basic`` resources: FHIR has no resource of their own for them.
BASIC_SECTIONS = (
    "demographic_history",
    "enrollment_history",
    "time_entry_amendments",
    "care_plans",
    "acute_events",
    "other_claims",
    "complex_ccm",
    "cocm_episodes",
    "bhi_elements",
    "patient_months",
    "billing_amendments",
)

EPISODE_STATUS = {"pending": "planned", "active": "active", "ended": "finished"}
CHARGE_STATUS = {
    "proposed": "planned",
    "needs_review": "planned",
    "approved": "billable",
    "held": "aborted",
    "removed": "entered-in-error",
}
# (code, display) for each reading type; blood pressure is the panel with components.
READING_LOINC: dict[str, tuple[str, str]] = {
    ReadingType.BLOOD_PRESSURE: ("85354-9", "Blood pressure panel"),
    ReadingType.GLUCOSE: ("2339-0", "Glucose [Mass/volume] in Blood"),
    ReadingType.WEIGHT: ("29463-7", "Body weight"),
    ReadingType.SPO2: ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"),
    ReadingType.SPIROMETRY: ("19935-6", "Maximum expiratory gas flow by Peak flow meter"),
}


def _person(user: Any) -> dict[str, str]:
    return {"display": user.get_full_name() or user.get_username()}


def _quantity(value: float, unit: str) -> dict[str, Any]:
    quantity: dict[str, Any] = {"value": value}
    if unit:
        quantity.update({"unit": unit, "system": UCUM, "code": unit})
    return quantity


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": _urn(resource["resourceType"], resource["id"]), "resource": resource}


def _patient(patient: Patient) -> dict[str, Any]:
    identifiers = [{"system": MRN_SYSTEM.format(slug=patient.practice.slug), "value": patient.mrn}]
    if patient.mbi:
        identifiers.append({"system": MBI_SYSTEM, "value": patient.mbi})
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "identifier": identifiers,
        "name": [{"family": patient.family_name, "given": [patient.given_name]}],
        "birthDate": patient.birth_date.isoformat(),
        "gender": patient.sex,
    }
    if patient.phone:
        resource["telecom"] = [{"system": "phone", "value": patient.phone}]
    address: dict[str, Any] = {
        key: value
        for key, value in (
            ("city", patient.city),
            ("state", patient.state),
            ("postalCode", patient.postal_code),
        )
        if value
    }
    if patient.address_line:
        address["line"] = [patient.address_line]
    if address:
        resource["address"] = [address]
    return resource


def _encounter(visit: Visit, ref: str) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "id": f"visit-{visit.pk}",
        "status": "finished",
        "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
        "type": [{"text": visit.get_kind_display()}],
        "subject": {"reference": ref},
        "participant": [{"individual": _person(visit.practitioner)}],
        "period": {"start": visit.visited_on.isoformat()},
    }


def _episode(enrollment: Enrollment, ref: str) -> list[dict[str, Any]]:
    period = {"start": enrollment.started_on.isoformat()}
    if enrollment.ended_on:
        period["end"] = enrollment.ended_on.isoformat()
    episode = {
        "resourceType": "EpisodeOfCare",
        "id": f"enrollment-{enrollment.pk}",
        "status": EPISODE_STATUS.get(enrollment.status, "planned"),
        "type": [{"text": enrollment.get_program_display()}],
        "patient": {"reference": ref},
        "period": period,
        "careManager": _person(enrollment.billing_practitioner),
    }
    if not enrollment.consent_on:
        return [episode]
    told = [
        label
        for label, flag in (
            ("cost sharing", enrollment.told_cost_sharing),
            ("one practitioner per month", enrollment.told_one_practitioner),
            ("right to stop at any time", enrollment.told_right_to_stop),
        )
        if flag
    ]
    consent: dict[str, Any] = {
        "resourceType": "Consent",
        "id": f"consent-{enrollment.pk}",
        "status": "inactive" if enrollment.ended_on else "active",
        "scope": {"coding": [{"system": CONSENT_SCOPE, "code": "treatment"}]},
        "category": [{"coding": [{"system": LOINC, "code": "59284-0"}]}],
        "patient": {"reference": ref},
        "dateTime": enrollment.consent_on.isoformat(),
        "policyRule": {
            "text": f"Consent to {enrollment.get_program_display()} "
            f"({enrollment.get_consent_method_display() or 'method not recorded'}); "
            f"told about: {', '.join(told) or 'nothing recorded'}"
        },
    }
    if enrollment.consent_obtained_by is not None:
        consent["performer"] = [_person(enrollment.consent_obtained_by)]
    return [episode, consent]


def _procedure(entry: TimeEntry, ref: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": f"time-entry-{entry.pk}",
        "status": "entered-in-error" if entry.voided_at else "completed",
        "category": {"text": f"{entry.get_program_display()} care management"},
        "code": {"text": entry.get_kind_display()},
        "subject": {"reference": ref},
        "performedPeriod": {
            "start": entry.started_at.isoformat(),
            "end": entry.ended_at.isoformat(),
        },
        "performer": [{"actor": _person(entry.staff)}],
        "outcome": {"text": entry.get_outcome_display()},
    }
    notes = [entry.summary, entry.void_reason and f"Voided: {entry.void_reason}"]
    if any(notes):
        resource["note"] = [{"text": text} for text in notes if text]
    return resource


def _device(device: Device, ref: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Device",
        "id": f"device-{device.pk}",
        "status": "inactive" if device.returned_on else "active",
        "serialNumber": device.serial,
        "type": {"text": device.get_type_display()},
        "patient": {"reference": ref},
    }
    if device.model_name:
        resource["deviceName"] = [{"name": device.model_name, "type": "model-name"}]
    return resource


def _observation(reading: Reading, ref: str) -> dict[str, Any]:
    code, display = READING_LOINC.get(reading.type, ("", reading.get_type_display()))
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"reading-{reading.pk}",
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "vital-signs"}]}],
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display},
        "subject": {"reference": ref},
        "effectiveDateTime": reading.measured_at.isoformat(),
        "issued": reading.received_at.isoformat(),
        "device": {"reference": _urn("Device", f"device-{reading.device_id}")},
    }
    components = [
        (name, code_, value, unit)
        for name, code_, value, unit in (
            ("Systolic blood pressure", "8480-6", reading.systolic, "mm[Hg]"),
            ("Diastolic blood pressure", "8462-4", reading.diastolic, "mm[Hg]"),
            ("Heart rate", "8867-4", reading.pulse, "/min"),
        )
        if value is not None
    ]
    if components:
        resource["component"] = [
            {
                "code": {"coding": [{"system": LOINC, "code": code_, "display": name}]},
                "valueQuantity": _quantity(value, unit),
            }
            for name, code_, value, unit in components
        ]
    if reading.value is not None:
        resource["valueQuantity"] = _quantity(reading.value, reading.unit)
    elif reading.pef is not None:
        resource["valueQuantity"] = _quantity(reading.pef, "L/min")
    if reading.excluded_at:
        resource["note"] = [{"text": f"Excluded from counting: {reading.excluded_reason}"}]
    return resource


def _flag(alert: Alert, ref: str) -> dict[str, Any]:
    period = {"start": alert.opened_at.isoformat()}
    if alert.resolved_at:
        period["end"] = alert.resolved_at.isoformat()
    return {
        "resourceType": "Flag",
        "id": f"alert-{alert.pk}",
        "status": "inactive" if alert.status == Alert.Status.RESOLVED else "active",
        "code": {"text": f"{alert.get_severity_display()}: {alert.message}"},
        "subject": {"reference": ref},
        "period": period,
    }


def _communication(sharing: Sharing, ref: str) -> dict[str, Any]:
    version = sharing.version
    plan_id = f"careplan-{version.plan_id}-v{version.number}"
    resource: dict[str, Any] = {
        "resourceType": "Communication",
        "id": f"sharing-{sharing.pk}",
        "status": "completed",
        "subject": {"reference": ref},
        "about": [{"reference": _urn("CarePlan", plan_id)}],
        "sent": sharing.shared_on.isoformat(),
        "medium": [{"text": sharing.get_channel_display()}],
        "sender": _person(sharing.shared_by),
    }
    if sharing.recipient:
        resource["recipient"] = [{"display": sharing.recipient}]
    return resource


def _setup(event: SetupEvent, ref: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": f"setup-{event.pk}",
        "status": "completed",
        "code": {"text": f"{event.get_program_display()} device set-up and patient education"},
        "subject": {"reference": ref},
        "performedDateTime": event.performed_on.isoformat(),
    }
    if event.note:
        resource["note"] = [{"text": event.note}]
    return resource


def _rating(scale: RatingScale, ref: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": f"rating-scale-{scale.pk}",
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey"}]}],
        "code": {"text": scale.get_instrument_display()},
        "subject": {"reference": ref},
        "effectiveDateTime": scale.administered_on.isoformat(),
        "valueInteger": scale.score,
    }


def _charge(line: BillingLine, ref: str) -> dict[str, Any]:
    return {
        "resourceType": "ChargeItem",
        "id": f"line-{line.pk}",
        "status": CHARGE_STATUS.get(line.status, "unknown"),
        "code": {"coding": [{"system": CPT, "code": line.code}]},
        "subject": {"reference": ref},
        "occurrenceDateTime": line.dos.isoformat(),
        "quantity": {"value": line.units},
        "reason": [
            {"coding": [{"system": ICD10CM, "code": str(code)}]}
            for code in line.diagnoses
            if isinstance(code, str) and code
        ],
        "note": [{"text": f"{line.get_status_display()}; {line.get_program_display()}"}],
    }


def _basic(record: PatientRecord, ref: str) -> list[dict[str, Any]]:
    resources = []
    for key in BASIC_SECTIONS:
        section = record.section(key)
        for n, item in enumerate(section.items, start=1):
            fields = [f for f in item.fields if f.value]
            resources.append(
                {
                    "resourceType": "Basic",
                    "id": f"{key.replace('_', '-')}-{n}",
                    "code": {
                        "coding": [{"system": RECORD_SECTION, "code": key}],
                        "text": section.title,
                    },
                    "subject": {"reference": ref},
                    "extension": [
                        {
                            "url": RECORD_FIELD,
                            "extension": [
                                {"url": "label", "valueString": f.label},
                                {"url": "value", "valueString": f.value},
                            ],
                        }
                        for f in fields
                    ],
                }
            )
    return resources


def record_bundle(record: PatientRecord) -> dict[str, Any]:
    """Return the patient's record as a validated FHIR R4B ``collection`` Bundle (JSON data)."""
    patient = record.patient
    ref = _urn("Patient", patient.pk)
    resources: list[dict[str, Any]] = [_patient(patient)]
    resources += [
        _condition(c, ref) for c in Condition.objects.filter(patient=patient).order_by("id")
    ]
    visits = Visit.objects.filter(patient=patient).select_related("practitioner")
    resources += [_encounter(v, ref) for v in visits.order_by("visited_on", "id")]
    enrollments = Enrollment.objects.filter(patient=patient).select_related(
        "billing_practitioner", "consent_obtained_by"
    )
    for enrollment in enrollments.order_by("started_on", "id"):
        resources += _episode(enrollment, ref)
    entries = TimeEntry.objects.filter(patient=patient).select_related("staff")
    resources += [_procedure(e, ref) for e in entries.order_by("started_at", "id")]
    devices = Device.objects.filter(patient=patient).order_by("assigned_on", "id")
    resources += [_device(d, ref) for d in devices]
    readings = Reading.objects.filter(patient=patient).order_by("measured_at", "id")
    resources += [_observation(r, ref) for r in readings]
    alerts = Alert.objects.filter(patient=patient).order_by("opened_at", "id")
    resources += [_flag(a, ref) for a in alerts]
    setups = SetupEvent.objects.filter(patient=patient).order_by("performed_on", "id")
    resources += [_setup(s, ref) for s in setups]
    scales = RatingScale.objects.filter(patient=patient).order_by("administered_on", "id")
    resources += [_rating(s, ref) for s in scales]
    lines = BillingLine.objects.filter(patient=patient).order_by("dos", "code", "id")
    resources += [_charge(line, ref) for line in lines]
    resources += _basic(record, ref)

    entries_out = [_entry(r) for r in resources]
    # Care-plan versions come from the care-plan export itself (CarePlan, Goals, Conditions);
    # the Patient and Conditions it repeats are already in the Bundle under the same URNs.
    seen = {e["fullUrl"] for e in entries_out}
    versions = CarePlanVersion.objects.filter(plan__patient=patient).order_by("plan_id", "number")
    for version in versions.select_related("plan", "author", "signed_by"):
        for entry in export_bundle(version).get("entry", []):
            if entry["fullUrl"] not in seen:
                seen.add(entry["fullUrl"])
                entries_out.append(entry)
    sharings = Sharing.objects.filter(version__plan__patient=patient).select_related(
        "version", "shared_by"
    )
    entries_out += [_entry(_communication(s, ref)) for s in sharings.order_by("shared_on", "id")]

    bundle = Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "timestamp": record.as_of.isoformat(),
            "entry": entries_out,
        }
    )
    data: dict[str, Any] = json.loads(bundle.model_dump_json())
    return data
