"""Every general request of PostDICOM's library as a pure function: validate, shape, no I/O.

Each builder takes the library method's arguments in the library's order (without the callback)
and returns a :class:`GeneralCall`: the management type and the JSON keys in the order the library
sets them. ``None`` is JavaScript's ``undefined``: the key is left out of the JSON. The library's
argument shaping is reproduced here (root-folder GUID, ``PatientSex``, ``PerformedDatetime``,
the nested ``JsonParameters`` of orders and folders).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.postdicom.errors import ApiError, ProtocolError
from bot.postdicom.frames import GeneralManagementType as Op
from bot.postdicom.jsvalues import js_truthy, to_json
from bot.postdicom.validation import EMPTY_GUID, Kind, validate

GUID, GUID_LIST, DATE, TIME, MAIL, INT = Kind.GUID, Kind.GUID_LIST, Kind.DATE, Kind.TIME, Kind.MAIL, Kind.INT

# Reads: sending one of these twice changes nothing, so a request lost with its socket may be resent.
REPEATABLE_OPERATIONS = frozenset(
    {
        Op.SEARCH_PATIENT_ORDER,
        Op.SEARCH_FOLDER,
        Op.GET_VIEW_URL,
        Op.GET_PATIENT_ORDER_PROPERTIES,
        Op.GET_USER_GROUP_LIST,
        Op.GET_DICOM_NODE_LIST,
        Op.GET_CONTACT_LIST,
        Op.GET_FOLDER_VIEW_URL,
        Op.GET_ACCOUNT_FLAG_DICTIONARY,
        Op.GET_USER_LIST,
    }
)


@dataclass(frozen=True, slots=True)
class GeneralCall:
    """A validated general request, ready for the credentials to be appended."""

    operation: str
    management_type: Op
    params: Mapping[str, Any]

    @property
    def repeatable(self) -> bool:
        """Tell whether the request is safe to send again after a lost connection."""
        return self.management_type in REPEATABLE_OPERATIONS

    def payload(self, api_key: str, account_key: str) -> bytes:
        """Return the JSON bytes with ``ApiKey`` and ``AccountKey`` last, as the library appends them."""
        return to_json({**self.params, "ApiKey": api_key, "AccountKey": account_key})


def _call(operation: str, management_type: Op, **params: Any) -> GeneralCall:
    return GeneralCall(operation, management_type, params)


def _folder_or_root(folder_uuid: str | None) -> str:
    # The library turns an empty parent into the root; it crashes on a missing one, we take root.
    return folder_uuid if folder_uuid else EMPTY_GUID


def session_payload(session_uuid: str, api_key: str) -> bytes:
    """Return the JSON of CreateApiSession and RegisterSession frames."""
    return to_json(
        {"SessionUuid": session_uuid, "OtherParameterList": [f"Api={session_uuid}", f"ApiKey={api_key}"]}
    )


# --- searches ------------------------------------------------------------------------------------


def get_patient_order_list(
    user_uuid: str,
    institution_uuid_list: Sequence[str] | None = None,
    patient_name: str | None = None,
    accession_number: str | None = None,
    patient_id: str | None = None,
    other_patient_id: str | None = None,
    modalities: Sequence[str] | None = None,
) -> GeneralCall:
    """Search orders by patient and order fields."""
    criteria = (patient_name, accession_number, patient_id, other_patient_id, modalities)
    return _search("GetPatientOrderList", user_uuid, institution_uuid_list, criteria)


def get_patient_order_list_with_date_range(
    user_uuid: str,
    institution_uuid_list: Sequence[str] | None = None,
    patient_name: str | None = None,
    accession_number: str | None = None,
    patient_id: str | None = None,
    other_patient_id: str | None = None,
    modalities: Sequence[str] | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
) -> GeneralCall:
    """Search orders whose study date lies in a range."""
    criteria = (patient_name, accession_number, patient_id, other_patient_id, modalities)
    ranges = (("startDate", "StartDate", start_date), ("endDate", "EndDate", end_date))
    return _search("GetPatientOrderListWithDateRange", user_uuid, institution_uuid_list, criteria, ranges)


def get_patient_order_list_with_birthdate(
    user_uuid: str,
    institution_uuid_list: Sequence[str] | None = None,
    patient_name: str | None = None,
    accession_number: str | None = None,
    patient_id: str | None = None,
    other_patient_id: str | None = None,
    modalities: Sequence[str] | None = None,
    start_birthdate: str | None = None,
    end_birthdate: str | None = None,
) -> GeneralCall:
    """Search orders whose patient was born in a range."""
    criteria = (patient_name, accession_number, patient_id, other_patient_id, modalities)
    ranges = (
        ("startBirthdate", "StartBirthdate", start_birthdate),
        ("endBirthdate", "EndBirthdate", end_birthdate),
    )
    return _search("GetPatientOrderListWithBirthdate", user_uuid, institution_uuid_list, criteria, ranges)


def _search(
    operation: str,
    user_uuid: str,
    institution_uuid_list: Sequence[str] | None,
    criteria: tuple[str | None, str | None, str | None, str | None, Sequence[str] | None],
    ranges: tuple[tuple[str, str, str | None], ...] = (),
) -> GeneralCall:
    # The three searches differ only in their date range; its dates are checked only when given.
    validate(
        ("userUuid", GUID, user_uuid),
        ("institutionUuidList", GUID_LIST, institution_uuid_list),
        *((name, DATE, value) for name, _, value in ranges if js_truthy(value)),
    )
    patient_name, accession_number, patient_id, other_patient_id, modalities = criteria
    return _call(
        operation,
        Op.SEARCH_PATIENT_ORDER,
        UserUuid=user_uuid,
        InstitutionUuidList=institution_uuid_list,
        PatientName=patient_name,
        AccessionNumber=accession_number,
        PatientId=patient_id,
        OtherPatientId=other_patient_id,
        Modalities=modalities,
        **{key: value for _, key, value in ranges},
    )


def get_patient_order_list_in_folder(user_uuid: str, folder_uuid: str) -> GeneralCall:
    """List the orders in one folder."""
    validate(("userUuid", GUID, user_uuid), ("folderUuid", GUID, folder_uuid))
    return _call(
        "GetPatientOrderListInFolder", Op.SEARCH_PATIENT_ORDER, UserUuid=user_uuid, FolderUuid=folder_uuid
    )


# --- folders -------------------------------------------------------------------------------------


def create_folder(
    user_uuid: str, parent_folder_uuid: str | None, folder_name: str | None = None
) -> GeneralCall:
    """Create a folder; an empty parent means the root."""
    parent = _folder_or_root(parent_folder_uuid)
    validate(("userUuid", GUID, user_uuid), ("parentFolderUuid", GUID, parent))
    return _call(
        "CreateFolder", Op.CREATE_FOLDER, UserUuid=user_uuid, ParentFolderUuid=parent, FolderName=folder_name
    )


def create_folder_with_description(
    user_uuid: str,
    parent_folder_uuid: str | None,
    folder_name: str | None = None,
    folder_description: str | None = None,
) -> GeneralCall:
    """Create a folder with a description; an empty parent means the root."""
    parent = _folder_or_root(parent_folder_uuid)
    validate(("userUuid", GUID, user_uuid), ("parentFolderUuid", GUID, parent))
    return _call(
        "CreateFolderWithDescription",
        Op.CREATE_FOLDER,
        UserUuid=user_uuid,
        ParentFolderUuid=parent,
        FolderName=folder_name,
        FolderDescription=folder_description,
    )


def get_folder_list(
    user_uuid: str,
    parent_folder_uuid: str | None,
    folder_name: str | None = None,
    get_orders_in_folder: bool | None = None,
) -> GeneralCall:
    """List a folder's subfolders (and, if asked, its orders); an empty parent means the root."""
    parent = _folder_or_root(parent_folder_uuid)
    validate(("userUuid", GUID, user_uuid), ("parentFolderUuid", GUID, parent))
    return _call(
        "GetFolderList",
        Op.SEARCH_FOLDER,
        UserUuid=user_uuid,
        ParentFolderUuid=parent,
        FolderName=folder_name,
        GetOrdersInFolder=get_orders_in_folder,
    )


