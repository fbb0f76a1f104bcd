"""Synthetic reference data for the demo: practices, staff, names, places and diagnoses.

Every person, address, phone number and identifier here is invented. Phone numbers use the
555-01xx block reserved for fiction; NPIs only satisfy the check digit; MBIs are generated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from careledger.accounts.roles import Credential, Role

# The password of every demo login. It is far weaker than the password validators allow, on
# purpose: the loader sets it with ``set_password`` (which does not run the validators) so that a
# demo can be explored with one obvious word. Never used outside the demo.
DEMO_PASSWORD = "demo"

RIVERSIDE = "riverside"
LAKESIDE = "lakeside"

# What an 837P needs to name the billing provider (loop 2010AA) and the submitter (1000A).
PRACTICES: dict[str, dict[str, Any]] = {
    RIVERSIDE: {
        "name": "Riverside Family Medicine",
        "slug": RIVERSIDE,
        "timezone": "America/Chicago",
        "setting": "physician_office",
        "billing_npi": "1447320510",
        "tax_id": "371234567",
        "taxonomy_code": "207Q00000X",  # Family Medicine
        "address_line": "1200 River Road, Suite 200",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62704",
        "phone": "(217) 555-0100",
        "default_place_of_service": "11",
        "mac_name": "National Government Services (J6)",
        "mac_payer_id": "06102",
        "claim_submitter_id": "RIVFAMMED01",
    },
    LAKESIDE: {
        "name": "Lakeside Internal Medicine",
        "slug": LAKESIDE,
        "timezone": "America/New_York",
        "setting": "physician_office",
        "billing_npi": "1548210933",
        "tax_id": "341234568",
        "taxonomy_code": "207R00000X",  # Internal Medicine
        "address_line": "88 Lakeshore Boulevard",
        "city": "Cleveland",
        "state": "OH",
        "postal_code": "44114",
        "phone": "(216) 555-0100",
        "default_place_of_service": "11",
        "mac_name": "CGS Administrators (J15)",
        "mac_payer_id": "15202",
        "claim_submitter_id": "LAKINTMED01",
    },
}


@dataclass(frozen=True)
class StaffMember:
    username: str
    practice: str
    role: str
    credential: str
    first_name: str
    last_name: str
    npi: str = ""
    bh_care_manager: bool = False  # counts toward CoCM minutes (BHI-2)


STAFF: tuple[StaffMember, ...] = (
    StaffMember("admin", RIVERSIDE, Role.ADMIN, Credential.OTHER, "Alex", "Moreno"),
    # The program manager is a licensed clinical social worker and Riverside's behavioral-health
    # care manager: her minutes are the ones that count toward CoCM (BHI-2).
    StaffMember(
        "manager",
        RIVERSIDE,
        Role.MANAGER,
        Credential.LCSW,
        "Priya",
        "Raman",
        bh_care_manager=True,
    ),
    StaffMember("coordinator", RIVERSIDE, Role.COORDINATOR, Credential.RN, "Grace", "Okafor"),
    StaffMember(
        "practitioner", RIVERSIDE, Role.PRACTITIONER, Credential.MD, "Daniel", "Reyes", "1683902740"
    ),
    StaffMember("biller", RIVERSIDE, Role.BILLER, Credential.OTHER, "Tom", "Lindqvist"),
    StaffMember("auditor", RIVERSIDE, Role.AUDITOR, Credential.OTHER, "Ruth", "Abernathy"),
    StaffMember("coordinator2", LAKESIDE, Role.COORDINATOR, Credential.RN, "Maya", "Chen"),
    StaffMember(
        "practitioner2",
        LAKESIDE,
        Role.PRACTITIONER,
        Credential.MD,
        "Samuel",
        "Whitfield",
        "1374629586",
    ),
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Given names common among people born 1930-1960 (SSA popular-name tables).
FEMALE_NAMES = _words(
    """
    Mary Patricia Linda Barbara Elizabeth Jennifer Maria Susan Margaret Dorothy Lisa Nancy Karen
    Betty Helen Sandra Donna Carol Ruth Sharon Michelle Laura Sarah Kimberly Deborah Jessica
    Shirley Cynthia Angela Melissa Brenda Amy Anna Rebecca Virginia Kathleen Pamela Martha Debra
    Joan Evelyn Frances Gloria Judith Rose Janice Jean Alice Doris Marilyn Beverly Norma
    Lorraine Irene Rosa Yolanda Mae Esther Lucille Bernice
    """
)
MALE_NAMES = _words(
    """
    James Robert John Michael William David Richard Joseph Thomas Charles Christopher Daniel
    Matthew Anthony Donald Mark Paul Steven Andrew Kenneth Joshua George Kevin Brian Edward
    Ronald Timothy Jason Jeffrey Ryan Gary Jacob Nicholas Eric Stephen Jonathan Larry Frank
    Scott Raymond Gregory Samuel Benjamin Patrick Jack Dennis Jerry Harold Walter Roger Arthur
    Albert Eugene Ralph Carl Howard Earl Jose Luis Hiroshi
    """
)
FAMILY_NAMES = _words(
    """
    Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
    Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris
    Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill
    Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Kowalski Novak
    Schmidt Fischer O'Brien Murphy Sullivan Kim Park Tanaka Patel Shah Okonkwo Mensah Haddad
    Cohen Rossi Bianchi Jensen Larsen Dubois Moreau Yazzie Begay Washington Jefferson Brooks
    Price Bennett Wood Barnes Ross Henderson Coleman Jenkins Perry Powell Long Patterson Hughes
    Castillo Vargas Mendoza Ortiz Gutierrez Chavez Ramos Ruiz Alvarez Zielinski Wozniak Dvorak
    Lindgren Olsen Hansen McAllister Fitzgerald
    """
)

STREETS = (
    "Oak Street",
    "Maple Avenue",
    "Cedar Lane",
    "Elm Street",
    "Washington Avenue",
    "Lincoln Way",
    "Park Drive",
    "Walnut Street",
    "Hickory Court",
    "Sycamore Road",
    "Prairie View Drive",
    "Meadow Lane",
    "Church Street",
    "Mill Road",
    "Orchard Avenue",
    "Birch Terrace",
    "Chestnut Street",
    "Willow Bend",
    "Jefferson Street",
    "Lakeview Drive",
)

# City, state, ZIP code and telephone area code, near each practice.
PLACES: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    RIVERSIDE: (
        ("Springfield", "IL", "62704", "217"),
        ("Springfield", "IL", "62702", "217"),
        ("Chatham", "IL", "62629", "217"),
        ("Rochester", "IL", "62563", "217"),
        ("Sherman", "IL", "62684", "217"),
        ("Jacksonville", "IL", "62650", "217"),
        ("Lincoln", "IL", "62656", "217"),
        ("Taylorville", "IL", "62568", "217"),
    ),
    LAKESIDE: (
        ("Cleveland", "OH", "44114", "216"),
        ("Lakewood", "OH", "44107", "216"),
        ("Euclid", "OH", "44123", "216"),
        ("Parma", "OH", "44129", "440"),
    ),
}

# Chronic conditions, all billable ICD-10-CM codes (checked by the tests against the code set),
# weighted roughly by prevalence among Medicare beneficiaries in CCM programs.
CHRONIC_CONDITIONS: tuple[tuple[str, int], ...] = (
    ("I10", 10),  # essential hypertension
    ("E78.5", 8),  # hyperlipidemia
    ("E11.9", 7),  # type 2 diabetes
    ("E11.65", 2),
    ("E11.22", 2),
    ("I25.10", 3),  # coronary artery disease
    ("I50.22", 2),  # chronic systolic heart failure
    ("I50.32", 2),
    ("I48.91", 2),  # atrial fibrillation
    ("J44.9", 3),  # COPD
    ("N18.31", 2),  # CKD 3a
    ("N18.32", 1),
    ("M17.11", 2),  # osteoarthritis, knee
    ("M15.0", 1),
    ("E03.9", 3),  # hypothyroidism
    ("G47.33", 1),  # sleep apnea
    ("M81.0", 2),  # osteoporosis
    ("K21.9", 2),  # GERD
    ("G30.9", 1),  # Alzheimer's disease
    ("I73.9", 1),  # peripheral vascular disease
)

# Conditions an RPM order is written for (the indication must be among the patient's conditions).
RPM_INDICATIONS = ("I10", "I50.22", "I50.32", "E11.9", "E11.65", "J44.9")

# Behavioral-health conditions for BHI patients.
BEHAVIORAL_CONDITIONS = ("F32.1", "F33.1", "F41.1")

# The psychiatric consultant of Riverside's collaborative-care episodes (BHI-2). Invented; the
# NPI only satisfies the check digit.
PSYCHIATRIC_CONSULTANT = "Dr. Helen Park, MD (psychiatry)"
PSYCHIATRIC_CONSULTANT_NPI = "1928374655"
