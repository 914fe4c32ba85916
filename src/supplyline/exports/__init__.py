"""BI export: readings, events, shipments, inventory positions and KPIs as Parquet datasets
partitioned by day (Hive layout), written within the caller's scope (see docs/exports.md)."""

from supplyline.exports.schedule import daily_root, export_daily
from supplyline.exports.schemas import DATASETS, Dataset
from supplyline.exports.service import (
    ALL_DATASETS,
    DatasetName,
    ExportRequest,
    ExportResult,
    check_request,
    create_job,
    export_parquet,
    finish_job,
    get_job,
    job_file,
    job_root,
)
from supplyline.exports.sources import Sources
from supplyline.exports.writer import PartitionedWriter, WrittenFile

__all__ = [
    "ALL_DATASETS",
    "DATASETS",
    "Dataset",
    "DatasetName",
    "ExportRequest",
    "ExportResult",
    "PartitionedWriter",
    "Sources",
    "WrittenFile",
    "check_request",
    "create_job",
    "daily_root",
    "export_daily",
    "export_parquet",
    "finish_job",
    "get_job",
    "job_file",
    "job_root",
]
