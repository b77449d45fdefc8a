"""Order scenarios: /pacs order new (the modal), /pacs order <ref>, /pacs delete <ref>, and the card menu."""

from __future__ import annotations

import json
from typing import Any

from bot.sandbox.postdicom import MAIN_INSTITUTION_UUID, PostDicomEmulator
from bot.sandbox.postdicom.seed import CT_NODE_UUID
from bot.sandbox.postdicom.state import Order
from bot.store import Audience, Permission, PhiDisplay
from bot.store.audit import AuditOutcome
from bot.ui import order_forms as forms
from bot.ui.order_details import ORDER_DELETE_ACTION
from bot.ui.orders import MORE_ACTION, PICK_ACTION
from tests.app.harness import Scenario, eventually
from tests.app.pacs_world import account, audit_has, option_value, order_where, rendered, save_settings

VALID_ORDER = {
    forms.INSTITUTION: {forms.VALUE: MAIN_INSTITUTION_UUID},
    forms.PATIENT_NAME: {forms.VALUE: "Quartermain, Ida"},
    forms.PATIENT_ID: {forms.VALUE: "SLACK-0001"},
    forms.BIRTH_DATE: {forms.VALUE: "1961-04-12"},
    forms.SEX: {forms.VALUE: "F"},
    forms.MODALITY: {forms.VALUE: "MR"},
    forms.ACCESSION: {forms.VALUE: "SL-0001"},
    forms.STUDY_DATE: {forms.VALUE: "2026-03-02"},
    forms.STUDY_TIME: {forms.VALUE: "14:30"},
    forms.STUDY_DESCRIPTION: {forms.VALUE: "MRI knee"},
    forms.REFERRING: {forms.VALUE: "Dr. Raman"},
    forms.NODE: {forms.VALUE: CT_NODE_UUID},
}


def new_order(emulator: PostDicomEmulator, patient_id: str) -> Order | None:
    return next((order for order in account(emulator).live_orders() if order.patient_id == patient_id), None)


def element_types(definition: dict[str, Any]) -> dict[str, str]:
    return {
        block["block_id"]: block["element"]["type"]
        for block in definition["blocks"]
        if block["type"] == "input"
    }


async def test_the_new_order_modal_has_the_fields_required_marks_selects_and_date_pickers(
    pacs: Scenario,
) -> None:
    await pacs.command(pacs.demo.member, "order new")
    modal = await pacs.modal(pacs.demo.member, forms.NEW_ORDER_CALLBACK)
    types = element_types(modal.definition)
    assert types[forms.INSTITUTION] == "static_select"
    assert types[forms.MODALITY] == "static_select"
    assert types[forms.SEX] == "static_select"
    assert types[forms.NODE] == "static_select"
    assert types[forms.BIRTH_DATE] == "datepicker"
    assert types[forms.STUDY_DATE] == "datepicker"
    assert types[forms.STUDY_TIME] == "timepicker"
    labels = {block["block_id"]: block["label"]["text"] for block in modal.blocks if block["type"] == "input"}
    required = {block_id for block_id, label in labels.items() if label.endswith("*")}
    assert required == {forms.INSTITUTION, forms.PATIENT_NAME, forms.PATIENT_ID, forms.MODALITY}
    text = json.dumps(modal.definition)
    assert "Branch Clinic" in text
    assert "CT Scanner Room 1" in text


