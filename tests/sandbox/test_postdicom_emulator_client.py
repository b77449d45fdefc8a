"""Every general method of our client against the emulator: round trips that check the state."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest

from bot.postdicom import ApiError, PostDicomClient
from bot.postdicom.models import CreatedOrder, PatientOrder
from bot.sandbox.postdicom import (
    ADA_UUID,
    BRANCH_INSTITUTION_UUID,
    CASES_FOLDER_UUID,
    CT_ORDER_UUID,
    DEMO_ACCOUNT_KEY,
    MAIN_INSTITUTION_UUID,
    MR_ORDER_UUID,
    PostDicomEmulator,
)
from bot.sandbox.postdicom.seed import (
    BEN_UUID,
    CHLOE_UUID,
    CT_NODE_UUID,
    PRIORITY_GROUP_ID,
    RADIOLOGISTS_GROUP_UUID,
    READING_GROUP_ID,
    REPORTED_FLAG_ID,
    TECHNOLOGISTS_GROUP_UUID,
    URGENT_FLAG_ID,
)
from bot.sandbox.postdicom.state import (
    EMPTY_GUID,
    Account,
    Folder,
    Institution,
    Order,
    User,
)
from tests.paths import GOLDEN

GOLDEN_GENERAL = GOLDEN / "general.jsonl"
OTHER_ACCOUNT_KEY = "0e0e0e0e-5678-4abc-9def-0123456789ab"
OTHER_ORDER = "0e0e0e0e-3333-4333-8333-333333333333"
OTHER_FOLDER = "0e0e0e0e-5555-4555-8555-555555555555"
MISSING = "12345678-1234-4234-8234-123456789abc"


def demo(emulator: PostDicomEmulator) -> Account:
    account = emulator.state.account(DEMO_ACCOUNT_KEY)
    assert account is not None
    return account


async def make_order(client: PostDicomClient, name: str, **fields: str) -> CreatedOrder:
    return await client.create_order_with_full_parameters2(
        ADA_UUID,
        fields.get("institution", MAIN_INSTITUTION_UUID),
        name,
        fields.get("patient_id", f"ID-{name}"),
        fields.get("other_id", ""),
        fields.get("sex", "F"),
        fields.get("birthdate", "1980-05-06"),
        fields.get("modality", "MR"),
        fields.get("description", "Brain"),
        fields.get("accession", f"ACC-{name}"),
        "",
        fields.get("date", "2026-11-28"),
        fields.get("time", "09:30"),
    )


async def uuids(found: list[PatientOrder]) -> set[str]:
    return {order.patient_order_uuid for order in found}


def test_every_method_of_the_golden_vectors_is_exercised_here() -> None:
    names = {json.loads(line)["python_method"] for line in GOLDEN_GENERAL.read_text().splitlines()}
    source = Path(__file__).read_text()
    missing = sorted(name for name in names - {"initialize"} if f".{name}(" not in source)
    assert missing == []


# --- searches ------------------------------------------------------------------------------------


async def test_search_matches_names_case_insensitively_with_carets_words_and_wildcards(
    client: PostDicomClient,
) -> None:
    created = await make_order(client, "Zzyzx^Ophelia^Q")
    other = await make_order(client, "Zzyzxa^Bob")
    for query in ("zzyzx^ophelia", "ZZYZX OPHELIA", "ophelia zzyzx", "zzy*ophelia*", "*OPHELIA*"):
        found = await client.get_patient_order_list(ADA_UUID, [], query)
        assert await uuids(found) == {created.patient_order_uuid}, query
    both = await client.get_patient_order_list(ADA_UUID, [], "zzyzx*")
    assert await uuids(both) == {created.patient_order_uuid, other.patient_order_uuid}
    assert await client.get_patient_order_list(ADA_UUID, [], "zzyzx^ophelia^quentin") == []
    assert await client.get_patient_order_list(ADA_UUID, [], "yzx") == []


async def test_search_filters_by_ids_accession_modality_and_institution(client: PostDicomClient) -> None:
    ct = await make_order(
        client, "Filter^Ct", modality="CT", patient_id="PF-1", other_id="OF-1", accession="AF-1"
    )
    mr = await make_order(
        client, "Filter^Mr", modality="MR", patient_id="PF-2", institution=BRANCH_INSTITUTION_UUID
    )
    assert await uuids(await client.get_patient_order_list(ADA_UUID, [], "", "af-1")) == {
        ct.patient_order_uuid
    }
    assert await uuids(await client.get_patient_order_list(ADA_UUID, [], "", "", "PF-1")) == {
        ct.patient_order_uuid
    }
    assert await uuids(await client.get_patient_order_list(ADA_UUID, [], "", "", "pf-*")) == {
        ct.patient_order_uuid,
        mr.patient_order_uuid,
    }
    assert await uuids(await client.get_patient_order_list(ADA_UUID, [], "", "", "", "OF-1")) == {
        ct.patient_order_uuid
    }
    by_modality = await client.get_patient_order_list(ADA_UUID, [], "filter*", "", "", "", ["MR"])
    assert await uuids(by_modality) == {mr.patient_order_uuid}
    by_place = await client.get_patient_order_list(ADA_UUID, [MAIN_INSTITUTION_UUID], "filter*")
    assert await uuids(by_place) == {ct.patient_order_uuid}
    everything = await client.get_patient_order_list(ADA_UUID, [], "", "", "", "", ["CT", "MR", "US"])
    assert {order.order_modality for order in everything} == {"CT", "MR", "US"}
    dates = [order.performed_datetime for order in everything]
    assert dates == sorted(dates, reverse=True)


async def test_search_by_study_date_and_birthdate_ranges(client: PostDicomClient) -> None:
    early = await make_order(client, "Range^Early", date="2023-03-01", birthdate="1941-02-03")
    late = await make_order(client, "Range^Late", date="2023-03-20", birthdate="1955-06-07")
    in_march = await client.get_patient_order_list_with_date_range(
        ADA_UUID, [], "range*", "", "", "", [], "2023-03-01", "2023-03-10"
    )
    assert await uuids(in_march) == {early.patient_order_uuid}
    open_end = await client.get_patient_order_list_with_date_range(
        ADA_UUID, [], "range*", "", "", "", [], "2023-03-02", ""
    )
    assert await uuids(open_end) == {late.patient_order_uuid}
    born = await client.get_patient_order_list_with_birthdate(
        ADA_UUID, [], "range*", "", "", "", [], "1950-01-01", "1960-12-31"
    )
    assert await uuids(born) == {late.patient_order_uuid}


async def test_search_respects_the_users_institutions(
    client: PostDicomClient, emulator: PostDicomEmulator
) -> None:
    branch = await make_order(client, "Where^Branch", institution=BRANCH_INSTITUTION_UUID)
    ben_sees = await client.get_patient_order_list(BEN_UUID, [], "where*")
    assert ben_sees == []
    chloe_sees = await client.get_patient_order_list(CHLOE_UUID, [], "where*")
    assert await uuids(chloe_sees) == {branch.patient_order_uuid}
    with pytest.raises(ApiError, match="no access"):
        await client.get_patient_order_list(BEN_UUID, [BRANCH_INSTITUTION_UUID])
    with pytest.raises(ApiError, match="Institution not found"):
        await client.get_patient_order_list(ADA_UUID, [MISSING])


async def test_search_in_a_folder_lists_its_orders(client: PostDicomClient) -> None:
    found = await client.get_patient_order_list_in_folder(ADA_UUID, CASES_FOLDER_UUID)
    assert [order.patient_order_uuid for order in found] == [CT_ORDER_UUID]
    assert found[0].folder_uuid_list == [CASES_FOLDER_UUID]
    assert found[0].institution_uuid == MAIN_INSTITUTION_UUID
    with pytest.raises(ApiError, match="Folder not found"):
        await client.get_patient_order_list_in_folder(ADA_UUID, MISSING)


# --- folders -------------------------------------------------------------------------------------


async def test_folder_paths_descriptions_counts_and_listing(
    client: PostDicomClient, emulator: PostDicomEmulator
) -> None:
    leaf = await client.create_folder(ADA_UUID, "", "Teaching/Neuro/Rare")
    assert leaf.folder_uuid is not None
    sibling = await client.create_folder_with_description(
        ADA_UUID, CASES_FOLDER_UUID, "Teaching", "Interesting cases"
    )
    root = await client.get_folder_list(ADA_UUID, "", "", False)
    assert root.folder_uuid == EMPTY_GUID
    teaching = next(folder for folder in root.sub_folder_list if folder.folder_name == "Teaching")
    assert (teaching.sub_folder_count, teaching.all_sub_folder_count) == (1, 2)
    await client.add_order_to_folder(ADA_UUID, MAIN_INSTITUTION_UUID, MR_ORDER_UUID, [leaf.folder_uuid])
    cases = await client.get_folder_list(ADA_UUID, CASES_FOLDER_UUID, "teach", True)
    assert [(item.folder_name, item.folder_description) for item in cases.sub_folder_list] == [
        ("Teaching", "Interesting cases")
    ]
    assert cases.sub_folder_list[0].folder_uuid == sibling.folder_uuid
    assert [order.patient_order_uuid for order in cases.patient_order_list] == [CT_ORDER_UUID]
    all_cases = await client.get_folder_list(ADA_UUID, CASES_FOLDER_UUID, "", False)
    counts = {
        item.folder_name: (item.order_count, item.all_sub_order_count) for item in all_cases.sub_folder_list
    }
    assert counts == {"2025": (1, 1), "Teaching": (0, 0)}
    root = await client.get_folder_list(ADA_UUID, "", "", False)
    teaching = next(folder for folder in root.sub_folder_list if folder.folder_name == "Teaching")
    assert (teaching.order_count, teaching.all_sub_order_count) == (0, 1)
    with pytest.raises(ApiError, match="already exists"):
        await client.create_folder(ADA_UUID, "", "Teaching/Neuro/Rare")
    with pytest.raises(ApiError, match="Folder not found"):
        await client.create_folder(ADA_UUID, MISSING, "Orphan")
    with pytest.raises(ApiError, match="required"):
        await client.create_folder(ADA_UUID, "", "a//b")


async def test_update_and_delete_folders(client: PostDicomClient, emulator: PostDicomEmulator) -> None:
    made = await client.create_folder(ADA_UUID, "", "Old/Inner")
    assert made.folder_uuid is not None
    account = demo(emulator)
    parent_uuid = account.folders[made.folder_uuid].parent_uuid
    await client.update_folder_with_json(
        ADA_UUID, parent_uuid, {"FolderName": "New", "FolderDescription": "Renamed"}
    )
    assert (account.folders[parent_uuid].name, account.folders[parent_uuid].description) == ("New", "Renamed")
    with pytest.raises(ApiError, match="already exists"):
        await client.update_folder_with_json(ADA_UUID, parent_uuid, {"FolderName": "Cases"})
    await client.add_order_to_folder(ADA_UUID, MAIN_INSTITUTION_UUID, CT_ORDER_UUID, [made.folder_uuid])
    result = await client.delete_folder(ADA_UUID, parent_uuid)
    assert result.success
    assert parent_uuid not in account.folders
    assert made.folder_uuid not in account.folders
    properties = await client.get_patient_order_properties(ADA_UUID, MAIN_INSTITUTION_UUID, CT_ORDER_UUID)
    assert properties.folder_uuid_list == [CASES_FOLDER_UUID]
    with pytest.raises(ApiError, match="Folder not found"):
        await client.delete_folder(ADA_UUID, parent_uuid)


async def test_add_and_remove_orders_from_folders(client: PostDicomClient) -> None:
    made = await client.create_folder(ADA_UUID, "", "Board")
    assert made.folder_uuid is not None
    await client.add_order_to_folder(
        ADA_UUID, MAIN_INSTITUTION_UUID, MR_ORDER_UUID, [made.folder_uuid, CASES_FOLDER_UUID]
    )
    listed = await client.get_patient_order_list_in_folder(ADA_UUID, made.folder_uuid)
    assert [order.patient_order_uuid for order in listed] == [MR_ORDER_UUID]
    in_cases = await client.get_patient_order_list_in_folder(ADA_UUID, CASES_FOLDER_UUID)
    assert await uuids(in_cases) == {CT_ORDER_UUID, MR_ORDER_UUID}
    await client.remove_order_from_folder(ADA_UUID, CASES_FOLDER_UUID, [MR_ORDER_UUID, CT_ORDER_UUID])
    assert await client.get_patient_order_list_in_folder(ADA_UUID, CASES_FOLDER_UUID) == []
    with pytest.raises(ApiError, match="not found in this institution"):
        await client.add_order_to_folder(ADA_UUID, BRANCH_INSTITUTION_UUID, MR_ORDER_UUID, [made.folder_uuid])
    with pytest.raises(ApiError, match="Folder not found"):
        await client.add_order_to_folder(ADA_UUID, MAIN_INSTITUTION_UUID, MR_ORDER_UUID, [MISSING])


# --- orders --------------------------------------------------------------------------------------


async def test_the_create_calls_make_orders_that_searches_find(client: PostDicomClient) -> None:
    minimum = await client.create_order_with_minimum_parameters(
        ADA_UUID, MAIN_INSTITUTION_UUID, "Create^Minimum", "CM-1", "CT", "Head", "2026-11-28", "09:30"
    )
    full = await client.create_order_with_full_parameters(
        ADA_UUID, MAIN_INSTITUTION_UUID, "Create^Full", "CF-1", "OCF-1", "1970-01-02", "mr", "Knee",
        "ACF-1", "Pain", "2026-11-27", "10:15", "PROC-1", "MRI knee", CT_NODE_UUID,
    )  # fmt: skip
    full2 = await make_order(client, "Create^Full2", sex="O")
    from_json = await client.create_order_with_json(
        ADA_UUID,
        BRANCH_INSTITUTION_UUID,
        {
            "PatientName": "Create^Json",
            "PatientID": "CJ-1",
            "OtherPatientId": "OCJ-1",
            "PatientsBirthDate": "1960-03-04",
            "PatientSex": "M",
            "OrderModality": "CT",
            "OrderAccessionNumber": "ACJ-1",
            "PerformedDatetime": "2026-11-26 08:00",
            "StudyDescription": "Chest",
            "RequestingPhysician": "DR^A",
            "RequestingProcedureDescription": "CT chest",
            "RequestedProcedureId": "RP-1",
            "ReferringPhysiciansName": "DR^B",
            "ScheduledEquipmentUuid": CT_NODE_UUID,
        },
    )
    for created in (minimum, full, full2, from_json):
        assert created.success
        assert created.patient_order is not None
        assert created.patient_order.patient_order_uuid == created.patient_order_uuid
    found = await client.get_patient_order_list(ADA_UUID, [], "create*")
    assert await uuids(found) == {item.patient_order_uuid for item in (minimum, full, full2, from_json)}
    by_uuid = {order.patient_order_uuid: order for order in found}
    assert by_uuid[full.patient_order_uuid].order_modality == "MR"
    assert by_uuid[full.patient_order_uuid].performed_datetime == "2026-11-27 10:15"
    assert by_uuid[full.patient_order_uuid].patient_birthdate == "1970-01-02"
    assert by_uuid[full2.patient_order_uuid].patient_sex == "O"
    assert by_uuid[from_json.patient_order_uuid].institution_uuid == BRANCH_INSTITUTION_UUID
    assert by_uuid[from_json.patient_order_uuid].accession_number == "ACJ-1"
    assert by_uuid[minimum.patient_order_uuid].order_status == 1
    properties = await client.get_patient_order_properties(
        ADA_UUID, BRANCH_INSTITUTION_UUID, str(from_json.patient_order_uuid)
    )
    extra = properties.model_extra or {}
    assert (
        extra["RequestingPhysician"],
        extra["ReferringPhysiciansName"],
        extra["ScheduledEquipmentUuid"],
    ) == (
        "DR^A",
        "DR^B",
        CT_NODE_UUID,
    )
    assert properties.requesting_procedure_description == "CT chest"


async def test_create_refuses_missing_fields_and_unknown_things(client: PostDicomClient) -> None:
    with pytest.raises(ApiError, match="PatientName"):
        await client.create_order_with_minimum_parameters(
            ADA_UUID, MAIN_INSTITUTION_UUID, "", "X-1", "CT", "", "2026-01-01", "10:00"
        )
    with pytest.raises(ApiError, match="DICOM node"):
        await client.create_order_with_full_parameters(
            ADA_UUID, MAIN_INSTITUTION_UUID, "A^B", "X-1", "", "1970-01-01", "CT", "", "", "",
            "2026-01-01", "10:00", "", "", MISSING,
        )  # fmt: skip
    with pytest.raises(ApiError, match="no access"):
        await client.create_order_with_minimum_parameters(
            BEN_UUID, BRANCH_INSTITUTION_UUID, "A^B", "X-1", "CT", "", "2026-01-01", "10:00"
        )
    with pytest.raises(ApiError, match="User not found"):
        await client.create_order_with_minimum_parameters(
            MISSING, MAIN_INSTITUTION_UUID, "A^B", "X-1", "CT", "", "2026-01-01", "10:00"
        )


async def test_properties_of_a_seeded_order_come_from_its_dicom_file(client: PostDicomClient) -> None:
    order = await client.get_patient_order_properties(ADA_UUID, MAIN_INSTITUTION_UUID, CT_ORDER_UUID)
    assert (order.patient_name, order.patient_id, order.order_modality) == (
        "CompressedSamples^CT1",
        "1CT1",
        "CT",
    )
    assert order.study_instance_uid == "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322"
    assert (order.images_count, order.documents_count, order.order_status) == (1, 0, 2)
    assert order.order_size > 30
    extra = order.model_extra or {}
    assert extra["SeriesList"][0]["ImagesCount"] == 1
    assert extra["DocumentList"] == []
    with pytest.raises(ApiError, match="not found in this institution"):
        await client.get_patient_order_properties(ADA_UUID, BRANCH_INSTITUTION_UUID, CT_ORDER_UUID)


async def test_delete_moves_an_order_to_the_trash(
    client: PostDicomClient, emulator: PostDicomEmulator
) -> None:
    result = await client.delete_order(ADA_UUID, MAIN_INSTITUTION_UUID, CT_ORDER_UUID)
    assert result.success
    assert CT_ORDER_UUID not in await uuids(await client.get_patient_order_list(ADA_UUID, []))
    assert await client.get_patient_order_list_in_folder(ADA_UUID, CASES_FOLDER_UUID) == []
    assert demo(emulator).orders[CT_ORDER_UUID].deleted
    with pytest.raises(ApiError, match="not found"):
        await client.get_patient_order_properties(ADA_UUID, MAIN_INSTITUTION_UUID, CT_ORDER_UUID)
    with pytest.raises(ApiError, match="not found"):
        await client.delete_order(ADA_UUID, MAIN_INSTITUTION_UUID, CT_ORDER_UUID)
    with pytest.raises(ApiError, match="not found in this institution"):
        await client.delete_order(ADA_UUID, BRANCH_INSTITUTION_UUID, MR_ORDER_UUID)


async def test_order_groups_are_made_grown_and_emptied(client: PostDicomClient) -> None:
    extra = await make_order(client, "Group^Third")
    made = await client.create_order_group(ADA_UUID, MAIN_INSTITUTION_UUID, [CT_ORDER_UUID, MR_ORDER_UUID])
    group = made.connected_group_uuid
    assert group is not None
    assert group != EMPTY_GUID
    grown = await client.add_orders_to_order_group(
        ADA_UUID, MAIN_INSTITUTION_UUID, group, [str(extra.patient_order_uuid)]
    )
    assert grown.connected_group_uuid == group
    found = await client.get_patient_order_list(ADA_UUID, [MAIN_INSTITUTION_UUID])
    grouped = {order.patient_order_uuid for order in found if order.connected_group_uuid == group}
    assert grouped == {CT_ORDER_UUID, MR_ORDER_UUID, extra.patient_order_uuid}
    await client.remove_orders_from_group(ADA_UUID, MAIN_INSTITUTION_UUID, [CT_ORDER_UUID])
    ct = await client.get_patient_order_properties(ADA_UUID, MAIN_INSTITUTION_UUID, CT_ORDER_UUID)
    assert ct.connected_group_uuid == EMPTY_GUID
    with pytest.raises(ApiError, match="Order group not found"):
        await client.add_orders_to_order_group(ADA_UUID, MAIN_INSTITUTION_UUID, MISSING, [CT_ORDER_UUID])


async def test_assignments_to_users_and_groups(client: PostDicomClient) -> None:
    await client.assign_patient_order_to_user(ADA_UUID, MR_ORDER_UUID, BEN_UUID)
    await client.assign_patient_order_to_user(ADA_UUID, MR_ORDER_UUID, BEN_UUID)
    await client.assign_patient_order_to_user(ADA_UUID, MR_ORDER_UUID, ADA_UUID)
    await client.assign_patient_order_to_user_group(ADA_UUID, MR_ORDER_UUID, RADIOLOGISTS_GROUP_UUID)
    await client.assign_patient_order_to_user_group(ADA_UUID, MR_ORDER_UUID, TECHNOLOGISTS_GROUP_UUID)
    order = await client.get_patient_order_properties(ADA_UUID, MAIN_INSTITUTION_UUID, MR_ORDER_UUID)
    assert order.assigned_user_uuid_list == [BEN_UUID, ADA_UUID]
    assert order.assigned_user_group_uuid_list == [RADIOLOGISTS_GROUP_UUID, TECHNOLOGISTS_GROUP_UUID]
    await client.unassign_patient_order_from_user(ADA_UUID, MR_ORDER_UUID, BEN_UUID)
    await client.unassign_patient_order_from_user_group(ADA_UUID, MR_ORDER_UUID, RADIOLOGISTS_GROUP_UUID)
    order = await client.get_patient_order_properties(ADA_UUID, MAIN_INSTITUTION_UUID, MR_ORDER_UUID)
    assert order.assigned_user_uuid_list == [ADA_UUID]
    assert order.assigned_user_group_uuid_list == [TECHNOLOGISTS_GROUP_UUID]
    with pytest.raises(ApiError, match="User not found"):
        await client.assign_patient_order_to_user(ADA_UUID, MR_ORDER_UUID, MISSING)
    with pytest.raises(ApiError, match="User group not found"):
        await client.assign_patient_order_to_user_group(ADA_UUID, MR_ORDER_UUID, MISSING)


async def test_assigning_an_order_to_another_institution_moves_it(client: PostDicomClient) -> None:
    await client.assign_patient_order_to_location(ADA_UUID, MR_ORDER_UUID, BRANCH_INSTITUTION_UUID)
    moved = await client.get_patient_order_properties(ADA_UUID, BRANCH_INSTITUTION_UUID, MR_ORDER_UUID)
    assert (moved.institution_uuid, moved.institution_name) == (BRANCH_INSTITUTION_UUID, "Branch Clinic")
    in_branch = await client.get_patient_order_list(ADA_UUID, [BRANCH_INSTITUTION_UUID], "compressedsamples*")
    assert MR_ORDER_UUID in await uuids(in_branch)
    assert MR_ORDER_UUID not in await uuids(await client.get_patient_order_list(BEN_UUID, []))
    with pytest.raises(ApiError, match="not found"):
        await client.assign_patient_order_to_location(BEN_UUID, MR_ORDER_UUID, MAIN_INSTITUTION_UUID)


async def test_flags_are_checked_against_the_dictionary(client: PostDicomClient) -> None:
    dictionary = await client.get_account_flag_dictionary(ADA_UUID)
    groups = {group.group_id: group for group in dictionary}
    assert groups[PRIORITY_GROUP_ID].group_name == "Priority"
    assert [flag.flag_name for flag in groups[READING_GROUP_ID].flag_list] == ["Unread", "Read", "Reported"]
    assert all(flag.color.startswith("#") for group in dictionary for flag in group.flag_list)
    await client.set_flag_to_patient_order(ADA_UUID, MR_ORDER_UUID, READING_GROUP_ID, REPORTED_FLAG_ID)
    await client.set_flag_to_patient_order(ADA_UUID, MR_ORDER_UUID, PRIORITY_GROUP_ID, URGENT_FLAG_ID)
    order = await client.get_patient_order_properties(ADA_UUID, MAIN_INSTITUTION_UUID, MR_ORDER_UUID)
    assert [(flag.group_id, flag.flag_id) for flag in order.flag_list] == [
        (PRIORITY_GROUP_ID, URGENT_FLAG_ID),
        (READING_GROUP_ID, REPORTED_FLAG_ID),
    ]
    with pytest.raises(ApiError, match="Flag not found"):
        await client.set_flag_to_patient_order(ADA_UUID, MR_ORDER_UUID, PRIORITY_GROUP_ID, REPORTED_FLAG_ID)
    with pytest.raises(ApiError, match="Flag group not found"):
        await client.set_flag_to_patient_order(ADA_UUID, MR_ORDER_UUID, 9, 1)
    await client.set_flag_to_patient_order(ADA_UUID, MR_ORDER_UUID, PRIORITY_GROUP_ID, 0)
    order = await client.get_patient_order_properties(ADA_UUID, MAIN_INSTITUTION_UUID, MR_ORDER_UUID)
    assert [(flag.group_id, flag.flag_id) for flag in order.flag_list] == [
        (READING_GROUP_ID, REPORTED_FLAG_ID)
    ]


# --- dictionaries --------------------------------------------------------------------------------


async def test_dictionaries(client: PostDicomClient) -> None:
    groups = await client.get_user_group_list(ADA_UUID)
    assert [(group.user_group_name, group.user_count) for group in groups] == [
        ("Radiologists", 1),
        ("Technologists", 1),
        ("Referrers", 1),
    ]
    users = await client.get_user_list(ADA_UUID)
    assert [(user.user_name, user.email) for user in users] == [
        ("ada", "ada@example.org"),
        ("ben", "ben@example.org"),
        ("chloe", "chloe@example.org"),
    ]
    nodes = await client.get_dicom_node_list(ADA_UUID)
    assert (nodes[0].dicom_node_uuid, nodes[0].ae_title, nodes[0].port) == (
        CT_NODE_UUID,
        "CT_ROOM1",
        104,
    )
    assert len(nodes) == 2
    contacts = await client.get_contact_list(ADA_UUID)
    assert contacts[0].name == "Dr. Priya Raman"
    assert all(contact.email.endswith("@example.org") for contact in contacts)


# --- links and shares ----------------------------------------------------------------------------


async def page_status(url: str) -> int:
    async with aiohttp.ClientSession() as session, session.get(url) as reply:
        return reply.status


async def test_view_urls_point_at_pages_the_emulator_serves(
    client: PostDicomClient, emulator: PostDicomEmulator
) -> None:
    order_link = await client.get_view_url(ADA_UUID, CT_ORDER_UUID)
    by_name = await client.get_view_url_with_patient_name(ADA_UUID, "compressedsamples^mr1")
    folder_link = await client.get_folder_view_url(ADA_UUID, CASES_FOLDER_UUID)
    for link in (order_link, by_name, folder_link):
        assert link.url.startswith(emulator.base_url + "/view/")
        assert await page_status(link.url) == 200
    records = {record.url: record for record in emulator.state.shares_of(DEMO_ACCOUNT_KEY)}
    assert records[order_link.url].order_uuids == [CT_ORDER_UUID]
    assert records[by_name.url].order_uuids == [MR_ORDER_UUID]
    assert records[folder_link.url].folder_uuid == CASES_FOLDER_UUID


async def test_view_url_by_name_and_birth_date(client: PostDicomClient, emulator: PostDicomEmulator) -> None:
    first = await make_order(client, "Viewer^Vera", birthdate="1970-01-01")
    await make_order(client, "Viewer^Vera", birthdate="1980-01-01", patient_id="other")
    link = await client.get_view_url_with_patient_name_and_birth_date(ADA_UUID, "viewer vera", "1970-01-01")
    record = next(item for item in emulator.state.shares_of() if item.url == link.url)
    assert record.order_uuids == [first.patient_order_uuid]
    with pytest.raises(ApiError, match="No patient order"):
        await client.get_view_url_with_patient_name(ADA_UUID, "Nobody^Here")


async def test_quick_share_links_are_recorded_with_download_and_expiry(
    client: PostDicomClient, emulator: PostDicomEmulator
) -> None:
    plain = await client.create_quick_share_link(ADA_UUID, [CT_ORDER_UUID, MR_ORDER_UUID], True)
    dated = await client.create_quick_share_link_with_expire_date(
        ADA_UUID, [MR_ORDER_UUID], False, "2099-12-31"
    )
    records = {record.url: record for record in emulator.state.shares_of()}
    assert records[plain.url].order_uuids == [CT_ORDER_UUID, MR_ORDER_UUID]
    assert records[plain.url].can_download is True
    assert (records[dated.url].expire_date, records[dated.url].can_download) == ("2099-12-31", False)
    assert await page_status(dated.url) == 200
    with pytest.raises(ApiError, match="not found"):
        await client.create_quick_share_link(ADA_UUID, [MISSING], True)


async def test_email_shares_record_what_was_sent_and_to_whom(
    client: PostDicomClient, emulator: PostDicomEmulator
) -> None:
    first = await client.share_patient_order(
        ADA_UUID, [CT_ORDER_UUID], "doc@example.org", "pw@example.org", True
    )
    second = await client.share_patient_order_with_expire_date(
        ADA_UUID, [CT_ORDER_UUID, MR_ORDER_UUID], "doc2@example.org", "", False, "2099-01-31"
    )
    assert first.success
    assert "doc@example.org" in first.message
    assert second.success
    sent = [record for record in emulator.state.shares_of() if record.kind == "order-email"]
    assert [(item.email, item.password_email, item.order_uuids) for item in sent] == [
        ("doc@example.org", "pw@example.org", [CT_ORDER_UUID]),
        ("doc2@example.org", "doc2@example.org", [CT_ORDER_UUID, MR_ORDER_UUID]),
    ]
    assert sent[1].expire_date == "2099-01-31"
    assert all(len(item.password) == 8 for item in sent)


async def test_folder_shares_are_recorded_and_mark_the_folder_shared(
    client: PostDicomClient, emulator: PostDicomEmulator
) -> None:
    by_email = await client.share_folder_with_email(
        ADA_UUID, CASES_FOLDER_UUID, "doc@example.org", "", "s3cret", "Title", "Desc", "2099-12-31", True
    )
    by_url = await client.share_folder_with_url(
        ADA_UUID, CASES_FOLDER_UUID, "s3cret", "Title", "Desc", "2099-12-31", False
    )
    upload_mail = await client.share_folder_to_upload_with_email(
        ADA_UUID,
        CASES_FOLDER_UUID,
        "up@example.org",
        "",
        "",
        "Send",
        "",
        "2099-12-31",
        False,
        MAIN_INSTITUTION_UUID,
    )
    upload_url = await client.share_folder_to_upload_with_url(
        ADA_UUID, CASES_FOLDER_UUID, "", "Send", "", "2099-12-31", False, MAIN_INSTITUTION_UUID
    )
    users = await client.share_folder_with_account_user(
        ADA_UUID, CASES_FOLDER_UUID, [BEN_UUID, CHLOE_UUID], "2099-12-31"
    )
    groups = await client.share_folder_with_account_user_group(
        ADA_UUID, CASES_FOLDER_UUID, [RADIOLOGISTS_GROUP_UUID], "2099-12-31"
    )
    assert all(result.success for result in (by_email, upload_mail, users, groups))
    kinds = {record.kind: record for record in emulator.state.shares_of()}
    assert set(kinds) == {
        "folder-email", "folder-link", "folder-upload-email", "folder-upload-link", "folder-user", "folder-group"
    }  # fmt: skip
    assert kinds["folder-link"].url == by_url.url
    assert kinds["folder-upload-link"].url == upload_url.url
    assert kinds["folder-upload-link"].institution_uuid == MAIN_INSTITUTION_UUID
    assert kinds["folder-email"].password == "s3cret"
    assert kinds["folder-user"].shared_user_uuids == [BEN_UUID, CHLOE_UUID]
    assert kinds["folder-group"].shared_group_uuids == [RADIOLOGISTS_GROUP_UUID]
    root = await client.get_folder_list(ADA_UUID, "", "Cases", False)
    assert root.sub_folder_list[0].is_shared is True
    with pytest.raises(ApiError, match="User not found"):
        await client.share_folder_with_account_user(ADA_UUID, CASES_FOLDER_UUID, [MISSING], "2099-12-31")
    with pytest.raises(ApiError, match="User group not found"):
        await client.share_folder_with_account_user_group(
            ADA_UUID, CASES_FOLDER_UUID, [MISSING], "2099-12-31"
        )


# --- accounts keep apart -------------------------------------------------------------------------


async def test_things_of_another_account_are_not_found(
    client: PostDicomClient, emulator: PostDicomEmulator
) -> None:
    other = Account(OTHER_ACCOUNT_KEY, "0d0d0d0d-1234-4abc-8def-0123456789ab", "Other")
    other.add_institution(Institution(MAIN_INSTITUTION_UUID, "Main"))
    other.add_user(User(ADA_UUID, "Ada Elsewhere", "ada2", "ada2@example.org", [MAIN_INSTITUTION_UUID]))
    other.folders[OTHER_FOLDER] = Folder(OTHER_FOLDER, "Secret", "", EMPTY_GUID)
    other.root_folders.append(OTHER_FOLDER)
    other.add_order(
        Order(OTHER_ORDER, MAIN_INSTITUTION_UUID, "Secret^Patient", "S-1", performed="2026-01-01 10:00")
    )
    emulator.state.add_account(other)
    assert OTHER_ORDER not in await uuids(await client.get_patient_order_list(ADA_UUID, []))
    with pytest.raises(ApiError, match="Patient order not found"):
        await client.get_patient_order_properties(ADA_UUID, MAIN_INSTITUTION_UUID, OTHER_ORDER)
    with pytest.raises(ApiError, match="Patient order not found"):
        await client.set_flag_to_patient_order(ADA_UUID, OTHER_ORDER, READING_GROUP_ID, REPORTED_FLAG_ID)
    with pytest.raises(ApiError, match="Folder not found"):
        await client.add_order_to_folder(ADA_UUID, MAIN_INSTITUTION_UUID, CT_ORDER_UUID, [OTHER_FOLDER])
    with pytest.raises(ApiError, match="Folder not found"):
        await client.get_folder_list(ADA_UUID, OTHER_FOLDER, "", True)
    with pytest.raises(ApiError, match="not found"):
        await client.create_quick_share_link(ADA_UUID, [OTHER_ORDER], True)
    assert other.orders[OTHER_ORDER].flags == {}
