"""Records the S3 calls the Glue script makes for given job arguments, through the fakes of its own
unit tests (glue-scripts/test_csv_to_parquet.py): boto3's client calls as the script sends them,
and the paths Spark is asked to read and write. Used by test/iam/recorded-calls.test.ts.

stdin: a JSON list of job arguments ({"--source": ..., "--target": ..., ...}, as the state machine
passes them). For each, main() runs three times: a first run, a re-run beside an earlier run's data
files (which it never touches), and a run over a gzip source whose name Spark cannot read (copied
first). Each ends with the commit request's PutObject.
stdout: a JSON list of {"scenario", "s3": [{"method", "args"}], "spark_reads", "spark_writes"}.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "glue-scripts"))

import csv_to_parquet as job  # noqa: E402
import test_csv_to_parquet as fakes  # noqa: E402


class RecordingS3(fakes.FakeS3):
    """The unit tests' in-memory S3, recording every client call with its arguments."""

    def __init__(self, objects=None):
        super().__init__(objects)
        self.log = []

    def get_paginator(self, name):
        paginator = super().get_paginator(name)
        log = self.log

        class Recording:
            def paginate(self, **kwargs):
                log.append({"method": name, "args": kwargs})
                return paginator.paginate(**kwargs)

        return Recording()

    def copy(self, CopySource, Bucket, Key):
        self.log.append({"method": "copy", "args": {"CopySource": CopySource, "Bucket": Bucket, "Key": Key}})
        return super().copy(CopySource, Bucket, Key)

    def delete_objects(self, Bucket, Delete):
        self.log.append({"method": "delete_objects", "args": {"Bucket": Bucket, "Delete": Delete}})
        return super().delete_objects(Bucket, Delete)

    def head_object(self, Bucket, Key):
        self.log.append({"method": "head_object", "args": {"Bucket": Bucket, "Key": Key}})
        return super().head_object(Bucket, Key)

    def get_object(self, Bucket, Key, Range=None):
        self.log.append({"method": "get_object", "args": {"Bucket": Bucket, "Key": Key, "Range": Range}})
        return super().get_object(Bucket, Key, Range)

    def put_object(self, Bucket, Key, Body, ContentType=None):
        self.log.append({"method": "put_object", "args": {"Bucket": Bucket, "Key": Key, "ContentType": ContentType}})
        return super().put_object(Bucket, Key, Body, ContentType)


def run(arguments, scenario):
    plan = job.cast_plan(arguments["--schema"])
    header = [step.header for step in plan]
    rows = int(arguments["--expected-rows"])
    aggregate = {"row_count": rows, **{f"bad{k}": 0 for k in range(len(plan))},
                 **{f"nul{k}": 0 for k in range(len(plan))}}
    source = arguments["--source"]
    data = b"\x1f\x8b\x08..." if scenario == "gzip-copied" else b"id\n1\n"
    if scenario == "gzip-copied":
        source = source.rsplit("/", 1)[0] + "/_daily export.csv"
    src_bucket, src_key = job.split_s3_uri(source)
    objects = {(src_bucket, src_key): data}
    if scenario == "re-run":
        bucket, prefix = job.split_s3_uri(arguments["--target"])
        stem = job.output_stem(source)
        objects[(bucket, f"{prefix}{stem}-part-00000.parquet")] = b"old0"
        objects[(bucket, f"{prefix}{stem}-part-00001.parquet")] = b"old1"
    s3 = RecordingS3(objects)
    spark = fakes.FakeSpark(s3, header, [aggregate])
    argv = ["script.py"]
    for k, v in {**arguments, "--source": source}.items():
        argv += [k, v]
    with fakes.fake_glue(spark, s3):
        job.main(argv)
    return {
        "scenario": scenario,
        "s3": s3.log,
        "spark_reads": [uri for uri, _ in spark.reads],
        "spark_writes": [uri for uri, _ in spark.writes],
    }


def main():
    out = []
    for arguments in json.load(sys.stdin):
        for scenario in ("first-run", "re-run", "gzip-copied"):
            out.append(run(arguments, scenario))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
