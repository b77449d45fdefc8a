"""``PostDicomClient``: PostDICOM's Cloud API library, as an asyncio Python client.

One method per method of PostDICOM's JavaScript library, named in snake_case, taking the same
arguments in the same order (without the callback) and returning typed results. Unlike the
library, whose sockets are module-level singletons, every client owns its own connection, so
clients for many accounts live side by side in one process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

import aiohttp
from pydantic import BaseModel, SecretStr

from bot.postdicom import methods, uploads
from bot.postdicom.errors import NotInitialized, PostDicomError
from bot.postdicom.frames import MessageType, RequestFrame
from bot.postdicom.methods import GeneralCall
from bot.postdicom.models import (
    Account,
    AccountUser,
    Contact,
    CreatedFolder,
    CreatedOrder,
    DicomNode,
    FlagGroup,
    FolderListing,
    Link,
    OperationResult,
    OrderGroupResult,
    PatientOrder,
    UserGroup,
    list_from,
)
from bot.postdicom.transport import DEFAULT_ROUTER_URL, Transport
from bot.postdicom.uploads import AnonymizedData, ProgressCallback, UploadFile, UploadResult
from bot.postdicom.validation import Kind, passes

ModelT = TypeVar("ModelT", bound=BaseModel)


def _secret(value: str | SecretStr) -> SecretStr:
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    return SecretStr(raw.strip())


class PostDicomClient:
    """An asyncio client for one PostDICOM account; use ``async with`` and call ``initialize()`` first."""

    def __init__(
        self,
        api_key: str | SecretStr,
        account_key: str | SecretStr,
        *,
        router_url: str = DEFAULT_ROUTER_URL,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 30.0,
        upload_sockets: int = 4,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if upload_sockets < 1:
            raise ValueError("upload_sockets must be at least 1")
        self._api_key = _secret(api_key)
        self._account_key = _secret(account_key)
        self.router_url = router_url
        self.timeout = timeout
        self.upload_sockets = upload_sockets
        self._session = session
        self._owns_session = session is None
        self._transport: Transport | None = None

    def __repr__(self) -> str:
        return f"PostDicomClient(router_url={self.router_url!r}, initialized={self.account is not None})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def account(self) -> Account | None:
        """Return the account that ``initialize()`` received, if it has run."""
        return self._transport.account if self._transport else None

    @property
    def transport(self) -> Transport:
        """Return the live transport (for the upload machinery), once initialized."""
        if self._transport is None or self._transport.account is None:
            raise NotInitialized("call initialize() before any other request")
        return self._transport

    async def initialize(self) -> Account:
        """Connect and create the API session; return the account with its users and institutions."""
        # The keys are checked as the library checks them, but the error names the key without
        # quoting it: a near-miss key is still a secret.
        for name, key in (("apiKey", self._api_key), ("accountKey", self._account_key)):
            if not passes(Kind.GUID, key.get_secret_value()):
                raise PostDicomError(f"Invalid parameters for {name}. Given value is not guid format.")
        if self._transport is None:
            if self._session is None:
                self._session = aiohttp.ClientSession()
            self._transport = Transport(
                self._api_key,
                self._account_key,
                router_url=self.router_url,
                session=self._session,
                timeout=self.timeout,
            )
        return await self._transport.connect()

    async def close(self) -> None:
        """Close the sockets, and the HTTP session if the client made it."""
        if self._transport is not None:
            await self._transport.close()
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    # --- plumbing ------------------------------------------------------------------------------

    async def _general(self, call: GeneralCall) -> dict[str, Any]:
        transport = self.transport
        payload = call.payload(transport.api_key, transport.account_key)
        reply = await transport.request(
            lambda message_id: RequestFrame(
                MessageType.GENERAL_REQUEST, message_id, call.management_type, payload
            ),
            operation=call.operation,
            repeatable=call.repeatable,
        )
        return methods.result_message(call.operation, reply.json())

    async def _result(self, call: GeneralCall, model: type[ModelT]) -> ModelT:
        return model.model_validate(await self._general(call))

    async def _list(self, call: GeneralCall, key: str, model: type[ModelT]) -> list[ModelT]:
        message = await self._general(call)
        return [model.model_validate(item) for item in list_from(message, key)]

    async def _orders(self, call: GeneralCall) -> list[PatientOrder]:
        return await self._list(call, "SearchResultList", PatientOrder)

    async def _link(self, call: GeneralCall) -> Link:
        return Link.from_message(await self._general(call))

    # --- searches ------------------------------------------------------------------------------

    async def get_patient_order_list(
        self,
        user_uuid: str,
        institution_uuid_list: Sequence[str] | None = None,
        patient_name: str | None = None,
        accession_number: str | None = None,
        patient_id: str | None = None,
        other_patient_id: str | None = None,
        modalities: Sequence[str] | None = None,
    ) -> list[PatientOrder]:
        """Search orders by patient and order fields."""
        return await self._orders(
            methods.get_patient_order_list(
                user_uuid,
                institution_uuid_list,
                patient_name,
                accession_number,
                patient_id,
                other_patient_id,
                modalities,
            )
        )

    async def get_patient_order_list_with_date_range(
        self,
        user_uuid: str,
        institution_uuid_list: Sequence[str] | None = None,
        patient_name: str | None = None,
        accession_number: str | None = None,
        patient_id: str | None = None,
        other_patient_id: str | None = None,
        modalities: Sequence[str] | None = None,
        start_date: str | None = None,
        end_date: str | None = None,
    ) -> list[PatientOrder]:
        """Search orders whose study date lies in a range."""
        return await self._orders(
            methods.get_patient_order_list_with_date_range(
                user_uuid,
                institution_uuid_list,
                patient_name,
                accession_number,
                patient_id,
                other_patient_id,
                modalities,
                start_date,
                end_date,
            )
        )

    async def get_patient_order_list_with_birthdate(
        self,
        user_uuid: str,
        institution_uuid_list: Sequence[str] | None = None,
        patient_name: str | None = None,
        accession_number: str | None = None,
        patient_id: str | None = None,
        other_patient_id: str | None = None,
        modalities: Sequence[str] | None = None,
        start_birthdate: str | None = None,
        end_birthdate: str | None = None,
    ) -> list[PatientOrder]:
        """Search orders whose patient was born in a range."""
        return await self._orders(
            methods.get_patient_order_list_with_birthdate(
                user_uuid,
                institution_uuid_list,
                patient_name,
                accession_number,
                patient_id,
                other_patient_id,
                modalities,
                start_birthdate,
                end_birthdate,
            )
        )

    async def get_patient_order_list_in_folder(self, user_uuid: str, folder_uuid: str) -> list[PatientOrder]:
        """List the orders in one folder."""
        return await self._orders(methods.get_patient_order_list_in_folder(user_uuid, folder_uuid))

    # --- folders -------------------------------------------------------------------------------

    async def create_folder(
        self, user_uuid: str, parent_folder_uuid: str | None, folder_name: str | None = None
    ) -> CreatedFolder:
        """Create a folder; an empty parent means the root."""
        return await self._result(
            methods.create_folder(user_uuid, parent_folder_uuid, folder_name), CreatedFolder
        )

    async def create_folder_with_description(
        self,
        user_uuid: str,
        parent_folder_uuid: str | None,
        folder_name: str | None = None,
        folder_description: str | None = None,
    ) -> CreatedFolder:
        """Create a folder with a description; an empty parent means the root."""
        call = methods.create_folder_with_description(
            user_uuid, parent_folder_uuid, folder_name, folder_description
        )
        return await self._result(call, CreatedFolder)

    async def get_folder_list(
        self,
        user_uuid: str,
        parent_folder_uuid: str | None,
        folder_name: str | None = None,
        get_orders_in_folder: bool | None = None,
    ) -> FolderListing:
        """List a folder's subfolders (and, if asked, its orders); an empty parent means the root."""
        call = methods.get_folder_list(user_uuid, parent_folder_uuid, folder_name, get_orders_in_folder)
        message = await self._general(call)
        return FolderListing.model_validate(message.get("Folder") or {})

    async def delete_folder(self, user_uuid: str, folder_uuid: str) -> OperationResult:
        """Delete a folder."""
        return await self._result(methods.delete_folder(user_uuid, folder_uuid), OperationResult)

    async def get_folder_view_url(self, user_uuid: str, folder_uuid: str) -> Link:
        """Get a viewer URL for a folder."""
        return await self._link(methods.get_folder_view_url(user_uuid, folder_uuid))

    async def update_folder_with_json(
        self, user_uuid: str, folder_uuid: str, json_parameters: Mapping[str, Any]
    ) -> OperationResult:
        """Rename a folder or change its description (keys FolderName, FolderDescription)."""
        call = methods.update_folder_with_json(user_uuid, folder_uuid, json_parameters)
        return await self._result(call, OperationResult)

    async def add_order_to_folder(
        self,
        user_uuid: str,
        patient_order_institution_uuid: str,
        patient_order_uuid: str,
        folder_uuid_list: Sequence[str] | None = None,
    ) -> OperationResult:
        """Put an order into folders."""
        call = methods.add_order_to_folder(
            user_uuid, patient_order_institution_uuid, patient_order_uuid, folder_uuid_list
        )
        return await self._result(call, OperationResult)

    async def remove_order_from_folder(
        self, user_uuid: str, folder_uuid: str, patient_order_uuid_list: Sequence[str] | None = None
    ) -> OperationResult:
        """Take orders out of a folder."""
        call = methods.remove_order_from_folder(user_uuid, folder_uuid, patient_order_uuid_list)
        return await self._result(call, OperationResult)

    # --- views ---------------------------------------------------------------------------------

    async def get_view_url(self, user_uuid: str, patient_order_uuid: str) -> Link:
        """Get a viewer URL for an order (PostDICOM binds it to the requesting IP)."""
        return await self._link(methods.get_view_url(user_uuid, patient_order_uuid))

    async def get_view_url_with_patient_name(self, user_uuid: str, patient_name: str | None = None) -> Link:
        """Get a viewer URL for a patient's orders, by name."""
        return await self._link(methods.get_view_url_with_patient_name(user_uuid, patient_name))

    async def get_view_url_with_patient_name_and_birth_date(
        self, user_uuid: str, patient_name: str | None, birth_date: str | None
    ) -> Link:
        """Get a viewer URL for a patient's orders, by name and birth date."""
        call = methods.get_view_url_with_patient_name_and_birth_date(user_uuid, patient_name, birth_date)
        return await self._link(call)

    # --- orders --------------------------------------------------------------------------------

    async def delete_order(
        self, user_uuid: str, patient_order_institution_uuid: str, patient_order_uuid: str
    ) -> OperationResult:
        """Move an order to the trash."""
        call = methods.delete_order(user_uuid, patient_order_institution_uuid, patient_order_uuid)
        return await self._result(call, OperationResult)

    async def create_order_with_minimum_parameters(
        self,
        user_uuid: str,
        institution_uuid: str,
        patient_name: str | None,
        patient_id: str | None,
        modality: str | None,
        study_description: str | None,
        order_date: str,
        order_time: str,
    ) -> CreatedOrder:
        """Create an order from the fewest fields."""
        call = methods.create_order_with_minimum_parameters(
            user_uuid,
            institution_uuid,
            patient_name,
            patient_id,
            modality,
            study_description,
            order_date,
            order_time,
        )
        return await self._result(call, CreatedOrder)

    async def create_order_with_full_parameters(
        self,
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
    ) -> CreatedOrder:
        """Create an order with every field of the first full form."""
        call = methods.create_order_with_full_parameters(
            user_uuid,
            institution_uuid,
            patient_name,
            patient_id,
            patient_other_id,
            patient_birthdate,
            modality,
            study_description,
            accession_number,
            complaints,
            order_date,
            order_time,
            procedure_id,
            procedure_description,
            scheduled_equipment_uuid,
        )
        return await self._result(call, CreatedOrder)

    async def create_order_with_full_parameters2(
        self,
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
    ) -> CreatedOrder:
        """Create an order with sex and referring physician too; a sex other than M, F or O becomes empty."""
        call = methods.create_order_with_full_parameters2(
            user_uuid,
            institution_uuid,
            patient_name,
            patient_id,
            patient_other_id,
            patient_sex,
            patient_birthdate,
            modality,
            study_description,
            accession_number,
            complaints,
            order_date,
            order_time,
            procedure_id,
            procedure_description,
            scheduled_equipment_uuid,
            referring_physicians_name,
        )
        return await self._result(call, CreatedOrder)

    async def create_order_with_json(
        self, user_uuid: str, institution_uuid: str, json_parameters: Mapping[str, Any]
    ) -> CreatedOrder:
        """Create an order from a mapping of the library's flat field names."""
        call = methods.create_order_with_json(user_uuid, institution_uuid, json_parameters)
        return await self._result(call, CreatedOrder)

    async def get_patient_order_properties(
        self, user_uuid: str, patient_order_institution_uuid: str, patient_order_uuid: str
    ) -> PatientOrder:
        """Get one order's properties."""
        call = methods.get_patient_order_properties(
            user_uuid, patient_order_institution_uuid, patient_order_uuid
        )
        message = await self._general(call)
        return PatientOrder.model_validate(message.get("PatientOrder") or message)

    async def create_order_group(
        self,
        user_uuid: str,
        patient_order_institution_uuid: str,
        patient_order_uuid_list: Sequence[str] | None = None,
    ) -> OrderGroupResult:
        """Group orders so that they open together."""
        call = methods.create_order_group(user_uuid, patient_order_institution_uuid, patient_order_uuid_list)
        return await self._result(call, OrderGroupResult)

    async def add_orders_to_order_group(
        self,
        user_uuid: str,
        patient_order_institution_uuid: str,
        connected_group_uuid: str,
        patient_order_uuid_list: Sequence[str] | None = None,
    ) -> OrderGroupResult:
        """Add orders to an existing order group."""
        call = methods.add_orders_to_order_group(
            user_uuid, patient_order_institution_uuid, connected_group_uuid, patient_order_uuid_list
        )
        return await self._result(call, OrderGroupResult)

    async def remove_orders_from_group(
        self,
        user_uuid: str,
        patient_order_institution_uuid: str,
        patient_order_uuid_list: Sequence[str] | None = None,
    ) -> OrderGroupResult:
        """Take orders out of their order group."""
        call = methods.remove_orders_from_group(
            user_uuid, patient_order_institution_uuid, patient_order_uuid_list
        )
        return await self._result(call, OrderGroupResult)

    async def assign_patient_order_to_user(
        self, user_uuid: str, patient_order_uuid: str, assigned_user_uuid: str
    ) -> OperationResult:
        """Assign an order to a user."""
        call = methods.assign_patient_order_to_user(user_uuid, patient_order_uuid, assigned_user_uuid)
        return await self._result(call, OperationResult)

    async def unassign_patient_order_from_user(
        self, user_uuid: str, patient_order_uuid: str, unassigned_user_uuid: str
    ) -> OperationResult:
        """Take a user off an order."""
        call = methods.unassign_patient_order_from_user(user_uuid, patient_order_uuid, unassigned_user_uuid)
        return await self._result(call, OperationResult)

    async def assign_patient_order_to_user_group(
        self, user_uuid: str, patient_order_uuid: str, assigned_user_group_uuid: str
    ) -> OperationResult:
        """Assign an order to a user group."""
        call = methods.assign_patient_order_to_user_group(
            user_uuid, patient_order_uuid, assigned_user_group_uuid
        )
        return await self._result(call, OperationResult)

    async def unassign_patient_order_from_user_group(
        self, user_uuid: str, patient_order_uuid: str, unassigned_user_group_uuid: str
    ) -> OperationResult:
        """Take a user group off an order."""
        call = methods.unassign_patient_order_from_user_group(
            user_uuid, patient_order_uuid, unassigned_user_group_uuid
        )
        return await self._result(call, OperationResult)

    async def assign_patient_order_to_location(
        self, user_uuid: str, patient_order_uuid: str, institution_uuid: str
    ) -> OperationResult:
        """Move an order to another institution of the account."""
        call = methods.assign_patient_order_to_location(user_uuid, patient_order_uuid, institution_uuid)
        return await self._result(call, OperationResult)

    async def set_flag_to_patient_order(
        self, user_uuid: str, patient_order_uuid: str, group_id: int | None, flag_id: int | None
    ) -> OperationResult:
        """Set one flag of a flag group on an order."""
        call = methods.set_flag_to_patient_order(user_uuid, patient_order_uuid, group_id, flag_id)
        return await self._result(call, OperationResult)

    # --- sharing -------------------------------------------------------------------------------

    async def share_patient_order(
        self,
        user_uuid: str,
        order_uuid_list: Sequence[str] | None,
        email: str | None,
        email_for_sending_share_password: str | None = None,
        user_can_download_studies: bool | None = None,
    ) -> OperationResult:
        """Share orders by e-mail."""
        call = methods.share_patient_order(
            user_uuid, order_uuid_list, email, email_for_sending_share_password, user_can_download_studies
        )
        return await self._result(call, OperationResult)

    async def share_patient_order_with_expire_date(
        self,
        user_uuid: str,
        order_uuid_list: Sequence[str] | None,
        email: str | None,
        email_for_sending_share_password: str | None,
        user_can_download_studies: bool | None,
        expire_date: str,
    ) -> OperationResult:
        """Share orders by e-mail until a date."""
        call = methods.share_patient_order_with_expire_date(
            user_uuid,
            order_uuid_list,
            email,
            email_for_sending_share_password,
            user_can_download_studies,
            expire_date,
        )
        return await self._result(call, OperationResult)

    async def create_quick_share_link(
        self,
        user_uuid: str,
        order_uuid_list: Sequence[str] | None,
        user_can_download_studies: bool | None = None,
    ) -> Link:
        """Create a share link for orders."""
        return await self._link(
            methods.create_quick_share_link(user_uuid, order_uuid_list, user_can_download_studies)
        )

    async def create_quick_share_link_with_expire_date(
        self,
        user_uuid: str,
        order_uuid_list: Sequence[str] | None,
        user_can_download_studies: bool | None,
        expire_date: str,
    ) -> Link:
        """Create a share link for orders that expires on a date."""
        call = methods.create_quick_share_link_with_expire_date(
            user_uuid, order_uuid_list, user_can_download_studies, expire_date
        )
        return await self._link(call)

    async def share_folder_with_email(
        self,
        user_uuid: str,
        folder_uuid: str,
        email: str | None,
        email_for_sending_share_password: str | None,
        share_password: str | None,
        share_title: str | None,
        share_description: str | None,
        expire_date: str,
        user_can_download_studies: bool | None = None,
    ) -> OperationResult:
        """Share a folder by e-mail."""
        call = methods.share_folder_with_email(
            user_uuid,
            folder_uuid,
            email,
            email_for_sending_share_password,
            share_password,
            share_title,
            share_description,
            expire_date,
            user_can_download_studies,
        )
        return await self._result(call, OperationResult)

    async def share_folder_with_url(
        self,
        user_uuid: str,
        folder_uuid: str,
        share_password: str | None,
        share_title: str | None,
        share_description: str | None,
        expire_date: str,
        user_can_download_studies: bool | None = None,
    ) -> Link:
        """Create a share link for a folder."""
        call = methods.share_folder_with_url(
            user_uuid,
            folder_uuid,
            share_password,
            share_title,
            share_description,
            expire_date,
            user_can_download_studies,
        )
        return await self._link(call)

    async def share_folder_to_upload_with_email(
        self,
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
    ) -> OperationResult:
        """Invite someone by e-mail to upload into a folder."""
        call = methods.share_folder_to_upload_with_email(
            user_uuid,
            folder_uuid,
            email,
            email_for_sending_share_password,
            share_password,
            share_title,
            share_description,
            expire_date,
            user_can_download_studies,
            institution_uuid,
        )
        return await self._result(call, OperationResult)

    async def share_folder_to_upload_with_url(
        self,
        user_uuid: str,
        folder_uuid: str,
        share_password: str | None,
        share_title: str | None,
        share_description: str | None,
        expire_date: str,
        user_can_download_studies: bool | None,
        institution_uuid: str,
    ) -> Link:
        """Create a link through which anyone may upload into a folder."""
        call = methods.share_folder_to_upload_with_url(
            user_uuid,
            folder_uuid,
            share_password,
            share_title,
            share_description,
            expire_date,
            user_can_download_studies,
            institution_uuid,
        )
        return await self._link(call)

    async def share_folder_with_account_user(
        self, user_uuid: str, folder_uuid: str, shared_user_uuid_list: Sequence[str] | None, expire_date: str
    ) -> OperationResult:
        """Share a folder with users of the account."""
        call = methods.share_folder_with_account_user(
            user_uuid, folder_uuid, shared_user_uuid_list, expire_date
        )
        return await self._result(call, OperationResult)

    async def share_folder_with_account_user_group(
        self,
        user_uuid: str,
        folder_uuid: str,
        shared_user_group_uuid_list: Sequence[str] | None,
        expire_date: str,
    ) -> OperationResult:
        """Share a folder with user groups of the account."""
        call = methods.share_folder_with_account_user_group(
            user_uuid, folder_uuid, shared_user_group_uuid_list, expire_date
        )
        return await self._result(call, OperationResult)

    # --- dictionaries --------------------------------------------------------------------------

    async def get_account_flag_dictionary(self, user_uuid: str) -> list[FlagGroup]:
        """Get the account's flag groups and flags."""
        return await self._list(methods.get_account_flag_dictionary(user_uuid), "FlagGroupList", FlagGroup)

    async def get_user_group_list(self, user_uuid: str) -> list[UserGroup]:
        """Get the account's user groups."""
        return await self._list(methods.get_user_group_list(user_uuid), "UserGroupList", UserGroup)

    async def get_dicom_node_list(self, user_uuid: str) -> list[DicomNode]:
        """Get the account's DICOM nodes."""
        return await self._list(methods.get_dicom_node_list(user_uuid), "DicomNodeList", DicomNode)

    async def get_contact_list(self, user_uuid: str) -> list[Contact]:
        """Get the account's contacts."""
        return await self._list(methods.get_contact_list(user_uuid), "ContactList", Contact)

    async def get_user_list(self, user_uuid: str) -> list[AccountUser]:
        """Get the account's users."""
        return await self._list(methods.get_user_list(user_uuid), "UserList", AccountUser)

    # --- uploads -------------------------------------------------------------------------------

    async def upload_dicom_files(
        self,
        user_uuid: str,
        institution_uuid: str,
        files: Sequence[UploadFile],
        *,
        folder_uuid: str | None = None,
        anonymize: AnonymizedData | None = None,
        progress: ProgressCallback | None = None,
    ) -> UploadResult:
        """Upload DICOM files, optionally into a folder and anonymized, over parallel upload sockets."""
        return await uploads.upload_dicom_files(
            self.transport,
            user_uuid,
            institution_uuid,
            files,
            folder_uuid=folder_uuid,
            anonymize=anonymize,
            progress=progress,
            upload_sockets=self.upload_sockets,
            validate_folder=folder_uuid is not None and anonymize is not None,
        )

    async def upload_dicom_files_into_folder(
        self,
        user_uuid: str,
        institution_uuid: str,
        folder_uuid: str,
        files: Sequence[UploadFile],
        *,
        progress: ProgressCallback | None = None,
    ) -> UploadResult:
        """Upload DICOM files into a folder (the folder is not validated, as in the library)."""
        return await uploads.upload_dicom_files(
            self.transport,
            user_uuid,
            institution_uuid,
            files,
            folder_uuid=folder_uuid,
            progress=progress,
            upload_sockets=self.upload_sockets,
        )

    async def upload_dicom_files_with_anonymization(
        self,
        user_uuid: str,
        institution_uuid: str,
        files: Sequence[UploadFile],
        anonymized_data: AnonymizedData,
        *,
        progress: ProgressCallback | None = None,
    ) -> UploadResult:
        """Upload DICOM files with the given tags rewritten before they leave this machine."""
        return await uploads.upload_dicom_files(
            self.transport,
            user_uuid,
            institution_uuid,
            files,
            anonymize=anonymized_data,
            progress=progress,
            upload_sockets=self.upload_sockets,
        )

    async def upload_dicom_files_into_folder_with_anonymization(
        self,
        user_uuid: str,
        institution_uuid: str,
        folder_uuid: str,
        files: Sequence[UploadFile],
        anonymized_data: AnonymizedData,
        *,
        progress: ProgressCallback | None = None,
    ) -> UploadResult:
        """Upload anonymized DICOM files into a folder."""
        return await uploads.upload_dicom_files(
            self.transport,
            user_uuid,
            institution_uuid,
            files,
            folder_uuid=folder_uuid,
            anonymize=anonymized_data,
            progress=progress,
            upload_sockets=self.upload_sockets,
            validate_folder=True,
        )

    async def upload_document_files(
        self,
        user_uuid: str,
        institution_uuid: str,
        patient_order_uuid: str,
        files: Sequence[UploadFile],
        *,
        progress: ProgressCallback | None = None,
    ) -> UploadResult:
        """Attach documents (PDF, images, video) to an order."""
        return await uploads.upload_document_files(
            self.transport, user_uuid, institution_uuid, patient_order_uuid, files, progress=progress
        )
