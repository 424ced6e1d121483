"""certify.report: certificates as JSON (schema, canonical form, sha256), the reports folder
(``<ID>.json``, ``index.json``, ``README.md``, figures) and verification of certificate files."""

from certify.report.certificate import (
    FORMAT,
    JsonArray,
    canonical_json,
    certificate_from_json,
    certificate_sha256,
    certificate_to_json,
    check_hash,
    read_certificate,
    write_certificate,
)
from certify.report.schema import schema, schema_problems
from certify.report.verify import VerifyResult, recompute_problems, verify_file
from certify.report.writer import read_index, render_readme, write_reports

__all__ = [
    "FORMAT",
    "JsonArray",
    "VerifyResult",
    "canonical_json",
    "certificate_from_json",
    "certificate_sha256",
    "certificate_to_json",
    "check_hash",
    "read_certificate",
    "read_index",
    "recompute_problems",
    "render_readme",
    "schema",
    "schema_problems",
    "verify_file",
    "write_certificate",
    "write_reports",
]
