"""certify.report: certificate JSON round trip, canonical hash, schema, reports folder.

Oracles: the read-back certificate must equal the original (dataclass equality, Decimal
endpoints compared exactly); the hash is recomputed here independently from its definition
(json.dumps with the canonical options, hashlib) and in a fresh interpreter; the schema is
exercised by jsonschema's own validator on written files and on hand-broken ones.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.claims.model import Certificate, ClaimInfo, Evidence, Verdict
from certify.errors import InvalidArgument
from certify.numerics.bound import Bound
from certify.report import (
    FORMAT,
    JsonArray,
    certificate_from_json,
    certificate_sha256,
    certificate_to_json,
    check_hash,
    read_certificate,
    read_index,
    schema,
    schema_problems,
    write_certificate,
    write_reports,
)
from certify.report.certificate import loads_strict, value_from_json, value_to_json

# -- fixtures ------------------------------------------------------------------------------

TINY = Bound(Decimal("1e-434294481910"), Decimal("1.0000000000000000001e-434294481910"), 4096)
HUGE = Bound(Decimal("9.99e+123456789012"), Decimal("Infinity"), 256)
PLAIN = Bound(Decimal("0.25"), Decimal("0.25"), 0)
NEG = Bound(Decimal("-Infinity"), Decimal("-3"), 64)


def _info(cid: str = "RPT-1", title: str = "A title | with a pipe") -> ClaimInfo:
    return ClaimInfo(cid, title, "Some paper, Thm 2", "delta(eps) <= 1e-5", "sigma in [0.5, 2]")


def _confirmed(cid: str = "RPT-1", generated_at: str = "2025-01-01T00:00:00+00:00") -> Certificate:
    ev = (
        Evidence(
            "certified",
            "Arb ball, escalated",
            {
                "tiny": TINY,
                "huge": HUGE,
                "exact": PLAIN,
                "neg": NEG,
                "grid": (PLAIN, [TINY, {"x": HUGE, "label": "ü—∞"}], ()),
                "pair": {"lower": PLAIN, "upper": HUGE},  # a plain mapping, not a Bound
                "lo_hi_ints": {"lower": 1, "upper": 2},  # ditto: not string endpoints
                "meta": {"n": 10**40, "ratio": 0.1, "neg0": -0.0, "flag": True, "none": None},
            },
            prec=4096,
            seconds=1.25,
        ),
        Evidence("symbolic", "sympy simplification", {"identity": "x**2 - 1"}, 0, 0.0),
        Evidence("statistical", "Clopper-Pearson, seed 7", {"hits": [3, 4], "p": 1e-300}, 0, 2.5),
    )
    verdict = Verdict("confirmed", "all bounds below the claimed delta\nsecond line")
    return Certificate(_info(cid), ev, verdict, {"python": "3.11", "python-flint": "0.9"},
                       generated_at)


def _refuted(cid: str = "RPT-2") -> Certificate:
    counter: dict[str, Any] = {"sigma": Bound(Decimal("0.5"), Decimal("0.5")), "delta": HUGE,
                               "eps": "1"}
    return Certificate(
        ClaimInfo(cid, "Refuted one", "src", "stmt", "dom", derived_from="RPT-1"),
        (Evidence("cross-check", "two integration splits", {"a": [PLAIN, PLAIN]}, 128, 0.5),),
        Verdict("refuted", "delta exceeds the claim at sigma=0.5", counterexample=counter),
        {"python": "3.11"},
        "2025-01-02T00:00:00+00:00",
    )


def _inconclusive(cid: str = "RPT-10") -> Certificate:
    return Certificate(
        ClaimInfo(cid, "Undecided", "src", "stmt", "dom"),
        (),
        Verdict("inconclusive", "undecided", reason="width 0.3 at 8192 bits"),
        {},
        "",
    )


ALL = [_confirmed, _refuted, _inconclusive]


def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema())


# -- round trip ----------------------------------------------------------------------------


@pytest.mark.parametrize("make", ALL)
def test_round_trip_equals_original(make: Any) -> None:
    cert = make()
    data = certificate_to_json(cert)
    back = certificate_from_json(data)
    assert back == cert
    # through text as well (what a file holds)
    assert certificate_from_json(json.loads(json.dumps(data))) == cert
    # and the JSON of the read-back certificate is identical
    assert certificate_to_json(back) == data


def test_round_trip_preserves_bound_endpoints_exactly() -> None:
    back = certificate_from_json(certificate_to_json(_confirmed()))
    values = back.evidence[0].values
    tiny = values["tiny"]
    assert isinstance(tiny, Bound)
    assert tiny.lower == Decimal("1e-434294481910") and tiny.prec == 4096
    assert tiny.lower.as_tuple() == Decimal("1e-434294481910").as_tuple()
    huge = values["huge"]
    assert isinstance(huge, Bound) and huge.upper.is_infinite() and huge.upper > 0
    neg = values["neg"]
    assert isinstance(neg, Bound) and neg.lower.is_infinite() and neg.lower < 0
    assert values["pair"] == {"lower": PLAIN, "upper": HUGE}
    pair: Any = values["pair"]
    assert isinstance(pair["lower"], Bound)
    assert values["lo_hi_ints"] == {"lower": 1, "upper": 2}
    assert isinstance(values["grid"], JsonArray)
    meta: Any = values["meta"]
    assert meta["n"] == 10**40
    assert math.copysign(1.0, meta["neg0"]) == -1.0


def test_bound_json_form_is_decimal_strings() -> None:
    data = certificate_to_json(_confirmed())
    assert data["evidence"][0]["values"]["tiny"] == {
        "lower": "1e-434294481910", "upper": "1.0000000000000000001e-434294481910", "prec": 4096,
    }
    assert data["evidence"][0]["values"]["huge"]["upper"] == "Infinity"
    # the two-key form (as Bound.to_json writes it) reads back as an exact Bound
    assert value_from_json({"lower": "1.2e-400", "upper": "0.5"}) == \
        Bound(Decimal("1.2e-400"), Decimal("0.5"), 0)


def test_json_array_equality() -> None:
    a = JsonArray([1, JsonArray([2, 3])])
    # both operand orders on purpose: the reflected comparison is what the model's == uses
    assert a == [1, [2, 3]] and [1, [2, 3]] == a  # noqa: SIM300
    assert a == (1, (2, 3)) and (1, (2, 3)) == a  # noqa: SIM300
    assert a != [1, [2, 4]] and [1] != a and a != "12"  # noqa: SIM300
    assert hash(a) == hash((1, (2, 3)))


_digits = st.integers(min_value=0, max_value=10**30)
_exponents = st.one_of(st.integers(-400, 400), st.integers(-10**12, 10**12))


@st.composite
def _decimals(draw: Any) -> Decimal:
    sign = "-" if draw(st.booleans()) else ""
    return Decimal(f"{sign}{draw(_digits)}e{draw(_exponents)}")


@st.composite
def _bounds(draw: Any) -> Bound:
    a, b = draw(_decimals()), draw(_decimals())
    lo, hi = (a, b) if a <= b else (b, a)
    if draw(st.integers(0, 9)) == 0:
        hi = Decimal("Infinity")
    if draw(st.integers(0, 9)) == 0:
        lo = Decimal("-Infinity")
    return Bound(lo, hi, draw(st.sampled_from([0, 53, 64, 4096])))


_text = st.text(st.characters(codec="utf-8"), max_size=8)  # no lone surrogates
_keys = _text.filter(lambda k: k not in ("lower", "upper", "prec"))
_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
    _text, _bounds(),
)
_values = st.recursive(
    _leaves,
    lambda kids: st.one_of(
        st.lists(kids, max_size=3),
        st.lists(kids, max_size=3).map(tuple),
        st.dictionaries(_keys, kids, max_size=3),
    ),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(values=st.dictionaries(_keys, _values, max_size=4), counter=st.dictionaries(
    _keys, _values, min_size=1, max_size=3), seconds=st.floats(0, 1e6))
def test_round_trip_property(values: dict[str, Any], counter: dict[str, Any],
                             seconds: float) -> None:
    cert = Certificate(
        _info(),
        (Evidence("certified", "m", values, 64, seconds),),
        Verdict("refuted", "s", counterexample=counter),
        {"python": "3.11"},
        "t",
    )
    data = certificate_to_json(cert)
    assert certificate_from_json(loads_strict(json.dumps(data))) == cert
    assert not schema_problems(data)


def test_writer_refuses_values_that_cannot_round_trip() -> None:
    bad: Any
    for bad in (
        {"x": {"lower": "1", "upper": "2"}},  # the reserved Bound shape as plain data
        {"x": {"lower": "1", "upper": "2", "prec": 3}},
        {"x": Decimal("0.1")},  # a bare Decimal: use Bound.exact
        {"x": float("nan")},
        {"x": [float("inf")]},
        {"x": {1: "a"}},
        {"x": object()},
        {"x": "\ud800"},  # a lone surrogate is not Unicode text
    ):
        cert = Certificate(_info(), (Evidence("certified", "m", bad),),
                           Verdict("confirmed", "s"), {}, "")
        with pytest.raises(InvalidArgument):
            certificate_to_json(cert)
    with pytest.raises(InvalidArgument, match="finite"):
        value_to_json(float("-inf"), "v")


def test_reader_refuses_malformed_data() -> None:
    good = certificate_to_json(_confirmed())
    cases: list[tuple[str, Any]] = [
        ("format", "certify-dp/certificate/2"),
        ("verdict", None),
        ("evidence", {}),
        ("environment", {"python": 3}),
        ("sha256", "XYZ"),
    ]
    for key, value in cases:
        bad = copy.deepcopy(good)
        bad[key] = value
        with pytest.raises(InvalidArgument):
            certificate_from_json(bad)
    for mutate in (
        lambda d: d.pop("verdict"),
        lambda d: d.update(extra=1),
        lambda d: d["run"]["seconds"].append(1.0),
        lambda d: d["run"]["seconds"].__setitem__(0, float("nan")),
        lambda d: d["evidence"][0]["values"]["tiny"].update(lower="1e-99999999999999999999"),
        lambda d: d["evidence"][0]["values"]["tiny"].update(lower="0.5", upper="0.25"),
        lambda d: d["evidence"][0]["values"]["tiny"].update(prec=-1),
        lambda d: d["evidence"][0]["values"]["meta"].update(x=float("nan")),
        lambda d: d["evidence"][0].update(kind="guess"),
        lambda d: d["verdict"].update(status="refuted"),  # no counterexample
        lambda d: d["claim"].pop("domain"),
    ):
        bad = copy.deepcopy(good)
        mutate(bad)
        with pytest.raises(InvalidArgument):
            certificate_from_json(bad)


# -- canonical hash ------------------------------------------------------------------------


def _independent_hash(data: dict[str, Any]) -> str:
    hashed = {k: v for k, v in data.items() if k not in ("sha256", "run")}
    text = json.dumps(hashed, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.mark.parametrize("make", ALL)
def test_hash_matches_its_definition(make: Any) -> None:
    data = certificate_to_json(make())
    assert data["sha256"] == _independent_hash(data) == certificate_sha256(data)
    assert check_hash(data)


def test_hash_ignores_run_but_not_content() -> None:
    a = certificate_to_json(_confirmed(generated_at="2025-01-01T00:00:00+00:00"))
    later = _confirmed(generated_at="2031-06-30T12:00:00+00:00")
    b = certificate_to_json(Certificate(later.claim, tuple(
        Evidence(e.kind, e.method, e.values, e.prec, e.seconds * 7 + 1) for e in later.evidence
    ), later.verdict, later.environment, later.generated_at))
    assert a["run"] != b["run"] and a["sha256"] == b["sha256"]
    b["run"]["seconds"][0] = 99.0
    assert check_hash(b)


_PINNED = """
import json
from decimal import Decimal
from certify.claims.model import Certificate, ClaimInfo, Evidence, Verdict
from certify.numerics.bound import Bound
from certify.report import certificate_to_json
b = Bound(Decimal("1.4142135623730950488"), Decimal("1.4142135623730950489"), 64)
c = Certificate(ClaimInfo("PIN-1", "t", "s", "st", "d"),
                (Evidence("certified", "m", {"b": b, "z": [1, "ü", {"y": 0.5}]}, 64, 0.1),),
                Verdict("confirmed", "ok"), {"python": "x"}, "now")