def delete_folder(user_uuid: str, folder_uuid: str) -> GeneralCall:
    """Delete a folder."""
    validate(("userUuid", GUID, user_uuid), ("folderUuid", GUID, folder_uuid))
    return _call("DeleteFolder", Op.DELETE_FOLDER, UserUuid=user_uuid, FolderUuid=folder_uuid)


def get_folder_view_url(user_uuid: str, folder_uuid: str) -> GeneralCall:
    """Get a viewer URL for a folder."""
    validate(("userUuid", GUID, user_uuid), ("folderUuid", GUID, folder_uuid))
    return _call("GetFolderViewUrl", Op.GET_FOLDER_VIEW_URL, UserUuid=user_uuid, FolderUuid=folder_uuid)


def update_folder_with_json(
    user_uuid: str, folder_uuid: str, json_parameters: Mapping[str, Any]
) -> GeneralCall:
    """Rename a folder or change its description (keys FolderName, FolderDescription)."""
    validate(("userUuid", GUID, user_uuid), ("folderUuid", GUID, folder_uuid))
    identity: dict[str, Any] = {}
    if js_truthy(json_parameters.get("FolderName")):
        identity["Name"] = json_parameters["FolderName"]
    if js_truthy(json_parameters.get("FolderDescription")):
        identity["Description"] = json_parameters["FolderDescription"]
    return _call(
        "UpdateFolderWithJSON",
        Op.UPDATE_FOLDER_WITH_JSON,
        UserUuid=user_uuid,
        FolderUuid=folder_uuid,
        JsonParameters={"IdentityInformation": identity},
    )


