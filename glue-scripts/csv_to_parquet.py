"""CSV -> Parquet: the Glue 5.0 (Spark 3.5, Python 3.11) job of the curated zone.

Converts one validated raw CSV (``--source``) into typed, zstd-compressed Parquet data files of
the dataset's Iceberg table: Parquet field ids from ``--schema``, an ``ingest_date`` column, unique
names under the day's data folder (``--target``), and a commit request (``--commit-request``)
naming the files for the committer, following the value rules of DESIGN §2. The contract
(arguments, output layout and naming, Parquet types, what fails a run) is glue-scripts/README.md;
the local DuckDB engine implements the same contract.

Only ``main()`` touches Spark, awsglue or boto3, and imports them itself: everything else is pure
and importable (and unit-tested) without pyspark. The cast plan is data: one SQL expression per
column, rendered over positional column names, so the rules can be read and tested as text.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import re
import secrets
import sys
from typing import Any, Callable, Iterable, Mapping, NamedTuple, Optional, Sequence

# ---------------------------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------------------------

REQUIRED_ARGS = ("dataset", "source", "target", "ingest-date", "commit-request", "schema", "expected-rows", "run-id")
# The lineage arguments are required only by a schema with lineage fields (``lineage_values``): an
# execution started before they existed carries a schema without them, and still converts.
OPTIONAL_ARGS = ("delimiter", "quote", "multiline", "source-key", "source-version", "ingested-at")
DEFAULT_DELIMITER = ","
DEFAULT_QUOTE = '"'

# A Step Functions execution name (what --run-id carries) is at most 80 characters of this set;
# it becomes part of an S3 key, so nothing else is accepted. Every pattern of this module that
# must hold for a whole string ends in ``\Z``: Python's ``$`` also matches before a final newline.
_RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}\Z")


class JobArgs(NamedTuple):
    dataset: str
    source: str
    target: str
    schema: str
    expected_rows: int
    ingest_date: str  # YYYY-MM-DD: the ingest_date of every row
    commit_request: str  # s3://bucket/<key>.json: where the commit request goes
    run_id: str
    delimiter: str
    quote: str = DEFAULT_QUOTE
    # The validator's recordSpansLines: some quoted value holds a line break, so the file must be
    # read whole (multiLine). Absent means true: the whole-file read is right for every file.
    multiline: bool = True
    # The landed object's key, its version as the ledger names it, and when S3 received it (ISO 8601
    # UTC with milliseconds): the values of the lineage fields. None when not passed.
    source_key: Optional[str] = None
    source_version: Optional[str] = None
    ingested_at: Optional[str] = None


class JobFailure(Exception):
    """A run that must fail: the message says what is wrong with the input or the output."""


def _option_given(argv: Sequence[str], name: str) -> bool:
    flag = "--" + name
    return any(a == flag or a.startswith(flag + "=") for a in argv[1:])


def parse_args(argv: Sequence[str], resolve: Callable[[Sequence[str], list], Mapping[str, Any]]) -> JobArgs:
    """The job arguments, checked.

    ``resolve`` is ``awsglue.utils.getResolvedOptions`` in Glue (a fake in tests). It fails on a
    missing option, so the optional ones (``OPTIONAL_ARGS``) are only asked for when they are on
    the command line. getResolvedOptions returns argparse destinations (``expected_rows`` for
    ``--expected-rows``); the dashed spelling is accepted too.
    """
    wanted = list(REQUIRED_ARGS) + [o for o in OPTIONAL_ARGS if _option_given(argv, o)]
    resolved = resolve(argv, wanted)

    def get(name: str) -> Optional[str]:
        for key in (name.replace("-", "_"), name):
            if resolved.get(key) is not None:
                return str(resolved[key])
        return None

    missing = [name for name in REQUIRED_ARGS if not get(name)]
    if missing:
        raise JobFailure("missing job argument(s): " + ", ".join("--" + m for m in missing))

    expected = get("expected-rows") or ""
    if not re.fullmatch(r"[0-9]+", expected):
        raise JobFailure(f"--expected-rows must be a non-negative integer, got {expected!r}")
    run_id = get("run-id") or ""
    if not _RUN_ID.match(run_id):
        raise JobFailure(f"--run-id must be 1-80 characters of [A-Za-z0-9_-] (an execution name), got {run_id!r}")

    delimiter = get("delimiter")
    delimiter = DEFAULT_DELIMITER if delimiter is None else delimiter
    if delimiter == "\\t":
        delimiter = "\t"
    quote = get("quote")
    quote = DEFAULT_QUOTE if quote is None else quote
    if not is_quote_character(quote):
        raise JobFailure(f"--quote must be one ASCII character above space, got {quote!r}")
    if not is_delimiter_character(delimiter) or delimiter == quote:
        raise JobFailure(
            f"--delimiter must be one ASCII character other than NUL, CR, LF and the quote {quote!r}, got {delimiter!r}"
        )

    multiline = get("multiline")
    if multiline not in (None, "true", "false"):
        raise JobFailure(f"--multiline must be true or false, got {multiline!r}")

    source = get("source") or ""
    target = get("target") or ""
    split_s3_uri(source)
    split_s3_uri(target)
    source_stem(source)
    ingest_date = get("ingest-date") or ""
    if not is_calendar_date(ingest_date):
        raise JobFailure(f"--ingest-date must be a date YYYY-MM-DD, got {json.dumps(ingest_date)}")
    commit_request = get("commit-request") or ""
    _, request_key = split_s3_uri(commit_request)
    if not request_key.endswith(".json") or request_key.endswith("/.json"):
        raise JobFailure(f"--commit-request must name a .json object, got {json.dumps(commit_request)}")
    ingested_at = get("ingested-at") or None
    if ingested_at is not None and not is_utc_instant(ingested_at):
        raise JobFailure("--ingested-at must be an ISO 8601 UTC instant with milliseconds "
                         f"(2024-01-05T10:00:00.000Z, an S3 LastModified), got {json.dumps(ingested_at)}")
    return JobArgs(
        dataset=get("dataset") or "",
        source=source,
        target=target if target.endswith("/") else target + "/",
        schema=get("schema") or "",
        expected_rows=int(expected),
        run_id=run_id,
        delimiter=delimiter,
        quote=quote,
        multiline=multiline != "false",
        ingest_date=ingest_date,
        commit_request=commit_request,
        source_key=get("source-key") or None,
        source_version=get("source-version") or None,
        ingested_at=ingested_at,
    )


def is_calendar_date(text: str) -> bool:
    """``YYYY-MM-DD`` naming a day of the proleptic Gregorian calendar, years 0001-9999."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return False
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


