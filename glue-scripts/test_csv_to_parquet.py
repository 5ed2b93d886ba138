"""Unit tests of csv_to_parquet's pure logic (no pyspark here), plus its Spark entry point run
against fakes of SparkSession, awsglue and boto3: ``cd glue-scripts && python3 -m unittest -v``."""

import base64
import contextlib
import datetime
import decimal
import glob
import io
import json
import math
import os
import re
import shutil
import sys
import types
import unittest

import csv_to_parquet as job


def schema(*fields):
    """A --schema JSON; a field without a field id gets 2, 3, … by position (as sparkSchema gives them)."""
    fields = [dict(f, metadata={job.FIELD_ID_KEY: i + 2, **(f.get("metadata") or {})})
              if isinstance(f.get("metadata", {}), dict) else f for i, f in enumerate(fields)]
    return json.dumps({"type": "struct", "fields": fields})


def field(name, type_, nullable=True, header=None, field_id=None):
    metadata = {"header": header or name}
    if field_id is not None:
        metadata[job.FIELD_ID_KEY] = field_id
    return {"name": name, "type": type_, "nullable": nullable, "metadata": metadata}


def java_regex(guard):
    """A guard as Python's re reads it: Java's ``\\z`` (true end of input) is Python's ``\\Z``."""
    return re.compile(guard.replace(r"\z", r"\Z"))


def spark_unescape(literal):
    """What Spark's SQL parser makes of a '...' literal (backslash escapes)."""
    assert literal[0] == literal[-1] == "'"
    out, i, body = [], 0, literal[1:-1]
    while i < len(body):
        if body[i] == "\\":
            out.append(body[i + 1])
            i += 2
        else:
            assert body[i] != "'", "unescaped quote in literal"
            out.append(body[i])
            i += 1
    return "".join(out)


ORDERS = schema(
    field("order_id", "long", False),
    field("customer", "string", False, "Customer Name"),
    field("quantity", "integer", False),
    field("amount", "decimal(12,2)"),
    field("discount", "double"),
    field("gift", "boolean"),
    field("ordered_at", "timestamp", False),
    field("ship_date", "date"),
)

SOURCE = "s3://raw-bucket/orders/ingest_date=2024-01-05/orders.csv"
TARGET = "s3://curated-bucket/orders/iceberg/data/ingest_date=2024-01-05/"
REQUEST = "s3://curated-bucket/_commits/orders/exec-1.json"


class CastPlanTest(unittest.TestCase):
    def plan_of(self, type_):
        (step,) = job.cast_plan(schema(field("x", type_)))
        return step

    def test_spark_types(self):
        cases = {
            "string": "STRING",
            "integer": "INT",
            "int": "INT",
            "long": "BIGINT",
            "bigint": "BIGINT",
            "double": "DOUBLE",
            "decimal(38,10)": "DECIMAL(38,10)",
            "decimal(12, 2)": "DECIMAL(12,2)",
            "decimal(5,0)": "DECIMAL(5,0)",
            "boolean": "BOOLEAN",
            "date": "DATE",
            "timestamp": "TIMESTAMP_LTZ",
        }
        for declared, expected in cases.items():
            with self.subTest(declared):
                self.assertEqual(job.spark_type_of(declared), expected)

    def test_unknown_types_are_errors(self):
        for bad in ["float", "varchar(10)", "decimal", "decimal(0,0)", "decimal(39,2)", "decimal(4,5)", "", None, 3]:
            with self.subTest(bad):
                with self.assertRaises(ValueError):
                    job.spark_type_of(bad)
        with self.assertRaisesRegex(ValueError, r"column 'x': unsupported column type 'float'"):
            job.cast_plan(schema(field("x", "float")))

    def test_string_is_passed_through(self):
        self.assertEqual(self.plan_of("string").template, "{col}")

    def test_integer_types(self):
        self.assertEqual(
            self.plan_of("integer").template,
            "CASE WHEN {col} RLIKE '^[+-]?[0-9]+\\\\z' THEN TRY_CAST({col} AS INT) END",
        )
        self.assertEqual(
            self.plan_of("long").template,
            "CASE WHEN {col} RLIKE '^[+-]?[0-9]+\\\\z' THEN TRY_CAST({col} AS BIGINT) END",
        )

    def test_double(self):
        t = self.plan_of("double").template
        self.assertIn("TRY_CAST({col} AS DOUBLE)", t)
        self.assertIn("abs(TRY_CAST({col} AS DOUBLE)) < CAST('Infinity' AS DOUBLE)", t)
        self.assertIn(job.sql_string_literal(job.GUARD_DOUBLE), t)

    def test_decimal(self):
        t = self.plan_of("decimal(38,10)").template
        self.assertEqual(
            t,
            "CASE WHEN {col} RLIKE '^[+-]?([0-9]+([.][0-9]{0,10})?|[.][0-9]{1,10})\\\\z'"
            " THEN TRY_CAST({col} AS DECIMAL(38,10)) END",
        )

    def test_boolean(self):
        self.assertEqual(
            self.plan_of("boolean").template,
            "CASE lower({col}) WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE END",
        )

    def test_date(self):
        t = self.plan_of("date").template
        self.assertTrue(t.endswith("THEN to_date({col}, 'yyyy-MM-dd') END"), t)
        self.assertIn(job.sql_string_literal(job.GUARD_DATE), t)

    def test_timestamp(self):
        t = self.plan_of("timestamp").template
        self.assertTrue(t.endswith("THEN TRY_CAST(replace({col}, ' ', 'T') AS TIMESTAMP_LTZ) END"), t)
        self.assertIn(job.sql_string_literal(job.GUARD_TIMESTAMP), t)

    def test_headers_differ_from_names_and_order_is_kept(self):
        plan = job.cast_plan(ORDERS)
        self.assertEqual([s.column for s in plan], ["order_id", "customer", "quantity", "amount", "discount",
                                                     "gift", "ordered_at", "ship_date"])
        self.assertEqual(plan[1].header, "Customer Name")
        self.assertEqual(plan[0].header, "order_id")
        self.assertEqual([s.nullable for s in plan][:3], [False, False, False])
        self.assertEqual(plan[3].declared_type, "decimal(12,2)")

    def test_header_defaults_to_name(self):
        (step,) = job.cast_plan({"type": "struct", "fields": [{"name": "a", "type": "string", "nullable": True,
                                                               "metadata": {job.FIELD_ID_KEY: 2}}]})
        self.assertEqual(step.header, "a")

    def test_bad_schemas(self):
        for bad in ["{}", "[]", '{"type":"struct","fields":[]}', schema({"type": "string"}),
                    schema(field("a", "string"), field("a", "integer")),
                    schema(field("a", "string", header="H"), field("b", "string", header="H"))]:
            with self.subTest(bad):
                with self.assertRaises(ValueError):
                    job.cast_plan(bad)
        with self.assertRaises(ValueError):
            job.cast_plan("not json")

    def test_every_field_needs_its_own_field_id_above_ingest_dates(self):
        def raw(*fields):
            return json.dumps({"type": "struct", "fields": list(fields)})
        self.assertEqual([s.field_id for s in job.cast_plan(raw(field("a", "string", field_id=7),
                                                               field("b", "integer", field_id=2)))], [7, 2])
        cases = [
            (raw(field("a", "string")), 'column \'a\': metadata\\["parquet.field.id"\\] must be an integer field '
                                        "id above 1 \\(ingest_date's\\), got none$"),
            (raw(field("a", "string", field_id=1)), "above 1 .*, got 1$"),
            (raw(field("a", "string", field_id=0)), "got 0$"),
            (raw(field("a", "string", field_id="2")), 'got "2"$'),
            (raw(field("a", "string", field_id=2.5)), "got 2.5$"),
            (raw(field("a", "string", field_id=True)), "got true$"),
            (raw(field("a", "string", field_id=2), field("b", "string", field_id=2)), "^field id 2 is declared twice$"),
            (raw(field("ingest_date", "date", field_id=2)), "^column 'ingest_date' is the partition column: the job adds it$"),
        ]
        for bad, message in cases:
            with self.subTest(bad), self.assertRaisesRegex(ValueError, message):
                job.cast_plan(bad)

    def test_the_written_schema_carries_every_field_id_and_ingest_date(self):
        plan = job.cast_plan(ORDERS)
        written = job.output_schema(plan)
        self.assertEqual([(f["name"], f["type"], f["metadata"]) for f in written["fields"]], [
            ("order_id", "long", {"parquet.field.id": 2}),
            ("customer", "string", {"parquet.field.id": 3}),
            ("quantity", "integer", {"parquet.field.id": 4}),
            ("amount", "decimal(12,2)", {"parquet.field.id": 5}),
            ("discount", "double", {"parquet.field.id": 6}),
            ("gift", "boolean", {"parquet.field.id": 7}),
            ("ordered_at", "timestamp", {"parquet.field.id": 8}),
            ("ship_date", "date", {"parquet.field.id": 9}),
            ("ingest_date", "date", {"parquet.field.id": 1}),
        ])
        self.assertEqual([f["nullable"] for f in written["fields"]],
                         [False, False, False, True, True, True, False, True, False])
        self.assertEqual(job.output_items(plan, "2024-01-05")[-2:],
                         ["t7 AS `ship_date`", "DATE '2024-01-05' AS `ingest_date`"])

    def test_rendering_and_projection(self):
        plan = job.cast_plan(schema(field("n", "integer"), field("s", "string", header="S")))
        self.assertEqual(
            job.projection(plan, [1, 0]),
            [
                "`c1` AS r0",
                "CAST(CASE WHEN `c1` RLIKE '^[+-]?[0-9]+\\\\z' THEN TRY_CAST(`c1` AS INT) END AS INT) AS t0",
                "`c0` AS r1",
                "CAST(`c0` AS STRING) AS t1",
            ],
        )

    def test_sql_literals_carry_the_regex_unchanged(self):
        for guard in [job.GUARD_INT, job.GUARD_DOUBLE, job.GUARD_DATE, job.GUARD_TIMESTAMP,
                      job.guard_decimal(0), job.guard_decimal(2), "it's \\ odd"]:
            with self.subTest(guard):
                self.assertEqual(spark_unescape(job.sql_string_literal(guard)), guard)

    def test_identifiers_are_quoted(self):
        self.assertEqual(job.quote_identifier("a`b"), "`a``b`")


GUARD_CASES = [
    (job.GUARD_INT, ["0", "-7", "+42", "007", "2147483648"],
     ["", " 1", "1 ", "1.0", "1e3", "0x1F", "\u0661\u0662", "1\n", "--1", "+"]),
    (job.GUARD_DOUBLE, ["3.14", ".5", "5.", "-1e-3", "+2E10", "0"],
     ["", "NaN", "Infinity", "inf", "1e", "e3", ".", "1,5", " 1", "1d", "0x1p3", "1.5\n"]),
    (job.guard_decimal(2), ["12.50", "-0.5", "+.25", "12", "12.", "0012.3"],
     ["12.505", "1e3", "", ".", "1,00", "12.50 ", "--1"]),
    (job.guard_decimal(0), ["12", "-3", "12."], ["12.0", ".5", ""]),
    (job.guard_decimal(10), ["1.0123456789"], ["1.01234567891"]),
    (job.GUARD_DATE, ["2024-01-05", "0001-12-31", "9999-12-31"],
     ["2024-1-5", "2024-01-05T00:00:00", "20240105", "0000-01-01", "2024-01-05\n", " 2024-01-05"]),
    (
        job.GUARD_TIMESTAMP,
        [
            "2024-01-05T10:20:30Z",  # Z
            "2024-01-05T10:20:30+02:00",  # offset
            "2024-01-05T10:20:30-05:30",
            "2024-01-05T10:20:30",  # none = UTC
            "2024-01-05T10:20:30.1",  # fraction
            "2024-01-05T10:20:30.123456Z",
            "2024-01-05 10:20:30",  # space separator
            "2024-01-05 10:20:30.5+01:00",
        ],
        [
            "2024-01-05",
            "2024-01-05T10:20",
            "2024-01-05T10:20:30.1234567",  # 7 fraction digits
            "2024-01-05T10:20:30.",
            "2024-01-05T10:20:30z",
            "2024-01-05T10:20:30+0200",
            "2024-01-05T10:20:30+02",
            "2024-01-05T10:20:30 UTC",
            "2024-01-05t10:20:30",
            "0000-01-05T10:20:30",
            "2024-01-05T10:20:30Z\n",
        ],
    ),
]

