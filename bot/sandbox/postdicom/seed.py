"""Deterministic seed data: the ``demo`` account the golden vectors name, and synthetic orders.

``demo`` holds one account (the golden vectors' keys), three users across two institutions,
three user groups, a flag dictionary, two DICOM nodes, a few folders, orders made from pydicom's
bundled test files and a few hundred synthetic orders across modalities and dates. The UUIDs the
golden vectors use (user 1111…, institution 2222…, orders 3333… and 4444…, folder 5555…, user
group 6666…, DICOM node 7777…) exist, so replayed frames meet real things. ``empty`` is the
same account without folders or orders. Every run builds the same data.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta

from pydicom.data import get_testdata_file

from bot.sandbox.postdicom.dicom import SyntheticImage, read_header, synthetic_dicom
from bot.sandbox.postdicom.state import (
    Account,
    Contact,
    DicomNode,
    EmulatorState,
    Flag,
    FlagGroup,
    Instance,
    Institution,
    Order,
    OrderStatus,
    User,
    UserGroup,
)
from bot.sandbox.postdicom.uploads import file_instance

DEMO_API_KEY = "0f0f0f0f-1234-4abc-8def-0123456789ab"
DEMO_ACCOUNT_KEY = "acc0acc0-5678-4abc-9def-0123456789ab"
DEMO_ACCOUNT_NAME = "Demo Radiology"

ADA_UUID = "11111111-1111-4111-8111-111111111111"
BEN_UUID = "b0b0b0b0-1111-4111-8111-111111111111"
CHLOE_UUID = "c1c1c1c1-1111-4111-8111-111111111111"
MAIN_INSTITUTION_UUID = "22222222-2222-4222-8222-222222222222"
BRANCH_INSTITUTION_UUID = "2b2b2b2b-2222-4222-8222-222222222222"
CT_ORDER_UUID = "33333333-3333-4333-8333-333333333333"
MR_ORDER_UUID = "44444444-4444-4444-8444-444444444444"
CASES_FOLDER_UUID = "55555555-5555-4555-8555-555555555555"
RADIOLOGISTS_GROUP_UUID = "66666666-6666-4666-8666-666666666666"
TECHNOLOGISTS_GROUP_UUID = "6a6a6a6a-6666-4666-8666-666666666666"
REFERRERS_GROUP_UUID = "6b6b6b6b-6666-4666-8666-666666666666"
CT_NODE_UUID = "77777777-7777-4777-8777-777777777777"
MR_NODE_UUID = "7a7a7a7a-7777-4777-8777-777777777777"

PRIORITY_GROUP_ID = 1
READING_GROUP_ID = 2
URGENT_FLAG_ID, ROUTINE_FLAG_ID = 1, 2
UNREAD_FLAG_ID, READ_FLAG_ID, REPORTED_FLAG_ID = 3, 4, 5

SYNTHETIC_ORDER_COUNT = 300
_SEED_NAMESPACE = uuid.UUID("5eed5eed-0000-4000-8000-00000000d1c0")
SEEDS = ("demo", "empty")

# pydicom's bundled files the seed is made of: (file names of one study, order uuid, institution).
# Files left out on purpose (examples_rgb_color, rtplan, reportsi, 693_J2KI, …) are new studies
# for upload tests; the MR_small_* variants repeat MR_small's SOP Instance UID, for dedupe tests.
SEED_STUDIES: tuple[tuple[tuple[str, ...], str | None, str], ...] = (
    (("CT_small.dcm",), CT_ORDER_UUID, MAIN_INSTITUTION_UUID),
    (("MR_small.dcm",), MR_ORDER_UUID, MAIN_INSTITUTION_UUID),
    (("JPEG2000.dcm",), None, MAIN_INSTITUTION_UUID),
    (("waveform_ecg.dcm",), None, MAIN_INSTITUTION_UUID),
    (("liver_1frame.dcm",), None, MAIN_INSTITUTION_UUID),
    (("examples_ybr_color.dcm",), None, MAIN_INSTITUTION_UUID),
    (("rtdose.dcm",), None, BRANCH_INSTITUTION_UUID),
    (("test-SR.dcm",), None, BRANCH_INSTITUTION_UUID),
    (
        ("SC_rgb_small_odd.dcm", "SC_rgb_dcmtk_+eb+cr.dcm", "SC_rgb_jpeg_dcmtk.dcm"),
        None,
        BRANCH_INSTITUTION_UUID,
    ),
)

_SURNAMES = (
    "Abbott", "Barros", "Castellanos", "Dubois", "Eriksen", "Fujita", "Gallagher", "Haddad",
    "Ivanova", "Jansen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov",
    "Quinlan", "Rossi", "Schneider", "Takahashi", "Umarov", "Varga", "Whitfield", "Xu", "Yilmaz",
    "Zielinski", "Müller", "Øvergaard", "Çelik", "Nuñez",
)  # fmt: skip
_GIVEN_NAMES = (
    "Alma", "Bruno", "Carla", "Dmitri", "Elif", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kaia",
    "Luca", "Mara", "Nils", "Oona", "Pavel", "Rhea", "Sami", "Tomas", "Una", "Viktor", "Wanda",
    "Jürgen", "Zoë",
)  # fmt: skip
_STUDIES = {
    "CT": ("CT head without contrast", "CT chest", "CT abdomen and pelvis", "CT angiography"),
    "MR": ("MRI brain", "MRI lumbar spine", "MRI knee", "MRI shoulder"),
    "US": ("Ultrasound abdomen", "Obstetric ultrasound", "Thyroid ultrasound"),
    "CR": ("Chest X-ray", "Hand X-ray"),
    "DX": ("Chest PA and lateral", "Knee X-ray"),
    "MG": ("Screening mammography", "Diagnostic mammography"),
    "NM": ("Bone scan", "Thyroid scintigraphy"),
    "PT": ("PET-CT whole body",),
    "XA": ("Coronary angiography",),
}


def _people(account: Account) -> None:
    main = account.add_institution(Institution(MAIN_INSTITUTION_UUID, "Main"))
    branch = account.add_institution(Institution(BRANCH_INSTITUTION_UUID, "Branch Clinic"))
    account.add_user(User(ADA_UUID, "Ada Radiologist", "ada", "ada@example.org", [main.uuid, branch.uuid]))
    account.add_user(User(BEN_UUID, "Ben Technologist", "ben", "ben@example.org", [main.uuid]))
    account.add_user(User(CHLOE_UUID, "Chloe Referrer", "chloe", "chloe@example.org", [branch.uuid]))
    account.add_user_group(UserGroup(RADIOLOGISTS_GROUP_UUID, "Radiologists", [ADA_UUID]))
    account.add_user_group(UserGroup(TECHNOLOGISTS_GROUP_UUID, "Technologists", [BEN_UUID]))
    account.add_user_group(UserGroup(REFERRERS_GROUP_UUID, "Referrers", [CHLOE_UUID]))
    account.add_flag_group(
        FlagGroup(
            PRIORITY_GROUP_ID,
            "Priority",
            [Flag(URGENT_FLAG_ID, "Urgent", "#E53935"), Flag(ROUTINE_FLAG_ID, "Routine", "#43A047")],
        )
    )
    account.add_flag_group(
        FlagGroup(
            READING_GROUP_ID,
            "Reading",
            [
                Flag(UNREAD_FLAG_ID, "Unread", "#9E9E9E"),
                Flag(READ_FLAG_ID, "Read", "#1E88E5"),
                Flag(REPORTED_FLAG_ID, "Reported", "#8E24AA"),
            ],
        )
    )
    account.add_dicom_node(DicomNode(CT_NODE_UUID, "CT Scanner Room 1", "CT_ROOM1", "10.20.0.21", 104))
    account.add_dicom_node(DicomNode(MR_NODE_UUID, "MR Scanner", "MR_1", "10.20.0.22", 11112))
    account.contacts.extend(
        [
            Contact(
                "c0c0c0c0-0001-4000-8000-000000000001", "Dr. Priya Raman", "priya@example.org", "City GP"
            ),
            Contact(
                "c0c0c0c0-0002-4000-8000-000000000002", "Dr. Tomás Ortega", "tomas@example.org", "Ortho Care"
            ),
            Contact("c0c0c0c0-0003-4000-8000-000000000003", "Records Office", "records@example.org", "Main"),
        ]
    )


def _folders(account: Account) -> dict[str, str]:
    cases = account.create_folder_path(
        "00000000-0000-0000-0000-000000000000", "Cases", "Cases worth keeping", CASES_FOLDER_UUID
    )
    year = account.create_folder_path(cases.uuid, "2025", "Last year's cases")
    follow_up = account.create_folder_path("00000000-0000-0000-0000-000000000000", "Follow-up", "")
    trial = account.create_folder_path("00000000-0000-0000-0000-000000000000", "Research/Trial A", "")
    return {"cases": cases.uuid, "year": year.uuid, "follow_up": follow_up.uuid, "trial": trial.uuid}


def _test_file_orders(account: Account, now: datetime) -> None:
    for names, order_uuid, institution_uuid in SEED_STUDIES:
        for name in names:
            path = get_testdata_file(name, download=False)
            if not isinstance(path, str):
                continue
            with open(path, "rb") as handle:
                data = handle.read()
            file_instance(
                account,
                read_header(data),
                data,
                institution_uuid=institution_uuid,
                now=now,
                order_uuid=order_uuid or str(uuid.uuid5(_SEED_NAMESPACE, names[0])),
            )


def _random_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _random_uid(rng: random.Random) -> str:
    return f"2.25.{rng.getrandbits(120)}"


def add_synthetic_orders(
    account: Account, count: int, *, seed: int = 20260101, folders: list[str] | None = None
) -> list[Order]:
    """Add ``count`` made-up orders across modalities, dates and institutions; the same seed, the same orders."""
    # Reproducible demo data, not security: a seeded generator is the point.
    rng = random.Random(seed)  # noqa: S311
    institutions = sorted(account.institutions)
    users = sorted(account.users)
    groups = sorted(account.user_groups)
    first_day = date(2024, 1, 1)
    added = []
    for number in range(count):
        modality = rng.choice(sorted(_STUDIES))
        performed = datetime.combine(first_day + timedelta(days=rng.randrange(1035)), datetime.min.time())
        performed += timedelta(minutes=rng.randrange(7 * 60, 19 * 60))
        birthdate = date(1930, 1, 1) + timedelta(days=rng.randrange(33000))
        order = Order(
            uuid=_random_uuid(rng),
            institution_uuid=rng.choice(institutions),
            patient_name=f"{rng.choice(_SURNAMES)}^{rng.choice(_GIVEN_NAMES)}",
            patient_id=f"PD{seed % 1000:03d}{number:06d}",
            other_patient_id=f"MRN-{rng.randrange(10**6):06d}" if rng.random() < 0.4 else "",
            birthdate=birthdate.isoformat(),
            sex=rng.choice("MFO"),
            accession_number=f"ACC{number + 1:07d}",
            modality=modality,
            study_description=rng.choice(_STUDIES[modality]),
            performed=performed.strftime("%Y-%m-%d %H:%M"),
            status=OrderStatus.IMAGES_RECEIVED,
            study_instance_uid=_random_uid(rng),
        )
        for _ in range(rng.randint(1, 3)):
            series_uid = _random_uid(rng)
            for _ in range(rng.randint(1, 4)):
                sop_uid = _random_uid(rng)
                order.instances[sop_uid] = Instance(
                    sop_uid, series_uid, "1.2.840.10008.5.1.4.1.1.7", modality, rng.randrange(60_000, 600_000)
                )
        if rng.random() < 0.3:
            order.flags[PRIORITY_GROUP_ID] = rng.choice((URGENT_FLAG_ID, ROUTINE_FLAG_ID))
        if rng.random() < 0.8:
            order.flags[READING_GROUP_ID] = rng.choice((UNREAD_FLAG_ID, READ_FLAG_ID, REPORTED_FLAG_ID))
        if rng.random() < 0.25:
            order.assigned_users.append(rng.choice(users))
        if rng.random() < 0.1:
            order.assigned_groups.append(rng.choice(groups))
        account.add_order(order)
        if folders and rng.random() < 0.1:
            account.file_in_folder(order, account.folders[rng.choice(folders)])
        added.append(order)
    return added


def demo_account(*, orders: bool = True, now: datetime | None = None) -> Account:
    """Build the demo account; without ``orders`` it has its people and dictionaries only."""
    account = Account(DEMO_ACCOUNT_KEY, DEMO_API_KEY, DEMO_ACCOUNT_NAME)
    _people(account)
    if orders:
        folders = _folders(account)
        _test_file_orders(account, now or datetime(2026, 1, 5, 9, 0))
        account.file_in_folder(account.orders[CT_ORDER_UUID], account.folders[folders["cases"]])
        account.file_in_folder(account.orders[MR_ORDER_UUID], account.folders[folders["year"]])
        add_synthetic_orders(account, SYNTHETIC_ORDER_COUNT, folders=[folders["follow_up"], folders["trial"]])
    return account


def tenant_account(number: int, *, orders: int = 20) -> Account:
    """Build one more account, the demo's people and ``orders`` made-up orders, with keys of its own."""
    account = Account(
        f"acc1{number:04x}-0000-4000-8000-000000000000",
        f"a91{number:05x}-0000-4000-8000-000000000000",
        f"Tenant {number}",
    )
    _people(account)
    add_synthetic_orders(account, orders, seed=number)
    return account


def build_state(seed: str = "demo", *, clock: Callable[[], datetime] | None = None) -> EmulatorState:
    """Build a fresh state from a named seed (``demo`` or ``empty``)."""
    if seed not in SEEDS:
        raise ValueError(f"unknown seed {seed!r}; choose one of {', '.join(SEEDS)}")
    state = EmulatorState(clock)
    state.add_account(demo_account(orders=seed == "demo"))
    return state


def synthetic_bytes(order: Order, instance: Instance) -> bytes:
    """Write the DICOM file a synthetic seed instance stands for, for downloads."""
    return synthetic_dicom(
        SyntheticImage(
            patient_name=order.patient_name,
            patient_id=order.patient_id,
            birthdate=order.birthdate,
            sex=order.sex,
            accession_number=order.accession_number,
            modality=instance.modality,
            study_description=order.study_description,
            performed=order.performed,
            study_instance_uid=order.study_instance_uid,
            series_instance_uid=instance.series_instance_uid,
            sop_instance_uid=instance.sop_instance_uid,
        )
    )