def add_order_to_folder(
    user_uuid: str,
    patient_order_institution_uuid: str,
    patient_order_uuid: str,
    folder_uuid_list: Sequence[str] | None = None,
) -> GeneralCall:
    """Put an order into folders."""
    validate(
        ("userUuid", GUID, user_uuid),
        ("patientOrderInstitutionUuid", GUID, patient_order_institution_uuid),
        ("patientOrderUuid", GUID, patient_order_uuid),
        ("folderUuidList", GUID_LIST, folder_uuid_list),
    )
    return _call(
        "AddOrderToFolder",
        Op.ADD_ORDER_TO_FOLDER,
        UserUuid=user_uuid,
        PatientOrderInstitutionUuid=patient_order_institution_uuid,
        PatientOrderUuid=patient_order_uuid,
        FolderUuidList=folder_uuid_list,
    )


def remove_order_from_folder(
    user_uuid: str, folder_uuid: str, patient_order_uuid_list: Sequence[str] | None = None
) -> GeneralCall:
    """Take orders out of a folder."""
    validate(
        ("userUuid", GUID, user_uuid),
        ("folderUuid", GUID, folder_uuid),
        ("patientOrderUuidList", GUID_LIST, patient_order_uuid_list),
    )
    return _call(
        "RemoveOrderFromFolder",
        Op.REMOVE_ORDER_FROM_FOLDER,
        UserUuid=user_uuid,
        FolderUuid=folder_uuid,
        PatientOrderUuidList=patient_order_uuid_list,
    )


# --- views ---------------------------------------------------------------------------------------


def get_view_url(user_uuid: str, patient_order_uuid: str) -> GeneralCall:
    """Get a viewer URL for an order (PostDICOM binds it to the requesting IP)."""
    validate(("userUuid", GUID, user_uuid), ("patientOrderUuid", GUID, patient_order_uuid))
    return _call("GetViewUrl", Op.GET_VIEW_URL, UserUuid=user_uuid, PatientOrderUuid=patient_order_uuid)


def get_view_url_with_patient_name(user_uuid: str, patient_name: str | None = None) -> GeneralCall:
    """Get a viewer URL for a patient's orders, by name."""
    validate(("userUuid", GUID, user_uuid))
    return _call("GetViewUrlWithPatientName", Op.GET_VIEW_URL, UserUuid=user_uuid, PatientName=patient_name)


def get_view_url_with_patient_name_and_birth_date(
    user_uuid: str, patient_name: str | None, birth_date: str | None
) -> GeneralCall:
    """Get a viewer URL for a patient's orders, by name and birth date."""
    validate(("userUuid", GUID, user_uuid), ("birthDate", DATE, birth_date))
    return _call(
        "GetViewUrlWithPatientNameAndBirthDate",
        Op.GET_VIEW_URL,
        UserUuid=user_uuid,
        PatientName=patient_name,
        BirthDate=birth_date,
    )


# --- orders --------------------------------------------------------------------------------------


def delete_order(user_uuid: str, patient_order_institution_uuid: str, patient_order_uuid: str) -> GeneralCall:
    """Move an order to the trash."""
    validate(
        ("userUuid", GUID, user_uuid),
        ("patientOrderInstitutionUuid", GUID, patient_order_institution_uuid),
        ("patientOrderUuid", GUID, patient_order_uuid),
    )
    return _call(
        "DeleteOrder",
        Op.DELETE_PATIENT_ORDER,
        UserUuid=user_uuid,
        PatientOrderInstitutionUuid=patient_order_institution_uuid,
        PatientOrderUuid=patient_order_uuid,
    )


def create_order_with_minimum_parameters(
    user_uuid: str,
    institution_uuid: str,
    patient_name: str | None,
    patient_id: str | None,
    modality: str | None,
    study_description: str | None,
    order_date: str,
    order_time: str,
) -> GeneralCall:
    """Create an order from the fewest fields."""
    validate(
        ("userUuid", GUID, user_uuid),
        ("institutionUuid", GUID, institution_uuid),
        ("orderDate", DATE, order_date),
        ("orderTime", TIME, order_time),
    )
    return _call(
        "CreateOrderWithMinimumParameters",
        Op.CREATE_PATIENT_ORDER,
        UserUuid=user_uuid,
        InstitutionUuid=institution_uuid,
        PatientName=patient_name,
        PatientID=patient_id,
        OrderModality=modality,
        StudyDescription=study_description,
        PerformedDatetime=f"{order_date} {order_time}",
    )


