"""Share scenarios: links posted in the channel, e-mail shares and their permission, viewer links."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.sandbox.postdicom import CT_ORDER_UUID, PostDicomEmulator, ShareRecord
from bot.store import Audience, AuditOutcome, Permission, PhiDisplay
from bot.ui.orders import MORE_ACTION, PICK_ACTION, SHARE_ACTION
from bot.ui.shares import (
    ADDRESS_BLOCK,
    DOWNLOAD_BLOCK,
    EMAIL_MODAL,
    EXPIRY_BLOCK,
    FIELD_ACTION,
    PASSWORD_BLOCK,
)
from tests.app.harness import Scenario
from tests.app.order_steps import (
    audit_entries,
    audited,
    channel_message,
    ct_value,
    rendered,
    save_settings,
    search_card,
    submit,
)


def today() -> date:
    return datetime.now(UTC).date()


def shares(emulator: PostDicomEmulator, kind: str) -> list[ShareRecord]:
    return [share for share in emulator.state.shares_of(emulator.account_key) if share.kind == kind]


async def test_share_posts_a_link_in_the_channel_with_the_default_expiry(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await pacs.command(pacs.demo.member, "share 1CT1")
    message = await channel_message(pacs, "shared a study")
    [share] = shares(emulator, "order-link")
    assert share.order_uuids == [CT_ORDER_UUID]
    assert share.expire_date == (today() + timedelta(days=7)).isoformat()
    assert not share.can_download
    text = rendered(message)
    assert share.url in text
    assert f"expires after {share.expire_date}" in text
    assert "view only" in text
    # The card comes with it, per the default PHI setting (initials).
    assert "C. C." in text
    assert "CompressedSamples" not in text
    assert SHARE_ACTION in text
    entry = await audited(pacs, "order.share_link")
    assert entry.outcome is AuditOutcome.SUCCEEDED
    assert entry.order_uuids == (CT_ORDER_UUID,)


async def test_share_takes_an_expiry_and_download(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.command(pacs.demo.member, "share 1CT1 expires:30d download")
    message = await channel_message(pacs, "shared a study")
    [share] = shares(emulator, "order-link")
    assert share.expire_date == (today() + timedelta(days=30)).isoformat()
    assert share.can_download
    assert "downloads allowed" in rendered(message)


async def test_share_expiry_follows_the_workspace_default(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await save_settings(pacs, default_share_expiry_days=3)
    await pacs.command(pacs.demo.member, "share 1CT1")
    await channel_message(pacs, "shared a study")
    [share] = shares(emulator, "order-link")
    assert share.expire_date == (today() + timedelta(days=3)).isoformat()


@pytest.mark.parametrize(
    ("phi", "shown", "hidden"),
    [
        (PhiDisplay.FULL, ["CompressedSamples, CT1", "1CT1"], []),
        (PhiDisplay.INITIALS, ["C. C.", "•••CT1"], ["CompressedSamples"]),
        (PhiDisplay.HIDDEN, ["name hidden"], ["CompressedSamples", "C. C.", "CT1"]),
    ],
)
async def test_the_shared_card_follows_the_phi_setting(
    pacs: Scenario, phi: PhiDisplay, shown: list[str], hidden: list[str]
) -> None:
    await save_settings(pacs, phi_display=phi)
    await pacs.command(pacs.demo.member, "share 1CT1")
    text = rendered(await channel_message(pacs, "shared a study"))
    for phrase in shown:
        assert phrase in text
    for phrase in hidden:
        assert phrase not in text


async def test_a_past_expiry_is_refused_before_postdicom_is_asked(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await pacs.command(pacs.demo.member, "share 1CT1 expires:2020-01-01")
    message = await pacs.ephemeral(pacs.demo.member, "has passed")
    assert "Try:" in message.text
    await pacs.command(pacs.demo.member, "share 1CT1 expires:someday")
    await pacs.ephemeral(pacs.demo.member, "is not a expiry date I can read")
    assert not emulator.state.shares_of(emulator.account_key)


async def test_share_of_an_unknown_order_says_so(pacs: Scenario) -> None:
    await pacs.command(pacs.demo.member, "share NO-SUCH-ORDER")
    await pacs.ephemeral(pacs.demo.member, "No order matches")


async def test_an_ambiguous_reference_gets_a_picker_that_keeps_the_options(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await pacs.command(pacs.demo.member, "share compressedsamples expires:30d")
    picker = await pacs.ephemeral(pacs.demo.member, "Which order should I share?")
    assert rendered(picker).count(PICK_ACTION) >= 2
    value = ct_value("share", options=f"expires:{(today() + timedelta(days=30)).isoformat()}")
    assert value in rendered(picker)
    await pacs.click(pacs.demo.member, PICK_ACTION, message=picker, value=value)
    await channel_message(pacs, "shared a study")
    [share] = shares(emulator, "order-link")
    assert share.order_uuids == [CT_ORDER_UUID]
    assert share.expire_date == (today() + timedelta(days=30)).isoformat()


async def test_the_share_link_button_posts_in_the_channel(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    results = await search_card(pacs, pacs.demo.member)
    await pacs.click(pacs.demo.member, SHARE_ACTION, message=results)
    message = await channel_message(pacs, "shared a study")
    [share] = shares(emulator, "order-link")
    assert share.url in rendered(message)
    # The user's own search results stay as they were.
    assert "Search results" in rendered(results)


async def test_postdicom_refusing_a_link_is_answered_and_audited(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    emulator.faults.set(
        emulator.account_key, error_rate=1.0, error_targets=["SHARE_PATIENT_ORDER_WITH_URL_WITH_EXPIRE_DATE"]
    )
    await pacs.command(pacs.demo.member, "share 1CT1")
    await pacs.ephemeral(pacs.demo.member, "PostDICOM refused to create the share link")
    entry = await audited(pacs, "order.share_link")
    assert entry.outcome is AuditOutcome.FAILED
    assert entry.error_code == "postdicom_refused"
    assert not pacs.slack.state.channel_history(pacs.demo.general)


async def test_share_by_email_confirms_privately(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.command(
        pacs.demo.member,
        "share 1CT1 email:<mailto:gp@example.org|gp@example.org> password-to:records@example.org",
    )
    message = await pacs.ephemeral(pacs.demo.member, "PostDICOM sent the study to gp@example.org")
    assert "the password goes to records@example.org" in rendered(message)
    [share] = shares(emulator, "order-email")
    assert (share.email, share.password_email) == ("gp@example.org", "records@example.org")
    assert share.order_uuids == [CT_ORDER_UUID]
    assert share.expire_date == (today() + timedelta(days=7)).isoformat()
    assert not pacs.slack.state.channel_history(pacs.demo.general)
    assert (await audited(pacs, "order.share_email")).outcome is AuditOutcome.SUCCEEDED


async def test_postdicom_refusing_an_email_share_is_answered_and_audited(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    emulator.faults.set(
        emulator.account_key,
        error_rate=1.0,
        error_targets=["SHARE_PATIENT_ORDER_WITH_EMAIL_WITH_EXPIRE_DATE"],
    )
    await pacs.command(pacs.demo.member, "share 1CT1 email:gp@example.org")
    await pacs.ephemeral(pacs.demo.member, "PostDICOM refused to share by e-mail")
    entry = await audited(pacs, "order.share_email")
    assert (entry.outcome, entry.error_code) == (AuditOutcome.FAILED, "postdicom_refused")
    assert not shares(emulator, "order-email")


async def test_share_by_email_to_several_addresses(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await pacs.command(pacs.demo.member, "share 1CT1 email:a@example.org,b@example.org download expires:2d")
    await pacs.ephemeral(pacs.demo.member, "PostDICOM sent the study to a@example.org, b@example.org")
    sent = shares(emulator, "order-email")
    assert sorted(share.email for share in sent) == ["a@example.org", "b@example.org"]
    assert all(share.can_download for share in sent)
    assert {share.expire_date for share in sent} == {(today() + timedelta(days=2)).isoformat()}


async def test_a_bad_address_gets_a_safe_answer_and_nothing_is_sent(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await pacs.command(pacs.demo.member, "share 1CT1 email:gp@example.org,not-an-address")
    message = await pacs.ephemeral(pacs.demo.member, "is not an e-mail address PostDICOM accepts")
    assert "not-an-address" in message.text
    assert "Try:" in message.text
    assert not shares(emulator, "order-email")


async def test_email_sharing_turned_off_is_refused_and_audited(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    await save_settings(pacs, email_share=Permission(audience=Audience.NOBODY))
    await pacs.command(pacs.demo.member, "share 1CT1 email:gp@example.org")
    await pacs.ephemeral(pacs.demo.member, "Nobody may share studies by e-mail")
    assert not shares(emulator, "order-email")
    entry = await audited(pacs, "order.share_email")
    assert entry.outcome is AuditOutcome.DENIED
    # A link is still fine.
    await pacs.command(pacs.demo.member, "share 1CT1")
    await channel_message(pacs, "shared a study")


async def test_email_sharing_for_admins_only(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    await save_settings(pacs, email_share=Permission(audience=Audience.ADMINS))
    await pacs.command(pacs.demo.member, "share 1CT1 email:gp@example.org")
    await pacs.ephemeral(pacs.demo.member, "Only workspace admins and owners may share studies by e-mail")
    assert not shares(emulator, "order-email")
    await pacs.command(pacs.demo.admin, "share 1CT1 email:gp@example.org")
    await pacs.ephemeral(pacs.demo.admin, "PostDICOM sent the study to gp@example.org")
    assert len(shares(emulator, "order-email")) == 1


async def test_email_sharing_for_a_user_group_refuses_when_slack_cannot_confirm(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    # Slack knows no user group S0READERS, so membership cannot be confirmed: the answer is no.
    await save_settings(pacs, email_share=Permission(audience=Audience.USERGROUP, usergroup_id="S0READERS"))
    await pacs.command(pacs.demo.member, "share 1CT1 email:gp@example.org")
    await pacs.ephemeral(pacs.demo.member, "Only members of the user group")
    assert not shares(emulator, "order-email")


async def test_the_email_menu_entry_opens_a_modal_that_shares(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    results = await search_card(pacs, pacs.demo.member)
    await pacs.click(pacs.demo.member, MORE_ACTION, message=results, value=ct_value("email"))
    view = await pacs.modal(pacs.demo.member, EMAIL_MODAL)
    default_day = (today() + timedelta(days=7)).isoformat()
    assert default_day in rendered(view)
    day = (today() + timedelta(days=14)).isoformat()
    ack = await submit(
        pacs,
        view,
        {
            ADDRESS_BLOCK: {FIELD_ACTION: "a@example.org, b@example.org"},
            PASSWORD_BLOCK: {FIELD_ACTION: "records@example.org"},
            EXPIRY_BLOCK: {FIELD_ACTION: day},
            DOWNLOAD_BLOCK: {FIELD_ACTION: ["download"]},
        },
    )
    assert ack.get("response_action") is None
    await pacs.ephemeral(pacs.demo.member, "PostDICOM sent the study to a@example.org, b@example.org")
    sent = shares(emulator, "order-email")
    assert sorted(share.email for share in sent) == ["a@example.org", "b@example.org"]
    assert {(share.password_email, share.expire_date, share.can_download) for share in sent} == {
        ("records@example.org", day, True)
    }


async def test_the_email_modal_points_at_bad_fields(pacs: Scenario, emulator: PostDicomEmulator) -> None:
    results = await search_card(pacs, pacs.demo.member)
    await pacs.click(pacs.demo.member, MORE_ACTION, message=results, value=ct_value("email"))
    view = await pacs.modal(pacs.demo.member, EMAIL_MODAL)
    ack = await submit(
        pacs,
        view,
        {
            ADDRESS_BLOCK: {FIELD_ACTION: "gp@example.org nonsense"},
            PASSWORD_BLOCK: {FIELD_ACTION: "also nonsense"},
            EXPIRY_BLOCK: {FIELD_ACTION: "2020-01-01"},
        },
    )
    assert ack["response_action"] == "errors"
    errors = ack["errors"]
    assert "“nonsense” is not an e-mail address PostDICOM accepts" in errors[ADDRESS_BLOCK]
    assert "address for the password" in errors[PASSWORD_BLOCK]
    assert "has passed" in errors[EXPIRY_BLOCK]
    assert not shares(emulator, "order-email")


async def test_the_email_menu_entry_is_refused_before_the_modal_when_not_allowed(pacs: Scenario) -> None:
    await save_settings(pacs, email_share=Permission(audience=Audience.NOBODY))
    results = await search_card(pacs, pacs.demo.member)
    await pacs.click(pacs.demo.member, MORE_ACTION, message=results, value=ct_value("email"))
    await pacs.ephemeral(pacs.demo.member, "Nobody may share studies by e-mail")
    assert not pacs.slack.state.open_views(pacs.demo.member)


async def test_view_gives_a_private_viewer_link(pacs: Scenario) -> None:
    await pacs.command(pacs.demo.member, "view 1CT1")
    message = await pacs.ephemeral(pacs.demo.member, "Open in the PostDICOM viewer")
    text = rendered(message)
    assert "binds viewer links to the IP address" in text
    assert "Share link" in text
    assert not pacs.slack.state.channel_history(pacs.demo.general)
    assert (await audited(pacs, "order.view")).order_uuids == (CT_ORDER_UUID,)


async def test_the_view_menu_entry_gives_a_private_viewer_link(pacs: Scenario) -> None:
    results = await search_card(pacs, pacs.demo.member)
    await pacs.click(pacs.demo.member, MORE_ACTION, message=results, value=ct_value("view"))
    await pacs.ephemeral(pacs.demo.member, "Open in the PostDICOM viewer")
    assert "Search results" in rendered(results)


async def test_postdicom_refusing_a_viewer_link_is_answered(
    pacs: Scenario, emulator: PostDicomEmulator
) -> None:
    emulator.faults.set(emulator.account_key, error_rate=1.0, error_targets=["17:GET_VIEW_URL"])
    await pacs.command(pacs.demo.member, "view 1CT1")
    await pacs.ephemeral(pacs.demo.member, "PostDICOM refused to give a viewer link")
    entries = await audit_entries(pacs, "order.view")
    assert [entry.outcome for entry in entries] == [AuditOutcome.FAILED]


async def test_view_without_a_reference_shows_an_example(pacs: Scenario) -> None:
    await pacs.command(pacs.demo.member, "view")
    message = await pacs.ephemeral(pacs.demo.member, "which order should I open?")
    assert "/pacs view 1CT1" in message.text
