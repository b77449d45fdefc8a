"""Mutated DICOM files and zip archives shared in Slack, through the whole upload pipeline.

Hypothesis flips, cuts, inserts and deletes bytes of pydicom's test files and of CD-export-like
zips, and each result is shared in a channel that uploads at once. Every input ends one of three
ways: its job is done and what PostDICOM stored is exactly what was shared (dataset for dataset);
its job failed with a message for the thread; or the bytes are not recognised as DICOM or a zip at
all, and the file is left alone like any other file. The worker never dies: every job ends, and
a clean study uploads after all the garbage.
"""

from __future__ import annotations

import asyncio
import io
import zipfile
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from bot.sandbox.postdicom import DEMO_ACCOUNT_KEY, PostDicomEmulator
from bot.store import UploadJob
from tests.app.harness import Scenario
from tests.dicom.samples import ct_image, dicomdir_for, pydicom_file, zip_bytes


def unique_uid() -> str:
    """Return a UID from uuid4: Hypothesis seeds ``random`` for every example, so new_uid() repeats."""
    return generate_uid(prefix=None)


FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
JOB_APPEARS_WITHIN = 3.0
JOB_ENDS_WITHIN = 30.0

Mutation = tuple[Any, ...]
mutations = st.lists(
    st.one_of(
        st.tuples(st.just("flip"), st.integers(0, 4096), st.integers(1, 255)),
        st.tuples(st.just("flip"), st.integers(0, 2**20), st.integers(1, 255)),
        st.tuples(st.just("truncate"), st.integers(0, 2**20)),
        st.tuples(st.just("insert"), st.integers(0, 4096), st.binary(min_size=1, max_size=16)),
        st.tuples(st.just("delete"), st.integers(0, 4096), st.integers(1, 64)),
    ),
    min_size=1,
    max_size=3,
)


def mutate(data: bytes, operations: list[Mutation]) -> bytes:
    """Apply the drawn mutations, positions taken modulo the current length."""
    buffer = bytearray(data)
    for operation in operations:
        if not buffer:
            break
        kind, position = operation[0], operation[1] % len(buffer)
        if kind == "flip":
            buffer[position] ^= operation[2]
        elif kind == "truncate":
            del buffer[max(1, position) :]
        elif kind == "insert":
            buffer[position:position] = operation[2]
        else:
            del buffer[position : position + operation[2]]
    return bytes(buffer)


def fresh(name: str) -> bytes:
    """Return a source file with new UIDs, so that no two examples share an instance."""
    if name == "generated CT":
        return ct_image(study=unique_uid(), sop=unique_uid())
    dataset = dcmread(pydicom_file(name))
    study = unique_uid()
    dataset.StudyInstanceUID = study
    dataset.SeriesInstanceUID = study + ".1"
    dataset.SOPInstanceUID = dataset.file_meta.MediaStorageSOPInstanceUID = unique_uid()
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def parsed(data: bytes) -> Dataset | None:
    try:
        return dcmread(io.BytesIO(data), force=True)
    except Exception:
        return None


def same(stored: bytes | None, shared: bytes) -> bool:
    """Tell whether PostDICOM holds what was shared: the same bytes, or the same dataset re-wrapped."""
    if stored is None:
        return False
    if stored == shared:
        return True
    ours, theirs = parsed(stored), parsed(shared)
    return ours is not None and theirs is not None and ours == theirs


def instances(emulator: PostDicomEmulator) -> dict[tuple[str, str], bytes | None]:
    account = emulator.state.account(DEMO_ACCOUNT_KEY)
    assert account is not None
    return {
        (order.uuid, sop): instance.data
        for order in account.orders.values()
        for sop, instance in order.instances.items()
    }