# Spark evaluates RLIKE as java.util.regex find(): the guards are run through Java itself when a
# JDK is on the machine, after the round trip through a SQL string literal.
JAVA_RLIKE = """
import java.util.Base64;
import java.util.regex.Pattern;
public class Rlike {
  public static void main(String[] a) throws Exception {
    var in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in, "UTF-8"));
    var dec = Base64.getDecoder();
    for (String line; (line = in.readLine()) != null; ) {
      String[] p = line.split(" ", -1);
      String re = new String(dec.decode(p[0]), "UTF-8"), v = new String(dec.decode(p[1]), "UTF-8");
      System.out.println(Pattern.compile(re).matcher(v).find(0) ? "1" : "0");
    }
  }
}
"""


class GuardTest(unittest.TestCase):
    """The guards accept exactly the value rules' shapes (README 'The rules a file must meet')."""

    def test_guards_python_re(self):
        for guard, good, bad in GUARD_CASES:
            rx = java_regex(guard)
            for v in good:
                with self.subTest(guard=guard, accept=v):
                    self.assertTrue(rx.search(v))
            for v in bad:
                with self.subTest(guard=guard, reject=v):
                    self.assertFalse(rx.search(v))

    @unittest.skipUnless(shutil.which("java"), "no JDK on this machine")
    def test_guards_java_regex_through_sql_literals(self):
        import base64
        import subprocess
        import tempfile

        def b64(text):
            return base64.b64encode(text.encode("utf-8")).decode("ascii")

        lines, expected = [], []
        for guard, good, bad in GUARD_CASES:
            regex = spark_unescape(job.sql_string_literal(guard))
            for v in good + bad:
                lines.append(f"{b64(regex)} {b64(v)}")
                expected.append((guard, v, "1" if v in good else "0"))
        with tempfile.TemporaryDirectory() as tmp:
            src = f"{tmp}/Rlike.java"
            with open(src, "w") as f:
                f.write(JAVA_RLIKE)
            run = subprocess.run(["java", src], input="\n".join(lines) + "\n", capture_output=True,
                                 text=True, timeout=120)
        self.assertEqual(run.returncode, 0, run.stderr)
        out = run.stdout.split()
        self.assertEqual(len(out), len(expected))
        for got, (guard, value, want) in zip(out, expected):
            with self.subTest(guard=guard, value=value):
                self.assertEqual(got, want)


class HeaderTest(unittest.TestCase):
    def test_positions_by_header_then_name_any_order(self):
        plan = job.cast_plan(ORDERS)
        file_headers = ["ship_date", "ordered_at", "gift", "discount", "amount", "quantity", "Customer Name",
                        "order_id"]
        self.assertEqual(job.header_positions(file_headers, plan), [7, 6, 5, 4, 3, 2, 1, 0])
        # The validator also accepts a column's name in place of its header text.
        file_headers[6] = "customer"
        self.assertEqual(job.header_positions(file_headers, plan)[1], 6)

    def test_bom_is_dropped_from_the_first_header(self):
        plan = job.cast_plan(schema(field("a", "string"), field("b", "string")))
        self.assertEqual(job.header_positions(["\ufeffb", "a"], plan), [1, 0])

    def test_missing_header_names_it(self):
        plan = job.cast_plan(ORDERS)
        with self.assertRaises(job.JobFailure) as ctx:
            job.header_positions(["order_id", "quantity"], plan)
        self.assertEqual(str(ctx.exception), "the file's header has no column 'Customer Name', 'amount', 'discount', "
                                             "'gift', 'ordered_at', 'ship_date' (file header: 'order_id', 'quantity')")

    def test_raw_columns_are_positional(self):
        self.assertEqual(job.raw_column(3), "c3")