def create_order_with_full_parameters(
    user_uuid: str,
    institution_uuid: str,
    patient_name: str | None,
    patient_id: str | None,
    patient_other_id: str | None,
    patient_birthdate: str,
    modality: str | None,
    study_description: str | None,
    accession_number: str | None,
    complaints: str | None,
    order_date: str,
    order_time: str,
    procedure_id: str | None = None,
    procedure_description: str | None = None,
    scheduled_equipment_uuid: str | None = None,
) -> GeneralCall:
    """Create an order with every field of the first full form."""
    validate(
        ("userUuid", GUID, user_uuid),
        ("institutionUuid", GUID, institution_uuid),
        ("patientBirthdate", DATE, patient_birthdate),
        ("orderDate", DATE, order_date),
        ("orderTime", TIME, order_time),
    )
    return _call(
        "CreateOrderWithFullParameters",
        Op.CREATE_PATIENT_ORDER,
        UserUuid=user_uuid,
        InstitutionUuid=institution_uuid,
        PatientName=patient_name,
        PatientID=patient_id,
        OtherPatientId=patient_other_id,
        PatientsBirthDate=patient_birthdate,
        OrderModality=modality,
        StudyDescription=study_description,
        OrderAccessionNumber=accession_number,
        PatientComplaints=complaints,
        PerformedDatetime=f"{order_date} {order_time}",
        RequestedProcedureId=procedure_id,
        RequestingProcedureDescription=procedure_description,
        ScheduledEquipmentUuid=scheduled_equipment_uuid,
    )


def create_order_with_full_parameters2(
    user_uuid: str,
    institution_uuid: str,
    patient_name: str | None,
    patient_id: str | None,
    patient_other_id: str | None,
    patient_sex: str | None,
    patient_birthdate: str,
    modality: str | None,
    study_description: str | None,
    accession_number: str | None,
    complaints: str | None,
    order_date: str,
    order_time: str,
    procedure_id: str | None = None,
    procedure_description: str | None = None,
    scheduled_equipment_uuid: str | None = None,
    referring_physicians_name: str | None = None,
) -> GeneralCall:
    """Create an order with sex and referring physician too; a sex other than M, F or O becomes empty."""
    validate(
        ("userUuid", GUID, user_uuid),
        ("institutionUuid", GUID, institution_uuid),
        ("patientBirthdate", DATE, patient_birthdate),
        ("orderDate", DATE, order_date),
        ("orderTime", TIME, order_time),
    )
    return _call(
        "CreateOrderWithFullParameters2",
        Op.CREATE_PATIENT_ORDER,
        UserUuid=user_uuid,
        InstitutionUuid=institution_uuid,
        PatientName=patient_name,
        PatientID=patient_id,
        OtherPatientId=patient_other_id,
        PatientsBirthDate=patient_birthdate,
        OrderModality=modality,
        StudyDescription=study_description,
        OrderAccessionNumber=accession_number,
        PatientComplaints=complaints,
        PerformedDatetime=f"{order_date} {order_time}",
        RequestedProcedureId=procedure_id,
        RequestingProcedureDescription=procedure_description,
        ScheduledEquipmentUuid=scheduled_equipment_uuid,
        PatientSex=patient_sex if patient_sex in ("M", "F", "O") else "",
        ReferringPhysiciansName=referring_physicians_name,
    )


# Flat caller keys of CreateOrderWithJSON and where the library files each one, in the order it
# checks them (which is the order keys appear in within each nested object).
_ORDER_JSON_PLACES: tuple[tuple[str, str | None, str], ...] = (
    ("OtherPatientId", "IdentityInformation", "OtherId"),
    ("PatientName", "IdentityInformation", "Name"),
    ("OrderModality", None, "Modality"),
    ("OrderAccessionNumber", None, "AccessionNumber"),
    ("PatientsBirthDate", "IdentityInformation", "Birthdate"),
    ("PatientID", "IdentityInformation", "Id"),
    ("RequestingPhysician", "OtherInformation", "RequestingPhysician"),
    ("RequestingProcedureDescription", "OtherInformation", "RequestedProcedureDescription"),
    ("PerformedDatetime", "StudyInformation", "StudyDate"),
    ("ReferringPhysiciansName", "OtherInformation", "ReferringPhysiciansName"),
    ("StudyDescription", "StudyInformation", "StudyDescription"),
    ("RequestedProcedureId", "OtherInformation", "RequestedProcedureId"),
    ("ScheduledEquipmentUuid", None, "ScheduledEquipmentUuid"),
    ("PatientSex", "IdentityInformation", "Sex"),
    ("InstitutionNameInDicom", "StudyInformation", "InstitutionNameInDicom"),
)


