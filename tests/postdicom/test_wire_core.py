"""The pure wire core: JavaScript-compatible values, validation, frames."""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.postdicom import FrameError, InvalidParameter, methods
from bot.postdicom.frames import MessageType, RequestFrame, ResponseFrame
from bot.postdicom.jsvalues import js_number, js_string, js_truthy, to_json
from bot.postdicom.validation import Kind, is_calendar_date, passes

USER = "11111111-1111-4111-8111-111111111111"
ORDER = "33333333-3333-4333-8333-333333333333"


@pytest.mark.parametrize(
    ("value", "javascript"),
    [
        (1.0, "1"),
        (838.951171875, "838.951171875"),
        (1e16, "10000000000000000"),
        (1e21, "1e+21"),
        (1.5e21, "1.5e+21"),
        (1e-6, "0.000001"),
        (1e-7, "1e-7"),
        (0.1, "0.1"),
        (-2.5, "-2.5"),
        (5e-324, "5e-324"),
        (123456789012345680000.0, "123456789012345680000"),
        (-0.0, "0"),
        (math.inf, "Infinity"),
        (math.nan, "NaN"),
    ],
)
def test_numbers_print_as_javascript_prints_them(value: float, javascript: str) -> None:
    assert js_number(value) == javascript


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_number_text_reads_back_as_the_same_number(value: float) -> None:
    assert float(js_number(value)) == value or value == 0


def test_json_matches_json_stringify() -> None:
    value = {"a": 'Müller\n"x\u2028\x01\\', "undefined": None, "list": [None, 1.0, True, ()], "n": {"k": 0.5}}
    assert (
        to_json(value)
        == '{"a":"Müller\\n\\"x\u2028\\u0001\\\\","list":[null,1,true,[]],"n":{"k":0.5}}'.encode()
    )


def test_json_escapes_lone_surrogates_and_rejects_unknown_types() -> None:
    assert to_json("\ud800") == b'"\\ud800"'
    with pytest.raises(TypeError):
        to_json({"when": object()})


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    )
)
def test_json_is_valid_json_with_undefined_keys_dropped(value: object) -> None:
    def drop_none_members(item: object) -> object:
        if isinstance(item, dict):
            return {key: drop_none_members(member) for key, member in item.items() if member is not None}
        if isinstance(item, list):
            return [drop_none_members(member) for member in item]
        return item

    text = to_json(value).decode()
    assert json.loads(text) == drop_none_members(value)


def test_string_conversion_follows_javascript() -> None:
    assert js_string(None) == "undefined"
    assert js_string(True) == "true"
    assert js_string(["a", None, 2, ["b", 3.0]]) == "a,,2,b,3"
    assert js_string({"a": 1}) == "[object Object]"
    assert js_string(2.0) == "2"


def test_truthiness_follows_javascript() -> None:
    assert all(js_truthy(value) for value in ([], {}, "0", -1, "false"))
    assert not any(js_truthy(value) for value in ("", 0, 0.0, None, False, math.nan))


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("2026-02-28", True),
        ("2024-02-29", True),
        ("2026-02-29", False),
        ("2026-02-30", False),
        ("1900-02-29", False),
        ("2000-02-29", True),
        ("0000-02-29", True),
        ("2026-13-01", False),
        ("2026-00-10", False),
        ("2026-1-01", False),
        ("2026-01-01\n", False),
        ("\uff12\uff10\uff12\uff16-01-01", False),
        ("", False),
    ],
)
def test_dates_must_be_real_calendar_days(text: str, valid: bool) -> None:
    assert is_calendar_date(text) is valid


@pytest.mark.parametrize(
    ("kind", "value", "accepted"),
    [
        (Kind.GUID, USER.upper(), True),
        (Kind.GUID, "00000000-0000-0000-0000-000000000000", True),
        (Kind.GUID, "11111111-1111-6111-8111-111111111111", False),
        (Kind.GUID, None, False),
        (Kind.GUID, "", False),
        (Kind.GUID_LIST, [], True),
        (Kind.GUID_LIST, None, True),
        (Kind.GUID_LIST, [USER, "nope"], False),
        (Kind.GUID_LIST, USER, False),
        (Kind.TIME, "99:99", True),
        (Kind.TIME, "9:30", False),
        (Kind.MAIL, "", True),
        (Kind.MAIL, "dr.who@example.org", True),
        (Kind.MAIL, "a@b", False),
        (Kind.MAIL, "a b@example.org", False),
        (Kind.INT, 0, True),
        (Kind.INT, 5, True),
        (Kind.INT, 5.0, True),
        (Kind.INT, 5.5, False),
        (Kind.INT, True, False),
        (Kind.INT, "5", False),
    ],
)
def test_validation_lets_through_what_the_library_lets_through(
    kind: Kind, value: object, accepted: bool
) -> None:
    assert passes(kind, value) is accepted