print(certificate_to_json(c)["sha256"])
"""
_PINNED_HASH = "f94a1eeafe032e05901ed71936bf9092714f03c0dfc602cad79444f5ced493b5"


def test_hash_is_stable_across_interpreters() -> None:
    """A fresh interpreter with another hash seed reproduces the hash; the value is pinned so
    that an accidental change of the canonical form (which would orphan every stored
    certificate) fails here."""
    here = subprocess.run([sys.executable, "-c", _PINNED], capture_output=True, text=True,
                          check=True, env={"PYTHONHASHSEED": "12345", "PATH": ""}).stdout.strip()
    namespace: dict[str, Any] = {}
    exec(compile(_PINNED.replace("print(", "RESULT = ("), "pinned", "exec"), namespace)
    assert here == namespace["RESULT"]
    assert here == _PINNED_HASH


def test_tampering_with_hashed_fields_is_detected() -> None:
    good = certificate_to_json(_confirmed())
    edits = [
        lambda d: d["evidence"][0]["values"]["exact"].update(upper="0.26"),
        lambda d: d["verdict"].update(status="refuted"),
        lambda d: d["verdict"].update(summary="fine"),
        lambda d: d["claim"].update(statement="delta(eps) <= 1e-4"),
        lambda d: d["environment"].update(python="3.12"),
        lambda d: d["evidence"].pop(),
        lambda d: d["evidence"][0].update(prec=53),
        lambda d: d["evidence"][0]["values"]["meta"].update(ratio=0.1000000001),
    ]
    for edit in edits:
        bad = copy.deepcopy(good)
        edit(bad)
        assert not check_hash(bad)
    missing = copy.deepcopy(good)
    del missing["sha256"]
    assert not check_hash(missing)


@settings(max_examples=40, deadline=None)
@given(b=_bounds(), pick=st.integers(0, 10**6), digit=st.integers(0, 9))
def test_flipping_any_digit_of_a_bound_is_detected(b: Bound, pick: int, digit: int) -> None:
    cert = Certificate(_info(), (Evidence("certified", "m", {"b": b}, 64),),
                       Verdict("confirmed", "s"), {}, "")
    data = certificate_to_json(cert)
    text = data["evidence"][0]["values"]["b"]["lower"]
    spots = [i for i, ch in enumerate(text) if ch.isdigit()]
    if not spots:  # "-Infinity"
        return
    i = spots[pick % len(spots)]
    new = str(digit) if str(digit) != text[i] else str((digit + 1) % 10)
    data["evidence"][0]["values"]["b"]["lower"] = text[:i] + new + text[i + 1:]
    assert not check_hash(data)


# -- schema --------------------------------------------------------------------------------


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    s = schema()
    assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(s)
    assert s["properties"]["format"]["const"] == FORMAT


@pytest.mark.parametrize("make", ALL)
def test_written_certificates_validate(make: Any, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    write_certificate(make(), path)
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n")
    data = json.loads(text)
    _validator().validate(data)
    cert, sha = read_certificate(path)
    assert cert == make() and sha == data["sha256"]


GOOD_DECIMALS = ["0", "0.25", "-3", "1.2e-400", "1E+5", "Infinity", "-Infinity",
                 "1e-434294481910", "123456789012345678901234567890"]
BAD_DECIMALS = ["1.2.3", "nan", "NaN", "0x10", "1_000", " 1", "+1", ".5", "1.", "1e", "inf",
                "", "01", "Infinity ", "1e+-3"]


@pytest.mark.parametrize("text", GOOD_DECIMALS)
def test_decimal_pattern_accepts_our_format(text: str) -> None:
    data = certificate_to_json(_refuted())
    data["verdict"]["counterexample"]["delta"] = {"lower": text, "upper": "Infinity"}
    data["sha256"] = certificate_sha256(data)
    assert not list(_validator().iter_errors(data))
    certificate_from_json(data)


@pytest.mark.parametrize("text", BAD_DECIMALS)
def test_decimal_pattern_rejects_bad_strings(text: str) -> None:
    data = certificate_to_json(_refuted())
    data["verdict"]["counterexample"]["delta"] = {"lower": text, "upper": "Infinity"}
    assert list(_validator().iter_errors(data))
    with pytest.raises(InvalidArgument):
        certificate_from_json(data)


def _broken(edit: Any) -> dict[str, Any]:
    data = certificate_to_json(_confirmed())
    edit(data)
    return data


@pytest.mark.parametrize("edit", [
    lambda d: d.pop("verdict"),
    lambda d: d.pop("sha256"),
    lambda d: d.update(extra=True),
    lambda d: d["verdict"].update(status="maybe"),
    lambda d: d["verdict"].update(status="refuted"),  # counterexample null
    lambda d: d["verdict"].update(status="inconclusive"),  # reason null
    lambda d: d["evidence"][0].update(kind="guess"),
    lambda d: d["evidence"][0].update(prec=-1),
    lambda d: d["evidence"][0].pop("method"),
    lambda d: d["evidence"][0]["values"].update(x={"lower": "a", "upper": "1"}),
    lambda d: d["evidence"][0]["values"].update(x={"lower": "1", "upper": "2", "prec": "64"}),
    lambda d: d["run"]["seconds"].__setitem__(0, -1.0),
    lambda d: d.update(sha256=d["sha256"].upper()),
    lambda d: d.update(sha256="abc"),
    lambda d: d["environment"].update(python=3.11),
], ids=lambda _: "case")
def test_schema_rejects_malformed(edit: Any) -> None:
    data = _broken(edit)
    assert data != certificate_to_json(_confirmed())
    assert schema_problems(data)


def test_schema_and_reader_reject_nan() -> None:
    data = certificate_to_json(_confirmed())
    data["evidence"][0]["values"]["meta"]["ratio"] = float("nan")
    assert any("finite" in p for p in schema_problems(data))
    with pytest.raises(InvalidArgument):
        certificate_from_json(data)
    text = json.dumps(certificate_to_json(_confirmed())).replace("0.1", "NaN", 1)
    with pytest.raises(ValueError, match="NaN"):
        loads_strict(text)


def test_plain_lower_upper_objects_are_allowed_when_not_string_endpoints() -> None:
    data = certificate_to_json(_confirmed())
    assert data["evidence"][0]["values"]["lo_hi_ints"] == {"lower": 1, "upper": 2}
    assert not schema_problems(data)


# -- reports folder ------------------------------------------------------------------------


def test_write_reports_layout_and_merge(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    drawn: list[str] = []

    def draw(path: str) -> None:
        drawn.append(path)
        Path(path).write_text("<svg xmlns='http://www.w3.org/2000/svg'/>\n", encoding="utf-8")

    write_reports([_confirmed("RPT-1"), _inconclusive("RPT-10")], out, {"RPT-1": draw})
    assert drawn == [str(out / "figures" / "RPT-1.svg")]
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md", "RPT-1.json", "RPT-10.json", "figures", "index.json"]
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    assert list(index) == ["RPT-1", "RPT-10"]
    entry = index["RPT-1"]
    assert entry["verdict"] == "confirmed" and entry["file"] == "RPT-1.json"
    assert entry["title"] == "A title | with a pipe"
    assert entry["sha256"] == json.loads((out / "RPT-1.json").read_text())["sha256"]
    assert entry["evidence_kinds"] == ["symbolic", "certified", "statistical"]
    assert entry["figure"] == "figures/RPT-1.svg" and index["RPT-10"]["figure"] is None
    assert entry["summary"] == "all bounds below the claimed delta"

    # a second run over another claim keeps the first run's entries
    write_reports([_refuted("RPT-2")], out)
    index2 = read_index(out)
    assert list(index2) == ["RPT-1", "RPT-10", "RPT-2"]
    assert index2["RPT-1"] == entry
    readme = (out / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith("| RPT-")]
    assert [r.split(" | ")[0] for r in rows] == ["| RPT-1", "| RPT-2", "| RPT-10"]
    assert "3 claims: 1 confirmed, 1 refuted, 1 inconclusive." in readme
    assert "[RPT-2.json](RPT-2.json)" in readme and "[svg](figures/RPT-1.svg)" in readme
    assert "A title \\| with a pipe" in readme
    assert "symbolic, certified, statistical" in readme

    # re-running a claim replaces its entry
    again = _confirmed("RPT-2")
    write_reports([again], out)
    index3 = read_index(out)
    assert index3["RPT-2"]["verdict"] == "confirmed" and index3["RPT-10"] == index2["RPT-10"]
    for cid in index3:
        _validator().validate(json.loads((out / f"{cid}.json").read_text(encoding="utf-8")))


def test_write_reports_is_deterministic(tmp_path: Path) -> None:
    certs = [_inconclusive("RPT-10"), _refuted("RPT-2"), _confirmed("RPT-1")]
    write_reports(certs, tmp_path / "a")
    write_reports(list(reversed(certs)), tmp_path / "b")
    for name in ("index.json", "README.md", "RPT-1.json", "RPT-2.json", "RPT-10.json"):
        a = (tmp_path / "a" / name).read_bytes()
        assert a == (tmp_path / "b" / name).read_bytes()
        assert a.endswith(b"\n") and not a.endswith(b"\n\n") and b"\r" not in a
    index = (tmp_path / "a" / "index.json").read_text(encoding="utf-8")
    assert index == json.dumps(json.loads(index), sort_keys=True, indent=2,
                               ensure_ascii=False) + "\n"


def test_write_reports_refuses_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="safe file name"):
        write_reports([_confirmed("../evil")], tmp_path)
    with pytest.raises(InvalidArgument, match="twice"):
        write_reports([_confirmed("RPT-1"), _confirmed("RPT-1")], tmp_path)
    with pytest.raises(InvalidArgument, match="not among"):
        write_reports([_confirmed("RPT-1")], tmp_path, {"RPT-9": lambda p: None})
    (tmp_path / "index.json").write_text("{broken", encoding="utf-8")
    with pytest.raises(InvalidArgument, match="index"):
        write_reports([_confirmed("RPT-1")], tmp_path)
    assert not (tmp_path / "RPT-1.json").exists()  # nothing written over a broken index
