"""One function per general request (MessageType 17): read the JSON, change the state, answer.

Each handler returns the ``ResponseMessage`` object; the server wraps it in
``{ResponseCode: 1, ResponseMessage}``. A refusal (something missing, of another account, not
allowed) raises :class:`Refusal` and goes back as ``{Success: false, Message}``. Where PostDICOM's
answer shape is unknown the emulator defines one (listed in the package docstring).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.postdicom.frames import GeneralManagementType as Op
from bot.postdicom.jsvalues import js_string, js_truthy, to_json
from bot.postdicom.validation import is_calendar_date, is_guid
from bot.sandbox.postdicom.state import (
    NO_GROUP,
    ROOT_FOLDER,
    Account,
    EmulatorState,
    Folder,
    NameMatch,
    Order,
    OrderQuery,
    OrderStatus,
    Refusal,
    ShareRecord,
    User,
    new_uuid,
    normalize_name,
    share_password,
    share_token,
)

Reply = dict[str, Any]
Params = Mapping[str, Any]


class Encoded:
    """JSON text made earlier (a cached order summary), spliced into a reply as it is."""

    __slots__ = ("text",)

    def __init__(self, text: bytes) -> None:
        self.text = text


def encode_reply(value: object) -> bytes:
    """Serialize a reply as ``JSON.stringify`` would, splicing :class:`Encoded` parts in unchanged."""
    if isinstance(value, Encoded):
        return value.text
    if isinstance(value, dict):
        members = [
            to_json(str(key)) + b":" + encode_reply(item) for key, item in value.items() if item is not None
        ]
        return b"{" + b",".join(members) + b"}"
    if isinstance(value, list | tuple):
        return b"[" + b",".join(encode_reply(item) for item in value) + b"]"
    return to_json(value)


_DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}):(\d{2}))?\s*")
_SEXES = frozenset({"", "M", "F", "O"})


@dataclass(slots=True)
class RequestContext:
    """What a handler works with: the state, the caller's account, and where links point."""

    state: EmulatorState
    account: Account
    base_url: str
    search_limit: int = 500

    def link(self, token: str) -> str:
        """Return the URL of a page the emulator serves for a share or view token."""
        return f"{self.base_url}/view/{token}"


# --- reading parameters --------------------------------------------------------------------------


def _invalid(key: str) -> Refusal:
    return Refusal(f"Invalid parameters for {key}.")


def _guid(params: Params, key: str) -> str:
    value = params.get(key)
    if not isinstance(value, str) or not is_guid(value):
        raise _invalid(key)
    return value.lower()


def _optional_guid(params: Params, key: str) -> str | None:
    value = params.get(key)
    if value is None or value == "":
        return None
    return _guid(params, key)


def _guid_list(params: Params, key: str) -> list[str]:
    value = params.get(key)
    if value is None or value == "":
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) and is_guid(item) for item in value):
        raise _invalid(key)
    return list(dict.fromkeys(item.lower() for item in value))


def _text(params: Params, key: str) -> str:
    value = params.get(key)
    if value is None:
        return ""
    if isinstance(value, dict | list):
        raise _invalid(key)
    return value.strip() if isinstance(value, str) else js_string(value)


def _date(params: Params, key: str) -> str:
    value = _text(params, key)
    if value and not is_calendar_date(value):
        raise _invalid(key)
    return value


def _datetime(value: str, key: str) -> str:
    """Return ``YYYY-MM-DD HH:MM``; a missing time is midnight."""
    match = _DATETIME.fullmatch(value)
    if match is None or not is_calendar_date(match.group(1)):
        raise _invalid(key)
    day, hours, minutes = match.groups()
    if hours is None:
        return f"{day} 00:00"
    if int(hours) > 23 or int(minutes) > 59:
        raise _invalid(key)
    return f"{day} {hours}:{minutes}"


def _integer(params: Params, key: str) -> int:
    value = params.get(key)
    if isinstance(value, bool):
        raise _invalid(key)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise _invalid(key)


def _json_object(params: Params, key: str) -> dict[str, Any]:
    value = params.get(key)
    if isinstance(value, str):
        # A caller may hand the library a JSON string where it expects an object.
        try:
            value = json.loads(value)
        except ValueError:
            raise _invalid(key) from None
    if not isinstance(value, dict):
        raise _invalid(key)
    return value