async def test_missing_required_fields_show_on_the_form(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    before = len(account(emulator).orders)
    await pacs.command(pacs.demo.member, "order new")
    modal = await pacs.modal(pacs.demo.member, forms.NEW_ORDER_CALLBACK)
    await pacs.submit(modal, {forms.INSTITUTION: {forms.VALUE: MAIN_INSTITUTION_UUID}})
    errors = await eventually(lambda: modal.definition.get("errors"), what="field errors")
    assert set(errors) == {forms.PATIENT_NAME, forms.PATIENT_ID, forms.MODALITY}
    assert len(account(emulator).orders) == before


async def test_impossible_dates_show_on_the_form(pacs: Scenario) -> None:
    await pacs.command(pacs.demo.member, "order new")
    modal = await pacs.modal(pacs.demo.member, forms.NEW_ORDER_CALLBACK)
    values = {
        **VALID_ORDER,
        forms.BIRTH_DATE: {forms.VALUE: "2999-01-01"},
        forms.STUDY_DATE: {forms.VALUE: {"selected_date": None}},
    }
    await pacs.submit(modal, values)
    errors = await eventually(lambda: modal.definition.get("errors"), what="field errors")
    assert "future" in errors[forms.BIRTH_DATE]
    assert "study date too" in errors[forms.STUDY_DATE]


async def test_a_valid_form_creates_the_order_with_its_fields(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await pacs.command(pacs.demo.member, "order new")
    modal = await pacs.modal(pacs.demo.member, forms.NEW_ORDER_CALLBACK)
    await pacs.submit(modal, VALID_ORDER)
    card = await pacs.ephemeral(pacs.demo.member, "Order created")
    order = new_order(emulator, "SLACK-0001")
    assert order is not None
    assert order.institution_uuid == MAIN_INSTITUTION_UUID
    assert order.patient_name == "Quartermain^Ida"
    assert order.birthdate == "1961-04-12"
    assert order.sex == "F"
    assert order.modality == "MR"
    assert order.accession_number == "SL-0001"
    assert order.performed == "2026-03-02 14:30"
    assert order.study_description == "MRI knee"
    assert order.details["ReferringPhysiciansName"] == "Dr. Raman"
    assert order.details["ScheduledEquipmentUuid"] == CT_NODE_UUID
    # Initials by default: the card does not spell out the name.
    assert "Quartermain" not in rendered(card)
    assert "I. Q." in rendered(card)
    orders, _ = await audit_has(pacs, "order.create", AuditOutcome.SUCCEEDED)
    assert orders == (order.uuid,)


async def test_a_forged_institution_is_refused_on_the_form(pacs: Scenario) -> None:
    await pacs.command(pacs.demo.member, "order new")
    modal = await pacs.modal(pacs.demo.member, forms.NEW_ORDER_CALLBACK)
    forged = {"selected_option": {"value": "99999999-9999-4999-8999-999999999999"}}
    await pacs.submit(modal, {**VALID_ORDER, forms.INSTITUTION: {forms.VALUE: forged}})
    errors = await eventually(lambda: modal.definition.get("errors"), what="field errors")
    assert set(errors) == {forms.INSTITUTION}


async def test_postdicom_refusing_the_new_order_is_said_and_audited(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await pacs.command(pacs.demo.member, "order new")
    modal = await pacs.modal(pacs.demo.member, forms.NEW_ORDER_CALLBACK)
    emulator.faults.set(
        emulator.account_key, error_rate=1.0, error_targets=["CREATE_PATIENT_ORDER_WITH_JSON"]
    )
    await pacs.submit(modal, VALID_ORDER)
    await pacs.ephemeral(pacs.demo.member, ":x:")
    assert new_order(emulator, "SLACK-0001") is None
    await audit_has(pacs, "order.create", AuditOutcome.FAILED)


async def test_order_shows_the_properties_card_as_the_phi_setting_allows(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    order = order_where(
        emulator, lambda item: bool(item.birthdate) and item.accession_number.startswith("ACC")
    )
    family = order.patient_name.split("^")[0]
    await save_settings(pacs, phi_display=PhiDisplay.FULL)
    await pacs.command(pacs.demo.member, f"order {order.accession_number}")
    full = rendered(await pacs.ephemeral(pacs.demo.member, "Order properties"))
    for shown in (
        family,
        order.birthdate,
        order.patient_id,
        order.study_description,
        "images received",
        "Main",
    ):
        assert shown in full
    await save_settings(pacs, phi_display=PhiDisplay.HIDDEN)
    await pacs.command(pacs.demo.member, f"order {order.accession_number}")
    await eventually(
        lambda: "name hidden" in rendered(pacs.slack.state.ephemeral_for(pacs.demo.member)[-1]),
        what="a hidden card",
    )
    hidden = rendered(pacs.slack.state.ephemeral_for(pacs.demo.member)[-1])
    for gone in (family, order.birthdate, order.birthdate[:4], order.patient_id):
        assert gone not in hidden
    assert order.accession_number in hidden


async def test_the_cards_menu_shows_properties(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    order = order_where(emulator, lambda item: item.accession_number.startswith("ACC"))
    await pacs.command(pacs.demo.member, f"search acc:{order.accession_number}")
    results = await pacs.ephemeral(pacs.demo.member, "Search results")
    await pacs.click(
        pacs.demo.member,
        MORE_ACTION,
        message=results,
        value=option_value(results, MORE_ACTION, "properties:"),
    )
    card = await pacs.ephemeral(pacs.demo.member, "Order properties")
    assert order.accession_number in rendered(card)


async def test_order_without_words_explains(pacs: Scenario) -> None:
    await pacs.command(pacs.demo.member, "order")
    await pacs.ephemeral(pacs.demo.member, "say `new`")


async def test_delete_asks_then_trashes_and_the_order_leaves_searches(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    order = order_where(emulator, lambda item: item.accession_number.startswith("ACC"))
    await pacs.command(pacs.demo.admin, f"delete {order.accession_number}")
    question = await pacs.ephemeral(pacs.demo.admin, "Move this order to PostDICOM's trash?")
    assert '"confirm"' in json.dumps(question.blocks)
    assert not order.deleted
    await pacs.click(pacs.demo.admin, ORDER_DELETE_ACTION, message=question)
    await eventually(lambda: "Moved to PostDICOM's trash" in rendered(question), what="the question replaced")
    assert account(emulator).orders[order.uuid].deleted
    orders, _ = await audit_has(pacs, "order.delete", AuditOutcome.SUCCEEDED)
    assert orders == (order.uuid,)
    await pacs.command(pacs.demo.admin, f"search acc:{order.accession_number}")
    await pacs.ephemeral(pacs.demo.admin, "0 orders found")


async def test_members_may_not_delete_by_default_but_may_when_everyone_may(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    order = order_where(emulator, lambda item: item.accession_number.startswith("ACC"))
    await pacs.command(pacs.demo.member, f"delete {order.accession_number}")
    await pacs.ephemeral(pacs.demo.member, "Only workspace admins and owners may delete orders")
    await audit_has(pacs, "order.delete", AuditOutcome.DENIED)
    await save_settings(pacs, delete=Permission(audience=Audience.EVERYONE))
    await pacs.command(pacs.demo.member, f"delete {order.accession_number}")
    question = await pacs.ephemeral(pacs.demo.member, "Move this order")
    await pacs.click(pacs.demo.member, ORDER_DELETE_ACTION, message=question)
    await eventually(lambda: account(emulator).orders[order.uuid].deleted, what="the order trashed")


async def test_nobody_means_admins_too(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await save_settings(pacs, delete=Permission(audience=Audience.NOBODY))
    order = order_where(emulator, lambda item: item.accession_number.startswith("ACC"))
    await pacs.command(pacs.demo.owner, f"delete {order.accession_number}")
    await pacs.ephemeral(pacs.demo.owner, "Nobody may delete orders")
    assert not order.deleted


async def test_delete_from_the_cards_menu_and_an_ambiguous_reference(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    order = order_where(emulator, lambda item: item.accession_number.startswith("ACC"))
    await pacs.command(pacs.demo.admin, f"search acc:{order.accession_number}")
    results = await pacs.ephemeral(pacs.demo.admin, "Search results")
    await pacs.click(
        pacs.demo.admin, MORE_ACTION, message=results, value=option_value(results, MORE_ACTION, "delete:")
    )
    first = await pacs.ephemeral(pacs.demo.admin, "Move this order")
    await pacs.command(pacs.demo.admin, 'delete "nakamura nils"')
    picker = await pacs.ephemeral(pacs.demo.admin, "Which order should go to the trash?")
    chosen = next(block["accessory"]["value"] for block in picker.blocks if block.get("accessory"))
    await pacs.click(pacs.demo.admin, PICK_ACTION, message=picker, value=chosen)
    question = await eventually(
        lambda: next(
            (
                message
                for message in reversed(pacs.slack.state.ephemeral_for(pacs.demo.admin))
                if "Move this order" in message.text and message is not first
            ),
            None,
        ),
        what="a second question",
    )
    chosen_uuid = chosen.split(":")[1]
    await pacs.click(pacs.demo.admin, ORDER_DELETE_ACTION, message=question)
    await eventually(lambda: account(emulator).orders[chosen_uuid].deleted, what="the picked order trashed")
    assert not order.deleted


async def test_postdicom_refusing_the_delete_is_said_and_audited(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    order = order_where(emulator, lambda item: item.accession_number.startswith("ACC"))
    await pacs.command(pacs.demo.admin, f"delete {order.accession_number}")
    question = await pacs.ephemeral(pacs.demo.admin, "Move this order")
    emulator.faults.set(emulator.account_key, error_rate=1.0, error_targets=["DELETE_PATIENT_ORDER"])
    await pacs.click(pacs.demo.admin, ORDER_DELETE_ACTION, message=question)
    await pacs.ephemeral(pacs.demo.admin, ":x:")
    assert not order.deleted
    await audit_has(pacs, "order.delete", AuditOutcome.FAILED)


async def test_a_forged_delete_button_is_refused(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    order = order_where(emulator, lambda item: item.accession_number.startswith("ACC"))
    await pacs.command(pacs.demo.admin, f"delete {order.accession_number}")
    question = await pacs.ephemeral(pacs.demo.admin, "Move this order")
    await pacs.click(pacs.demo.admin, ORDER_DELETE_ACTION, message=question, value=f"share:{order.uuid}:")
    await pacs.ephemeral(pacs.demo.admin, "not one of mine")
    await pacs.click(
        pacs.demo.admin,
        ORDER_DELETE_ACTION,
        message=question,
        value="delete:99999999-9999-4999-8999-999999999999:",
    )
    await pacs.ephemeral(pacs.demo.admin, "no longer there")
    assert not order.deleted


async def test_an_accession_number_already_in_use_is_refused_naming_its_order(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    before = len(account(emulator).orders)
    await pacs.command(pacs.demo.member, "order new")
    modal = await pacs.modal(pacs.demo.member, forms.NEW_ORDER_CALLBACK)
    await pacs.submit(modal, {**VALID_ORDER, forms.ACCESSION: {forms.VALUE: "acc0000050"}})
    refusal = await pacs.ephemeral(pacs.demo.member, "already used by this order")
    assert "ACC0000050" in rendered(refusal), "the existing order is named"
    assert new_order(emulator, "SLACK-0001") is None
    assert len(account(emulator).orders) == before
    await audit_has(pacs, "order.create", AuditOutcome.DENIED)
