"""Durable uploads: Slack files to PostDICOM, one job per file, claimed with a lease, resumed after a crash.

:mod:`worker` runs the pool of one process, :mod:`pipeline` one attempt of a job (download, check,
unpack, upload), :mod:`download` the streaming Slack download, :mod:`prepare` the turning of a
downloaded file into instances or a document, :mod:`kept` the downloads checked for a prompt and
kept for the job. The app plugs in through :mod:`ports`.
"""

from bot.jobs.download import Downloaded, DownloadPolicy, download
from bot.jobs.errors import JobError, LeaseLost, Rejected
from bot.jobs.kept import KeptDownloads, KeptPolicy
from bot.jobs.pipeline import PipelineConfig, Preview, UploadPipeline, document_marker, preview
from bot.jobs.ports import Failure, JobHost, JobReporter, OrderTarget, Outcome, PostDicomTarget, SlackFile
from bot.jobs.prepare import DicomFile, DocumentFile, Prepared, prepare, safe_file_name
from bot.jobs.progress import Phase, Progress, Throttle
from bot.jobs.worker import JobControl, UploadWorkers, WorkerConfig, worker_identity

__all__ = [
    "DicomFile",
    "DocumentFile",
    "DownloadPolicy",
    "Downloaded",
    "Failure",
    "JobControl",
    "JobError",
    "JobHost",
    "JobReporter",
    "KeptDownloads",
    "KeptPolicy",
    "LeaseLost",
    "OrderTarget",
    "Outcome",
    "Phase",
    "PipelineConfig",
    "PostDicomTarget",
    "Prepared",
    "Preview",
    "Progress",
    "Rejected",
    "SlackFile",
    "Throttle",
    "UploadPipeline",
    "UploadWorkers",
    "WorkerConfig",
    "document_marker",
    "download",
    "prepare",
    "preview",
    "safe_file_name",
    "worker_identity",
]