def test_the_first_failing_check_is_reported_in_the_librarys_words() -> None:
    with pytest.raises(InvalidParameter) as raised:
        methods.assign_patient_order_to_user(USER, "bad", "also bad")
    assert (
        str(raised.value)
        == "Invalid parameters for patientOrderUuid. Given value = 'bad' is not guid format."
    )
    assert "bad" not in repr(raised.value)


def test_the_library_typo_survives_in_unassign_messages() -> None:
    with pytest.raises(InvalidParameter, match="unssignedUserUuid"):
        methods.unassign_patient_order_from_user(USER, ORDER, None)  # type: ignore[arg-type]


def test_lists_are_quoted_as_javascript_joins_them() -> None:
    with pytest.raises(InvalidParameter) as raised:
        methods.create_quick_share_link(USER, [ORDER, "x"])
    assert (
        str(raised.value)
        == f"Invalid parameters for orderUuidList. Given value = '{ORDER},x' is not guidList format."
    )


def test_a_missing_mandatory_date_is_refused_instead_of_crashing() -> None:
    with pytest.raises(InvalidParameter, match="'undefined' is not date format"):
        methods.create_quick_share_link_with_expire_date(USER, [ORDER], True, None)  # type: ignore[arg-type]


def test_shaping_of_arguments_never_shown_by_the_vectors() -> None:
    call = methods.create_order_with_full_parameters2(
        USER,
        USER,
        "Ünïcödé^名前",
        "P",
        None,
        None,
        "2000-01-01",
        "CT",
        None,
        None,
        None,
        "2026-11-28",
        "10:00",
    )
    assert call.params["PatientSex"] == ""
    assert "OtherPatientId" not in call.payload("k", "a").decode()
    assert "Ünïcödé^名前" in call.payload("k", "a").decode()
    root = methods.create_folder(USER, None, "x")
    assert root.params["ParentFolderUuid"] == "00000000-0000-0000-0000-000000000000"
    nested = methods.order_json_parameters(
        {"PatientName": "", "PatientID": 0, "OrderModality": "MR", "Foo": "bar"}
    )
    assert nested == {
        "IdentityInformation": {},
        "StudyInformation": {},
        "OtherInformation": {},
        "Modality": "MR",
    }
    only_user = methods.get_patient_order_list(USER)
    assert (
        only_user.payload("k", "a") == b'{"UserUuid":"' + USER.encode() + b'","ApiKey":"k","AccountKey":"a"}'
    )


def test_reads_are_repeatable_and_changes_are_not() -> None:
    assert methods.get_user_list(USER).repeatable
    assert methods.get_view_url(USER, ORDER).repeatable
    assert not methods.delete_order(USER, USER, ORDER).repeatable
    assert not methods.create_quick_share_link(USER, [ORDER]).repeatable


request_frames = st.builds(
    RequestFrame,
    message_type=st.sampled_from([MessageType.SESSION_MANAGEMENT_REQUEST, MessageType.GENERAL_REQUEST]),
    message_id=st.integers(0, 2**32 - 1),
    management_type=st.integers(-(2**31), 2**31 - 1),
    payload=st.binary(max_size=300),
) | st.builds(
    RequestFrame,
    message_type=st.just(MessageType.FILE_UPLOAD_REQUEST),
    message_id=st.integers(0, 2**32 - 1),
    management_type=st.integers(0, 7),
    payload=st.binary(max_size=300),
    file_bytes=st.binary(max_size=2000),
    user_uuid=st.text(alphabet="0123456789abcdef-", max_size=36),
)


@given(request_frames)
def test_request_frames_round_trip(frame: RequestFrame) -> None:
    assert RequestFrame.decode(frame.encode()) == frame


@given(
    st.builds(
        ResponseFrame,
        message_type=st.sampled_from([4, 6, 18, 24, 99]),
        message_id=st.integers(0, 2**32 - 1),
        requested_id=st.integers(0, 2**32 - 1),
        management_type=st.integers(-(2**31), 2**31 - 1),
        api_result=st.binary(max_size=500),
        is_success=st.booleans(),
        message=st.text(max_size=50),
    )
)
def test_response_frames_round_trip(frame: ResponseFrame) -> None:
    assert ResponseFrame.decode(frame.encode()) == frame