_UTC_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{3}Z")


def is_utc_instant(text: str) -> bool:
    """``YYYY-MM-DDTHH:MM:SS.sssZ`` naming a real instant (JavaScript's ``toISOString``, years 0001-9999:
    ``strptime`` refuses year 0, a day or time that does not exist)."""
    if not _UTC_INSTANT.fullmatch(text):
        return False
    try:
        datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        return False
    return True


def is_delimiter_character(c: str) -> bool:
    """What the dataset model allows as a delimiter (lib/datasets/model.ts): one ASCII character
    other than NUL, CR and LF."""
    return len(c) == 1 and "\x00" < c <= "\x7f" and c not in "\r\n"


def is_quote_character(c: str) -> bool:
    """What the dataset model allows as a quote (lib/datasets/model.ts): one ASCII character above
    space (Spark's tokenizer takes every character up to U+0020 for whitespace, not a quote)."""
    return len(c) == 1 and " " < c <= "\x7f"


# ---------------------------------------------------------------------------------------------
# S3 names: source, input copy, data files
# ---------------------------------------------------------------------------------------------

_CSV_EXT = re.compile(r"\.csv(\.gz)?\Z", re.IGNORECASE)


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> ``(bucket, key)``; the key may be empty (a bucket root)."""
    if not uri.startswith("s3://"):
        raise JobFailure(f"not an s3:// URI: {uri!r}")
    bucket, _, key = uri[len("s3://"):].partition("/")
    if not bucket:
        raise JobFailure(f"no bucket in S3 URI {uri!r}")
    return bucket, key


def source_stem(source: str) -> str:
    """The source file name without ``.csv`` / ``.csv.gz`` (any case, as the validator accepts)."""
    _, key = split_s3_uri(source)
    name = key.rsplit("/", 1)[-1]
    match = _CSV_EXT.search(name)
    if not match or match.start() == 0:
        raise JobFailure(f"the source must be a .csv or .csv.gz file with a name, got {source!r}")
    return name[: match.start()]


def output_stem(source: str) -> str:
    """The stem the output files are named by: the source stem, escaped when it would hide them.

    Athena, Hive and Spark skip files whose name starts with ``_`` or ``.``, so such a stem gets
    its first character percent-encoded (``_x`` -> ``%5Fx``, ``.x`` -> ``%2Ex``) and a leading
    ``%`` becomes ``%25``: the mapping stays one-to-one, so two sources never share outputs.
    """
    stem = source_stem(source)
    first = stem[0]
    if first in "_.%":
        return "%{:02X}".format(ord(first)) + stem[1:]
    return stem


def _target_prefix(target: str) -> tuple[str, str]:
    bucket, key = split_s3_uri(target)
    if key and not key.endswith("/"):
        key += "/"
    return bucket, key


def input_copy_prefix(target: str, run_id: str) -> str:
    """``<target>_staging/<run-id>/input/``: where a source that Spark cannot read by its own name
    is copied first (a hidden folder, deleted when the run ends). Nothing else is staged: the data
    files are written at their final names."""
    bucket, key = _target_prefix(target)
    if not _RUN_ID.match(run_id):
        raise JobFailure(f"invalid run id {run_id!r}")
    return f"s3://{bucket}/{key}_staging/{run_id}/input/"


# Most UTF-8 bytes of a name (a key segment): the local S3 server's limit (lambdas/validate/core.ts
# MAX_NAME_BYTES), which the twin's data file names keep too.
MAX_NAME_BYTES = 255 - len("._S3rver_metadata.json")
UNIQUE_DIGITS = 16


def data_file_stem(source: str, suffix: str) -> str:
    """The stem a run's data files are named by: ``output_stem``, cut (whole code points) and given
    ``~`` and 16 hex digits of its SHA-256 when the name with ``suffix`` would pass
    ``MAX_NAME_BYTES`` (the twin's ``dataFileStem``). The commit request names the files, so the
    name need not map back to the source."""
    stem = output_stem(source)
    budget = MAX_NAME_BYTES - len(suffix.encode("utf-8"))
    if len(stem.encode("utf-8")) <= budget:
        return stem
    tag = "~" + hashlib.sha256(stem.encode("utf-8")).hexdigest()[:16]
    out, used = [], 0
    for ch in stem:
        used += len(ch.encode("utf-8"))
        if used > budget - len(tag):
            break
        out.append(ch)
    return "".join(out) + tag


def unique_part() -> str:
    """A fresh random part for a run's data folder: a re-run, or a retry under the same run id,
    never meets an earlier name."""
    return secrets.token_hex(UNIQUE_DIGITS // 2)


def data_folder(target: str, source: str, run_id: str, unique: str) -> str:
    """``<target><stem>-<run-id>-<unique>/``: the folder Spark writes this run's data files into
    (Spark names them ``part-<task>-<uuid>-c<n>.zstd.parquet``). Unique, so nothing is ever
    overwritten; the files are invisible until the committer appends them to the table."""
    if not _RUN_ID.match(run_id):
        raise JobFailure(f"invalid run id {run_id!r}")
    if not re.fullmatch(r"[0-9a-f]{%d}" % UNIQUE_DIGITS, unique):
        raise JobFailure(f"invalid unique part {unique!r}")
    bucket, key = _target_prefix(target)
    suffix = f"-{run_id}-{unique}"
    return f"s3://{bucket}/{key}{data_file_stem(source, suffix)}{suffix}/"


# Hadoop picks the decompressor by the (case-sensitive) ``.gz`` suffix and treats ``{}[]*?\``
# in a path as a glob; Spark skips files named ``_…``/``.…`` and Hadoop paths choke on ``:``.
# The validator detects gzip by its magic bytes and accepts any name, so a source that Spark
# would misread by its name is first copied to a plain one.
_SPARK_SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._=-]*\Z")


def spark_input_name(source: str, is_gzip: bool) -> Optional[str]:
    """``None`` when Spark can read ``source`` as it is; otherwise the file name to copy it to
    (``source.csv`` or ``source.csv.gz``, matching the content) under ``input_copy_prefix``."""
    _, key = split_s3_uri(source)
    safe = all(_SPARK_SAFE_SEGMENT.match(seg) for seg in key.split("/"))
    suffix_ok = key.endswith(".csv.gz") if is_gzip else key.lower().endswith(".csv")
    if safe and suffix_ok:
        return None
    return "source.csv.gz" if is_gzip else "source.csv"


GZIP_MAGIC = b"\x1f\x8b"

# Output files: one per ~1 GiB of CSV text at most; gzip is counted at a typical 4x ratio for CSV.
BYTES_PER_OUTPUT_FILE = 1 << 30
GZIP_RATIO_ESTIMATE = 4


def rows_per_file(source_bytes: int, is_gzip: bool, rows: int) -> int:
    """Spark's ``maxRecordsPerFile`` for the write: the rows of ~1 GiB of CSV, from the source's
    row width (its CSV bytes over the validator's row count). Each write task cuts its output into
    files of at most this many rows, in row order, so a file read by one task (multiLine, gzip)
    gets ~1 GiB parts without a shuffle. At least 1: Spark takes 0 or less for "no limit"."""
    estimate = source_bytes * (GZIP_RATIO_ESTIMATE if is_gzip else 1)
    if rows <= 0 or estimate <= BYTES_PER_OUTPUT_FILE:
        return max(1, rows)
    return max(1, math.ceil(rows * BYTES_PER_OUTPUT_FILE / estimate))


def read_whole(args_multiline: bool, is_gzip: bool) -> bool:
    """Whether Spark reads the file whole (``multiLine``, one task) rather than line by line, split
    across tasks. A record spanning lines needs the whole-file read; a gzip stream cannot be split,
    so the line read would gain nothing there and the whole-file read, which every file is proven
    with, is kept (README: How values are read)."""
    return args_multiline or is_gzip


# Spark names a write task's files part-<task>-<job uuid>-c<file of the task>.<codec>.parquet.
_SPARK_PART = re.compile(r"part-([0-9]+)-.*-c([0-9]+)(\.[A-Za-z0-9]+)*\.parquet\Z")


def part_order(key: str) -> tuple:
    """Sort key of a data file in row order: by task (the read split, in file order), then by the
    file's number within its task (``maxRecordsPerFile`` cuts). Numeric, so a task number of six
    digits still sorts after five; a name not of Spark's form sorts by name after those."""
    name = key.rsplit("/", 1)[-1]
    m = _SPARK_PART.match(name)
    return (0, int(m.group(1)), int(m.group(2)), name) if m else (1, 0, 0, name)


def is_part_file(key: str) -> bool:
    """A Parquet data file Spark wrote (not ``_SUCCESS``, a ``.crc`` or a hidden temp file)."""
    name = key.rsplit("/", 1)[-1]
    return name.endswith(".parquet") and not name.startswith(("_", "."))


def written_files(listing: Iterable[tuple], folder_key: str) -> list:
    """The data files of the run's folder in row order, as ``(key, size)``: its direct children
    that are Spark's part files. A committer's leftovers under ``_temporary/…`` (a failed task
    attempt's part files) are deeper, so never taken."""
    files = [(k, size) for k, size in listing
             if k.startswith(folder_key) and "/" not in k[len(folder_key):] and is_part_file(k)]
    return sorted(files, key=lambda f: part_order(f[0]))


# ---------------------------------------------------------------------------------------------
# Schema and cast plan
# ---------------------------------------------------------------------------------------------

_DECIMAL = re.compile(r"^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)\Z")

# Spark StructType JSON type names (and the dataset model's spellings) -> Spark SQL types.
_SIMPLE_TYPES = {
    "string": "STRING",
    "integer": "INT",
    "int": "INT",
    "long": "BIGINT",
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    # A UTC instant: TIMESTAMP_LTZ whatever spark.sql.timestampType says; written as Parquet
    # INT64 TIMESTAMP(MICROS, isAdjustedToUTC=true).
    "timestamp": "TIMESTAMP_LTZ",
}


def spark_type_of(type_name: Any) -> str:
    """The Spark SQL type of a schema field type: ``long`` -> ``BIGINT``,
    ``decimal(12,2)`` -> ``DECIMAL(12,2)``. Anything else is an error."""
    if not isinstance(type_name, str):
        raise ValueError(f"unsupported column type {type_name!r}: expected one of "
                         "string, integer, long, double, decimal(p,s), boolean, date, timestamp")
    t = type_name.strip().lower()
    if t in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[t]
    m = _DECIMAL.match(t)
    if m:
        p, s = int(m.group(1)), int(m.group(2))
        if not (1 <= p <= 38 and 0 <= s <= p):
            raise ValueError(f"invalid {type_name!r}: need 1 <= precision <= 38 and 0 <= scale <= precision")
        return f"DECIMAL({p},{s})"
    raise ValueError(f"unsupported column type {type_name!r}: expected one of "
                     "string, integer, long, double, decimal(p,s), boolean, date, timestamp")


# Guards: Java regular expressions a value must match before Spark converts it. Spark's casts are
# more lenient than the value rules (' 7' and '1.5' -> int, 'yes' -> boolean, '2024-01-05T10' ->
# date, 'Infinity' -> double, '1.005' rounded into decimal(12,2)); the validator has rejected all
# of that already, and the guards make sure such a value can only become a counted failure here,
# never a different value. ``\z`` is the true end of input (``$`` would allow a final newline).
GUARD_INT = r"^[+-]?[0-9]+\z"
GUARD_DOUBLE = r"^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?\z"
GUARD_DATE = r"^(?!0000)[0-9]{4}-[0-9]{2}-[0-9]{2}\z"
GUARD_TIMESTAMP = (
    r"^(?!0000)[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"([.][0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})?\z"
)


def guard_decimal(scale: int) -> str:
    """Plain notation with at most ``scale`` fraction digits (so a cast never rounds)."""
    if scale == 0:
        return r"^[+-]?[0-9]+[.]?\z"
    return r"^[+-]?([0-9]+([.][0-9]{0,%d})?|[.][0-9]{1,%d})\z" % (scale, scale)


def sql_string_literal(text: str) -> str:
    """A Spark SQL string literal (backslash escapes, spark.sql.parser.escapedStringLiterals=false)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def quote_identifier(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _guarded(guard: str, conversion: str) -> str:
    return f"CASE WHEN {{col}} RLIKE {sql_string_literal(guard)} THEN {conversion} END"


def cast_template(spark_type: str) -> str:
    """The SQL expression (``{col}`` = the raw string column) converting a CSV text to
    ``spark_type``, or NULL when the text breaks the value rules. NULL in gives NULL out."""
    if spark_type == "STRING":
        return "{col}"
    if spark_type in ("INT", "BIGINT"):
        # TRY_CAST from string to an integral type is the strict (ANSI) parse, NULL on overflow.
        return _guarded(GUARD_INT, f"TRY_CAST({{col}} AS {spark_type})")
    if spark_type == "DOUBLE":
        # '1e999' parses to Infinity, which the rules call out of range.
        return (
            f"CASE WHEN {{col}} RLIKE {sql_string_literal(GUARD_DOUBLE)}"
            " AND abs(TRY_CAST({col} AS DOUBLE)) < CAST('Infinity' AS DOUBLE)"
            " THEN TRY_CAST({col} AS DOUBLE) END"
        )
    m = re.fullmatch(r"DECIMAL\((\d+),(\d+)\)", spark_type)
    if m:
        # The guard bounds the scale; TRY_CAST is NULL when the precision overflows.
        return _guarded(guard_decimal(int(m.group(2))), f"TRY_CAST({{col}} AS {spark_type})")
    if spark_type == "BOOLEAN":
        return "CASE lower({col}) WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE END"
    if spark_type == "DATE":
        # Spark 3 parser, STRICT resolver: 2023-02-30 -> NULL (timeParserPolicy=CORRECTED).
        return _guarded(GUARD_DATE, "to_date({col}, 'yyyy-MM-dd')")
    if spark_type == "TIMESTAMP_LTZ":
        # The guard pins the ISO 8601 shape; the space is normalised to 'T' and Spark's cast reads
        # the optional fraction and 'Z'/'±HH:MM' offset; no offset = the session zone, UTC. An
        # impossible date or time of day (02-30, 24:00, :60) casts to NULL.
        return _guarded(GUARD_TIMESTAMP, "TRY_CAST(replace({col}, ' ', 'T') AS TIMESTAMP_LTZ)")
    raise ValueError(f"no cast for Spark type {spark_type!r}")


class CastStep(NamedTuple):
    column: str  # output column name
    header: str  # the CSV header text (metadata.header, default the name)
    spark_type: str  # Spark SQL type, e.g. DECIMAL(12,2)
    template: str  # SQL expression over {col}, see cast_template
    nullable: bool  # as declared, and true for an optional, retired or lineage field (null by the model)
    declared_type: str  # the type as the schema spells it, for messages
    field_id: int  # the Parquet (= Iceberg) field id: metadata["parquet.field.id"]
    aliases: tuple = ()  # other header texts of the column (metadata.aliases)
    optional: bool = False  # the header may be absent: a typed NULL then (metadata.optional)
    retired: bool = False  # never read from the file: a typed NULL in every row (metadata.retired)
    lineage: Optional[str] = None  # a lineage field: the argument that fills it (metadata.lineage)


# The column the job adds to every row (the table's partition source), and its field id.
INGEST_DATE_COLUMN = "ingest_date"
INGEST_DATE_FIELD_ID = 1
# The StructField metadata key Spark >= 3.3 writes as the Parquet field id
# (spark.sql.parquet.fieldId.write.enabled, on by default).
FIELD_ID_KEY = "parquet.field.id"
# A lineage field's metadata.lineage -> the Spark type it must have. Its value is the argument of
# the same name (``--source-key``, ``--source-version``, ``--ingested-at``), cast by the plan.
LINEAGE_TYPES = {"source_key": "STRING", "source_version": "STRING", "ingested_at": "TIMESTAMP_LTZ"}


def compact_json(value: Any) -> str:
    """A metadata value in a message: compact JSON, as the twin's ``JSON.stringify`` writes it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _flag(name: str, metadata: Mapping[str, Any], key: str) -> bool:
    value = metadata.get(key, False)
    if not isinstance(value, bool):
        raise ValueError(f"column {name!r}: metadata.{key} must be true or false, got {compact_json(value)}")
    return value


def _aliases(name: str, metadata: Mapping[str, Any]) -> tuple:
    aliases = metadata.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
        raise ValueError(f"column {name!r}: metadata.aliases must be a list of non-empty strings")
    return tuple(aliases)


def cast_plan(schema_json: Any) -> list:
    """One CastStep per schema field, in declaration order (the Parquet column order)."""
    schema = json.loads(schema_json) if isinstance(schema_json, (str, bytes)) else schema_json
    if not isinstance(schema, dict) or schema.get("type") != "struct" or not isinstance(schema.get("fields"), list):
        raise ValueError('--schema must be a Spark StructType JSON: {"type":"struct","fields":[...]}')
    if not schema["fields"]:
        raise ValueError("--schema has no fields")
    plan = []
    names: set = set()
    headers: set = set()
    ids: set = set()
    lineages: set = set()
    for i, field in enumerate(schema["fields"]):
        if not isinstance(field, dict) or not isinstance(field.get("name"), str) or not field["name"]:
            raise ValueError(f"--schema field {i} has no name")
        name = field["name"]
        metadata = field.get("metadata") or {}
        if not isinstance(metadata, dict):
            metadata = {}
        header = metadata.get("header", name)
        if not isinstance(header, str) or not header:
            raise ValueError(f"column {name!r}: metadata.header must be a non-empty string")
        if name in names:
            raise ValueError(f"column {name!r} is declared twice")
        names.add(name)
        lineage = metadata.get("lineage")
        if lineage is not None and lineage not in LINEAGE_TYPES:
            raise ValueError(f"column {name!r}: metadata.lineage must be one of "
                             f"{', '.join(LINEAGE_TYPES)}, got {compact_json(lineage)}")
        if lineage is not None and lineage in lineages:
            raise ValueError(f"lineage {lineage} is declared twice")
        aliases = _aliases(name, metadata)
        optional = _flag(name, metadata, "optional")
        retired = _flag(name, metadata, "retired")
        # A lineage field is not read from the file: its header texts name nothing.
        for text in [] if lineage is not None else [header, *aliases]:
            if text in headers:
                raise ValueError(f"header {text!r} is declared twice")
            headers.add(text)
        if name == INGEST_DATE_COLUMN:
            raise ValueError(f"column {name!r} is the partition column: the job adds it")
        field_id = metadata.get(FIELD_ID_KEY) if isinstance(metadata, dict) else None
        if type(field_id) is not int or field_id <= INGEST_DATE_FIELD_ID:
            shown = "none" if field_id is None else json.dumps(field_id)
            raise ValueError(f"column {name!r}: metadata[\"{FIELD_ID_KEY}\"] must be an integer field id above "
                             f"{INGEST_DATE_FIELD_ID} ({INGEST_DATE_COLUMN}'s), got {shown}")
        if field_id in ids:
            raise ValueError(f"field id {field_id} is declared twice")
        ids.add(field_id)
        try:
            spark_type = spark_type_of(field.get("type"))
        except ValueError as e:
            raise ValueError(f"column {name!r}: {e}") from None
        if lineage is not None:
            lineages.add(lineage)
            if spark_type != LINEAGE_TYPES[lineage]:
                raise ValueError(f"column {name!r}: the lineage field {lineage} must be of type "
                                 f"{LINEAGE_TYPES[lineage]}, got {compact_json(field.get('type'))}")
        nullable = bool(field.get("nullable", True)) or optional or retired or lineage is not None
        plan.append(CastStep(name, header, spark_type, cast_template(spark_type), nullable,
                             str(field.get("type")), field_id, aliases, optional, retired, lineage))
    return plan


def lineage_values(plan: Sequence[CastStep], args: JobArgs) -> dict:
    """The value of each lineage field of the plan (``metadata.lineage`` -> its argument's text). A
    schema with lineage fields needs their arguments; one without them (an execution started
    before they existed) needs none."""
    given = {"source_key": args.source_key, "source_version": args.source_version,
             "ingested_at": args.ingested_at}
    missing = [s.lineage for s in plan if s.lineage is not None and given[s.lineage] is None]
    if missing:
        raise JobFailure("the schema has lineage fields, so the job needs "
                         + ", ".join("--" + m.replace("_", "-") for m in missing)
                         + " (the landed object's key, version and LastModified)")
    return {s.lineage: given[s.lineage] for s in plan if s.lineage is not None}


def written_order(plan: Sequence[CastStep]) -> list:
    """The plan's step indexes in the order of the written columns: the declared columns, then
    (``ingest_date`` between, marked None) the lineage fields, as the table schema orders them."""
    return ([k for k, s in enumerate(plan) if s.lineage is None] + [None]
            + [k for k, s in enumerate(plan) if s.lineage is not None])


# Spark SQL types -> StructType JSON type names.
_JSON_TYPES = {"STRING": "string", "INT": "integer", "BIGINT": "long", "DOUBLE": "double",
               "BOOLEAN": "boolean", "DATE": "date", "TIMESTAMP_LTZ": "timestamp"}


def output_schema(plan: Sequence[CastStep]) -> dict:
    """The StructType JSON of what the job writes: the declared columns, then ``ingest_date``, then
    the lineage fields (``written_order``), each with its Parquet field id in
    ``metadata["parquet.field.id"]``, which Spark writes into the file. ``main`` gives every
    written column this metadata."""
    fields = []
    for k in written_order(plan):
        if k is None:
            fields.append({"name": INGEST_DATE_COLUMN, "type": "date", "nullable": False,
                           "metadata": {FIELD_ID_KEY: INGEST_DATE_FIELD_ID}})
            continue
        s = plan[k]
        fields.append({"name": s.column,
                       "type": s.spark_type.lower() if s.spark_type.startswith("DECIMAL(") else _JSON_TYPES[s.spark_type],
                       "nullable": s.nullable, "metadata": {FIELD_ID_KEY: s.field_id}})
    return {"type": "struct", "fields": fields}


def output_items(plan: Sequence[CastStep], ingest_date: str) -> list:
    """SQL select items of the written frame, in ``written_order``: each typed column under its
    name, with the ``ingest_date`` constant (a DATE) before the lineage fields."""
    return [f"DATE {sql_string_literal(ingest_date)} AS {quote_identifier(INGEST_DATE_COLUMN)}" if k is None
            else f"t{k} AS {quote_identifier(plan[k].column)}" for k in written_order(plan)]


def render(template: str, column_ref: str) -> str:
    return template.replace("{col}", column_ref)


def header_positions(file_headers: Sequence[str], plan: Sequence[CastStep]) -> list:
    """The position in the file of each planned column, found by its header text or, as the
    validator also accepts, its name or one of its aliases; None for a column the file does not
    give: a retired column or a lineage field (never read), an optional column the header lacks. A
    file column no step finds (an extra one the dataset ignores) is not read. A UTF-8 BOM left on
    the first header is dropped (Spark's reader normally strips it; this is the belt to those
    braces)."""
    headers = list(file_headers)
    if headers:
        headers[0] = headers[0].removeprefix("\ufeff")
    positions: list = []
    missing = []
    for step in plan:
        found = None
        if not step.retired and step.lineage is None:
            found = next((headers.index(t) for t in (step.header, step.column, *step.aliases) if t in headers), None)
        positions.append(found)
        if found is None and not (step.retired or step.optional or step.lineage is not None):
            missing.append(step.header)
    if missing:
        raise JobFailure(
            "the file's header has no column "
            + ", ".join(repr(m) for m in missing)
            + f" (file header: {', '.join(repr(h) for h in headers)})"
        )
    return positions


def raw_column(position: int) -> str:
    """The positional name a file column gets once read (header texts may hold any character)."""
    return f"c{position}"


def projection(plan: Sequence[CastStep], positions: Sequence[Optional[int]],
               lineage: Optional[Mapping[str, str]] = None) -> list:
    """SQL select items: each planned column's raw text as ``r<k>`` and its typed value as ``t<k>``.
    A lineage field's raw text is its argument (``lineage_values``), cast as a file's text is; a
    column the file does not give (position None) is a typed NULL."""
    items = []
    for k, (step, pos) in enumerate(zip(plan, positions)):
        if step.lineage is not None:
            raw = sql_string_literal((lineage or {})[step.lineage])
        elif pos is None:
            items.append(f"CAST(NULL AS STRING) AS r{k}")
            items.append(f"CAST(NULL AS {step.spark_type}) AS t{k}")
            continue
        else:
            raw = quote_identifier(raw_column(pos))
        items.append(f"{raw} AS r{k}")
        items.append(f"CAST({render(step.template, raw)} AS {step.spark_type}) AS t{k}")
    return items


def null_violation_expression(raw_ref: str, typed_ref: str) -> str:
    """Counts values that were present (not null) in the CSV but did not convert."""
    return f"SUM(CASE WHEN {raw_ref} IS NOT NULL AND {typed_ref} IS NULL THEN 1 ELSE 0 END)"


def not_null_expression(typed_ref: str) -> str:
    return f"SUM(CASE WHEN {typed_ref} IS NULL THEN 1 ELSE 0 END)"


def check_aggregates(plan: Sequence[CastStep]) -> list:
    """One aggregation pass: the row count, failed conversions per typed column (``bad<k>``) and
    nulls per non-nullable column (``nul<k>``)."""
    items = ["COUNT(1) AS row_count"]
    for k, step in enumerate(plan):
        if step.spark_type != "STRING":
            items.append(f"{null_violation_expression(f'r{k}', f't{k}')} AS bad{k}")
        if not step.nullable:
            items.append(f"{not_null_expression(f't{k}')} AS nul{k}")
    return items


def read_check_results(plan: Sequence[CastStep], row: Mapping[str, Any]) -> tuple:
    """``(row_count, {column: failed conversions}, {column: nulls in a non-nullable column})``
    from the aggregated row (SUM over no rows is NULL: counted as 0)."""
    bad = {}
    nul = {}
    for k, step in enumerate(plan):
        if row.get(f"bad{k}"):
            bad[step.column] = int(row[f"bad{k}"])
        if row.get(f"nul{k}"):
            nul[step.column] = int(row[f"nul{k}"])
    return int(row.get("row_count") or 0), bad, nul


def check_counts(
    plan: Sequence[CastStep],
    expected_rows: int,
    row_count: int,
    cast_failures: Mapping[str, int],
    null_failures: Optional[Mapping[str, int]] = None,
) -> Optional[str]:
    """Why the run must fail, as one message, or None when the data files may be committed."""
    problems = []
    types = {s.column: s.declared_type for s in plan}
    if cast_failures:
        total = sum(cast_failures.values())
        detail = ", ".join(f"{c} ({types.get(c, '?')}): {n}" for c, n in cast_failures.items())
        problems.append(
            f"{total} non-empty value{'s' if total != 1 else ''} did not convert to the declared type"
            f" in column{'s' if len(cast_failures) != 1 else ''} {detail}"
        )
    if null_failures:
        total = sum(null_failures.values())
        detail = ", ".join(f"{c}: {n}" for c, n in null_failures.items())
        problems.append(f"{total} null{'s' if total != 1 else ''} in non-nullable column"
                        f"{'s' if len(null_failures) != 1 else ''} {detail}")
    if row_count != expected_rows:
        problems.append(f"read {row_count} rows but the validator counted {expected_rows} (--expected-rows)")
    if not problems:
        return None
    return "; ".join(problems)


class Verdict(NamedTuple):
    """What the run does once the write's observed metrics are in (``after_write``)."""
    action: str  # "commit", "read whole" (read again with multiLine, then decide again) or "fail"
    message: Optional[str] = None  # why, for "read whole" and "fail"


def after_write(plan: Sequence[CastStep], expected_rows: int, metrics: Mapping[str, Any],
                read_whole_file: bool) -> Verdict:
    """Decides from the metrics observed on the write (``check_aggregates``' columns) whether its
    data files may be named in the commit request.

    A line-by-line read that finds fewer rows than the validator counted read again whole: Spark's
    line reader drops every line that Java's ``String.trim`` leaves empty (``filterCommentAndEmpty``),
    and a line of only characters up to U+0020 can be a valid record (a one-column file of spaces,
    a tab-separated row of empty fields). The univocity differential (test/spark) shows that this is
    the only way the line read differs from the whole-file read on a file whose records span no
    lines, so a full count proves the line read whole, and a short one is redone the proven way.
    Anything else wrong fails the run, with the words the twin uses for the same failure."""
    row_count, bad, nul = read_check_results(plan, metrics)
    if not read_whole_file and row_count < expected_rows:
        return Verdict("read whole", f"the line-by-line read found {row_count} of {expected_rows} rows "
                                     "(Spark drops lines of only spaces and control characters there)")
    problem = check_counts(plan, expected_rows, row_count, bad, nul)
    return Verdict("fail", problem) if problem else Verdict("commit")


# ---------------------------------------------------------------------------------------------
# Spark settings
# ---------------------------------------------------------------------------------------------

# Unquoted empty field -> null, quoted "" -> '' (DESIGN §2). Spark's CSV reader (univocity) gives
# `nullValue` for a field with no characters and `emptyValue` for a quoted empty one, and then
# turns any field equal to `nullValue` into NULL. With the defaults ("" and "") both become NULL.
# So `nullValue` is a sentinel no real field holds and `emptyValue` is "": an unquoted empty field
# arrives as the sentinel, becomes NULL, and a quoted one stays ''. No post-processing needed.
NULL_SENTINEL = "\u0000csv_to_parquet:unquoted-empty\u0000"


def spark_sep(delimiter: str) -> str:
    """The ``sep`` option that makes Spark split on ``delimiter``. Spark reads ``sep`` with
    ``CSVExprUtils.toDelimiterStr``, where a backslash starts a two-character escape (``\\t`` is a
    tab) and a lone backslash is refused: a backslash delimiter is written as two."""
    return "\\\\" if delimiter == "\\" else delimiter


def reader_options(delimiter: str, quote: str = DEFAULT_QUOTE, whole_file: bool = True) -> dict:
    """Spark CSV reader options: every column a string (cast afterwards, by the plan). The
    dataset's quote is both ``quote`` and ``escape``: a quote inside a quoted field is doubled
    (RFC 4180 with the dataset's quote character), and no other character escapes anything.

    ``whole_file`` is ``multiLine``: on, quoted fields may hold line breaks and one task reads the
    file (LF/CRLF detected from its first line break); off, Hadoop's line reader splits the file
    at LF, CR and CRLF across tasks and each line is parsed alone. No ``lineSep`` in either mode:
    the line reader then takes all three endings, and the whole-file read detects the file's own."""
    return {
        "header": "true",
        "inferSchema": "false",
        "multiLine": "true" if whole_file else "false",
        "sep": spark_sep(delimiter),
        "quote": quote,
        "escape": quote,
        "encoding": "UTF-8",  # a leading UTF-8 BOM is skipped by the reader (see header_positions)
        "mode": "FAILFAST",  # a malformed record fails the run instead of becoming nulls
        "nullValue": NULL_SENTINEL,
        "emptyValue": "",
        "ignoreLeadingWhiteSpace": "false",
        "ignoreTrailingWhiteSpace": "false",
        "maxCharsPerColumn": "-1",
    }


SPARK_CONF = {
    "spark.sql.session.timeZone": "UTC",
    # INT64 micros (isAdjustedToUTC) instead of the legacy INT96.
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    # Spark 3.5 writes zstd Parquet natively (zstd-jni is bundled); Athena and DuckDB read it.
    "spark.sql.parquet.compression.codec": "zstd",
    # Standard Parquet decimals (INT32/INT64/FIXED_LEN_BYTE_ARRAY by precision).
    "spark.sql.parquet.writeLegacyFormat": "false",
    # Proleptic Gregorian as is: no rebasing, and no failure on dates before 1582.
    "spark.sql.parquet.datetimeRebaseModeInWrite": "CORRECTED",
    "spark.sql.parquet.int96RebaseModeInWrite": "CORRECTED",
    # Conversion failures are NULLs that the checks count, never exceptions mid-job.
    "spark.sql.ansi.enabled": "false",
    "spark.sql.legacy.timeParserPolicy": "CORRECTED",
    # Header texts that differ only by case are distinct columns (no renaming by Spark).
    "spark.sql.caseSensitive": "true",
    # The guards' regular expressions are written for backslash-escaping SQL literals.
    "spark.sql.parser.escapedStringLiterals": "false",
    # A line-by-line read is cut into splits of min(this, max(4 MiB, file size / cores)) bytes
    # (FilePartition.maxSplitBytes): every core gets a split, and each write task, one per split,
    # writes parts of up to ~1 GiB of CSV rather than Spark's default 128 MiB ones.
    "spark.sql.files.maxPartitionBytes": str(BYTES_PER_OUTPUT_FILE),
    # Each StructField's metadata["parquet.field.id"] becomes the Parquet field id (Iceberg maps
    # columns by it). On by default since Spark 3.3; set so that no cluster default can turn it off.
    "spark.sql.parquet.fieldId.write.enabled": "true",
}

PARQUET_COMPRESSION = "zstd"


# ---------------------------------------------------------------------------------------------
# S3 work (boto3 client passed in)
# ---------------------------------------------------------------------------------------------

def list_keys(s3: Any, bucket: str, prefix: str, delimiter: Optional[str] = None) -> list:
    """Every key under ``prefix`` across all pages; with ``delimiter`` only the folder's direct
    children (S3 rolls deeper keys up into CommonPrefixes, which are not returned)."""
    kwargs = {"Bucket": bucket, "Prefix": prefix}
    if delimiter:
        kwargs["Delimiter"] = delimiter
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(**kwargs):
        keys.extend(obj["Key"] for obj in page.get("Contents", []))
    return keys


def error_text(e: BaseException) -> str:
    """An error in one line: ``<class name>: <message>`` (the twin's ``errorText`` words it alike)."""
    return f"{type(e).__name__}: {e}"


def try_delete(s3: Any, bucket: str, keys: Sequence[str]) -> tuple:
    """Deletes the keys, a thousand a request, going on past a failed batch. Returns ``(keys not
    deleted, the first reason)``; ``([], "")`` when every one went."""
    left, reason = [], ""
    for i in range(0, len(keys), 1000):
        batch = list(keys[i: i + 1000])
        try:
            response = s3.delete_objects(
                Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
            )
        except Exception as e:  # the whole request failed: none of its keys is known to be gone
            left.extend(batch)
            reason = reason or error_text(e)
            continue
        errors = response.get("Errors") or []
        left.extend(str(error.get("Key")) for error in errors)
        if errors and not reason:
            reason = f"{errors[0].get('Code')} {errors[0].get('Message')}"
    return left, reason


def delete_keys(s3: Any, bucket: str, keys: Sequence[str]) -> None:
    left, reason = try_delete(s3, bucket, keys)
    if left:
        raise JobFailure(f"could not delete {len(left)} object(s) in s3://{bucket}/, first {left[0]}: {reason}")


def clean_input_copy(s3: Any, target: str, run_id: str) -> None:
    bucket, prefix = split_s3_uri(input_copy_prefix(target, run_id))
    delete_keys(s3, bucket, list_keys(s3, bucket, prefix))


def list_objects(s3: Any, bucket: str, prefix: str) -> list:
    """``(key, size)`` of every object under ``prefix``, across all pages."""
    objects = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        objects.extend((obj["Key"], int(obj["Size"])) for obj in page.get("Contents", []))
    return objects


# ---------------------------------------------------------------------------------------------
# Parquet footers: the row count of a data file, without pyarrow
# ---------------------------------------------------------------------------------------------

PARQUET_MAGIC = b"PAR1"
# The tail read first: the footer of a file of a few hundred columns fits; a longer one is read whole.
FOOTER_PROBE_BYTES = 1 << 16


class _Compact:
    """Just enough of Thrift's compact protocol to skip fields and read an integer."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise ValueError("the Parquet footer ends early")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def varint(self) -> int:
        shift = result = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def skip(self, ctype: int) -> None:
        if ctype in (1, 2):  # booleans: the value is in the type
            return
        if ctype == 3:
            self.byte()
        elif ctype in (4, 5, 6):
            self.varint()
        elif ctype == 7:
            self.pos += 8
        elif ctype == 8:
            length = self.varint()  # read before pos is: ``self.pos += self.varint()`` would lose its bytes
            self.pos += length
        elif ctype in (9, 10):
            head = self.byte()
            size = head >> 4
            if size == 15:
                size = self.varint()
            for _ in range(size):
                self.skip_element(head & 0x0F)
        elif ctype == 11:
            size = self.varint()
            if size:
                kv = self.byte()
                for _ in range(size):
                    self.skip_element(kv >> 4)
                    self.skip_element(kv & 0x0F)
        elif ctype == 12:
            self.skip_struct()
        else:
            raise ValueError(f"unknown Thrift compact type {ctype}")

    def skip_element(self, ctype: int) -> None:
        # In a list, set or map a boolean is a byte of its own.
        if ctype in (1, 2):
            self.byte()
        else:
            self.skip(ctype)

    def skip_struct(self) -> None:
        while True:
            head = self.byte()
            if head == 0:
                return
            if head >> 4 == 0:
                self.zigzag()  # a long-form field id
            self.skip(head & 0x0F)

    def struct_i64(self, wanted: int) -> int:
        """The integer field ``wanted`` of the struct that starts here."""
        field = 0
        while True:
            head = self.byte()
            if head == 0:
                raise ValueError(f"the Parquet footer has no field {wanted}")
            delta, ctype = head >> 4, head & 0x0F
            field = field + delta if delta else self.zigzag()
            if field == wanted and ctype in (4, 5, 6):
                return self.zigzag()
            self.skip(ctype)


def footer_length(tail: bytes) -> int:
    """The footer's length from a file's last 8 bytes (``<length, 4 bytes LE>PAR1``)."""
    if len(tail) < 8 or tail[-4:] != PARQUET_MAGIC:
        raise ValueError("not a Parquet file: no PAR1 at its end")
    return int.from_bytes(tail[-8:-4], "little")


def parquet_num_rows(footer: bytes) -> int:
    """``num_rows`` (field 3) of a Parquet ``FileMetaData`` (the footer, Thrift compact)."""
    return _Compact(footer).struct_i64(3)


def data_file_rows(s3: Any, bucket: str, key: str, size: int) -> int:
    """The row count of a data file in S3, from its footer (one or two ranged reads)."""
    if size < 12:
        raise ValueError(f"s3://{bucket}/{key} is too small ({size} bytes) for a Parquet file")
    start = max(0, size - FOOTER_PROBE_BYTES)
    tail = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{size - 1}")["Body"].read()
    length = footer_length(tail)
    if length + 8 > size:
        raise ValueError(f"s3://{bucket}/{key}: a footer of {length} bytes in a file of {size}")
    if length + 8 <= len(tail):
        footer = tail[len(tail) - 8 - length: len(tail) - 8]
    else:
        footer = s3.get_object(Bucket=bucket, Key=key,
                               Range=f"bytes={size - 8 - length}-{size - 9}")["Body"].read()
    return parquet_num_rows(footer)


def commit_request(args: JobArgs, files: Sequence[Mapping[str, Any]]) -> dict:
    """The commit request of the run (lambdas/shared/contract.ts ``CommitRequestFile``): the data
    files written, with their true row counts and sizes, and their rows in total."""
    return {
        "version": 1,
        "dataset": args.dataset,
        "runId": args.run_id,
        "source": args.source,
        "ingestDate": args.ingest_date,
        "rows": sum(int(f["rows"]) for f in files),
        "files": [{"path": f["path"], "rows": int(f["rows"]), "bytes": int(f["bytes"])} for f in files],
    }


def describe_files(s3: Any, folder: str, expected_rows: int) -> list:
    """The run's data files for the commit request: listed (sizes from the listing), rows from the
    observed count when there is one file, else from each file's footer; the rows must add up to
    ``expected_rows`` (the observed count equals it: the checks passed)."""
    bucket, prefix = split_s3_uri(folder)
    files = written_files(list_objects(s3, bucket, prefix), prefix)
    if not files:
        raise JobFailure(f"Spark wrote no Parquet file under {folder}")
    if len(files) == 1:
        rows = [expected_rows]
    else:
        rows = [data_file_rows(s3, bucket, key, size) for key, size in files]
    if sum(rows) != expected_rows:
        raise JobFailure(f"the {len(files)} data files under {folder} hold {sum(rows)} rows, "
                         f"not the {expected_rows} written")
    return [{"path": f"s3://{bucket}/{key}", "rows": n, "bytes": size} for (key, size), n in zip(files, rows)]


def put_commit_request(s3: Any, args: JobArgs, files: Sequence[Mapping[str, Any]]) -> dict:
    """Writes the commit request at ``--commit-request``, after the last data file."""
    request = commit_request(args, files)
    bucket, key = split_s3_uri(args.commit_request)
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(request).encode("utf-8"),
                  ContentType="application/json")
    return request


def is_gzip_object(s3: Any, bucket: str, key: str) -> bool:
    head = s3.get_object(Bucket=bucket, Key=key, Range="bytes=0-1")["Body"].read()
    return head[:2] == GZIP_MAGIC


# ---------------------------------------------------------------------------------------------
# The Spark entry point (runs only in Glue)
# ---------------------------------------------------------------------------------------------

def log(message: str) -> None:
    print(f"[csv_to_parquet] {message}", flush=True)


def main(argv: Optional[Sequence[str]] = None) -> None:
    import boto3
    from awsglue.utils import getResolvedOptions
    from pyspark.sql import Observation, SparkSession
    from pyspark.sql.functions import col, expr

    args = parse_args(list(sys.argv if argv is None else argv), getResolvedOptions)
    plan = cast_plan(args.schema)
    lineage = lineage_values(plan, args)
    log(f"dataset {args.dataset}: {args.source} -> {args.target} (run {args.run_id})")

    spark = SparkSession.builder.getOrCreate()
    for key, value in SPARK_CONF.items():
        spark.conf.set(key, value)
    s3 = boto3.client("s3")

    src_bucket, src_key = split_s3_uri(args.source)
    size = s3.head_object(Bucket=src_bucket, Key=src_key)["ContentLength"]
    gzipped = size > 0 and is_gzip_object(s3, src_bucket, src_key)
    folder = data_folder(args.target, args.source, args.run_id, unique_part())
    schema = output_schema(plan)
    copy_name = spark_input_name(args.source, gzipped)
    try:
        read_uri = args.source
        if copy_name:
            read_uri = input_copy_prefix(args.target, args.run_id) + copy_name
            dst_bucket, dst_key = split_s3_uri(read_uri)
            s3.copy({"Bucket": src_bucket, "Key": src_key}, dst_bucket, dst_key)
            log(f"reading a copy named {copy_name}: Spark cannot read the source by its own name")

        def convert(whole_file: bool) -> Verdict:
            """One pass: read, cast, write the data files; the checks ride along as observed metrics."""
            raw = spark.read.options(**reader_options(args.delimiter, args.quote, whole_file)).csv(read_uri)
            positions = header_positions(raw.columns, plan)
            raw = raw.toDF(*[raw_column(i) for i in range(len(raw.columns))])
            checks = Observation("checks")
            typed = (raw.selectExpr(*projection(plan, positions, lineage))
                     .observe(checks, *[expr(item) for item in check_aggregates(plan)])
                     .selectExpr(*output_items(plan, args.ingest_date))
                     # Every column carries its field id, which Spark writes into the Parquet.
                     .select(*[col(quote_identifier(f["name"])).alias(f["name"], metadata=f["metadata"])
                               for f in schema["fields"]]))
            # The run's own folder, unique: "overwrite" only replaces a first, short line-by-line
            # read's files there (never committed), before the whole read.
            (typed.write.mode("overwrite")
             .option("compression", PARQUET_COMPRESSION)
             .option("maxRecordsPerFile", str(rows_per_file(size, gzipped, args.expected_rows)))
             .parquet(folder))
            return after_write(plan, args.expected_rows, checks.get, whole_file)

        whole_file = read_whole(args.multiline, gzipped)
        log("reading the file " + ("whole (one task)" if whole_file else "line by line, split across tasks"))
        verdict = convert(whole_file)
        if verdict.action == "read whole":
            log(f"{verdict.message}: reading it again whole")
            verdict = convert(True)
        if verdict.action != "commit":
            raise JobFailure(f"dataset {args.dataset}, source {args.source}: {verdict.message}")

        files = describe_files(s3, folder, args.expected_rows)
        put_commit_request(s3, args, files)
        log(f"wrote {args.expected_rows} rows in {len(files)} data file(s) under {folder}; "
            f"commit request {args.commit_request}")
    finally:
        if copy_name:
            try:
                clean_input_copy(s3, args.target, args.run_id)
            except Exception as e:  # the run's outcome stands; a leftover hidden copy is harmless
                log(f"could not delete the input copy under {input_copy_prefix(args.target, args.run_id)}: {e}")


if __name__ == "__main__":
    main()