async def share_and_settle(world: Scenario, name: str, content: bytes) -> UploadJob | None:
    """Share a file, deliver Slack's events and wait until its job (if any) has ended."""
    upload = world.slack.upload_file(
        user=world.demo.member, channel=world.demo.general, name=name, content=content
    )
    await world.send(upload.message_event)
    await world.send(upload.file_shared_event)
    jobs = world.app.services.store.upload_jobs
    job = None
    async with asyncio.timeout(JOB_APPEARS_WITHIN + JOB_ENDS_WITHIN):
        for _ in range(int(JOB_APPEARS_WITHIN / 0.05)):
            job = await jobs.find(world.workspace, upload.file.id)
            if job is not None:
                break
            await asyncio.sleep(0.05)
        while job is not None and not job.is_finished:
            await asyncio.sleep(0.05)
            job = await jobs.find(world.workspace, upload.file.id)
    return job


def judge(job: UploadJob | None, new: dict[tuple[str, str], bytes | None], originals: list[bytes]) -> str:
    """Assert the input was uploaded intact, refused with a message, or left alone; say which."""
    if job is None:
        assert not new, "instances were stored for a file that got no job"
        return "left alone"
    assert job.is_finished
    if job.state.value == "failed":
        assert job.last_error, "a refused upload must say why"
        assert not new, "a refused file must upload nothing"
        return "refused"
    for key, data in new.items():
        assert any(same(data, original) for original in originals), (
            f"instance {key[1]} is not what was shared"
        )
    return "uploaded"


async def clean_study_still_uploads(world: Scenario, emulator: PostDicomEmulator) -> None:
    study = unique_uid()
    job = await share_and_settle(world, "clean.dcm", ct_image(study=study, sop=unique_uid()))
    assert job is not None
    assert job.state.value == "done"
    account = emulator.state.account(DEMO_ACCOUNT_KEY)
    assert account is not None
    assert account.order_by_study(study) is not None


SOURCES = ("generated CT", "CT_small.dcm", "MR_small.dcm")


@FUZZ
@given(source=st.sampled_from(SOURCES), operations=mutations)
async def test_mutated_dicom_files_upload_intact_or_are_refused(
    world: Scenario, emulator: PostDicomEmulator, source: str, operations: list[Mutation]
) -> None:
    original = fresh(source)
    content = mutate(original, operations)
    before = instances(emulator)
    job = await share_and_settle(world, "image.dcm", content)
    new = {key: data for key, data in instances(emulator).items() if key not in before}
    outcome = judge(job, new, [content])
    event(outcome)
    if outcome != "uploaded":
        await clean_study_still_uploads(world, emulator)


@FUZZ
@given(
    stored=st.booleans(),
    with_dicomdir=st.booleans(),
    target=st.sampled_from(["anywhere", "headers"]),
    operations=mutations,
)
async def test_mutated_zip_archives_upload_intact_or_are_refused(
    world: Scenario,
    emulator: PostDicomEmulator,
    stored: bool,
    with_dicomdir: bool,
    target: str,
    operations: list[Mutation],
) -> None:
    study = unique_uid()
    members = [(f"CD/DICOM/IM{index}", ct_image(study=study, sop=unique_uid())) for index in range(3)]
    extra = [("CD/README.TXT", b"Viewer on this CD.\n")]
    if with_dicomdir:
        extra.append(("CD/DICOMDIR", dicomdir_for(name for name, _ in members)))
    archive = zip_bytes(
        [*members, *extra], compression=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    )
    if target == "headers":
        # Aim at the central directory at the end, where zip readers look first.
        tail = len(archive) - 200
        operations = [(op[0], tail + op[1] % 200, *op[2:]) for op in operations]
    content = mutate(archive, operations)
    before = instances(emulator)
    job = await share_and_settle(world, "study.zip", content)
    new = {key: data for key, data in instances(emulator).items() if key not in before}
    outcome = judge(job, new, [data for _, data in members])
    event(outcome)
    if outcome != "uploaded":
        await clean_study_still_uploads(world, emulator)
