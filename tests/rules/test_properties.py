"""Properties that hold for every valid patient-month (hypothesis, bounded)."""

import json
from dataclasses import replace
from datetime import date, datetime, timedelta

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from careledger.rules import evaluate_month
from careledger.rules.calendar import practice_zone
from careledger.rules.conflicts import CONFLICT_PARTNERS
from careledger.rules.facts import (
    KINDS,
    PROGRAMS,
    ROLES,
    ApcmRequirements,
    BhiServiceElements,
    ComplexCcm,
    DevicePeriod,
    MonthFacts,
    OtherClaim,
    PatientFacts,
    TimeEntry,
)

BOUNDED = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ZONE = "America/Chicago"
MONTH = date(2026, 4, 1)
MONTH_LOCAL_START = datetime(2026, 4, 1, tzinfo=practice_zone(ZONE))
# Mostly true, so most generated months pass their preconditions and bill something.
optional_bool = st.sampled_from([True, True, True, True, False, None])


ANY_PROGRAM = st.sampled_from(PROGRAMS)
ANY_ROLE = st.sampled_from(ROLES)
ANY_KIND = st.sampled_from(KINDS)


@st.composite
def time_entries(draw, programs=ANY_PROGRAM, roles=ANY_ROLE, kinds=ANY_KIND, max_size=10):
    count = draw(st.integers(0, max_size))
    entries = []
    for index in range(count):
        offset_minutes = draw(st.integers(-1440, 30 * 1440 + 60))
        entries.append(
            TimeEntry(
                start_at=MONTH_LOCAL_START + timedelta(minutes=offset_minutes),
                seconds=draw(st.integers(0, 90)) * 60 + draw(st.sampled_from([0, 0, 30])),
                kind=draw(kinds),
                role=draw(roles),
                program=draw(
                    st.one_of(programs, st.tuples(programs, programs))
                    if draw(st.integers(0, 9)) == 0
                    else programs
                ),
                entry_id=f"e{index}",
            )
        )
    return tuple(entries)


@st.composite
def device_periods(draw):
    periods = []
    for index in range(draw(st.integers(0, 3))):
        start_on = MONTH + timedelta(days=draw(st.sampled_from([-29, -29, -10, 0, 0, 5, 29])))
        length = draw(st.sampled_from([30, 30, 30, 29, 31]))
        end_on = start_on + timedelta(days=length - 1)
        if draw(st.booleans()):
            count, dates = draw(st.integers(0, length)), None
        else:
            count = None
            dates = frozenset(
                start_on + timedelta(days=d)
                for d in draw(st.sets(st.integers(0, length - 1), max_size=length))
            )
        periods.append(
            DevicePeriod(
                draw(st.sampled_from(["RPM", "RTM"])), start_on, end_on, count, dates, f"p{index}"
            )
        )
    return tuple(periods)


