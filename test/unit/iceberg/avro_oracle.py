"""The Avro oracle of the Iceberg core's tests: python3-avro (Debian, the Apache reference
implementation) reads each manifest or manifest list given, and reports its record count, its
header's Iceberg keys and every record field of the header schema lacking a `field-id`."""
import json
import sys

import avro.datafile
import avro.io


def fields_without_id(schema, path, out):
    """Walks the JSON schema: every record field must carry field-id."""
    if isinstance(schema, list):
        for branch in schema:
            fields_without_id(branch, path, out)
    elif isinstance(schema, dict):
        kind = schema.get("type")
        if kind == "record":
            for field in schema["fields"]:
                if "field-id" not in field:
                    out.append(path + field["name"])
                fields_without_id(field["type"], path + field["name"] + ".", out)
        elif kind == "array":
            if "element-id" not in schema:
                out.append(path + "[element]")
            fields_without_id(schema["items"], path, out)
        elif kind == "map":
            fields_without_id(schema["values"], path, out)


report = []
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        reader = avro.datafile.DataFileReader(f, avro.io.DatumReader())
        records = list(reader)
        meta = {k: v.decode("utf-8") for k, v in reader.meta.items() if k != "avro.schema"}
        schema = json.loads(reader.meta["avro.schema"].decode("utf-8"))
        missing = []
        fields_without_id(schema, "", missing)
        ids = [r.get("snapshot_id") if "snapshot_id" in r else r.get("added_snapshot_id") for r in records]
        report.append({
            "path": path,
            "records": len(records),
            "fieldsWithoutId": missing,
            "meta": meta,
            "snapshotIds": [str(i) for i in ids],
        })
print(json.dumps(report))