@given(st.binary(max_size=200))
def test_garbage_never_decodes_to_anything_but_a_frame_error(data: bytes) -> None:
    for decode in (RequestFrame.decode, ResponseFrame.decode):
        with contextlib.suppress(FrameError):
            decode(data)


@given(request_frames, st.data())
def test_every_truncation_of_a_frame_is_refused(frame: RequestFrame, data: st.DataObject) -> None:
    raw = frame.encode()
    # Types 17 and 23 end with a pad byte that a decoder may do without.
    shortest_valid = len(raw) - (0 if frame.message_type == MessageType.SESSION_MANAGEMENT_REQUEST else 1)
    cut = data.draw(st.integers(0, shortest_valid - 1))
    with pytest.raises(FrameError):
        RequestFrame.decode(raw[:cut])


def test_frames_with_lengths_that_lie_are_refused() -> None:
    honest = RequestFrame(MessageType.GENERAL_REQUEST, 1, 22, b"{}").encode()
    lying = honest[:10] + (2**31 - 1).to_bytes(4, "little") + honest[14:]
    negative = honest[:10] + (-5).to_bytes(4, "little", signed=True) + honest[14:]
    for raw in (lying, negative, honest + b"\x00extra"):
        with pytest.raises(FrameError):
            RequestFrame.decode(raw)
    with pytest.raises(FrameError, match="unknown request message type"):
        RequestFrame.decode(b"\x63\x00" + honest[2:])


@pytest.mark.parametrize(
    ("call", "expected_json"),
    [
        (
            lambda: methods.get_patient_order_list(
                USER.upper(), [ORDER.upper()], "Ünïcödé^名前", None, None, None, []
            ),
            f'{{"UserUuid":"{USER.upper()}","InstitutionUuidList":["{ORDER.upper()}"],"PatientName":"Ünïcödé^名前","Modalities":[]',
        ),
        (
            lambda: methods.create_quick_share_link(USER, [ORDER], True),
            f'{{"UserUuid":"{USER}","OrderUuidList":["{ORDER}"],"UserCanDownloadStudies":true',
        ),
        (lambda: methods.create_quick_share_link(USER, []), f'{{"UserUuid":"{USER}","OrderUuidList":[]'),
        (
            lambda: methods.get_folder_list(USER, ""),
            f'{{"UserUuid":"{USER}","ParentFolderUuid":"00000000-0000-0000-0000-000000000000"',
        ),
        (
            lambda: methods.set_flag_to_patient_order(USER, ORDER, 0, 3.0),
            f'{{"UserUuid":"{USER}","PatientOrderUuid":"{ORDER}","GroupId":0,"FlagId":3',
        ),
        (
            lambda: methods.get_view_url_with_patient_name(USER, 'quote " and \\ back\nslash'),
            f'{{"UserUuid":"{USER}","PatientName":"quote \\" and \\\\ back\\nslash"',
        ),
    ],
)
def test_values_never_shown_by_the_vectors_go_out_as_the_library_would_send_them(
    call: Callable[[], methods.GeneralCall], expected_json: str
) -> None:
    assert call().payload("k", "a").decode() == expected_json + ',"ApiKey":"k","AccountKey":"a"}'


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: methods.share_folder_with_url(USER, ORDER, None, None, None, "2026-02-30"),
            "Invalid parameters for expireDate. Given value = '2026-02-30' is not date format.",
        ),
        (
            lambda: methods.share_patient_order(USER, [ORDER], "not an address"),
            "Invalid parameters for email. Given value = 'not an address' is not mail format.",
        ),
        (
            lambda: methods.set_flag_to_patient_order(USER, ORDER, True, 1),
            "Invalid parameters for groupId. Given value = 'true' is not int format.",
        ),
        (
            lambda: methods.create_order_with_minimum_parameters(
                USER, USER, "A", "B", "CT", "", "2026-11-28", "9:30"
            ),
            "Invalid parameters for orderTime. Given value = '9:30' is not time format.",
        ),
    ],
)
def test_arguments_the_library_refuses_are_refused_with_its_words(
    call: Callable[[], object], message: str
) -> None:
    with pytest.raises(InvalidParameter) as raised:
        call()
    assert str(raised.value) == message