@st.composite
def month_facts(draw, entries=None):
    programs = tuple(sorted(draw(st.sets(st.sampled_from(PROGRAMS), min_size=1, max_size=3))))
    # Mostly entries of enrolled programs, sometimes of others.
    tagged = st.sampled_from([*programs, *programs, *programs, *PROGRAMS])
    consent_on = {
        p: MONTH + timedelta(days=draw(st.sampled_from([-400, -30, -30, -1, 0, 5, 40])))
        for p in programs
        if draw(st.integers(0, 7))
    }
    claims = tuple(
        OtherClaim(
            draw(st.sampled_from(["P1", "P2"])),
            draw(st.sampled_from(["99454", "99445", "99490", "99426", "98977", "G0557", "99214"])),
            MONTH + timedelta(days=draw(st.integers(-30, 20))),
            MONTH + timedelta(days=draw(st.integers(20, 50))),
        )
        for _ in range(draw(st.integers(0, 2)))
    )
    return MonthFacts(
        month_start_on=MONTH,
        practice_timezone=ZONE,
        billing_practitioner="P1",
        setting=draw(st.sampled_from(["physician_office", "fqhc", "rhc"])),
        patient=PatientFacts(
            medicare_ffs=draw(st.sampled_from([True] * 8 + [False, None])),
            established_patient=draw(optional_bool),
            chronic_conditions=draw(st.sampled_from([None, 0, 1, 2, 3, 3, 4])),
            single_high_risk_condition=draw(optional_bool),
            qmb=draw(optional_bool),
            seen_by_billing_practitioner_within_12_months=draw(optional_bool),
        ),
        programs=programs,
        consent_on=consent_on,
        comprehensive_care_plan=draw(optional_bool) is True,
        disease_specific_care_plan=draw(optional_bool) is True,
        complex_ccm=draw(
            st.one_of(
                st.none(),
                st.builds(
                    ComplexCcm, st.sampled_from([None, "low", "moderate", "high"]), st.booleans()
                ),
            )
        ),
        apcm_requirements=draw(
            st.one_of(
                st.none(),
                st.just(ApcmRequirements(True, True, True, True)),
                st.builds(
                    ApcmRequirements, st.booleans(), st.booleans(), st.booleans(), st.booleans()
                ),
            )
        ),
        bhi_service_elements=draw(
            st.one_of(
                st.none(),
                st.just(BhiServiceElements(True, True, True, True)),
                st.builds(
                    BhiServiceElements, st.booleans(), st.booleans(), st.booleans(), st.booleans()
                ),
            )
        ),
        cocm_month_index=draw(st.one_of(st.none(), st.integers(1, 4))),
        rpm_setup_already_billed=draw(st.booleans()),
        rtm_setup_already_billed=draw(st.booleans()),
        rtm_category=draw(st.sampled_from([None, "respiratory", "musculoskeletal", "cbt"])),
        device_periods=draw(device_periods()),
        other_practitioner_claims=claims,
        time_entries=draw(entries if entries is not None else time_entries(programs=tagged)),
    )


def decision(result):
    """Return what a biller acts on: lines, flag codes, minutes and summaries."""
    return (
        sorted((line.code, line.units, line.dos) for line in result.lines),
        sorted({flag.code for flag in result.flags}),
        dict(result.minutes_by_program),
        {
            p: (s.minutes, s.interactive_contact, s.reading_days, s.next_threshold)
            for p, s in result.programs.items()
        },
    )


@BOUNDED
@given(month_facts())
def test_the_engine_never_raises_on_valid_facts_and_its_output_is_json(facts):
    result = evaluate_month(facts)
    json.dumps(result.as_dict())
    assert all(line.units >= 1 for line in result.lines)
    assert len({line.code for line in result.lines}) == len(result.lines)


@BOUNDED
@given(month_facts(), st.randoms(use_true_random=False))
def test_the_order_of_entries_and_device_periods_never_matters(facts, rng):
    entries = list(facts.time_entries)
    periods = list(facts.device_periods)
    rng.shuffle(entries)
    rng.shuffle(periods)
    shuffled = replace(facts, time_entries=tuple(entries), device_periods=tuple(periods))
    assert decision(evaluate_month(shuffled)) == decision(evaluate_month(facts))