def _section(parent: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = parent.get(key)
    return value if isinstance(value, dict) else {}


def _modalities(params: Params) -> set[str]:
    value = params.get("Modalities")
    if value is None or value == "":
        return set()
    # The library passes the caller's value through: an array in the documentation, a string in
    # DICOMweb's twin, so both are accepted (a string may list several, DICOM-style).
    items = re.split(r"[\\,\s]+", value) if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise _invalid("Modalities")
    return {item.strip().upper() for item in items if item.strip()}


def _user(context: RequestContext, params: Params) -> User:
    return context.account.user(_guid(params, "UserUuid"))


def _order(context: RequestContext, user: User, params: Params, *, with_institution: bool = False) -> Order:
    institution = _guid(params, "PatientOrderInstitutionUuid") if with_institution else None
    return context.account.order_for(user, _guid(params, "PatientOrderUuid"), institution)


def _done(message: str, **extra: Any) -> Reply:
    return {"Success": True, "Message": message, **extra}


# --- searches ------------------------------------------------------------------------------------


def search_patient_order(context: RequestContext, params: Params) -> Reply:
    """Answer the four GetPatientOrderList* variants, told apart by the keys present."""
    user = _user(context, params)
    account = context.account
    visible = set(user.institution_uuids)
    if "FolderUuid" in params:
        folder = account.folder(_guid(params, "FolderUuid"))
        query = OrderQuery(institution_uuids=visible, folder_uuid=folder.uuid)
    else:
        wanted = _guid_list(params, "InstitutionUuidList")
        for institution_uuid in wanted:
            account.institution_for(user, institution_uuid)
        query = OrderQuery(
            institution_uuids=set(wanted) or visible,
            patient_name=_text(params, "PatientName"),
            accession_number=_text(params, "AccessionNumber"),
            patient_id=_text(params, "PatientId"),
            other_patient_id=_text(params, "OtherPatientId"),
            modalities=_modalities(params),
            start_date=_date(params, "StartDate"),
            end_date=_date(params, "EndDate"),
            start_birthdate=_date(params, "StartBirthdate"),
            end_birthdate=_date(params, "EndBirthdate"),
        )
    orders = account.search(query, context.search_limit)
    return {"Success": True, "SearchResultList": [Encoded(account.summary_json(order)) for order in orders]}


# --- folders -------------------------------------------------------------------------------------


def _parent(context: RequestContext, params: Params) -> str:
    parent = _optional_guid(params, "ParentFolderUuid") or ROOT_FOLDER
    if parent != ROOT_FOLDER:
        context.account.folder(parent)
    return parent


def create_folder(context: RequestContext, params: Params) -> Reply:
    """Create a folder, or a path of them (``a/b``), under a parent or the root."""
    _user(context, params)
    parent = _parent(context, params)
    folder = context.account.create_folder_path(
        parent, _text(params, "FolderName"), _text(params, "FolderDescription")
    )
    return {"Success": True, "FolderUuid": folder.uuid}


def search_folder(context: RequestContext, params: Params) -> Reply:
    """List a folder's subfolders (filtered by name) and, if asked, its orders."""
    user = _user(context, params)
    account = context.account
    parent = _parent(context, params)
    name = _text(params, "FolderName").casefold()
    children = [account.folders[item] for item in account.children_of(parent)]
    listed = [account.folder_entry(child) for child in children if name in child.name.casefold()]
    orders: list[dict[str, Any]] = []
    if parent != ROOT_FOLDER and js_truthy(params.get("GetOrdersInFolder")):
        folder = account.folders[parent]
        for order_uuid in folder.order_uuids:
            order = account.orders[order_uuid]
            if order.institution_uuid in user.institution_uuids:
                orders.append(account.summary(order))
    folder_name = "" if parent == ROOT_FOLDER else account.folders[parent].name
    return {
        "Success": True,
        "Folder": {
            "FolderUuid": parent,
            "FolderName": folder_name,
            "SubFolderList": listed,
            "PatientOrderList": orders,
        },
    }


def delete_folder(context: RequestContext, params: Params) -> Reply:
    """Delete a folder and everything below it; the orders stay."""
    _user(context, params)
    context.account.delete_folder(_guid(params, "FolderUuid"))
    return _done("Folder deleted.")


def update_folder_with_json(context: RequestContext, params: Params) -> Reply:
    """Rename a folder or change its description from ``JsonParameters.IdentityInformation``."""
    _user(context, params)
    folder = context.account.folder(_guid(params, "FolderUuid"))
    identity = _section(_json_object(params, "JsonParameters"), "IdentityInformation")
    name = identity.get("Name")
    description = identity.get("Description")
    if not isinstance(name, str | None) or not isinstance(description, str | None):
        raise _invalid("JsonParameters")
    if name is None and description is None:
        raise Refusal("Nothing to update.")
    context.account.rename_folder(folder, name, description)
    return _done("Folder updated.")


def get_folder_view_url(context: RequestContext, params: Params) -> Reply:
    """Make a viewer link for a folder."""
    user = _user(context, params)
    folder = context.account.folder(_guid(params, "FolderUuid"))
    record = _share(context, user, "folder-view", folder_uuid=folder.uuid)
    return {"Success": True, "Result": record.url}


# --- views ---------------------------------------------------------------------------------------


def get_view_url(context: RequestContext, params: Params) -> Reply:
    """Make a viewer link for an order, or for a patient's orders found by name (and birth date)."""
    user = _user(context, params)
    if "PatientOrderUuid" in params:
        orders = [_order(context, user, params)]
    else:
        name = _text(params, "PatientName")
        if not name:
            raise _invalid("PatientName")
        birthdate = _date(params, "BirthDate")
        match = NameMatch(name)
        orders = [
            order
            for order in context.account.live_orders()
            if order.institution_uuid in user.institution_uuids
            and match.matches(normalize_name(order.patient_name))
            and (not birthdate or order.birthdate == birthdate)
        ]
        if not orders:
            raise Refusal("No patient order found.")
    record = _share(context, user, "view", orders=orders)
    return {"Success": True, "Result": record.url}


# --- orders --------------------------------------------------------------------------------------


def _new_order(
    context: RequestContext,
    user: User,
    institution_uuid: str,
    fields: Mapping[str, str],
    details: Mapping[str, str],
) -> Reply:
    account = context.account
    account.institution_for(user, institution_uuid)
    for key in ("PatientName", "PatientId", "OrderModality"):
        if not fields.get(key):
            raise Refusal(f"{key} is required.")
    sex = fields.get("PatientSex", "").upper()
    if sex not in _SEXES:
        raise _invalid("PatientSex")
    birthdate = fields.get("PatientBirthdate", "")
    if birthdate and not is_calendar_date(birthdate):
        raise _invalid("PatientsBirthDate")
    equipment = details.get("ScheduledEquipmentUuid", "")
    if equipment and (not is_guid(equipment) or equipment.lower() not in account.dicom_nodes):
        raise Refusal("DICOM node not found.")
    performed = fields.get("PerformedDatetime") or context.state.clock().strftime("%Y-%m-%d %H:%M")
    order = Order(
        uuid=new_uuid(),
        institution_uuid=institution_uuid,
        patient_name=fields["PatientName"],
        patient_id=fields["PatientId"],
        other_patient_id=fields.get("OtherPatientId", ""),
        birthdate=birthdate,
        sex=sex,
        accession_number=fields.get("AccessionNumber", ""),
        modality=fields["OrderModality"].upper(),
        study_description=fields.get("StudyDescription", ""),
        procedure_description=fields.get("RequestingProcedureDescription", ""),
        performed=_datetime(performed, "PerformedDatetime"),
        status=OrderStatus.SCHEDULED,
        study_instance_uid=f"2.25.{int(new_uuid().replace('-', ''), 16)}",
        details={key: value for key, value in details.items() if value},
    )
    account.add_order(order)
    return {"Success": True, "PatientOrderUuid": order.uuid, "PatientOrder": account.summary(order)}


def create_patient_order(context: RequestContext, params: Params) -> Reply:
    """Create an order from the minimum, full or full-2 parameter sets."""
    user = _user(context, params)
    fields = {
        "PatientName": _text(params, "PatientName"),
        "PatientId": _text(params, "PatientID") or _text(params, "PatientId"),
        "OtherPatientId": _text(params, "OtherPatientId"),
        "PatientBirthdate": _text(params, "PatientsBirthDate"),
        "PatientSex": _text(params, "PatientSex"),
        "AccessionNumber": _text(params, "OrderAccessionNumber"),
        "OrderModality": _text(params, "OrderModality"),
        "StudyDescription": _text(params, "StudyDescription"),
        "RequestingProcedureDescription": _text(params, "RequestingProcedureDescription"),
        "PerformedDatetime": _text(params, "PerformedDatetime"),
    }
    if not fields["PerformedDatetime"]:
        raise _invalid("PerformedDatetime")
    details = {
        "PatientComplaints": _text(params, "PatientComplaints"),
        "RequestedProcedureId": _text(params, "RequestedProcedureId"),
        "ScheduledEquipmentUuid": _text(params, "ScheduledEquipmentUuid"),
        "ReferringPhysiciansName": _text(params, "ReferringPhysiciansName"),
    }
    return _new_order(context, user, _guid(params, "InstitutionUuid"), fields, details)


def create_patient_order_with_json(context: RequestContext, params: Params) -> Reply:
    """Create an order from the library's nested ``JsonParameters``."""
    user = _user(context, params)
    body = _json_object(params, "JsonParameters")
    identity = _section(body, "IdentityInformation")
    study = _section(body, "StudyInformation")
    other = _section(body, "OtherInformation")
    fields = {
        "PatientName": _text(identity, "Name"),
        "PatientId": _text(identity, "Id"),
        "OtherPatientId": _text(identity, "OtherId"),
        "PatientBirthdate": _text(identity, "Birthdate"),
        "PatientSex": _text(identity, "Sex"),
        "AccessionNumber": _text(body, "AccessionNumber"),
        "OrderModality": _text(body, "Modality"),
        "StudyDescription": _text(study, "StudyDescription"),
        "RequestingProcedureDescription": _text(other, "RequestedProcedureDescription"),
        "PerformedDatetime": _text(study, "StudyDate"),
    }
    details = {
        "RequestingPhysician": _text(other, "RequestingPhysician"),
        "RequestedProcedureId": _text(other, "RequestedProcedureId"),
        "ReferringPhysiciansName": _text(other, "ReferringPhysiciansName"),
        "InstitutionNameInDicom": _text(study, "InstitutionNameInDicom"),
        "ScheduledEquipmentUuid": _text(body, "ScheduledEquipmentUuid"),
    }
    return _new_order(context, user, _guid(params, "InstitutionUuid"), fields, details)


def get_patient_order_properties(context: RequestContext, params: Params) -> Reply:
    """Return one order with its details, series and documents."""
    user = _user(context, params)
    order = _order(context, user, params, with_institution=True)
    return {"Success": True, "PatientOrder": context.account.properties(order)}


def delete_patient_order(context: RequestContext, params: Params) -> Reply:
    """Move an order to the trash; it leaves searches, folders and its order group."""
    user = _user(context, params)
    order = _order(context, user, params, with_institution=True)
    context.account.trash_order(order)
    return _done("Patient order moved to trash.")


def _folders(context: RequestContext, uuids: list[str]) -> list[Folder]:
    return [context.account.folder(item) for item in uuids]


def add_order_to_folder(context: RequestContext, params: Params) -> Reply:
    """Put an order into one or more folders."""
    user = _user(context, params)
    order = _order(context, user, params, with_institution=True)
    folders = _folders(context, _guid_list(params, "FolderUuidList"))
    if not folders:
        raise _invalid("FolderUuidList")
    for folder in folders:
        context.account.file_in_folder(order, folder)
    return _done("Patient order added to folder.")


def remove_order_from_folder(context: RequestContext, params: Params) -> Reply:
    """Take orders out of a folder."""
    user = _user(context, params)
    account = context.account
    folder = account.folder(_guid(params, "FolderUuid"))
    orders = [account.order_for(user, item) for item in _guid_list(params, "PatientOrderUuidList")]
    if not orders:
        raise _invalid("PatientOrderUuidList")
    for order in orders:
        account.take_out_of_folder(order, folder)
    return _done("Patient orders removed from folder.")


def _group_members(context: RequestContext, user: User, params: Params) -> list[Order]:
    institution = _guid(params, "PatientOrderInstitutionUuid")
    context.account.institution_for(user, institution)
    uuids = _guid_list(params, "PatientOrderUuidList")
    if not uuids:
        raise _invalid("PatientOrderUuidList")
    return [context.account.order_for(user, item, institution) for item in uuids]


def _set_group(orders: list[Order], group_uuid: str) -> None:
    for order in orders:
        if order.connected_group_uuid != group_uuid:
            order.connected_group_uuid = group_uuid
            order.touch()


def create_order_group(context: RequestContext, params: Params) -> Reply:
    """Group orders so that they open together; return the group's uuid."""
    user = _user(context, params)
    orders = _group_members(context, user, params)
    group_uuid = new_uuid()
    _set_group(orders, group_uuid)
    return _done("Order group created.", ConnectedGroupUuid=group_uuid)


def add_orders_to_order_group(context: RequestContext, params: Params) -> Reply:
    """Add orders to an existing order group."""
    user = _user(context, params)
    group_uuid = _guid(params, "ConnectedGroupUuid")
    if group_uuid not in context.account.order_groups():
        raise Refusal("Order group not found.")
    orders = _group_members(context, user, params)
    _set_group(orders, group_uuid)
    return _done("Patient orders added to order group.", ConnectedGroupUuid=group_uuid)


def remove_orders_from_group(context: RequestContext, params: Params) -> Reply:
    """Take orders out of their order groups."""
    user = _user(context, params)
    orders = _group_members(context, user, params)
    _set_group(orders, NO_GROUP)
    return _done("Patient orders removed from order group.", ConnectedGroupUuid=NO_GROUP)


def _assign(context: RequestContext, params: Params, key: str, *, group: bool, add: bool) -> Reply:
    user = _user(context, params)
    order = _order(context, user, params)
    target = _guid(params, key)
    known = context.account.user_groups if group else context.account.users
    if target not in known:
        raise Refusal("User group not found." if group else "User not found.")
    listed = order.assigned_groups if group else order.assigned_users
    if add and target not in listed:
        listed.append(target)
    elif not add and target in listed:
        listed.remove(target)
    order.touch()
    what = "User group" if group else "User"
    return _done(f"{what} {'assigned to' if add else 'unassigned from'} the patient order.")


def assign_patient_order_to_user(context: RequestContext, params: Params) -> Reply:
    """Assign an order to a user (assigning twice changes nothing)."""
    return _assign(context, params, "AssignedUserUuid", group=False, add=True)


def unassign_patient_order_from_user(context: RequestContext, params: Params) -> Reply:
    """Take a user off an order (taking off an absent user changes nothing)."""
    return _assign(context, params, "UnassignedUserUuid", group=False, add=False)


def assign_patient_order_to_user_group(context: RequestContext, params: Params) -> Reply:
    """Assign an order to a user group."""
    return _assign(context, params, "AssignedUserGroupUuid", group=True, add=True)


def unassign_patient_order_from_user_group(context: RequestContext, params: Params) -> Reply:
    """Take a user group off an order."""
    return _assign(context, params, "UnassignedUserGroupUuid", group=True, add=False)


def assign_patient_order_to_institution(context: RequestContext, params: Params) -> Reply:
    """Move an order to another institution the user works in."""
    user = _user(context, params)
    order = _order(context, user, params)
    institution = context.account.institution_for(user, _guid(params, "InstitutionUuid"))

    def move(item: Order) -> None:
        item.institution_uuid = institution.uuid

    context.account.update_order(order, move)
    return _done("Patient order assigned to institution.")


def set_flag_to_patient_order(context: RequestContext, params: Params) -> Reply:
    """Set a flag from the account's dictionary on an order; flag 0 clears the group's flag."""
    user = _user(context, params)
    order = _order(context, user, params)
    group_id = _integer(params, "GroupId")
    flag_id = _integer(params, "FlagId")
    group = context.account.flag_groups.get(group_id)
    if group is None:
        raise Refusal("Flag group not found.")
    if flag_id == 0:
        order.flags.pop(group_id, None)
    elif group.flag(flag_id) is None:
        raise Refusal("Flag not found in this flag group.")
    else:
        order.flags[group_id] = flag_id
    order.touch()
    return _done("Flag set." if flag_id else "Flag cleared.")


# --- sharing -------------------------------------------------------------------------------------


def _share(
    context: RequestContext,
    user: User,
    kind: str,
    *,
    orders: list[Order] | None = None,
    folder_uuid: str = "",
    **fields: Any,
) -> ShareRecord:
    token = share_token()
    record = ShareRecord(
        token=token,
        kind=kind,
        account_key=context.account.key,
        user_uuid=user.uuid,
        url=context.link(token),
        order_uuids=[order.uuid for order in orders or []],
        folder_uuid=folder_uuid,
        **fields,
    )
    return context.state.record_share(record)


def _shared_orders(context: RequestContext, user: User, params: Params) -> list[Order]:
    uuids = _guid_list(params, "OrderUuidList")
    if not uuids:
        raise _invalid("OrderUuidList")
    return [context.account.order_for(user, item) for item in uuids]


def _email(params: Params, key: str, *, required: bool) -> str:
    value = _text(params, key)
    if required and not value:
        raise _invalid(key)
    if value and "@" not in value:
        raise _invalid(key)
    return value


def _share_orders_by_email(context: RequestContext, params: Params, *, with_expiry: bool) -> Reply:
    user = _user(context, params)
    orders = _shared_orders(context, user, params)
    email = _email(params, "Email", required=True)
    password_email = _email(params, "EmailForSendingSharePassword", required=False) or email
    expire_date = _date(params, "ExpireDate")
    if with_expiry and not expire_date:
        raise _invalid("ExpireDate")
    _share(
        context,
        user,
        "order-email",
        orders=orders,
        email=email,
        password_email=password_email,
        password=share_password(),
        expire_date=expire_date,
        can_download=js_truthy(params.get("UserCanDownloadStudies")),
    )
    return _done(f"Patient orders shared with {email}.")


def share_patient_order_with_email(context: RequestContext, params: Params) -> Reply:
    """Share orders by e-mail: the link to one address, the password to the other (or the same)."""
    return _share_orders_by_email(context, params, with_expiry=False)


def share_patient_order_with_email_with_expire_date(context: RequestContext, params: Params) -> Reply:
    """Share orders by e-mail until a date."""
    return _share_orders_by_email(context, params, with_expiry=True)


def _share_orders_by_url(context: RequestContext, params: Params, *, with_expiry: bool) -> Reply:
    user = _user(context, params)
    orders = _shared_orders(context, user, params)
    expire_date = _date(params, "ExpireDate")
    if with_expiry and not expire_date:
        raise _invalid("ExpireDate")
    record = _share(
        context,
        user,
        "order-link",
        orders=orders,
        expire_date=expire_date,
        can_download=js_truthy(params.get("UserCanDownloadStudies")),
    )
    return {"Success": True, "Result": record.url}


def share_patient_order_with_url(context: RequestContext, params: Params) -> Reply:
    """Create a quick share link for orders."""
    return _share_orders_by_url(context, params, with_expiry=False)


def share_patient_order_with_url_with_expire_date(context: RequestContext, params: Params) -> Reply:
    """Create a quick share link for orders that expires after a date."""
    return _share_orders_by_url(context, params, with_expiry=True)


def _share_folder(context: RequestContext, params: Params, kind: str, *, by_email: bool) -> Reply:
    user = _user(context, params)
    folder = context.account.folder(_guid(params, "FolderUuid"))
    email = _email(params, "Email", required=True) if by_email else ""
    password_email = (
        _email(params, "EmailForSendingSharePassword", required=False) or email if by_email else ""
    )
    institution_uuid = ""
    if kind.startswith("folder-upload"):
        institution_uuid = context.account.institution_for(user, _guid(params, "InstitutionUuid")).uuid
    record = _share(
        context,
        user,
        kind,
        folder_uuid=folder.uuid,
        institution_uuid=institution_uuid,
        email=email,
        password_email=password_email,
        password=_text(params, "SharePassword"),
        title=_text(params, "ShareTitle"),
        description=_text(params, "ShareDescription"),
        expire_date=_date(params, "ExpireDate"),
        can_download=js_truthy(params.get("UserCanDownloadStudies")),
    )
    folder.shared = True
    if by_email:
        return _done(f"Folder shared with {email}.")
    # Folder shares answer {Success, Message}; the link rides in the message, where clients find it.
    return _done(f"Folder shared. Link: {record.url}")


def share_folder_with_email(context: RequestContext, params: Params) -> Reply:
    """Share a folder by e-mail."""
    return _share_folder(context, params, "folder-email", by_email=True)


def share_folder_with_url(context: RequestContext, params: Params) -> Reply:
    """Share a folder through a link."""
    return _share_folder(context, params, "folder-link", by_email=False)


def share_folder_to_upload_with_email(context: RequestContext, params: Params) -> Reply:
    """Invite someone by e-mail to upload into a folder."""
    return _share_folder(context, params, "folder-upload-email", by_email=True)


def share_folder_to_upload_with_url(context: RequestContext, params: Params) -> Reply:
    """Create a link through which anyone may upload into a folder."""
    return _share_folder(context, params, "folder-upload-link", by_email=False)


def share_folder_with_account_user(context: RequestContext, params: Params) -> Reply:
    """Share a folder with users of the account."""
    user = _user(context, params)
    folder = context.account.folder(_guid(params, "FolderUuid"))
    users = _guid_list(params, "SharedUserUuidList")
    if not users:
        raise _invalid("SharedUserUuidList")
    for item in users:
        context.account.user(item)
    _share(
        context,
        user,
        "folder-user",
        folder_uuid=folder.uuid,
        shared_user_uuids=users,
        expire_date=_date(params, "ExpireDate"),
    )
    folder.shared = True
    return _done("Folder shared with users.")


def share_folder_with_account_user_group(context: RequestContext, params: Params) -> Reply:
    """Share a folder with user groups of the account."""
    user = _user(context, params)
    folder = context.account.folder(_guid(params, "FolderUuid"))
    groups = _guid_list(params, "SharedUserGroupUuidList")
    if not groups:
        raise _invalid("SharedUserGroupUuidList")
    for item in groups:
        if item not in context.account.user_groups:
            raise Refusal("User group not found.")
    _share(
        context,
        user,
        "folder-group",
        folder_uuid=folder.uuid,
        shared_group_uuids=groups,
        expire_date=_date(params, "ExpireDate"),
    )
    folder.shared = True
    return _done("Folder shared with user groups.")


# --- dictionaries --------------------------------------------------------------------------------


def get_account_flag_dictionary(context: RequestContext, params: Params) -> Reply:
    """List the account's flag groups and their flags."""
    _user(context, params)
    return {
        "Success": True,
        "FlagGroupList": [
            {
                "GroupId": group.group_id,
                "GroupName": group.name,
                "FlagList": [
                    {"FlagId": flag.flag_id, "FlagName": flag.name, "Color": flag.color}
                    for flag in group.flags
                ],
            }
            for group in context.account.flag_groups.values()
        ],
    }


def get_user_group_list(context: RequestContext, params: Params) -> Reply:
    """List the account's user groups."""
    _user(context, params)
    return {
        "Success": True,
        "UserGroupList": [
            {"UserGroupUuid": group.uuid, "UserGroupName": group.name, "UserCount": len(group.user_uuids)}
            for group in context.account.user_groups.values()
        ],
    }


def get_user_list(context: RequestContext, params: Params) -> Reply:
    """List the account's users."""
    _user(context, params)
    return {
        "Success": True,
        "UserList": [
            {
                "UserUuid": user.uuid,
                "FullName": user.full_name,
                "UserName": user.user_name,
                "Email": user.email,
            }
            for user in context.account.users.values()
        ],
    }


def get_dicom_node_list(context: RequestContext, params: Params) -> Reply:
    """List the account's DICOM nodes."""
    _user(context, params)
    return {
        "Success": True,
        "DicomNodeList": [
            {
                "DicomNodeUuid": node.uuid,
                "Name": node.name,
                "AeTitle": node.ae_title,
                "Host": node.host,
                "Port": node.port,
            }
            for node in context.account.dicom_nodes.values()
        ],
    }


def get_contact_list(context: RequestContext, params: Params) -> Reply:
    """List the account's address book."""
    _user(context, params)
    return {
        "Success": True,
        "ContactList": [
            {
                "ContactUuid": contact.uuid,
                "FullName": contact.full_name,
                "Email": contact.email,
                "Organization": contact.organization,
            }
            for contact in context.account.contacts
        ],
    }


Handler = Callable[[RequestContext, Params], Reply]

HANDLERS: dict[int, Handler] = {
    Op.SEARCH_PATIENT_ORDER: search_patient_order,
    Op.CREATE_FOLDER: create_folder,
    Op.SEARCH_FOLDER: search_folder,
    Op.DELETE_FOLDER: delete_folder,
    Op.GET_VIEW_URL: get_view_url,
    Op.DELETE_PATIENT_ORDER: delete_patient_order,
    Op.CREATE_PATIENT_ORDER: create_patient_order,
    Op.ADD_ORDER_TO_FOLDER: add_order_to_folder,
    Op.REMOVE_ORDER_FROM_FOLDER: remove_order_from_folder,
    Op.CREATE_ORDER_GROUP: create_order_group,
    Op.ADD_ORDERS_TO_ORDER_GROUP: add_orders_to_order_group,
    Op.REMOVE_ORDERS_FROM_GROUP: remove_orders_from_group,
    Op.GET_PATIENT_ORDER_PROPERTIES: get_patient_order_properties,
    Op.SHARE_FOLDER_WITH_EMAIL: share_folder_with_email,
    Op.SHARE_FOLDER_WITH_URL: share_folder_with_url,
    Op.SHARE_FOLDER_TO_UPLOAD_WITH_EMAIL: share_folder_to_upload_with_email,
    Op.SHARE_FOLDER_TO_UPLOAD_WITH_URL: share_folder_to_upload_with_url,
    Op.SHARE_FOLDER_WITH_ACCOUNT_USER: share_folder_with_account_user,
    Op.SHARE_FOLDER_WITH_ACCOUNT_USER_GROUP: share_folder_with_account_user_group,
    Op.SHARE_PATIENT_ORDER_WITH_EMAIL: share_patient_order_with_email,
    Op.SHARE_PATIENT_ORDER_WITH_URL: share_patient_order_with_url,
    Op.GET_USER_GROUP_LIST: get_user_group_list,
    Op.GET_DICOM_NODE_LIST: get_dicom_node_list,
    Op.GET_CONTACT_LIST: get_contact_list,
    Op.CREATE_PATIENT_ORDER_WITH_JSON: create_patient_order_with_json,
    Op.GET_FOLDER_VIEW_URL: get_folder_view_url,
    Op.UPDATE_FOLDER_WITH_JSON: update_folder_with_json,
    Op.ASSIGN_PATIENT_ORDER_TO_USER: assign_patient_order_to_user,
    Op.ASSIGN_PATIENT_ORDER_TO_USER_GROUP: assign_patient_order_to_user_group,
    Op.GET_ACCOUNT_FLAG_DICTIONARY: get_account_flag_dictionary,
    Op.SET_FLAG_TO_PATIENT_ORDER: set_flag_to_patient_order,
    Op.UNASSIGN_PATIENT_ORDER_FROM_USER: unassign_patient_order_from_user,
    Op.UNASSIGN_PATIENT_ORDER_FROM_USER_GROUP: unassign_patient_order_from_user_group,
    Op.GET_USER_LIST: get_user_list,
    Op.ASSIGN_PATIENT_ORDER_TO_INSTITUTION: assign_patient_order_to_institution,
    Op.SHARE_PATIENT_ORDER_WITH_EMAIL_WITH_EXPIRE_DATE: share_patient_order_with_email_with_expire_date,
    Op.SHARE_PATIENT_ORDER_WITH_URL_WITH_EXPIRE_DATE: share_patient_order_with_url_with_expire_date,
}


def handle_general(context: RequestContext, management_type: int, params: Params) -> Reply:
    """Run the handler of a management type; an unknown type is refused."""
    handler = HANDLERS.get(management_type)
    if handler is None:
        raise Refusal(f"Unknown management type {management_type}.")
    return handler(context, params)
