"""A faithful, stateful PostDICOM: router, region service, binary WebSocket, uploads, link pages.

PostDICOM's own JavaScript library works against it with only its router address changed, and so
does our client. It shares the client's pure wire core (:mod:`bot.postdicom.frames`,
:mod:`bot.postdicom.jsvalues`) and is started by ``pacsbot emulator`` or, in tests::

    async with PostDicomEmulator(seed="demo") as emulator:
        client = PostDicomClient(emulator.api_key, emulator.account_key, router_url=emulator.router_url)

Answer shapes the emulator defines where PostDICOM's are unknown (clients must stay lenient):

* an order: ``PatientOrderUuid, PatientOrderInstitutionUuid, PatientName, PatientId,
  OtherPatientId, PatientBirthdate, PatientSex, AccessionNumber, OrderModality, StudyDescription,
  RequestingProcedureDescription, PerformedDatetime, OrderStatus (1 scheduled, 2 images received),
  StudyInstanceUid, ImagesCount, DocumentsCount, OrderSize (KiB), ConnectedGroupUuid (all-zero when
  ungrouped), FlagList [{GroupId, FlagId}], AssignedUserUuidList, AssignedUserGroupUuidList,
  FolderUuidList, InstitutionName``; GetPatientOrderProperties adds the order's details
  (``PatientComplaints``, ``ReferringPhysiciansName``, …), ``SeriesList`` and ``DocumentList``;
* searches ``{Success, SearchResultList}`` (newest first, at most ``search_limit``); folders
  ``{Success, Folder: {FolderUuid, FolderName, SubFolderList, PatientOrderList}}``; CreateFolder
  ``{Success, FolderUuid}``; the CreateOrder calls ``{Success, PatientOrderUuid, PatientOrder}``;
  order groups ``{Success, Message, ConnectedGroupUuid}``; viewer and quick-share links
  ``{Success, Result: url}``; e-mail and folder shares ``{Success, Message}`` (a folder link is in
  the message); dictionaries ``FlagGroupList``, ``UserGroupList``, ``UserList``,
  ``DicomNodeList``, ``ContactList [{ContactUuid, FullName, Email, Organization}]``; every other
  change ``{Success, Message}``;
* refusals (missing, of another account, not allowed) ``{ResponseCode: 1, ResponseMessage:
  {Success: false, Message}}``; protocol errors (no session, wrong keys, malformed frames, injected
  faults) ``{ResponseCode: 0, ResponseMessage, Message}``, where ResponseMessage is a string for
  session frames and ``{Success: false, Message}`` otherwise;
* uploads: Initialize ``{ResponseCode, SessionUniqueUuid, ResponseMessage}``; CheckFileExist
  ``{ResponseCode, StudyInstanceUid, ResponseMessage: {FileIfExist, PatientOrder?}}``; parts
  ``{ResponseCode, ResponseMessage: {Success, PatientOrder?}}``; upload refusals carry ``Message``
  at the top level, where the library reads it.
"""

from bot.sandbox.postdicom.faults import FaultConfigError, FaultPlan, FaultRegistry
from bot.sandbox.postdicom.seed import (
    ADA_UUID,
    BRANCH_INSTITUTION_UUID,
    CASES_FOLDER_UUID,
    CT_ORDER_UUID,
    DEMO_ACCOUNT_KEY,
    DEMO_API_KEY,
    MAIN_INSTITUTION_UUID,
    MR_ORDER_UUID,
    add_synthetic_orders,
    build_state,
    tenant_account,
)
from bot.sandbox.postdicom.server import EmulatorStats, PostDicomEmulator
from bot.sandbox.postdicom.state import Account, EmulatorState, Order, Refusal, ShareRecord

__all__ = [
    "ADA_UUID",
    "BRANCH_INSTITUTION_UUID",
    "CASES_FOLDER_UUID",
    "CT_ORDER_UUID",
    "DEMO_ACCOUNT_KEY",
    "DEMO_API_KEY",
    "MAIN_INSTITUTION_UUID",
    "MR_ORDER_UUID",
    "Account",
    "EmulatorState",
    "EmulatorStats",
    "FaultConfigError",
    "FaultPlan",
    "FaultRegistry",
    "Order",
    "PostDicomEmulator",
    "Refusal",
    "ShareRecord",
    "add_synthetic_orders",
    "build_state",
    "tenant_account",
]