class NamesTest(unittest.TestCase):
    def test_split_s3_uri(self):
        self.assertEqual(job.split_s3_uri("s3://b/k/x.csv"), ("b", "k/x.csv"))
        self.assertEqual(job.split_s3_uri("s3://b"), ("b", ""))
        self.assertEqual(job.split_s3_uri("s3://b/"), ("b", ""))
        for bad in ["http://b/k", "b/k", "s3:///k"]:
            with self.subTest(bad), self.assertRaises(job.JobFailure):
                job.split_s3_uri(bad)

    def test_source_stem(self):
        base = "s3://raw/orders/ingest_date=2024-01-05/"
        self.assertEqual(job.source_stem(base + "orders.csv"), "orders")
        self.assertEqual(job.source_stem(base + "orders.csv.gz"), "orders")
        self.assertEqual(job.source_stem(base + "Export.CSV.GZ"), "Export")
        self.assertEqual(job.source_stem(base + "a.b.2024.csv"), "a.b.2024")
        self.assertEqual(job.source_stem(base + "sub__dir__x y.csv"), "sub__dir__x y")
        for bad in [base + "orders.txt", base + ".csv", base + "orders.csv.zip", base]:
            with self.subTest(bad), self.assertRaises(job.JobFailure):
                job.source_stem(bad)

    def test_output_stem_never_hides_a_file(self):
        base = "s3://raw/orders/ingest_date=2024-01-05/"
        self.assertEqual(job.output_stem(base + "orders.csv"), "orders")
        self.assertEqual(job.output_stem(base + "_daily.csv"), "%5Fdaily")
        self.assertEqual(job.output_stem(base + "_..csv"), "%5F.")
        self.assertEqual(job.output_stem(base + ".hidden.csv"), "%2Ehidden")
        self.assertEqual(job.output_stem(base + "%5Fdaily.csv"), "%255Fdaily")  # one-to-one

    def test_input_copy_prefix(self):
        self.assertEqual(job.input_copy_prefix(TARGET, "abc-123"),
                         "s3://curated-bucket/orders/iceberg/data/ingest_date=2024-01-05/_staging/abc-123/input/")
        self.assertEqual(job.input_copy_prefix(TARGET.rstrip("/"), "abc-123"),
                         job.input_copy_prefix(TARGET, "abc-123"))
        with self.assertRaises(job.JobFailure):
            job.input_copy_prefix(TARGET, "../x")

    def test_the_data_folder_holds_the_stem_the_run_and_a_unique_part(self):
        unique = "0123456789abcdef"
        self.assertEqual(job.data_folder(TARGET, SOURCE, "exec-1", unique),
                         f"s3://curated-bucket/orders/iceberg/data/ingest_date=2024-01-05/orders-exec-1-{unique}/")
        self.assertEqual(job.data_folder(TARGET, "s3://raw/o/x/_daily.csv.gz", "r", unique),
                         f"s3://curated-bucket/orders/iceberg/data/ingest_date=2024-01-05/%5Fdaily-r-{unique}/")
        for run_id, uniq in [("../x", unique), ("r\n", unique), ("r", "0123"), ("r", "0123456789ABCDEF")]:
            with self.subTest(run_id=run_id, uniq=uniq), self.assertRaises(job.JobFailure):
                job.data_folder(TARGET, SOURCE, run_id, uniq)

    def test_unique_parts_differ_between_runs(self):
        parts = {job.unique_part() for _ in range(50)}
        self.assertEqual(len(parts), 50)
        self.assertTrue(all(re.fullmatch(r"[0-9a-f]{16}", p) for p in parts))

    def test_a_long_stem_is_cut_to_the_name_limit_with_a_hash_of_the_whole(self):
        run, unique = "r" * 80, "f" * 16
        for first in ["a", "é", "😀"]:
            stem = first + "x" * 300
            folder = job.data_folder(TARGET, f"s3://raw/orders/d/{stem}.csv", run, unique)
            name = folder.rstrip("/").rsplit("/", 1)[-1]
            with self.subTest(first):
                self.assertLessEqual(len(name.encode("utf-8")), job.MAX_NAME_BYTES)
                self.assertGreater(len(name.encode("utf-8")), job.MAX_NAME_BYTES - 4)
                tag = "~" + __import__("hashlib").sha256(stem.encode("utf-8")).hexdigest()[:16]
                self.assertTrue(name.endswith(f"{tag}-{run}-{unique}"), name)
                self.assertTrue(name.startswith(first + "xx"))
        # A short one is kept whole.
        self.assertEqual(job.data_file_stem(SOURCE, "-" + run), "orders")
        self.assertEqual(job.MAX_NAME_BYTES, 233)

    def test_spark_input_name(self):
        base = "s3://raw/orders/ingest_date=2024-01-05/"
        self.assertIsNone(job.spark_input_name(base + "orders.csv", False))
        self.assertIsNone(job.spark_input_name(base + "orders.CSV", False))
        self.assertIsNone(job.spark_input_name(base + "orders.csv.gz", True))
        # Content decides, not the name (the validator detects gzip by its magic bytes).
        self.assertEqual(job.spark_input_name(base + "orders.csv", True), "source.csv.gz")
        self.assertEqual(job.spark_input_name(base + "orders.csv.gz", False), "source.csv")
        self.assertEqual(job.spark_input_name(base + "orders.CSV.GZ", True), "source.csv.gz")
        for name in ["_daily.csv", "a b.csv", "a:b.csv", "a[1].csv", "a{x}.csv", "a*.csv", "é.csv", ".x.csv"]:
            with self.subTest(name):
                self.assertEqual(job.spark_input_name(base + name, False), "source.csv")
        self.assertEqual(job.spark_input_name("s3://raw/_internal/ingest_date=2024-01-05/a.csv", False),
                         "source.csv")

    def test_rows_per_file_cuts_a_gib_of_csv(self):
        gib = 1 << 30
        # Up to 1 GiB of CSV (gzip counted at 4x): one file of every row.
        self.assertEqual(job.rows_per_file(gib, False, 1000), 1000)
        self.assertEqual(job.rows_per_file(gib // 4, True, 1000), 1000)
        self.assertEqual(job.rows_per_file(0, False, 0), 1)
        # Beyond: the rows of 1 GiB at the file's row width, rounded up (never a 0 = no limit).
        self.assertEqual(job.rows_per_file(4 * gib, False, 1000), 250)
        self.assertEqual(job.rows_per_file(3 * gib, False, 1000), 334)
        self.assertEqual(job.rows_per_file(gib, True, 1000), 250)
        self.assertEqual(job.rows_per_file(10 * gib, False, 3), 1)
        self.assertEqual(job.rows_per_file(5 * gib, False, 10_000_000), 2_000_000)

    def test_a_file_is_read_whole_when_a_record_spans_lines_or_it_is_gzip(self):
        self.assertFalse(job.read_whole(False, False))
        self.assertTrue(job.read_whole(True, False))
        self.assertTrue(job.read_whole(False, True))
        self.assertTrue(job.read_whole(True, True))

    def test_data_files_sort_by_task_then_by_file_of_the_task(self):
        names = [
            "p/part-00010-u-u-c000.zstd.parquet",
            "p/part-00002-u-u-c001.zstd.parquet",
            "p/part-100000-u-u-c000.zstd.parquet",
            "p/part-00002-u-u-c000.zstd.parquet",
            "p/part-00002-u-u-c010.zstd.parquet",
            "p/part-00002-u-u-c002.parquet",
            "p/other.parquet",
        ]
        self.assertEqual(sorted(names, key=job.part_order), [
            "p/part-00002-u-u-c000.zstd.parquet",
            "p/part-00002-u-u-c001.zstd.parquet",
            "p/part-00002-u-u-c002.parquet",
            "p/part-00002-u-u-c010.zstd.parquet",
            "p/part-00010-u-u-c000.zstd.parquet",
            "p/part-100000-u-u-c000.zstd.parquet",
            "p/other.parquet",
        ])


class WrittenFilesTest(unittest.TestCase):
    folder = "orders/iceberg/data/ingest_date=2024-01-05/orders-exec-1-0123456789abcdef/"

    def test_takes_the_folders_part_files_in_row_order_with_their_sizes(self):
        listing = [
            (self.folder + "_SUCCESS", 0),
            (self.folder + "part-00001-uuid-c000.zstd.parquet", 11),
            (self.folder + "part-100000-uuid-c000.zstd.parquet", 12),
            (self.folder + "part-00000-uuid-c001.zstd.parquet", 13),
            (self.folder + "part-00000-uuid-c000.zstd.parquet", 14),
            (self.folder + ".part-00000-uuid-c000.zstd.parquet.crc", 15),
            (self.folder + "_temporary/0/part-00000-uuid-c000.zstd.parquet", 16),
            ("orders/iceberg/data/ingest_date=2024-01-05/orders-exec-1-0123456789abcdee/part-0.parquet", 17),
        ]
        self.assertEqual(job.written_files(listing, self.folder), [
            (self.folder + "part-00000-uuid-c000.zstd.parquet", 14),
            (self.folder + "part-00000-uuid-c001.zstd.parquet", 13),
            (self.folder + "part-00001-uuid-c000.zstd.parquet", 11),
            (self.folder + "part-100000-uuid-c000.zstd.parquet", 12),
        ])

    def test_is_part_file(self):
        self.assertTrue(job.is_part_file("p/part-00000-x.snappy.parquet"))
        for k in ["p/_SUCCESS", "p/.part-0.parquet.crc", "p/_temporary/x", "p/_metadata.parquet"]:
            self.assertFalse(job.is_part_file(k), k)


class CheckCountsTest(unittest.TestCase):
    plan = job.cast_plan(ORDERS)

    def test_all_good(self):
        self.assertIsNone(job.check_counts(self.plan, 10, 10, {}, {}))
        self.assertIsNone(job.check_counts(self.plan, 0, 0, {}))

    def test_row_count_mismatch(self):
        self.assertEqual(job.check_counts(self.plan, 10, 9, {}),
                         "read 9 rows but the validator counted 10 (--expected-rows)")

    def test_cast_failures_name_columns_and_counts(self):
        msg = job.check_counts(self.plan, 10, 10, {"amount": 2, "ordered_at": 1})
        self.assertEqual(msg, "3 non-empty values did not convert to the declared type in columns "
                              "amount (decimal(12,2)): 2, ordered_at (timestamp): 1")
        msg = job.check_counts(self.plan, 10, 10, {"gift": 1})
        self.assertEqual(msg, "1 non-empty value did not convert to the declared type in column gift (boolean): 1")

    def test_everything_at_once(self):
        msg = job.check_counts(self.plan, 10, 11, {"quantity": 4}, {"order_id": 1})
        self.assertEqual(msg, "4 non-empty values did not convert to the declared type in column quantity (integer): 4"
                              "; 1 null in non-nullable column order_id: 1"
                              "; read 11 rows but the validator counted 10 (--expected-rows)")

    def test_after_write_commits_only_a_clean_full_count(self):
        plan = self.plan
        good = {"row_count": 10}
        self.assertEqual(job.after_write(plan, 10, good, True), job.Verdict("commit"))
        self.assertEqual(job.after_write(plan, 10, good, False), job.Verdict("commit"))
        self.assertEqual(job.after_write(plan, 0, {"row_count": 0}, False), job.Verdict("commit"))
        bad = {"row_count": 10, "bad3": 2}
        self.assertEqual(job.after_write(plan, 10, bad, True), job.Verdict(
            "fail", "2 non-empty values did not convert to the declared type in column amount (decimal(12,2)): 2"))
        self.assertEqual(job.after_write(plan, 10, {"row_count": 10, "nul0": 1}, False).action, "fail")

    def test_a_short_line_read_is_read_again_whole_and_a_short_whole_read_fails(self):
        plan = self.plan
        self.assertEqual(job.after_write(plan, 10, {"row_count": 9}, False), job.Verdict(
            "read whole", "the line-by-line read found 9 of 10 rows "
                          "(Spark drops lines of only spaces and control characters there)"))
        # Short and wrong: the whole read counts everything, so it decides the message.
        self.assertEqual(job.after_write(plan, 10, {"row_count": 9, "bad3": 1}, False).action, "read whole")
        self.assertEqual(job.after_write(plan, 10, {"row_count": 9}, True), job.Verdict(
            "fail", "read 9 rows but the validator counted 10 (--expected-rows)"))
        # More rows than counted is never the line reader's doing: it fails at once.
        self.assertEqual(job.after_write(plan, 10, {"row_count": 11}, False), job.Verdict(
            "fail", "read 11 rows but the validator counted 10 (--expected-rows)"))

    def test_aggregates(self):
        plan = job.cast_plan(schema(field("s", "string"), field("n", "integer", False), field("t", "string", False)))
        self.assertEqual(job.check_aggregates(plan), [
            "COUNT(1) AS row_count",
            "SUM(CASE WHEN r1 IS NOT NULL AND t1 IS NULL THEN 1 ELSE 0 END) AS bad1",
            "SUM(CASE WHEN t1 IS NULL THEN 1 ELSE 0 END) AS nul1",
            "SUM(CASE WHEN t2 IS NULL THEN 1 ELSE 0 END) AS nul2",
        ])
        self.assertEqual(job.null_violation_expression("r", "t"),
                         "SUM(CASE WHEN r IS NOT NULL AND t IS NULL THEN 1 ELSE 0 END)")
        self.assertEqual(job.read_check_results(plan, {"row_count": 5, "bad1": 2, "nul1": 0, "nul2": None}),
                         (5, {"n": 2}, {}))
        self.assertEqual(job.read_check_results(plan, {"row_count": 0, "bad1": None, "nul1": None, "nul2": None}),
                         (0, {}, {}))


class ReaderOptionsTest(unittest.TestCase):
    def test_null_rule(self):
        opts = job.reader_options(",")
        # Unquoted empty -> nullValue -> NULL; quoted "" -> emptyValue '' (kept as a string).
        self.assertEqual(opts["emptyValue"], "")
        self.assertNotEqual(opts["nullValue"], "")
        self.assertIn("\u0000", opts["nullValue"])
        self.assertEqual((opts["header"], opts["inferSchema"], opts["multiLine"], opts["mode"]),
                         ("true", "false", "true", "FAILFAST"))
        # Line by line: the same options but multiLine, and no lineSep (Hadoop's LF, CR, CRLF).
        lines = job.reader_options(",", '"', whole_file=False)
        self.assertEqual({k: v for k, v in lines.items() if opts[k] != v}, {"multiLine": "false"})
        self.assertNotIn("lineSep", lines)
        self.assertEqual((opts["quote"], opts["escape"], opts["encoding"]), ('"', '"', "UTF-8"))
        self.assertEqual(job.reader_options(";")["sep"], ";")
        self.assertTrue(all(isinstance(v, str) for v in opts.values()))

    def test_the_quote_is_both_quote_and_escape(self):
        # Review C1: the dataset's quote reaches Spark; a quote inside quotes is doubled (RFC 4180
        # with that quote), so the escape is the quote itself and nothing else escapes.
        for quote in ('"', "'", "\\", "`", "|"):
            with self.subTest(quote=quote):
                opts = job.reader_options(",", quote)
                self.assertEqual((opts["quote"], opts["escape"]), (quote, quote))
        self.assertEqual(job.reader_options(",")["quote"], '"')

    def test_sep_escapes_a_backslash_for_spark(self):
        # Review C2: Spark reads sep with CSVExprUtils.toDelimiterStr, where a lone backslash is
        # refused and the two characters backslash backslash mean one backslash.
        self.assertEqual(job.reader_options("\\")["sep"], "\\\\")
        self.assertEqual(len(job.reader_options("\\")["sep"]), 2)
        # Every other allowed delimiter is passed as it is: no other character starts an escape.
        for code in range(1, 128):
            c = chr(code)
            if c != "\\":
                with self.subTest(delimiter=c):
                    self.assertEqual(job.reader_options(c, "'" if c == '"' else '"')["sep"], c)

    def test_spark_conf(self):
        conf = job.SPARK_CONF
        self.assertEqual(conf["spark.sql.session.timeZone"], "UTC")
        self.assertEqual(conf["spark.sql.parquet.outputTimestampType"], "TIMESTAMP_MICROS")
        self.assertEqual(conf["spark.sql.parquet.compression.codec"], "zstd")
        self.assertEqual(job.PARQUET_COMPRESSION, "zstd")
        self.assertEqual(conf["spark.sql.files.maxPartitionBytes"], str(1 << 30))


class FakeResolver:
    """Behaves like awsglue.utils.getResolvedOptions: argparse destinations, every option required."""

    def __init__(self):
        self.asked = None

    def __call__(self, argv, options):
        self.asked = list(options)
        result = {"job_bookmark_option": "job-bookmark-disable"}
        for opt in options:
            flag = "--" + opt
            for i, a in enumerate(argv[1:], start=1):
                if a == flag and i + 1 < len(argv):
                    result[opt.replace("-", "_")] = argv[i + 1]
                elif a.startswith(flag + "="):
                    result[opt.replace("-", "_")] = a[len(flag) + 1:]
            if opt.replace("-", "_") not in result:
                raise ValueError(f"the following arguments are required: {flag}")
        return result


def argv(**overrides):
    values = {"--dataset": "orders", "--source": SOURCE, "--target": TARGET, "--ingest-date": "2024-01-05",
              "--commit-request": REQUEST, "--schema": ORDERS,
              "--expected-rows": "10", "--run-id": "exec-1", "--JOB_ID": "j_1", "--job-bookmark-option":
              "job-bookmark-disable"}
    values.update(overrides)
    out = ["script.py"]
    for k, v in values.items():
        if v is not None:
            out += [k, v]
    return out


class ParseArgsTest(unittest.TestCase):
    def test_without_delimiter(self):
        resolver = FakeResolver()
        args = job.parse_args(argv(), resolver)
        self.assertEqual(resolver.asked, ["dataset", "source", "target", "ingest-date", "commit-request", "schema",
                                          "expected-rows", "run-id"])
        self.assertEqual(args, job.JobArgs("orders", SOURCE, TARGET, ORDERS, 10, "2024-01-05", REQUEST,
                                           "exec-1", ","))

    def test_with_delimiter(self):
        resolver = FakeResolver()
        args = job.parse_args(argv(**{"--delimiter": ";"}), resolver)
        self.assertEqual(resolver.asked[-1], "delimiter")
        self.assertEqual(args.delimiter, ";")
        self.assertEqual(job.parse_args(argv() + ["--delimiter=|"], FakeResolver()).delimiter, "|")
        self.assertEqual(job.parse_args(argv(**{"--delimiter": "\\t"}), FakeResolver()).delimiter, "\t")

    def test_with_quote(self):
        resolver = FakeResolver()
        args = job.parse_args(argv(**{"--quote": "'"}), resolver)
        self.assertEqual(resolver.asked[-1], "quote")
        self.assertEqual((args.delimiter, args.quote), (",", "'"))
        self.assertEqual(job.parse_args(argv(), FakeResolver()).quote, '"')
        # A double quote may be the delimiter once another character quotes.
        args = job.parse_args(argv(**{"--delimiter": '"', "--quote": "'"}), FakeResolver())
        self.assertEqual((args.delimiter, args.quote), ('"', "'"))
        self.assertEqual(job.parse_args(argv(**{"--delimiter": "\\"}), FakeResolver()).delimiter, "\\")

    def test_dialect_characters_are_the_models(self):
        # lib/datasets/model.ts: a delimiter is any ASCII character but NUL, CR and LF, a quote any
        # ASCII character above space; the job refuses what the model refuses.
        for code in range(129):
            c = chr(code)
            with self.subTest(code=code):
                self.assertEqual(job.is_delimiter_character(c), 1 <= code <= 127 and c not in "\r\n")
                self.assertEqual(job.is_quote_character(c), 33 <= code <= 127)
        self.assertFalse(job.is_delimiter_character(",,"))
        self.assertFalse(job.is_quote_character(""))

    def test_multiline(self):
        resolver = FakeResolver()
        self.assertFalse(job.parse_args(argv(**{"--multiline": "false"}), resolver).multiline)
        self.assertEqual(resolver.asked[-1], "multiline")
        self.assertTrue(job.parse_args(argv(**{"--multiline": "true"}), FakeResolver()).multiline)
        # Absent (a caller of an earlier release): the whole-file read, right for every file.
        self.assertTrue(job.parse_args(argv(), FakeResolver()).multiline)
        for bad in ("False", "1", "", "yes"):
            with self.subTest(bad), self.assertRaisesRegex(job.JobFailure, "--multiline must be true or false"):
                job.parse_args(argv(**{"--multiline": bad}), FakeResolver())

    def test_dashed_keys_are_accepted_too(self):
        def resolver(_argv, options):
            return {"dataset": "d", "source": SOURCE, "target": TARGET, "schema": "{}",
                    "expected-rows": "0", "run-id": "r", "ingest-date": "2024-01-05", "commit-request": REQUEST}
        self.assertEqual(job.parse_args(["x"], resolver).expected_rows, 0)

    def test_target_gets_a_trailing_slash(self):
        args = job.parse_args(argv(**{"--target": TARGET.rstrip("/")}), FakeResolver())
        self.assertEqual(args.target, TARGET)

    def test_bad_arguments(self):
        cases = [
            ({"--expected-rows": "ten"}, "--expected-rows must be a non-negative integer"),
            ({"--expected-rows": "-1"}, "--expected-rows"),
            ({"--run-id": "a/b"}, "--run-id"),
            ({"--delimiter": ";;"}, "--delimiter"),
            ({"--delimiter": '"'}, "--delimiter must be one ASCII character other than NUL, CR, LF and the quote"),
            ({"--delimiter": "\x00"}, "--delimiter must be one ASCII character other than NUL"),
            ({"--delimiter": "\r"}, "--delimiter"),
            ({"--quote": "''"}, "--quote must be one ASCII character above space"),
            ({"--quote": " "}, "--quote must be one ASCII character above space"),
            ({"--quote": "\x01"}, "--quote must be one ASCII character above space"),
            ({"--quote": "\t"}, "--quote"),
            ({"--quote": ";", "--delimiter": ";"}, "and the quote ';'"),
            ({"--source": "s3://raw/orders/x.json"}, "must be a .csv or .csv.gz"),
            ({"--target": "curated/orders/"}, "not an s3:// URI"),
            ({"--dataset": ""}, "missing job argument.*--dataset"),
            ({"--ingest-date": ""}, "missing job argument.*--ingest-date"),
            ({"--commit-request": ""}, "missing job argument.*--commit-request"),
            ({"--ingest-date": "2024-02-30"}, '--ingest-date must be a date YYYY-MM-DD, got "2024-02-30"'),
            ({"--ingest-date": "2024-1-05"}, "--ingest-date must be a date"),
            ({"--ingest-date": "0000-01-01"}, "--ingest-date must be a date"),
            ({"--ingest-date": "2024-01-05\n"}, "--ingest-date must be a date"),
            ({"--commit-request": "s3://curated/_commits/orders/r.txt"}, "--commit-request must name a .json object"),
            ({"--commit-request": "s3://curated/_commits/orders/.json"}, "--commit-request must name a .json object"),
            ({"--commit-request": "curated/_commits/orders/r.json"}, "not an s3:// URI"),
        ]
        for overrides, message in cases:
            with self.subTest(overrides):
                with self.assertRaisesRegex(job.JobFailure, message):
                    job.parse_args(argv(**overrides), FakeResolver())

    def test_missing_required_argument_fails_in_the_resolver(self):
        with self.assertRaises(ValueError):
            job.parse_args(argv(**{"--schema": None}), FakeResolver())


# ---------------------------------------------------------------------------------------------
# The conformance corpus (test/conformance/cases/*.json): the local twin converts every case in
# `npm test`; here the script's pure logic is held to the same cases. For each case: the cast plan
# has a step of the right type for every column, every non-null expected value's source text
# passes that step's guard and converts (with Spark's cast rules) to the expected value, every bad
# value of a failing case is refused by the step the case names, and the script's own messages
# name the columns and counts the case expects.
# ---------------------------------------------------------------------------------------------

CORPUS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "conformance", "cases")

# The Spark type names lib/datasets/derive.ts (sparkSchema) gives the declared types.
SPARK_TYPE_NAMES = {"int": "integer", "bigint": "long"}
PLAN_TYPES = {"string": "STRING", "int": "INT", "bigint": "BIGINT", "double": "DOUBLE", "boolean": "BOOLEAN",
              "date": "DATE", "timestamp": "TIMESTAMP_LTZ"}


def load_corpus():
    cases = []
    for path in sorted(glob.glob(os.path.join(CORPUS_DIR, "*.json"))):
        with open(path, encoding="utf-8") as f:
            case = json.load(f)
        case["name"] = os.path.basename(path)[: -len(".json")]
        cases.append(case)
    return cases


# The lineage fields sparkSchema ends every schema with (lib/iceberg/schema.ts LINEAGE_FIELDS).
LINEAGE_FIELDS = [
    {"name": "_source_key", "type": "string", "nullable": True,
     "metadata": {"lineage": "source_key", job.FIELD_ID_KEY: 100001}},
    {"name": "_source_version", "type": "string", "nullable": True,
     "metadata": {"lineage": "source_version", job.FIELD_ID_KEY: 100002}},
    {"name": "_ingested_at", "type": "timestamp", "nullable": True,
     "metadata": {"lineage": "ingested_at", job.FIELD_ID_KEY: 100003}},
]
# The lineage arguments of every corpus run, and the values the rows get (canonical form).
LINEAGE_ARGS = {"--source-key": "landing-key/2024/01/05/export.csv",
                "--source-version": "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY",
                "--ingested-at": "2024-01-05T23:59:59.987Z"}
LINEAGE_ROW = {"_source_key": "landing-key/2024/01/05/export.csv",
               "_source_version": "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY",
               "_ingested_at": "2024-01-05T23:59:59.987000Z"}


def corpus_schema(dataset, lineage=True):
    """The --schema JSON of a corpus dataset, as the schema model derives it (sparkSchema): the
    rules of change in each field's metadata, set keys only; a retired column nullable; then the
    lineage fields."""
    fields = []
    for i, col in enumerate(dataset["columns"]):
        t = col["type"]
        spark = f"decimal({col['precision']},{col['scale']})" if t == "decimal" else SPARK_TYPE_NAMES.get(t, t)
        metadata = {"header": col.get("header", col["name"])}
        if col.get("aliases"):
            metadata["aliases"] = col["aliases"]
        for flag in ("optional", "retired"):
            if col.get(flag):
                metadata[flag] = True
        # Field ids 2, 3, … in declaration order (lib/iceberg/schema.ts fieldIds; ingest_date is 1).
        metadata[job.FIELD_ID_KEY] = i + 2
        fields.append({"name": col["name"], "type": spark,
                       "nullable": col.get("nullable", True) or bool(col.get("retired")), "metadata": metadata})
    return json.dumps({"type": "struct", "fields": fields + (LINEAGE_FIELDS if lineage else [])})


def raw_text(step, record, position, lineage):
    """The text a step converts for a record: its lineage argument, its file field, or None for a
    column the file does not give (the typed NULL of ``projection``)."""
    if step.lineage is not None:
        return lineage[step.lineage]
    return None if position is None else record[position]


def expected_plan_type(col):
    return f"DECIMAL({col['precision']},{col['scale']})" if col["type"] == "decimal" else PLAN_TYPES[col["type"]]


def corpus_text(case):
    if "csvBase64" in case:
        return base64.b64decode(case["csvBase64"]).decode("utf-8")
    return case["csv"]


def parse_csv(text, delimiter, quote='"'):
    """Records of an RFC 4180 text (with ``quote`` as the quote character) as Spark's reader returns
    them: None for an unquoted empty field, '' for a quoted one, a quote inside an unquoted field
    literal, blank lines skipped."""
    text = text.removeprefix("\ufeff")
    records, i, n = [], 0, len(text)
    while i < n:
        record = []
        while True:
            if i < n and text[i] == quote:
                parts, j = [], i + 1
                while True:
                    k = text.index(quote, j)  # ValueError: unterminated quote
                    parts.append(text[j:k])
                    if text.startswith(quote * 2, k):
                        parts.append(quote)
                        j = k + 2
                    else:
                        i = k + 1
                        break
                record.append("".join(parts))
            else:
                k = i
                while k < n and text[k] not in (delimiter, "\r", "\n"):
                    k += 1
                record.append(text[i:k] or None)
                i = k
            if i < n and text[i] == delimiter:
                i += 1
                continue
            break
        if text.startswith("\r\n", i):
            i += 2
        elif i < n and text[i] == "\n":
            i += 1
        elif i < n:
            raise ValueError(f"unexpected {text[i]!r} after a field at offset {i}")
        if record != [None]:
            records.append(record)
    return records


def first_line_break_is_crlf(text):
    """Spark's reader (univocity, multiLine) takes the first line break of the input as the line
    separator; with CRLF it stores a CRLF inside a quoted value as LF."""
    m = re.search(r"[\r\n]", text)
    return bool(m) and text.startswith("\r\n", m.start())


RLIKE_LITERAL = re.compile(r"RLIKE ('(?:[^'\\]|\\.)*')")


def template_accepts(template, text):
    """Whether the guard part of a cast template lets ``text`` through to the conversion."""
    if template == "{col}":
        return True
    guards = RLIKE_LITERAL.findall(template)
    if guards:
        return all(java_regex(spark_unescape(g)).search(text) for g in guards)
    words = re.findall(r"WHEN '([a-z]+)' THEN", template)
    if template.startswith("CASE lower({col})") and words:
        return text.lower() in words
    raise AssertionError(f"a cast template this test cannot read: {template}")


TIMESTAMP_PARTS = re.compile(r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(Z|([+-])(\d{2}):(\d{2}))?")


def spark_cast(spark_type, text):
    """The value Spark's cast gives a text that passed the guard, in the corpus' canonical form;
    ValueError where Spark's cast gives NULL (overflow, no such date or time, offset out of range)."""
    if spark_type == "STRING":
        return text
    if spark_type in ("INT", "BIGINT"):
        bits = 32 if spark_type == "INT" else 64
        v = int(text)
        if not -(2 ** (bits - 1)) <= v < 2 ** (bits - 1):
            raise ValueError("integer overflow")
        return v if spark_type == "INT" else str(v)
    if spark_type == "DOUBLE":
        v = float(text)
        if math.isinf(v):
            raise ValueError("not finite")
        return v
    m = re.fullmatch(r"DECIMAL\((\d+),(\d+)\)", spark_type)
    if m:
        p, s = int(m.group(1)), int(m.group(2))
        with decimal.localcontext() as ctx:
            ctx.prec = 100
            d = decimal.Decimal(text)
            q = d.quantize(decimal.Decimal(1).scaleb(-s))
            if q != d:
                raise ValueError("would round")
            if abs(q) >= decimal.Decimal(10) ** (p - s):
                raise ValueError("precision overflow")
            return format(abs(q) if q == 0 else q, "f")
    if spark_type == "BOOLEAN":
        return text.lower() == "true"
    if spark_type == "DATE":
        return datetime.date.fromisoformat(text).isoformat()
    if spark_type == "TIMESTAMP_LTZ":
        m = TIMESTAMP_PARTS.fullmatch(text)
        y, mo, d, h, mi, se = (int(g) for g in m.groups()[:6])
        micros = int((m.group(7) or "").ljust(6, "0"))
        local = datetime.datetime(y, mo, d, h, mi, se, micros)  # ValueError: hour 24, :60, 02-30
        offset = datetime.timedelta(0)
        if m.group(9):
            oh, om = int(m.group(10)), int(m.group(11))
            if om > 59 or oh > 18 or (oh == 18 and om > 0):  # java.time.ZoneOffset's range
                raise ValueError("offset out of range")
            offset = (-1 if m.group(9) == "-" else 1) * datetime.timedelta(hours=oh, minutes=om)
        try:
            utc = local - offset
        except OverflowError as e:
            raise ValueError(str(e)) from None
        return utc.replace(microsecond=0).isoformat() + f".{utc.microsecond:06d}Z"
    raise AssertionError(f"no reference cast for {spark_type}")


def convert(step, text):
    """What the job stores for a field: None for NULL (an unquoted empty field or a failed cast)."""
    if text is None or not template_accepts(step.template, text):
        return None
    try:
        return spark_cast(step.spark_type, text)
    except ValueError:
        return None


class ConformanceCorpusTest(unittest.TestCase):
    corpus = load_corpus()

    def run_case(self, case):
        """Follows main() with the pure functions: arguments, plan, header, casts and checks."""
        dataset = case["dataset"]
        delimiter_arg = case.get("delimiterArgument", dataset.get("dialect", {}).get("delimiter", ","))
        quote_arg = dataset.get("dialect", {}).get("quote", '"')
        rows = case.get("expectedRowsArgument", len(case.get("expectedRows") or []))
        source = f"s3://raw/{dataset['name']}/ingest_date=2024-01-05/{case['source']}"
        args = job.parse_args(argv(**{"--schema": corpus_schema(dataset), "--source": source,
                                      "--expected-rows": str(rows), "--delimiter": delimiter_arg,
                                      "--quote": quote_arg, **LINEAGE_ARGS}), FakeResolver())
        plan = job.cast_plan(args.schema)
        lineage = job.lineage_values(plan, args)
        text = corpus_text(case)
        records = parse_csv(text, args.delimiter, args.quote)
        positions = job.header_positions(records[0], plan)
        data = [[convert(step, raw_text(step, record, pos, lineage)) for step, pos in zip(plan, positions)]
                for record in records[1:]]
        bad, nul = {}, {}
        for step_index, step in enumerate(plan):
            failed = sum(1 for record, row in zip(records[1:], data)
                         if raw_text(step, record, positions[step_index], lineage) is not None
                         and row[step_index] is None)
            nulls = sum(1 for row in data if row[step_index] is None)
            if failed and step.spark_type != "STRING":
                bad[step.column] = failed
            if nulls and not step.nullable:
                nul[step.column] = nulls
        problem = job.check_counts(plan, args.expected_rows, len(data), bad, nul)
        return args, plan, records, positions, lineage, data, problem

    def test_the_corpus_is_there(self):
        self.assertGreaterEqual(len([c for c in self.corpus if "failure" not in c]), 20)
        self.assertGreaterEqual(len([c for c in self.corpus if "failure" in c]), 5)

    def test_every_declared_type_has_a_plan_step_of_that_type(self):
        seen = set()
        for case in self.corpus:
            plan = job.cast_plan(corpus_schema(case["dataset"]))
            for step, col in zip(plan, case["dataset"]["columns"]):
                with self.subTest(case=case["name"], column=col["name"]):
                    self.assertEqual(step.column, col["name"])
                    self.assertEqual(step.header, col.get("header", col["name"]))
                    self.assertEqual(step.spark_type, expected_plan_type(col))
                    self.assertEqual(step.nullable, col.get("nullable", True))
                seen.add(col["type"])
        self.assertEqual(seen, set(PLAN_TYPES) | {"decimal"})

    def test_every_expected_value_passes_its_guard_and_converts_to_it(self):
        for case in [c for c in self.corpus if "failure" not in c]:
            with self.subTest(case=case["name"]):
                args, plan, records, positions, lineage, data, problem = self.run_case(case)
                self.assertIsNone(problem)
                expected = case["expectedRows"]
                self.assertEqual(len(records) - 1, len(expected))
                crlf = first_line_break_is_crlf(corpus_text(case))
                for i, (record, want) in enumerate(zip(records[1:], expected)):
                    want = {**want, **LINEAGE_ROW}
                    for k, (step, pos) in enumerate(zip(plan, positions)):
                        text, value = raw_text(step, record, pos, lineage), want[step.column]
                        with self.subTest(row=i, column=step.column, text=text):
                            if value is None:
                                self.assertIsNone(text, "a NULL comes from an unquoted empty field only")
                                continue
                            self.assertTrue(template_accepts(step.template, text), "the guard refuses it")
                            got = data[i][k]
                            if step.spark_type == "STRING" and crlf:
                                got = got.replace("\r\n", "\n")
                            self.assertEqual(got, value)

    def test_every_bad_value_is_refused_by_the_step_the_case_names(self):
        for case in [c for c in self.corpus if "failure" in c]:
            plan = {s.column: s for s in job.cast_plan(corpus_schema(case["dataset"]))}
            for bad in case["failure"]["badValues"]:
                step = plan[bad["column"]]
                with self.subTest(case=case["name"], text=bad["text"]):
                    accepted = template_accepts(step.template, bad["text"])
                    if bad["rejectedBy"] == "guard":
                        self.assertFalse(accepted, "the guard lets it through")
                    else:
                        self.assertTrue(accepted, "the guard already refuses it")
                        with self.assertRaises(ValueError):
                            spark_cast(step.spark_type, bad["text"])

    def test_failing_cases_fail_with_the_message_the_twin_gives(self):
        for case in [c for c in self.corpus if "failure" in c]:
            with self.subTest(case=case["name"]):
                try:
                    problem = self.run_case(case)[-1]
                except job.JobFailure as e:
                    problem = str(e)
                self.assertIsNotNone(problem)
                for part in case["failure"]["messageIncludes"]:
                    self.assertIn(part, problem)

    def test_the_written_schema_of_every_case_carries_its_field_ids(self):
        for case in [c for c in self.corpus if "failure" not in c]:
            with self.subTest(case=case["name"]):
                written = job.output_schema(job.cast_plan(corpus_schema(case["dataset"])))
                self.assertEqual([(f["name"], f["metadata"][job.FIELD_ID_KEY]) for f in written["fields"]],
                                 [(col["name"], i + 2) for i, col in enumerate(case["dataset"]["columns"])]
                                 + [("ingest_date", 1), ("_source_key", 100001), ("_source_version", 100002),
                                    ("_ingested_at", 100003)])


# ---------------------------------------------------------------------------------------------
# Fakes for the entry point: an in-memory S3 client, and just enough of Spark to follow main()
# ---------------------------------------------------------------------------------------------

class FakeBody:
    def __init__(self, data):
        self.data = data

    def read(self):
        return self.data


class FakePaginator:
    def __init__(self, s3):
        self.s3 = s3

    def paginate(self, Bucket, Prefix, Delimiter=None):
        keys = sorted(k for (b, k) in self.s3.objects if b == Bucket and k.startswith(Prefix))
        if Delimiter:
            keys = [k for k in keys if Delimiter not in k[len(Prefix):]]
        for i in range(0, max(len(keys), 1), 2):  # pages of 2, to exercise paging
            yield {"Contents": [{"Key": k, "Size": len(self.s3.objects[(Bucket, k)])}
                                for k in keys[i: i + 2]]} if keys else {}


class FakeS3:
    def __init__(self, objects=None):
        self.objects = dict(objects or {})
        self.calls = []
        self.content_types = {}

    def put_object(self, Bucket, Key, Body, ContentType=None):
        self.calls.append(("put", Key))
        self.objects[(Bucket, Key)] = Body
        self.content_types[(Bucket, Key)] = ContentType

    def get_paginator(self, name):
        assert name == "list_objects_v2"
        return FakePaginator(self)

    def copy(self, CopySource, Bucket, Key):
        self.calls.append(("copy", CopySource["Key"], Key))
        self.objects[(Bucket, Key)] = self.objects[(CopySource["Bucket"], CopySource["Key"])]

    def delete_objects(self, Bucket, Delete):
        assert len(Delete["Objects"]) <= 1000
        for o in Delete["Objects"]:
            self.calls.append(("delete", o["Key"]))
            self.objects.pop((Bucket, o["Key"]), None)
        return {}

    def head_object(self, Bucket, Key):
        return {"ContentLength": len(self.objects[(Bucket, Key)])}

    def get_object(self, Bucket, Key, Range=None):
        self.calls.append(("get", Key))
        data = self.objects[(Bucket, Key)]
        if Range:
            start, end = map(int, Range[len("bytes="):].split("-"))
            data = data[start: end + 1]
        return {"Body": FakeBody(data)}

    def keys(self, bucket):
        return sorted(k for (b, k) in self.objects if b == bucket)


class S3Test(unittest.TestCase):
    def test_the_input_copy_is_cleaned_and_nothing_else(self):
        prefix = "orders/iceberg/data/ingest_date=2024-01-05/"
        s3 = FakeS3({
            ("curated-bucket", prefix + "_staging/r2/input/source.csv"): b"copy",
            ("curated-bucket", prefix + "_staging/other-run/input/source.csv"): b"other",
            ("curated-bucket", prefix + "orders-r2-0123456789abcdef/part-00000-u-c000.zstd.parquet"): b"data",
        })
        job.clean_input_copy(s3, TARGET, "r2")
        self.assertEqual(s3.keys("curated-bucket"), [
            prefix + "_staging/other-run/input/source.csv",
            prefix + "orders-r2-0123456789abcdef/part-00000-u-c000.zstd.parquet",
        ])

    def test_delete_errors_fail_the_run(self):
        class Failing(FakeS3):
            def delete_objects(self, Bucket, Delete):
                return {"Errors": [{"Key": "k", "Code": "AccessDenied", "Message": "no"}]}
        with self.assertRaisesRegex(job.JobFailure, "could not delete 1 object.*AccessDenied"):
            job.delete_keys(Failing(), "b", ["k"])

    def test_deletes_are_batched(self):
        s3 = FakeS3({("b", f"k{i}"): b"" for i in range(2500)})
        job.delete_keys(s3, "b", [f"k{i}" for i in range(2500)])
        self.assertEqual(s3.objects, {})

    def test_gzip_detection_by_content(self):
        s3 = FakeS3({("b", "a.csv"): b"\x1f\x8b\x08rest", ("b", "b.csv.gz"): b"id\n1\n"})
        self.assertTrue(job.is_gzip_object(s3, "b", "a.csv"))
        self.assertFalse(job.is_gzip_object(s3, "b", "b.csv.gz"))

    def test_list_objects_gives_every_page_with_sizes(self):
        s3 = FakeS3({("b", f"p/k{i}"): b"x" * i for i in range(5)})
        s3.objects[("b", "q/k")] = b"no"
        self.assertEqual(job.list_objects(s3, "b", "p/"), [(f"p/k{i}", i) for i in range(5)])


# A Thrift compact encoder, written apart from the module's decoder, to build footers with.
def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _zigzag(n):
    return _varint((n << 1) ^ (n >> 63))


def thrift_struct(fields):
    """``fields``: [(id, kind, value)] in id order; kind in i32, i64, binary, bool, struct, list-struct, list-i32."""
    out, last = bytearray(), 0
    types_ = {"bool": None, "i32": 5, "i64": 6, "binary": 8, "struct": 12, "list-struct": 9, "list-i32": 9}
    for fid, kind, value in fields:
        ctype = (1 if value else 2) if kind == "bool" else types_[kind]
        delta = fid - last
        if 0 < delta <= 15:
            out.append(delta << 4 | ctype)
        else:
            out.append(ctype)
            out += _zigzag(fid)
        last = fid
        if kind in ("i32", "i64"):
            out += _zigzag(value)
        elif kind == "binary":
            out += _varint(len(value)) + value
        elif kind == "struct":
            out += thrift_struct(value)
        elif kind in ("list-struct", "list-i32"):
            elem = 12 if kind == "list-struct" else 5
            out.append((len(value) << 4 | elem) if len(value) < 15 else (0xF0 | elem))
            if len(value) >= 15:
                out += _varint(len(value))
            for v in value:
                out += thrift_struct(v) if kind == "list-struct" else _zigzag(v)
    out.append(0)
    return bytes(out)


def footer(num_rows, columns=3, key_values=()):
    schema_ = [[(4, "binary", b"duckdb_schema"), (5, "i32", columns)]] + [
        [(1, "i32", 1), (3, "i32", 1), (4, "binary", f"c{i}".encode()), (9, "i32", i + 2)] for i in range(columns)]
    groups = [[(1, "list-struct", []), (2, "i64", 100), (3, "i64", num_rows), (5, "bool", True)]]
    kv = [[(1, "binary", k), (2, "binary", v)] for k, v in key_values]
    return thrift_struct([(1, "i32", 1), (2, "list-struct", schema_), (3, "i64", num_rows),
                          (4, "list-struct", groups), (5, "list-struct", kv), (6, "binary", b"duckdb")])


def parquet_file(num_rows, **kwargs):
    meta = footer(num_rows, **kwargs)
    return b"PAR1" + b"\0" * 50 + meta + len(meta).to_bytes(4, "little") + b"PAR1"


class ParquetFooterTest(unittest.TestCase):
    def test_reads_num_rows_past_the_schema_list(self):
        for rows in (0, 1, 127, 128, 10_000_000_000):
            for columns in (1, 14, 15, 300):
                with self.subTest(rows=rows, columns=columns):
                    self.assertEqual(job.parquet_num_rows(footer(rows, columns)), rows)

    def test_a_short_footer_or_no_magic_is_an_error(self):
        with self.assertRaisesRegex(ValueError, "ends early"):
            job.parquet_num_rows(footer(5)[:30])
        with self.assertRaisesRegex(ValueError, "not a Parquet file"):
            job.footer_length(b"xxxxxxxxPAR2")

    def test_reads_a_file_in_s3_with_one_range_or_two(self):
        small = parquet_file(42)
        big = parquet_file(7, columns=3, key_values=[(b"iceberg.schema", b"x" * (job.FOOTER_PROBE_BYTES + 10))])
        s3 = FakeS3({("b", "small.parquet"): small, ("b", "big.parquet"): big})
        self.assertEqual(job.data_file_rows(s3, "b", "small.parquet", len(small)), 42)
        self.assertEqual(job.data_file_rows(s3, "b", "big.parquet", len(big)), 7)
        self.assertEqual([c[0] for c in s3.calls], ["get", "get", "get"])
        with self.assertRaisesRegex(ValueError, "too small"):
            job.data_file_rows(s3, "b", "small.parquet", 5)


class CommitRequestTest(unittest.TestCase):
    args = job.parse_args(argv(), FakeResolver())

    def test_names_every_file_with_its_rows_and_bytes_and_the_total(self):
        files = [{"path": "s3://c/a.parquet", "rows": 3, "bytes": 100},
                 {"path": "s3://c/b.parquet", "rows": 0, "bytes": 50}]
        self.assertEqual(job.commit_request(self.args, files), {
            "version": 1, "dataset": "orders", "runId": "exec-1", "source": SOURCE, "ingestDate": "2024-01-05",
            "rows": 3, "files": files})

    def folder_with(self, sizes_rows):
        folder = job.data_folder(TARGET, SOURCE, "exec-1", "0123456789abcdef")
        bucket, prefix = job.split_s3_uri(folder)
        s3 = FakeS3({(bucket, prefix + "_SUCCESS"): b""})
        for i, rows in enumerate(sizes_rows):
            s3.objects[(bucket, f"{prefix}part-{i:05d}-u-c000.zstd.parquet")] = parquet_file(rows, columns=i + 1)
        return s3, folder, bucket, prefix

    def test_one_file_takes_the_observed_count_several_their_footers(self):
        s3, folder, bucket, prefix = self.folder_with([4])
        (one,) = job.describe_files(s3, folder, 4)
        self.assertEqual(one, {"path": f"s3://{bucket}/{prefix}part-00000-u-c000.zstd.parquet", "rows": 4,
                               "bytes": len(s3.objects[(bucket, prefix + "part-00000-u-c000.zstd.parquet")])})
        self.assertEqual([c for c in s3.calls if c[0] == "get"], [])
        s3, folder, bucket, prefix = self.folder_with([4, 0, 6])
        files = job.describe_files(s3, folder, 10)
        self.assertEqual([(f["path"].rsplit("/", 1)[-1], f["rows"]) for f in files],
                         [(f"part-{i:05d}-u-c000.zstd.parquet", n) for i, n in enumerate([4, 0, 6])])
        self.assertEqual([f["bytes"] for f in files],
                         [len(s3.objects[(bucket, job.split_s3_uri(f["path"])[1])]) for f in files])

    def test_rows_that_do_not_add_up_or_no_file_fail_the_run(self):
        s3, folder, _, _ = self.folder_with([4, 5])
        with self.assertRaisesRegex(job.JobFailure, "the 2 data files under .* hold 9 rows, not the 10 written"):
            job.describe_files(s3, folder, 10)
        s3, folder, _, _ = self.folder_with([])
        with self.assertRaisesRegex(job.JobFailure, "Spark wrote no Parquet file"):
            job.describe_files(s3, folder, 0)

    def test_is_put_at_the_commit_request_uri(self):
        s3 = FakeS3()
        request = job.put_commit_request(s3, self.args, [{"path": "s3://c/a.parquet", "rows": 10, "bytes": 1}])
        self.assertEqual(json.loads(s3.objects[("curated-bucket", "_commits/orders/exec-1.json")]), request)
        self.assertEqual(s3.content_types[("curated-bucket", "_commits/orders/exec-1.json")], "application/json")


class WholeStringPatternsTest(unittest.TestCase):
    """Python's ``$`` matches before a final newline: names and ids are checked to the true end."""

    def test_a_run_id_with_a_trailing_newline_is_refused(self):
        with self.assertRaises(job.JobFailure):
            job.input_copy_prefix(TARGET, "abc\n")
        with self.assertRaises(job.JobFailure):
            job.data_folder(TARGET, SOURCE, "abc\n", "0123456789abcdef")
        with self.assertRaisesRegex(job.JobFailure, "--run-id"):
            job.parse_args(argv(**{"--run-id": "exec-1\n"}), FakeResolver())

    def test_a_source_name_with_a_trailing_newline_is_refused(self):
        for name in ["orders.csv\n", "orders.csv.gz\n", "orders.CSV\n"]:
            with self.subTest(name), self.assertRaises(job.JobFailure):
                job.source_stem("s3://raw/orders/ingest_date=2024-01-05/" + name)

    def test_a_folder_with_a_trailing_newline_is_read_through_a_copy(self):
        self.assertEqual(job.spark_input_name("s3://raw/orders\n/ingest_date=2024-01-05/a.csv", False), "source.csv")


class FakeObservation:
    """pyspark.sql.Observation: ``get`` holds the metrics of the first action on the observed frame."""

    def __init__(self, name):
        self.name, self.value = name, None

    @property
    def get(self):
        assert self.value is not None, "Observation.get before an action"
        return dict(self.value)


class FakeWriter:
    def __init__(self, df):
        self.df, self.opts = df, {}

    def mode(self, m):
        self.opts["mode"] = m
        return self

    def option(self, k, v):
        self.opts[k] = v
        return self

    def parquet(self, uri):
        spark = self.df.spark
        run = len(spark.writes)
        spark.writes.append((uri, dict(self.opts)))
        bucket, key = job.split_s3_uri(uri)
        for k in list(spark.s3.objects):
            if k[0] == bucket and k[1].startswith(key):
                del spark.s3.objects[k]  # mode overwrite
        # Spark's names: part-<task>-<uuid>-c<file of the task>; listed out of order on purpose.
        # Each file is a Parquet tail whose footer holds its rows (spark.file_rows, in write order).
        names = [(task, c) for task, files in enumerate(spark.parts) for c in range(files)]
        rows = spark.file_rows or [spark.metrics[run]["row_count"]] + [0] * (len(names) - 1)
        for (task, c), n in reversed(list(zip(names, rows))):
            spark.s3.objects[(bucket, f"{key}part-{task:05d}-uuid-c{c:03d}.zstd.parquet")] = \
                parquet_file(n, key_values=[(b"written", f"run{run} task{task} c{c}".encode())])
        spark.s3.objects[(bucket, key + "_SUCCESS")] = b""
        spark.s3.objects[(bucket, key + "_temporary/0/part-00000-uuid-c000.zstd.parquet")] = b"a failed attempt"
        for observation in self.df.observations:
            observation.value = spark.metrics[run]


class FakeColumn:
    def __init__(self, spark, name):
        self.spark, self.name = spark, name

    def alias(self, name, metadata=None):
        return ("alias", self.name, name, metadata)


class FakeDF:
    def __init__(self, spark, columns, observations=()):
        self.spark, self.columns, self.observations = spark, list(columns), list(observations)

    def toDF(self, *names):
        assert len(names) == len(self.columns)
        return FakeDF(self.spark, names)

    def selectExpr(self, *items):
        self.spark.selects.append(list(items))
        return FakeDF(self.spark, [i.rsplit(" AS ", 1)[-1] for i in items], self.observations)

    def select(self, *columns):
        assert all(c[0] == "alias" for c in columns)
        assert [c[1] for c in columns] == self.columns, "select names the frame's columns"
        self.spark.aliases.append([(c[2], c[3]) for c in columns])
        return FakeDF(self.spark, [job.quote_identifier(c[2]) for c in columns], self.observations)

    def observe(self, observation, *columns):
        # Only pyspark.sql.functions.expr columns: the fake expr tags its text.
        self.spark.observed.append([text for tag, text in columns if tag == "expr"])
        return FakeDF(self.spark, self.columns, self.observations + [observation])

    @property
    def write(self):
        return FakeWriter(self)


class FakeSpark:
    """Records what main() asks of Spark. ``metrics`` are the observed checks of each write in turn;
    ``parts`` the files each write task writes (one entry per task); ``file_rows`` the rows each
    file's footer holds (default: every row in the first)."""

    def __init__(self, s3, header, metrics, parts=(1,), file_rows=None):
        self.s3, self.header, self.metrics, self.parts = s3, header, list(metrics), list(parts)
        self.file_rows = file_rows
        self.conf_values, self.reads, self.selects, self.observed, self.writes = {}, [], [], [], []
        self.aliases = []
        spark = self

        class Conf:
            def set(self, k, v):
                spark.conf_values[k] = v

        class Reader:
            def options(self, **opts):
                self.opts = opts
                return self

            def csv(self, uri):
                spark.reads.append((uri, self.opts))
                return FakeDF(spark, spark.header)

        self.conf = Conf()
        self.read = Reader()


@contextlib.contextmanager
def fake_glue(spark, s3):
    """Installs fake pyspark, awsglue and boto3 modules for main()'s lazy imports."""
    mods = {}
    pyspark = mods["pyspark"] = types.ModuleType("pyspark")
    sql = mods["pyspark.sql"] = types.ModuleType("pyspark.sql")
    functions = mods["pyspark.sql.functions"] = types.ModuleType("pyspark.sql.functions")
    pyspark.sql, sql.functions = sql, functions

    class Builder:
        def getOrCreate(self):
            return spark

    sql.SparkSession = type("SparkSession", (), {"builder": Builder()})
    sql.Observation = FakeObservation
    functions.expr = lambda text: ("expr", text)
    functions.col = lambda name: FakeColumn(spark, name)
    awsglue = mods["awsglue"] = types.ModuleType("awsglue")
    utils = mods["awsglue.utils"] = types.ModuleType("awsglue.utils")
    awsglue.utils = utils
    utils.getResolvedOptions = FakeResolver()
    boto3 = mods["boto3"] = types.ModuleType("boto3")
    boto3.client = lambda name: s3
    saved = {k: sys.modules.get(k) for k in mods}
    sys.modules.update(mods)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


HEADER = ["\ufefforder_id", "Customer Name", "quantity", "amount", "discount", "gift", "ordered_at", "ship_date"]
GOOD = {"row_count": 10, **{f"bad{k}": 0 for k in range(8)}, **{f"nul{k}": 0 for k in range(8)}}
PARTITION = "orders/iceberg/data/ingest_date=2024-01-05/"
FOLDER = re.compile(r"s3://curated-bucket/orders/iceberg/data/ingest_date=2024-01-05/orders-exec-1-[0-9a-f]{16}/\Z")
REQUEST_KEY = "_commits/orders/exec-1.json"


def written_by(s3, key):
    """The ``written`` tag the fake writer put in a data file's footer (which write, task and file)."""
    data = s3.objects[("curated-bucket", key)]
    return re.search(rb"run[0-9]+ task[0-9]+ c[0-9]+", data).group().decode()


class MainTest(unittest.TestCase):
    def run_main(self, source=SOURCE, data=b"order_id,...\n", metrics=(GOOD,), extra=(), parts=(1,), size=None,
                 file_rows=None):
        bucket, key = job.split_s3_uri(source)

        class Sized(FakeS3):
            def head_object(self, Bucket, Key):
                return {"ContentLength": size if size is not None else len(self.objects[(Bucket, Key)])}

        s3 = Sized({
            (bucket, key): data,
            # Another run's data files in the same day's folder: never touched.
            ("curated-bucket", PARTITION + "orders-exec-0-0123456789abcdef/part-00000-u-c000.zstd.parquet"): b"old0",
        })
        spark = FakeSpark(s3, HEADER, metrics, parts, file_rows)
        error = None
        with fake_glue(spark, s3):
            try:
                job.main(argv(**{"--source": source}) + list(extra))
            except job.JobFailure as e:
                error = e
        return s3, spark, error

    def request(self, s3):
        return json.loads(s3.objects[("curated-bucket", REQUEST_KEY)])

    def assert_untouched(self, s3):
        self.assertEqual(s3.objects[("curated-bucket",
                                     PARTITION + "orders-exec-0-0123456789abcdef/part-00000-u-c000.zstd.parquet")],
                         b"old0")
        self.assertEqual([c for c in s3.calls if c[0] in ("copy", "delete") and "_staging/" not in c[-1]], [])

    def test_the_dataset_dialect_reaches_the_reader(self):
        # Review C1 and C2 end to end through main(): what Spark is asked to read with.
        _, spark, error = self.run_main(extra=["--delimiter", "\\", "--quote", "'"])
        self.assertIsNone(error)
        options = spark.reads[0][1]
        self.assertEqual((options["sep"], options["quote"], options["escape"]), ("\\\\", "'", "'"))

    def test_a_good_run_writes_field_ids_and_ingest_date_then_the_commit_request(self):
        s3, spark, error = self.run_main()
        self.assertIsNone(error)
        self.assertEqual(spark.conf_values, job.SPARK_CONF)
        self.assertEqual(spark.conf_values["spark.sql.parquet.fieldId.write.enabled"], "true")
        # No --multiline: read whole, as before the argument existed.
        self.assertEqual(spark.reads, [(SOURCE, job.reader_options(",", '"', whole_file=True))])
        plan = job.cast_plan(ORDERS)
        self.assertEqual(spark.selects[0], job.projection(plan, list(range(8))))
        # One pass: the checks are observed on the frame that is written, never collected apart.
        self.assertEqual(spark.observed, [job.check_aggregates(plan)])
        self.assertEqual(spark.selects[1], job.output_items(plan, "2024-01-05"))
        self.assertEqual(spark.selects[1][-1], "DATE '2024-01-05' AS `ingest_date`")
        # Every written column carries its field id, ingest_date 1.
        self.assertEqual(spark.aliases, [[(f["name"], f["metadata"]) for f in job.output_schema(plan)["fields"]]])
        self.assertEqual(spark.aliases[0][-1], ("ingest_date", {"parquet.field.id": 1}))
        ((folder, options),) = spark.writes
        self.assertRegex(folder, FOLDER)
        self.assertEqual(options, {"mode": "overwrite", "compression": "zstd", "maxRecordsPerFile": "10"})
        _, prefix = job.split_s3_uri(folder)
        data_key = prefix + "part-00000-uuid-c000.zstd.parquet"
        self.assertEqual(self.request(s3), {
            "version": 1, "dataset": "orders", "runId": "exec-1", "source": SOURCE, "ingestDate": "2024-01-05",
            "rows": 10,
            "files": [{"path": "s3://curated-bucket/" + data_key, "rows": 10,
                       "bytes": len(s3.objects[("curated-bucket", data_key)])}]})
        # The request comes after the data: the last S3 call.
        self.assertEqual(s3.calls[-1], ("put", REQUEST_KEY))
        self.assert_untouched(s3)

    def test_a_re_run_writes_a_folder_of_its_own(self):
        s3, spark, _ = self.run_main()
        first = spark.writes[0][0]
        spark2 = FakeSpark(s3, HEADER, [GOOD])
        with fake_glue(spark2, s3):
            job.main(argv())
        self.assertNotEqual(spark2.writes[0][0], first)
        self.assertTrue(self.request(s3)["files"][0]["path"].startswith(spark2.writes[0][0]))
        self.assertEqual(written_by(s3, job.split_s3_uri(first)[1] + "part-00000-uuid-c000.zstd.parquet"),
                         "run0 task0 c0")

    def test_a_file_whose_records_span_no_lines_is_read_line_by_line(self):
        _, spark, error = self.run_main(extra=["--multiline", "false"])
        self.assertIsNone(error)
        self.assertEqual(spark.reads, [(SOURCE, job.reader_options(",", '"', whole_file=False))])
        _, spark, _ = self.run_main(extra=["--multiline", "true"])
        self.assertEqual(spark.reads[0][1]["multiLine"], "true")

    def test_gzip_is_read_whole_whatever_the_argument(self):
        _, spark, error = self.run_main(source=SOURCE + ".gz", data=b"\x1f\x8b\x08...", extra=["--multiline", "false"])
        self.assertIsNone(error)
        self.assertEqual(spark.reads[0][1]["multiLine"], "true")

    def test_a_short_line_read_is_read_again_whole_into_the_same_folder_and_committed_from_that(self):
        s3, spark, error = self.run_main(metrics=[{**GOOD, "row_count": 9}, GOOD], extra=["--multiline", "false"])
        self.assertIsNone(error)
        self.assertEqual([r[1]["multiLine"] for r in spark.reads], ["false", "true"])
        self.assertEqual([w[0] for w in spark.writes], [spark.writes[0][0]] * 2)
        (only,) = self.request(s3)["files"]
        self.assertEqual(written_by(s3, job.split_s3_uri(only["path"])[1]), "run1 task0 c0")

    def test_failed_checks_write_no_commit_request(self):
        s3, spark, error = self.run_main(metrics=[{**GOOD, "row_count": 9, "bad3": 2}])
        self.assertRegex(str(error), r"^dataset orders, source s3://raw-bucket/orders/ingest_date=2024-01-05/"
                                     r"orders\.csv: 2 non-empty values did not convert .* amount \(decimal\(12,2\)\): 2;"
                                     r" read 9 rows but the validator counted 10")
        self.assertEqual(len(spark.writes), 1)  # written, then refused: never named to the committer
        self.assertNotIn(("curated-bucket", REQUEST_KEY), s3.objects)
        self.assert_untouched(s3)

    def test_a_short_whole_read_after_a_short_line_read_fails(self):
        s3, spark, error = self.run_main(metrics=[{**GOOD, "row_count": 8}, {**GOOD, "row_count": 9}],
                                         extra=["--multiline", "false"])
        self.assertRegex(str(error), r": read 9 rows but the validator counted 10 \(--expected-rows\)$")
        self.assertEqual(len(spark.reads), 2)
        self.assertNotIn(("curated-bucket", REQUEST_KEY), s3.objects)

    def test_a_source_spark_cannot_read_by_name_is_copied_first_and_the_copy_deleted(self):
        source = "s3://raw-bucket/orders/ingest_date=2024-01-05/_daily export.CSV.GZ"
        s3, spark, error = self.run_main(source=source, data=b"\x1f\x8b\x08...")
        self.assertIsNone(error)
        self.assertEqual(spark.reads[0][0], "s3://curated-bucket/" + PARTITION + "_staging/exec-1/input/source.csv.gz")
        self.assertEqual([k for k in s3.keys("curated-bucket") if "_staging/" in k], [])
        self.assertRegex(spark.writes[0][0], r"/ingest_date=2024-01-05/%5Fdaily export-exec-1-[0-9a-f]{16}/\Z")
        self.assertEqual(self.request(s3)["source"], source)

    def test_large_sources_are_cut_by_rows_and_named_in_row_order_with_their_footer_rows(self):
        # 3 GiB of CSV, 10 rows: at most 4 rows a file; two read tasks, the first cut in three.
        s3, spark, error = self.run_main(size=3 * (1 << 30), parts=(3, 1), file_rows=[4, 4, 1, 1],
                                         extra=["--multiline", "false"])
        self.assertIsNone(error)
        self.assertEqual(spark.writes[0][1]["maxRecordsPerFile"], "4")
        files = self.request(s3)["files"]
        self.assertEqual([(written_by(s3, job.split_s3_uri(f["path"])[1]), f["rows"]) for f in files], [
            ("run0 task0 c0", 4), ("run0 task0 c1", 4), ("run0 task0 c2", 1), ("run0 task1 c0", 1)])
        self.assertEqual(self.request(s3)["rows"], 10)

    def test_footer_rows_that_do_not_add_up_fail_the_run_without_a_request(self):
        s3, _, error = self.run_main(parts=(2,), file_rows=[4, 5])
        self.assertRegex(str(error), r"^the 2 data files under s3://.* hold 9 rows, not the 10 written$")
        self.assertNotIn(("curated-bucket", REQUEST_KEY), s3.objects)

    def test_missing_header_fails_before_reading_data(self):
        bucket, key = job.split_s3_uri(SOURCE)
        s3 = FakeS3({(bucket, key): b"x"})
        spark = FakeSpark(s3, ["order_id"], [GOOD])
        with fake_glue(spark, s3), self.assertRaisesRegex(job.JobFailure, "no column 'Customer Name'"):
            job.main(argv())
        self.assertEqual(spark.writes, [])


# ---------------------------------------------------------------------------------------------
# The rules of change (issue 16): aliases, optional and retired columns, extra columns, lineage
# ---------------------------------------------------------------------------------------------

# The declaration of test/conformance/conformance.test.ts EVOLVED: the same cases run through the
# DuckDB twin there.
EVOLVED = {"name": "customers", "extraColumns": "ignore", "columns": [
    {"name": "id", "type": "bigint", "nullable": False},
    {"name": "customer", "type": "string", "header": "Customer", "aliases": ["Client", "client name"]},
    {"name": "legacy_code", "type": "int", "nullable": False, "retired": True},
    {"name": "discount", "type": "decimal", "precision": 12, "scale": 2, "optional": True},
    {"name": "seen_at", "type": "timestamp", "optional": True},
    {"name": "note", "type": "string", "optional": True},
]}


def lineage_args(**overrides):
    return {**LINEAGE_ARGS, **overrides}


class RulesOfChangeTest(unittest.TestCase):
    plan = job.cast_plan(corpus_schema(EVOLVED))

    def test_the_plan_carries_the_metadata_and_makes_optional_and_retired_columns_nullable(self):
        self.assertEqual([(s.column, s.nullable, s.aliases, s.optional, s.retired, s.lineage) for s in self.plan], [
            ("id", False, (), False, False, None),
            ("customer", True, ("Client", "client name"), False, False, None),
            ("legacy_code", True, (), False, True, None),
            ("discount", True, (), True, False, None),
            ("seen_at", True, (), True, False, None),
            ("note", True, (), True, False, None),
            ("_source_key", True, (), False, False, "source_key"),
            ("_source_version", True, (), False, False, "source_version"),
            ("_ingested_at", True, (), False, False, "ingested_at"),
        ])
        # Even where a hand-written schema says otherwise.
        hand = schema(field("kept", "integer", False), field("late", "string", False))
        hand = hand.replace('"header": "kept"', '"header": "kept", "retired": true').replace(
            '"header": "late"', '"header": "late", "optional": true')
        self.assertEqual([(s.retired, s.optional, s.nullable) for s in job.cast_plan(hand)],
                         [(True, False, True), (False, True, True)])
        # Nullable by the model, so no not-null check counts their typed NULLs as violations.
        self.assertEqual([item for item in job.check_aggregates(self.plan) if item.endswith(("nul2", "nul3"))], [])
        self.assertEqual([item.rsplit(" AS ", 1)[1] for item in job.check_aggregates(self.plan)
                          if item.startswith("SUM(CASE WHEN t")], ["nul0"])

    def test_finds_a_column_by_alias_reads_no_retired_or_extra_column_and_leaves_absent_optional_ones(self):
        # The new export: an alias, another order, the retired column and an extra one still there.
        headers = ["Client", "legacy_code", "id", "Promo", "seen_at"]
        self.assertEqual(job.header_positions(headers, self.plan), [2, 0, None, None, 4, None, None, None, None])
        # The old export: the name, the header, the optional columns present.
        self.assertEqual(job.header_positions(["customer", "id", "discount", "seen_at"], self.plan)[:6],
                         [1, 0, None, 2, 3, None])
        self.assertEqual(job.header_positions(["Customer", "id"], self.plan)[:2], [1, 0])

    def test_a_missing_column_that_is_not_optional_is_still_an_error(self):
        with self.assertRaises(job.JobFailure) as failure:
            job.header_positions(["Client", "discount"], self.plan)
        self.assertEqual(str(failure.exception), "the file's header has no column 'id' (file header: 'Client', 'discount')")

    def test_the_projection_gives_typed_nulls_and_the_lineage_arguments_cast_as_file_text(self):
        lineage = {"source_key": "k/it's.csv", "source_version": "v1", "ingested_at": "2024-01-05T23:59:59.987Z"}
        items = job.projection(self.plan, [2, 0, None, None, 4, None, None, None, None], lineage)
        self.assertEqual(items[4:8], ["CAST(NULL AS STRING) AS r2", "CAST(NULL AS INT) AS t2",
                                      "CAST(NULL AS STRING) AS r3", "CAST(NULL AS DECIMAL(12,2)) AS t3"])
        self.assertEqual(items[10:12], ["CAST(NULL AS STRING) AS r5", "CAST(NULL AS STRING) AS t5"])
        self.assertEqual(items[12:14], ["'k/it\\'s.csv' AS r6", "CAST('k/it\\'s.csv' AS STRING) AS t6"])
        self.assertEqual(items[16], "'2024-01-05T23:59:59.987Z' AS r8")
        self.assertEqual(items[17], "CAST(" + job.render(self.plan[8].template, "'2024-01-05T23:59:59.987Z'")
                         + " AS TIMESTAMP_LTZ) AS t8")
        # The instant passes the timestamp guard and Spark's cast keeps its milliseconds.
        self.assertTrue(template_accepts(self.plan[8].template, lineage["ingested_at"]))
        self.assertEqual(spark_cast("TIMESTAMP_LTZ", lineage["ingested_at"]), "2024-01-05T23:59:59.987000Z")

    def test_writes_the_declared_columns_then_ingest_date_then_the_lineage_fields(self):
        written = job.output_schema(self.plan)["fields"]
        self.assertEqual([(f["name"], f["type"], f["nullable"], f["metadata"][job.FIELD_ID_KEY]) for f in written], [
            ("id", "long", False, 2), ("customer", "string", True, 3), ("legacy_code", "integer", True, 4),
            ("discount", "decimal(12,2)", True, 5), ("seen_at", "timestamp", True, 6), ("note", "string", True, 7),
            ("ingest_date", "date", False, 1), ("_source_key", "string", True, 100001),
            ("_source_version", "string", True, 100002), ("_ingested_at", "timestamp", True, 100003)])
        self.assertEqual(job.output_items(self.plan, "2024-01-05")[5:8],
                         ["t5 AS `note`", "DATE '2024-01-05' AS `ingest_date`", "t6 AS `_source_key`"])

    def test_lineage_arguments_are_needed_only_by_a_schema_with_lineage_fields(self):
        args = job.parse_args(argv(**lineage_args()), FakeResolver())
        self.assertEqual((args.source_key, args.source_version, args.ingested_at),
                         ("landing-key/2024/01/05/export.csv", "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY",
                          "2024-01-05T23:59:59.987Z"))
        self.assertEqual(job.lineage_values(self.plan, args), {
            "source_key": "landing-key/2024/01/05/export.csv", "source_version": "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY",
            "ingested_at": "2024-01-05T23:59:59.987Z"})
        partial = job.parse_args(argv(**lineage_args(**{"--source-version": None, "--ingested-at": None})),
                                 FakeResolver())
        with self.assertRaises(job.JobFailure) as failure:
            job.lineage_values(self.plan, partial)
        self.assertEqual(str(failure.exception), "the schema has lineage fields, so the job needs --source-version, "
                                                 "--ingested-at (the landed object's key, version and LastModified)")
        # An execution started before the lineage fields: no argument, no lineage field, no error.
        before = job.cast_plan(corpus_schema(EVOLVED, lineage=False))
        self.assertEqual(job.lineage_values(before, job.parse_args(argv(), FakeResolver())), {})

    def test_a_bad_ingested_at_is_refused(self):
        for bad in ["2024-01-05T10:00:00Z", "2024-01-05T10:00:00.000+01:00", "2024-02-30T10:00:00.000Z",
                    "2024-01-05T24:00:00.000Z", "0000-01-01T00:00:00.000Z", "2024-01-05T10:00:00.000Z\n"]:
            with self.subTest(bad), self.assertRaises(job.JobFailure) as failure:
                job.parse_args(argv(**{"--ingested-at": bad}), FakeResolver())
            self.assertEqual(str(failure.exception), "--ingested-at must be an ISO 8601 UTC instant with milliseconds "
                             f"(2024-01-05T10:00:00.000Z, an S3 LastModified), got {json.dumps(bad)}")

    def test_main_writes_typed_nulls_and_lineage_values_with_their_field_ids(self):
        bucket, key = job.split_s3_uri(SOURCE)
        s3 = FakeS3({(bucket, key): b"Client,legacy_code,id,Promo,seen_at\n"})
        metrics = {"row_count": 10, **{f"bad{k}": 0 for k in range(9)}, "nul0": 0}
        spark = FakeSpark(s3, ["Client", "legacy_code", "id", "Promo", "seen_at"], [metrics])
        schema = corpus_schema(EVOLVED)
        with fake_glue(spark, s3):
            job.main(argv(**{"--schema": schema, "--dataset": "customers", **LINEAGE_ARGS}))
        lineage = {"source_key": LINEAGE_ARGS["--source-key"], "source_version": LINEAGE_ARGS["--source-version"],
                   "ingested_at": LINEAGE_ARGS["--ingested-at"]}
        self.assertEqual(spark.selects[0], job.projection(self.plan, [2, 0, None, None, 4, None, None, None, None],
                                                          lineage))
        self.assertEqual([name for name, _ in spark.aliases[0]],
                         ["id", "customer", "legacy_code", "discount", "seen_at", "note", "ingest_date",
                          "_source_key", "_source_version", "_ingested_at"])
        self.assertEqual(spark.aliases[0][-1], ("_ingested_at", {job.FIELD_ID_KEY: 100003}))

    def test_main_fails_before_reading_when_the_lineage_arguments_are_missing(self):
        bucket, key = job.split_s3_uri(SOURCE)
        s3 = FakeS3({(bucket, key): b"x"})
        spark = FakeSpark(s3, ["id"], [GOOD])
        with fake_glue(spark, s3), self.assertRaisesRegex(job.JobFailure, "needs --source-key, --source-version"):
            job.main(argv(**{"--schema": corpus_schema(EVOLVED)}))
        self.assertEqual(spark.reads, [])


if __name__ == "__main__":
    unittest.main()
