"""``PostDicomClient``: PostDICOM's Cloud API library, as an asyncio Python client.

One method per method of PostDICOM's JavaScript library, named in snake_case, taking the same
arguments in the same order (without the callback) and returning typed results. Unlike the
library, whose sockets are module-level singletons, every client owns its own connection, so
clients for many accounts live side by side in one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
from collections.abc import AsyncIterable, Awaitable, Callable, Iterator, Sequence
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, Self, TypeVar

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
from bot.postdicom.transport import DEFAULT_ROUTER_URL, RequestObserver, Transport
from bot.postdicom.uploads import AnonymizedData, ProgressCallback, Release, UploadFile, UploadResult
from bot.postdicom.validation import Kind, passes

ModelT = TypeVar("ModelT", bound=BaseModel)
P = ParamSpec("P")
R = TypeVar("R")


def _secret(value: str | SecretStr) -> SecretStr:
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    return SecretStr(raw.strip())


def _api(
    builder: Callable[P, GeneralCall], parse: Callable[[dict[str, Any]], R]
) -> Callable[Concatenate[PostDicomClient, P], Awaitable[R]]:
    """Make a client method from a pure request builder and a parser of its answer."""

    async def method(self: PostDicomClient, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return parse(await self._general(builder(*args, **kwargs)))

    method.__name__ = builder.__name__
    method.__qualname__ = f"PostDicomClient.{builder.__name__}"
    method.__doc__ = builder.__doc__
    # help() and IDEs show the library's arguments, not *args and **kwargs.
    built = inspect.signature(builder)
    self_parameter = inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)
    method.__signature__ = built.replace(  # type: ignore[attr-defined]
        parameters=[self_parameter, *built.parameters.values()], return_annotation=inspect.Signature.empty
    )
    return method


def _counted(
    method: Callable[Concatenate[PostDicomClient, P], Awaitable[R]],
) -> Callable[Concatenate[PostDicomClient, P], Awaitable[R]]:
    """Count a method's runs as work under way on the client (see ``PostDicomClient.busy``)."""

    @functools.wraps(method)
    async def counted(self: PostDicomClient, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._using():
            return await method(self, *args, **kwargs)

    return counted


def _orders(message: dict[str, Any]) -> list[PatientOrder]:
    return [PatientOrder.model_validate(item) for item in list_from(message, "SearchResultList")]


def _items(key: str, model: type[ModelT]) -> Callable[[dict[str, Any]], list[ModelT]]:
    def parse(message: dict[str, Any]) -> list[ModelT]:
        return [model.model_validate(item) for item in list_from(message, key)]

    return parse


def _folder_listing(message: dict[str, Any]) -> FolderListing:
    return FolderListing.model_validate(message.get("Folder") or {})


def _order_properties(message: dict[str, Any]) -> PatientOrder:
    return PatientOrder.model_validate(message.get("PatientOrder") or message)


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
        observer: RequestObserver | None = None,
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
        self._observer = observer
        # Calls and uploads under way, so an owner can close the client only once they are over.
        self._calls = 0
        self.calls_started = 0
        self._quiet = asyncio.Event()
        self._quiet.set()

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
                observer=self._observer,
            )
        return await self._transport.connect()

    async def close(self) -> None:
        """Close the sockets, and the HTTP session if the client made it."""
        if self._transport is not None:
            await self._transport.close()
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def busy(self) -> bool:
        """Tell whether a request or an upload is under way."""
        return self._calls > 0

    async def wait_until_quiet(self) -> None:
        """Wait until no request and no upload is under way."""
        while self._calls:
            await self._quiet.wait()

    # --- plumbing ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _using(self) -> Iterator[None]:
        self._calls += 1
        self.calls_started += 1
        self._quiet.clear()
        try:
            yield
        finally:
            self._calls -= 1
            if not self._calls:
                self._quiet.set()

    @_counted
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
        try:
            return methods.result_message(call.operation, reply.json())
        except PostDicomError as error:
            transport.report_failure(call.operation, error)
            raise

    # --- every general request of the library, built by methods.py, parsed by a model -----------

    get_patient_order_list = _api(methods.get_patient_order_list, _orders)
    get_patient_order_list_with_date_range = _api(methods.get_patient_order_list_with_date_range, _orders)
    get_patient_order_list_with_birthdate = _api(methods.get_patient_order_list_with_birthdate, _orders)
    get_patient_order_list_in_folder = _api(methods.get_patient_order_list_in_folder, _orders)

    create_folder = _api(methods.create_folder, CreatedFolder.model_validate)
    create_folder_with_description = _api(
        methods.create_folder_with_description, CreatedFolder.model_validate
    )
    get_folder_list = _api(methods.get_folder_list, _folder_listing)
    delete_folder = _api(methods.delete_folder, OperationResult.model_validate)
    get_folder_view_url = _api(methods.get_folder_view_url, Link.from_message)
    update_folder_with_json = _api(methods.update_folder_with_json, OperationResult.model_validate)
    add_order_to_folder = _api(methods.add_order_to_folder, OperationResult.model_validate)
    remove_order_from_folder = _api(methods.remove_order_from_folder, OperationResult.model_validate)

    get_view_url = _api(methods.get_view_url, Link.from_message)
    get_view_url_with_patient_name = _api(methods.get_view_url_with_patient_name, Link.from_message)
    get_view_url_with_patient_name_and_birth_date = _api(
        methods.get_view_url_with_patient_name_and_birth_date, Link.from_message
    )

    delete_order = _api(methods.delete_order, OperationResult.model_validate)
    create_order_with_minimum_parameters = _api(
        methods.create_order_with_minimum_parameters, CreatedOrder.model_validate
    )
    create_order_with_full_parameters = _api(
        methods.create_order_with_full_parameters, CreatedOrder.model_validate
    )
    create_order_with_full_parameters2 = _api(
        methods.create_order_with_full_parameters2, CreatedOrder.model_validate
    )
    create_order_with_json = _api(methods.create_order_with_json, CreatedOrder.model_validate)
    get_patient_order_properties = _api(methods.get_patient_order_properties, _order_properties)
    create_order_group = _api(methods.create_order_group, OrderGroupResult.model_validate)
    add_orders_to_order_group = _api(methods.add_orders_to_order_group, OrderGroupResult.model_validate)
    remove_orders_from_group = _api(methods.remove_orders_from_group, OrderGroupResult.model_validate)
    assign_patient_order_to_user = _api(methods.assign_patient_order_to_user, OperationResult.model_validate)
    unassign_patient_order_from_user = _api(
        methods.unassign_patient_order_from_user, OperationResult.model_validate
    )
    assign_patient_order_to_user_group = _api(
        methods.assign_patient_order_to_user_group, OperationResult.model_validate
    )
    unassign_patient_order_from_user_group = _api(
        methods.unassign_patient_order_from_user_group, OperationResult.model_validate
    )
    assign_patient_order_to_location = _api(
        methods.assign_patient_order_to_location, OperationResult.model_validate
    )
    set_flag_to_patient_order = _api(methods.set_flag_to_patient_order, OperationResult.model_validate)

    share_patient_order = _api(methods.share_patient_order, OperationResult.model_validate)
    share_patient_order_with_expire_date = _api(
        methods.share_patient_order_with_expire_date, OperationResult.model_validate
    )
    create_quick_share_link = _api(methods.create_quick_share_link, Link.from_message)
    create_quick_share_link_with_expire_date = _api(
        methods.create_quick_share_link_with_expire_date, Link.from_message
    )
    share_folder_with_email = _api(methods.share_folder_with_email, OperationResult.model_validate)
    share_folder_with_url = _api(methods.share_folder_with_url, Link.from_message)
    share_folder_to_upload_with_email = _api(
        methods.share_folder_to_upload_with_email, OperationResult.model_validate
    )
    share_folder_to_upload_with_url = _api(methods.share_folder_to_upload_with_url, Link.from_message)
    share_folder_with_account_user = _api(
        methods.share_folder_with_account_user, OperationResult.model_validate
    )
    share_folder_with_account_user_group = _api(
        methods.share_folder_with_account_user_group, OperationResult.model_validate
    )

    get_account_flag_dictionary = _api(
        methods.get_account_flag_dictionary, _items("FlagGroupList", FlagGroup)
    )
    get_user_group_list = _api(methods.get_user_group_list, _items("UserGroupList", UserGroup))
    get_dicom_node_list = _api(methods.get_dicom_node_list, _items("DicomNodeList", DicomNode))
    get_contact_list = _api(methods.get_contact_list, _items("ContactList", Contact))
    get_user_list = _api(methods.get_user_list, _items("UserList", AccountUser))

    # --- uploads -------------------------------------------------------------------------------

    @_counted
    async def upload_dicom_files(
        self,
        user_uuid: str,
        institution_uuid: str,
        files: Sequence[UploadFile] | AsyncIterable[UploadFile],
        *,
        folder_uuid: str | None = None,
        anonymize: AnonymizedData | None = None,
        progress: ProgressCallback | None = None,
        expected_bytes: int = 0,
        release: Release | None = None,
    ) -> UploadResult:
        """Upload DICOM files, optionally into a folder and anonymized, over parallel upload sockets.

        Files may arrive while the upload runs, and their completion may wait for ``release``
        (see :func:`bot.postdicom.uploads.upload_dicom_files`).
        """
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
            expected_bytes=expected_bytes,
            release=release,
        )

    @_counted
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

    @_counted
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

    @_counted
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

    @_counted
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