def order_json_parameters(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Nest CreateOrderWithJSON's flat keys as the library does, keeping only truthy values."""
    nested: dict[str, Any] = {"IdentityInformation": {}, "StudyInformation": {}, "OtherInformation": {}}
    for source, group, target in _ORDER_JSON_PLACES:
        value = flat.get(source)
        if js_truthy(value):
            (nested if group is None else nested[group])[target] = value
    return nested


def create_order_with_json(
    user_uuid: str, institution_uuid: str, json_parameters: Mapping[str, Any]
) -> GeneralCall:
    """Create an order from a mapping of the library's flat field names."""
    validate(("userUuid", GUID, user_uuid), ("institutionUuid", GUID, institution_uuid))
    return _call(
        "CreateOrderWithJSON",
        Op.CREATE_PATIENT_ORDER_WITH_JSON,
        UserUuid=user_uuid,
        InstitutionUuid=institution_uuid,
        JsonParameters=order_json_parameters(json_parameters),
    )


def get_patient_order_properties(
    user_uuid: str, patient_order_institution_uuid: str, patient_order_uuid: str
) -> GeneralCall:
    """Get one order's properties."""
    validate(
        ("userUuid", GUID, user_uuid),
        ("patientOrderInstitutionUuid", GUID, patient_order_institution_uuid),
        ("patientOrderUuid", GUID, patient_order_uuid),
    )
    return _call(
        "GetPatientOrderProperties",
        Op.GET_PATIENT_ORDER_PROPERTIES,
        UserUuid=user_uuid,
        PatientOrderInstitutionUuid=patient_order_institution_uuid,
        PatientOrderUuid=patient_order_uuid,
    )


def create_order_group(
    user_uuid: str, patient_order_institution_uuid: str, patient_order_uuid_list: Sequence[str] | None = None
) -> GeneralCall:
    """Group orders so that they open together."""
    validate(
        ("userUuid", GUID, user_uuid),
        ("patientOrderInstitutionUuid", GUID, patient_order_institution_uuid),
        ("patientOrderUuidList", GUID_LIST, patient_order_uuid_list),
    )
    return _call(
        "CreateOrderGroup",
        Op.CREATE_ORDER_GROUP,
        UserUuid=user_uuid,
        PatientOrderInstitutionUuid=patient_order_institution_uuid,
        PatientOrderUuidList=patient_order_uuid_list,
    )


def add_orders_to_order_group(
    user_uuid: str,
    patient_order_institution_uuid: str,
    connected_group_uuid: str,
    patient_order_uuid_list: Sequence[str] | None = None,
) -> GeneralCall:
    """Add orders to an existing order group."""
    validate(
        ("userUuid", GUID, user_uuid),
        ("patientOrderInstitutionUuid", GUID, patient_order_institution_uuid),
        ("connectedGroupUuid", GUID, connected_group_uuid),
        ("patientOrderUuidList", GUID_LIST, patient_order_uuid_list),
    )
    return _call(
        "AddOrdersToOrderGroup",
        Op.ADD_ORDERS_TO_ORDER_GROUP,
        UserUuid=user_uuid,
        PatientOrderInstitutionUuid=patient_order_institution_uuid,
        ConnectedGroupUuid=connected_group_uuid,
        PatientOrderUuidList=patient_order_uuid_list,
    )


def remove_orders_from_group(
    user_uuid: str, patient_order_institution_uuid: str, patient_order_uuid_list: Sequence[str] | None = None
) -> GeneralCall:
    """Take orders out of their order group."""
    validate(
        ("userUuid", GUID, user_uuid),
        ("patientOrderInstitutionUuid", GUID, patient_order_institution_uuid),
        ("patientOrderUuidList", GUID_LIST, patient_order_uuid_list),
    )
    return _call(
        "RemoveOrdersFromGroup",
        Op.REMOVE_ORDERS_FROM_GROUP,
        UserUuid=user_uuid,
        PatientOrderInstitutionUuid=patient_order_institution_uuid,
        PatientOrderUuidList=patient_order_uuid_list,
    )


def _order_and_target(
    operation: str, management_type: Op, target_name: str, target_key: str, user: str, order: str, target: str
) -> GeneralCall:
    validate(("userUuid", GUID, user), ("patientOrderUuid", GUID, order), (target_name, GUID, target))
    return GeneralCall(
        operation, management_type, {"UserUuid": user, "PatientOrderUuid": order, target_key: target}
    )


def assign_patient_order_to_user(
    user_uuid: str, patient_order_uuid: str, assigned_user_uuid: str
) -> GeneralCall:
    """Assign an order to a user."""
    return _order_and_target(
        "AssignPatientOrderToUser",
        Op.ASSIGN_PATIENT_ORDER_TO_USER,
        "assignedUserUuid",
        "AssignedUserUuid",
        user_uuid,
        patient_order_uuid,
        assigned_user_uuid,
    )


def unassign_patient_order_from_user(
    user_uuid: str, patient_order_uuid: str, unassigned_user_uuid: str
) -> GeneralCall:
    """Take a user off an order."""
    # "unssigned" is the library's own spelling in its error text.
    return _order_and_target(
        "UnassignPatientOrderFromUser",
        Op.UNASSIGN_PATIENT_ORDER_FROM_USER,
        "unssignedUserUuid",
        "UnassignedUserUuid",
        user_uuid,
        patient_order_uuid,
        unassigned_user_uuid,
    )


def assign_patient_order_to_user_group(
    user_uuid: str, patient_order_uuid: str, assigned_user_group_uuid: str
) -> GeneralCall:
    """Assign an order to a user group."""
    return _order_and_target(
        "AssignPatientOrderToUserGroup",
        Op.ASSIGN_PATIENT_ORDER_TO_USER_GROUP,
        "assignedUserGroupUuid",
        "AssignedUserGroupUuid",
        user_uuid,
        patient_order_uuid,
        assigned_user_group_uuid,
    )


def unassign_patient_order_from_user_group(
    user_uuid: str, patient_order_uuid: str, unassigned_user_group_uuid: str
) -> GeneralCall:
    """Take a user group off an order."""
    return _order_and_target(
        "UnassignPatientOrderFromUserGroup",
        Op.UNASSIGN_PATIENT_ORDER_FROM_USER_GROUP,
        "unassignedUserGroupUuid",
        "UnassignedUserGroupUuid",
        user_uuid,
        patient_order_uuid,
        unassigned_user_group_uuid,
    )


def assign_patient_order_to_location(
    user_uuid: str, patient_order_uuid: str, institution_uuid: str
) -> GeneralCall:
    """Move an order to another institution of the account."""
    return _order_and_target(
        "AssignPatientOrderToLocation",
        Op.ASSIGN_PATIENT_ORDER_TO_INSTITUTION,
        "institutionUuid",
        "InstitutionUuid",
        user_uuid,
        patient_order_uuid,
        institution_uuid,
    )


def set_flag_to_patient_order(
    user_uuid: str, patient_order_uuid: str, group_id: int | None, flag_id: int | None
) -> GeneralCall:
    """Set one flag of a flag group on an order."""
    validate(
        ("userUuid", GUID, user_uuid),
        ("patientOrderUuid", GUID, patient_order_uuid),
        ("groupId", INT, group_id),
        ("flagId", INT, flag_id),
    )
    return _call(
        "SetFlagToPatientOrder",
        Op.SET_FLAG_TO_PATIENT_ORDER,
        UserUuid=user_uuid,
        PatientOrderUuid=patient_order_uuid,
        GroupId=group_id,
        FlagId=flag_id,
    )


# --- sharing -------------------------------------------------------------------------------------


def share_patient_order(
    user_uuid: str,
    order_uuid_list: Sequence[str] | None,
    email: str | None,
    email_for_sending_share_password: str | None = None,
    user_can_download_studies: bool | None = None,
) -> GeneralCall:
    """Share orders by e-mail."""
    validate(
        ("userUuid", GUID, user_uuid),
        ("orderUuidList", GUID_LIST, order_uuid_list),
        ("email", MAIL, email),
        ("emailForSendingSharePassword", MAIL, email_for_sending_share_password),
    )
    return _call(
        "SharePatientOrder",
        Op.SHARE_PATIENT_ORDER_WITH_EMAIL,
        UserUuid=user_uuid,
        OrderUuidList=order_uuid_list,
        Email=email,
        EmailForSendingSharePassword=email_for_sending_share_password,
        UserCanDownloadStudies=user_can_download_studies,
    )


def share_patient_order_with_expire_date(
    user_uuid: str,
    order_uuid_list: Sequence[str] | None,
    email: str | None,
    email_for_sending_share_password: str | None,
    user_can_download_studies: bool | None,
    expire_date: str,
) -> GeneralCall:
    """Share orders by e-mail until a date."""
    validate(
        ("userUuid", GUID, user_uuid),
        ("orderUuidList", GUID_LIST, order_uuid_list),
        ("email", MAIL, email),
        ("emailForSendingSharePassword", MAIL, email_for_sending_share_password),
        ("expireDate", DATE, expire_date),
    )
    return _call(
        "SharePatientOrderWithExpireDate",
        Op.SHARE_PATIENT_ORDER_WITH_EMAIL_WITH_EXPIRE_DATE,
        UserUuid=user_uuid,
        OrderUuidList=order_uuid_list,
        Email=email,
        EmailForSendingSharePassword=email_for_sending_share_password,
        UserCanDownloadStudies=user_can_download_studies,
        ExpireDate=expire_date,
    )


def create_quick_share_link(
    user_uuid: str, order_uuid_list: Sequence[str] | None, user_can_download_studies: bool | None = None
) -> GeneralCall:
    """Create a share link for orders."""
    validate(("userUuid", GUID, user_uuid), ("orderUuidList", GUID_LIST, order_uuid_list))
    return _call(
        "CreateQuickShareLink",
        Op.SHARE_PATIENT_ORDER_WITH_URL,
        UserUuid=user_uuid,
        OrderUuidList=order_uuid_list,
        UserCanDownloadStudies=user_can_download_studies,
    )


def create_quick_share_link_with_expire_date(
    user_uuid: str,
    order_uuid_list: Sequence[str] | None,
    user_can_download_studies: bool | None,
    expire_date: str,
) -> GeneralCall:
    """Create a share link for orders that expires on a date."""
    validate(
        ("userUuid", GUID, user_uuid),
        ("orderUuidList", GUID_LIST, order_uuid_list),
        ("expireDate", DATE, expire_date),
    )
    return _call(
        "CreateQuickShareLinkWithExpireDate",
        Op.SHARE_PATIENT_ORDER_WITH_URL_WITH_EXPIRE_DATE,
        UserUuid=user_uuid,
        OrderUuidList=order_uuid_list,
        UserCanDownloadStudies=user_can_download_studies,
        ExpireDate=expire_date,
    )


def share_folder_with_email(
    user_uuid: str,
    folder_uuid: str,
    email: str | None,
    email_for_sending_share_password: str | None,
    share_password: str | None,
    share_title: str | None,
    share_description: str | None,
    expire_date: str,
    user_can_download_studies: bool | None = None,
) -> GeneralCall:
    """Share a folder by e-mail."""
    validate(
        ("userUuid", GUID, user_uuid),
        ("folderUuid", GUID, folder_uuid),
        ("email", MAIL, email),
        ("emailForSendingSharePassword", MAIL, email_for_sending_share_password),
        ("expireDate", DATE, expire_date),
    )
    return _call(
        "ShareFolderWithEmail",
        Op.SHARE_FOLDER_WITH_EMAIL,
        UserUuid=user_uuid,
        FolderUuid=folder_uuid,
        Email=email,
        EmailForSendingSharePassword=email_for_sending_share_password,
        SharePassword=share_password,
        ShareTitle=share_title,
        ShareDescription=share_description,
        ExpireDate=expire_date,
        UserCanDownloadStudies=user_can_download_studies,
    )


def share_folder_with_url(
    user_uuid: str,
    folder_uuid: str,
    share_password: str | None,
    share_title: str | None,
    share_description: str | None,
    expire_date: str,
    user_can_download_studies: bool | None = None,
) -> GeneralCall:
    """Create a share link for a folder."""
    validate(
        ("userUuid", GUID, user_uuid), ("folderUuid", GUID, folder_uuid), ("expireDate", DATE, expire_date)
    )
    return _call(
        "ShareFolderWithURL",
        Op.SHARE_FOLDER_WITH_URL,
        UserUuid=user_uuid,
        FolderUuid=folder_uuid,
        SharePassword=share_password,
        ShareTitle=share_title,
        ShareDescription=share_description,
        ExpireDate=expire_date,
        UserCanDownloadStudies=user_can_download_studies,
    )


def share_folder_to_upload_with_email(
    user_uuid: str,
    folder_uuid: str,
    email: str | None,
    email_for_sending_share_password: str | None,
    share_password: str | None,
    share_title: str | None,
    share_description: str | None,
    expire_date: str,
    user_can_download_studies: bool | None,
    institution_uuid: str,
) -> GeneralCall:
    """Invite someone by e-mail to upload into a folder."""
    validate(
        ("userUuid", GUID, user_uuid),
        ("folderUuid", GUID, folder_uuid),
        ("email", MAIL, email),
        ("emailForSendingSharePassword", MAIL, email_for_sending_share_password),
        ("expireDate", DATE, expire_date),
        ("institutionUuid", GUID, institution_uuid),
    )
    return _call(
        "ShareFolderToUploadWithEmail",
        Op.SHARE_FOLDER_TO_UPLOAD_WITH_EMAIL,
        UserUuid=user_uuid,
        FolderUuid=folder_uuid,
        Email=email,
        EmailForSendingSharePassword=email_for_sending_share_password,
        SharePassword=share_password,
        ShareTitle=share_title,
        ShareDescription=share_description,
        ExpireDate=expire_date,
        UserCanDownloadStudies=user_can_download_studies,
        InstitutionUuid=institution_uuid,
    )


def share_folder_to_upload_with_url(
    user_uuid: str,
    folder_uuid: str,
    share_password: str | None,
    share_title: str | None,
    share_description: str | None,
    expire_date: str,
    user_can_download_studies: bool | None,
    institution_uuid: str,
) -> GeneralCall:
    """Create a link through which anyone may upload into a folder."""
    validate(
        ("userUuid", GUID, user_uuid),
        ("folderUuid", GUID, folder_uuid),
        ("expireDate", DATE, expire_date),
        ("institutionUuid", GUID, institution_uuid),
    )
    return _call(
        "ShareFolderToUploadWithUrl",
        Op.SHARE_FOLDER_TO_UPLOAD_WITH_URL,
        UserUuid=user_uuid,
        FolderUuid=folder_uuid,
        SharePassword=share_password,
        ShareTitle=share_title,
        ShareDescription=share_description,
        ExpireDate=expire_date,
        UserCanDownloadStudies=user_can_download_studies,
        InstitutionUuid=institution_uuid,
    )


def share_folder_with_account_user(
    user_uuid: str, folder_uuid: str, shared_user_uuid_list: Sequence[str] | None, expire_date: str
) -> GeneralCall:
    """Share a folder with users of the account."""
    validate(
        ("userUuid", GUID, user_uuid),
        ("folderUuid", GUID, folder_uuid),
        ("sharedUserUuidList", GUID_LIST, shared_user_uuid_list),
        ("expireDate", DATE, expire_date),
    )
    return _call(
        "ShareFolderWithAccountUser",
        Op.SHARE_FOLDER_WITH_ACCOUNT_USER,
        UserUuid=user_uuid,
        FolderUuid=folder_uuid,
        SharedUserUuidList=shared_user_uuid_list,
        ExpireDate=expire_date,
    )


def share_folder_with_account_user_group(
    user_uuid: str, folder_uuid: str, shared_user_group_uuid_list: Sequence[str] | None, expire_date: str
) -> GeneralCall:
    """Share a folder with user groups of the account."""
    validate(
        ("userUuid", GUID, user_uuid),
        ("folderUuid", GUID, folder_uuid),
        ("sharedUserGroupUuidList", GUID_LIST, shared_user_group_uuid_list),
        ("expireDate", DATE, expire_date),
    )
    return _call(
        "ShareFolderWithAccountUserGroup",
        Op.SHARE_FOLDER_WITH_ACCOUNT_USER_GROUP,
        UserUuid=user_uuid,
        FolderUuid=folder_uuid,
        SharedUserGroupUuidList=shared_user_group_uuid_list,
        ExpireDate=expire_date,
    )


# --- dictionaries --------------------------------------------------------------------------------


def _user_only(operation: str, management_type: Op, user_uuid: str) -> GeneralCall:
    validate(("userUuid", GUID, user_uuid))
    return _call(operation, management_type, UserUuid=user_uuid)


def get_account_flag_dictionary(user_uuid: str) -> GeneralCall:
    """Get the account's flag groups and flags."""
    return _user_only("GetAccountFlagDictionary", Op.GET_ACCOUNT_FLAG_DICTIONARY, user_uuid)


def get_user_group_list(user_uuid: str) -> GeneralCall:
    """Get the account's user groups."""
    return _user_only("GetUserGroupList", Op.GET_USER_GROUP_LIST, user_uuid)


def get_dicom_node_list(user_uuid: str) -> GeneralCall:
    """Get the account's DICOM nodes."""
    return _user_only("GetDicomNodeList", Op.GET_DICOM_NODE_LIST, user_uuid)


def get_contact_list(user_uuid: str) -> GeneralCall:
    """Get the account's contacts."""
    return _user_only("GetContactList", Op.GET_CONTACT_LIST, user_uuid)


def get_user_list(user_uuid: str) -> GeneralCall:
    """Get the account's users."""
    return _user_only("GetUserList", Op.GET_USER_LIST, user_uuid)


def result_message(operation: str, api_result: Mapping[str, Any]) -> dict[str, Any]:
    """Return a general reply's ``ResponseMessage``, raising ApiError where the server refused."""
    message = api_result.get("ResponseMessage")
    code = api_result.get("ResponseCode")
    if not _is_one(code):
        raise ApiError(operation, _server_text(message, api_result), response_code=code)
    if isinstance(message, str):
        return {"Message": message}
    if not isinstance(message, dict):
        raise ProtocolError(f"the answer to {operation} has no ResponseMessage object")
    if message.get("Success") is False:
        raise ApiError(operation, _server_text(message, api_result), response_code=code)
    return message


def _server_text(message: object, api_result: Mapping[str, Any]) -> str:
    if isinstance(message, str) and message:
        return message
    if isinstance(message, Mapping) and isinstance(message.get("Message"), str) and message["Message"]:
        return str(message["Message"])
    fallback = api_result.get("Message")
    return fallback if isinstance(fallback, str) and fallback else "no reason given"


def _is_one(code: object) -> bool:
    # The library tests ``ResponseCode == 1`` with JavaScript's loose equality.
    if isinstance(code, bool | int | float):
        return code == 1
    if isinstance(code, str):
        try:
            return float(code.strip() or "0") == 1
        except ValueError:
            return False
    return False


def response_succeeded(envelope: Mapping[str, Any]) -> bool:
    """Tell whether an ApiResult or HTTP envelope carries ``ResponseCode == 1`` as the library reads it."""
    return _is_one(envelope.get("ResponseCode"))