@BOUNDED
@given(month_facts(), st.data())
def test_splitting_one_entry_into_two_adjacent_ones_never_changes_the_result(facts, data):
    splittable = [
        i
        for i, e in enumerate(facts.time_entries)
        if isinstance(e.program, str) and e.seconds >= 120
    ]
    assume(splittable)
    index = data.draw(st.sampled_from(splittable))
    original = facts.time_entries[index]
    first_seconds = data.draw(st.integers(1, original.seconds // 60 - 1)) * 60
    first = replace(original, seconds=first_seconds, entry_id=original.entry_id + "a")
    second = replace(
        original,
        start_at=original.start_at + timedelta(seconds=first_seconds),
        seconds=original.seconds - first_seconds,
        entry_id=original.entry_id + "b",
    )
    entries = (*facts.time_entries[:index], first, second, *facts.time_entries[index + 1 :])
    split = replace(facts, time_entries=entries)
    assert decision(evaluate_month(split)) == decision(evaluate_month(facts))


@BOUNDED
@given(month_facts(), st.data())
def test_entries_of_one_program_change_other_programs_only_through_conflict_rules(facts, data):
    program = data.draw(st.sampled_from(facts.programs))
    extra = data.draw(time_entries(programs=st.just(program), max_size=4))
    extra = tuple(replace(e, entry_id=f"x{i}") for i, e in enumerate(extra))
    more = replace(facts, time_entries=facts.time_entries + extra)
    untouched = set(PROGRAMS) - {program} - CONFLICT_PARTNERS[program]

    def lines_of_others(result):
        return sorted(
            (line.code, line.units, line.dos) for line in result.lines if line.program in untouched
        )

    assert lines_of_others(evaluate_month(more)) == lines_of_others(evaluate_month(facts))


FAMILIES = [
    # (program, role, complex CCM, minimum minutes, codes of one family)
    ("CCM", "clinical_staff", False, 0, {"99490", "99439"}),
    ("CCM", "physician_qhp", False, 30, {"99491", "99437"}),
    ("CCM", "clinical_staff", True, 60, {"99487", "99489"}),
    ("PCM", "clinical_staff", False, 0, {"99426", "99427"}),
    ("PCM", "physician_qhp", False, 30, {"99424", "99425"}),
    ("RPM", "clinical_staff", False, 0, {"99470", "99457", "99458"}),
    ("RTM", "clinical_staff", False, 0, {"98979", "98980", "98981"}),
    ("BHI", "clinical_staff", False, 0, {"99484"}),
    ("CoCM", "bh_care_manager", False, 0, {"G2214", "99492", "99493", "99494"}),
]


def single_program_month(program, role, complex_month, minutes, cocm_month_index):
    start = MONTH_LOCAL_START + timedelta(days=2, hours=9)
    entries = (
        TimeEntry(start, 60, "interactive_call", role, program, "live"),
        *(
            TimeEntry(
                start + timedelta(days=1 + i % 25, minutes=i),
                60,
                "data_review",
                role,
                program,
                f"m{i}",
            )
            for i in range(minutes - 1)
        ),
    )
    return MonthFacts(
        month_start_on=MONTH,
        practice_timezone=ZONE,
        billing_practitioner="P1",
        setting="physician_office",
        patient=PatientFacts(True, True, 3, True, False, True),
        programs=(program,),
        consent_on={program: date(2025, 1, 1)},
        comprehensive_care_plan=True,
        disease_specific_care_plan=True,
        complex_ccm=ComplexCcm("high", True) if complex_month else None,
        cocm_month_index=cocm_month_index,
        rtm_category="respiratory",
        time_entries=entries,
    )


@settings(max_examples=200, deadline=None)
@given(
    family=st.sampled_from(FAMILIES),
    minutes=st.integers(1, 150),
    cocm_month_index=st.integers(1, 3),
)
def test_within_one_code_family_one_more_countable_minute_never_lowers_the_units(
    family, minutes, cocm_month_index
):
    program, role, complex_month, floor_minutes, codes = family
    minutes = max(minutes, floor_minutes)

    def units(n):
        facts = single_program_month(program, role, complex_month, n, cocm_month_index)
        result = evaluate_month(facts)
        assert {line.code for line in result.lines} <= codes
        return sum(line.units for line in result.lines)

    assert units(minutes + 1) >= units(minutes)


def test_the_property_helpers_build_what_they_claim():
    facts = single_program_month("RPM", "clinical_staff", False, 40, 1)
    assert evaluate_month(facts).minutes_by_program == {"RPM": 40}
