"""Custodian file layouts: a mapping file turns a custodian's own CSV shape into the canonical one.

A custodian folder of a day's drop (``custodians/<id>/``) is read in the canonical layout unless it
holds a ``layout.yaml``. That file either is a whole mapping or names one (``layout: birch``),
looked up first beside the drop (``<drop>/layouts/``) and then among the mappings that ship with
Lotwise (``data_contracts/layouts/``). Onboarding a custodian is writing one such file, no code:

    name: birch
    format: csv                 # csv | parquet | ofx (OFX statements, see data_contracts.ofx_statements)
    delimiter: ";"
    encoding: cp1252            # utf-8 | cp1252 | latin-1 | utf-16
    date_format: "%d.%m.%Y"     # strptime format of every date column (per-file override allowed)
    decimal: ","                # decimal mark; thousands separator below
    thousands: "."
    negative_parentheses: true  # "(12.50)" means -12.50
    files:
      positions:                # a canonical file name (data_contracts.registry); `trades` is the
                                # desk's outgoing order file, written in the same shape
        file: "POS_{as_of:%Y%m%d}.csv"
        columns: {account_id: "Konto", quantity_shares: "Stueck"}   # canonical field: source column
        units: {market_value_usd: 0.01}                              # multiply into the canonical unit
        signs: {quantity_shares: abs}                                # abs | negate
        codes: {account_type: {IND: taxable_individual}}             # source code: canonical value
        constants: {as_of_date: "{as_of:%Y-%m-%d}"}                  # a field the file does not carry

Mapping only normalizes text (names, number and date notation, units, signs, codes). The typed
check stays in ``frames.parse_frame``, so a mapped file is held to exactly the canonical contract
and a value that does not map (an unknown code, a date in another format) reaches it unchanged
and is reported with its file, line and field.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Literal, Optional

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from data_contracts.frames import LINE, column_specs
from data_contracts.registry import CUSTODIAN_FILES, OUTPUT_FILES, FileContract

LAYOUT_FILE = "layout.yaml"
SHIPPED_LAYOUTS = Path(__file__).with_name("layouts")
CUSTODIAN_FILE_NAMES = tuple(c.name for c in CUSTODIAN_FILES)
# Files Lotwise writes for the custodian, in its shape (the same mapping, read backwards).
OUTGOING_FILES = {"trades": OUTPUT_FILES["trades"]}
Encoding = Literal["utf-8", "cp1252", "latin-1", "utf-16"]


class FileMapping(BaseModel):
    """How one canonical file is found and read in a custodian's folder."""

    model_config = ConfigDict(extra="forbid")
    file: str = Field(description="File name in the custodian folder; may use {as_of:%Y%m%d}.")
    columns: dict[str, str] = Field(default_factory=dict, description="Canonical field → source column.")
    constants: dict[str, str] = Field(default_factory=dict, description="Canonical field → fixed text ({as_of:…} allowed).")
    codes: dict[str, dict[str, str]] = Field(default_factory=dict, description="Canonical field → {source code: value}.")
    units: dict[str, float] = Field(default_factory=dict, description="Canonical field → multiplier into the canonical unit.")
    signs: dict[str, Literal["abs", "negate"]] = Field(default_factory=dict)
    date_format: Optional[str] = None
    decimal: Optional[str] = None
    thousands: Optional[str] = None


class CustodianLayout(BaseModel):
    """A custodian's file shape. ``canonical()`` is Lotwise's own layout."""

    model_config = ConfigDict(extra="forbid")
    name: str
    format: Literal["csv", "parquet", "ofx"] = "csv"
    delimiter: str = Field(",", min_length=1, max_length=1)
    encoding: Encoding = "utf-8"
    date_format: str = "%Y-%m-%d"
    decimal: str = "."
    thousands: Optional[str] = None
    negative_parentheses: bool = False
    statements: str = Field("*.ofx", description="OFX only: glob of the statement files.")
    files: dict[str, FileMapping] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_files_and_fields(self) -> "CustodianLayout":
        for name, mapping in self.files.items():
            if name not in CUSTODIAN_FILE_NAMES and name not in OUTGOING_FILES:
                raise ValueError(f"files.{name}: not a custodian file (one of "
                                 f"{', '.join(CUSTODIAN_FILE_NAMES + tuple(OUTGOING_FILES))})")
            fields = set(_contract(name).model.model_fields)
            for part in ("columns", "constants", "codes", "units", "signs"):
                unknown = set(getattr(mapping, part)) - fields
                if unknown:
                    raise ValueError(f"files.{name}.{part}: unknown field(s) {', '.join(sorted(unknown))}")
        return self

    @classmethod
    def canonical(cls, format: Literal["csv", "parquet"] = "csv") -> "CustodianLayout":
        return cls(name=f"canonical-{format}", format=format)

    def mapping(self, name: str) -> FileMapping:
        ext = "parquet" if self.format == "parquet" else "csv"
        return self.files.get(name) or FileMapping(file=f"{name}.{ext}")

    def path(self, folder: Path, name: str, as_of: dt.date) -> Path:
        return Path(folder) / self.mapping(name).file.format(as_of=as_of)


def _contract(name: str) -> FileContract:
    return OUTGOING_FILES.get(name) or next(c for c in CUSTODIAN_FILES if c.name == name)


def load_layout(folder: Path, drop_root: Path | None = None) -> CustodianLayout:
    """The layout of one custodian folder: its layout.yaml, else canonical (Parquet if it has any)."""
    folder = Path(folder)
    spec_path = folder / LAYOUT_FILE
    if not spec_path.exists():
        return CustodianLayout.canonical("parquet" if any(folder.glob("*.parquet")) else "csv")
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8")) or {}
    if set(spec) == {"layout"}:  # a reference to a named mapping file
        name = str(spec["layout"])
        candidates = ([Path(drop_root) / "layouts" / f"{name}.yaml"] if drop_root else []) + [SHIPPED_LAYOUTS / f"{name}.yaml"]
        found = next((p for p in candidates if p.exists()), None)
        if found is None:
            raise FileNotFoundError(f"{spec_path}: layout {name!r} not found in {', '.join(map(str, candidates))}")
        spec = yaml.safe_load(found.read_text(encoding="utf-8"))
    return CustodianLayout.model_validate(spec)


def _number(text: pl.Expr, decimal: str, thousands: str | None, parentheses: bool) -> pl.Expr:
    t = text.str.strip_chars()
    if thousands:
        t = t.str.replace_all(thousands, "", literal=True)
    if decimal != ".":
        t = t.str.replace_all(decimal, ".", literal=True)
    if parentheses:
        t = pl.when(t.str.starts_with("(") & t.str.ends_with(")")).then(
            pl.lit("-") + t.str.strip_chars("()")).otherwise(t)
    return t


def _scaled(text: pl.Expr, scale: float) -> pl.Expr:
    """Multiply a number written as text. Powers of ten (cents → dollars) move the decimal point in
    the text itself, so nothing is rounded; other factors go through a float (and a warning belongs
    in the mapping file's comment). Text that is not a plain number passes through unchanged."""
    negate = scale < 0
    k = -math.log10(abs(scale))
    plain = text.str.contains(r"^-?\d+(\.\d+)?$")
    if abs(k - round(k)) < 1e-12 and round(k) > 0:
        k = round(k)
        minus = text.str.starts_with("-")
        body = text.str.strip_chars_start("-")
        whole = body.str.split_exact(".", 1).struct.field("field_0").str.zfill(k + 1)
        frac = body.str.split_exact(".", 1).struct.field("field_1").fill_null("")
        digits = whole + frac
        point = whole.str.len_chars() - k
        shifted = digits.str.slice(0, point) + pl.lit(".") + digits.str.slice(point)
        negative = minus ^ negate
        value = pl.when(negative).then(pl.lit("-") + shifted).otherwise(shifted)
    else:
        value = (text.cast(pl.Float64, strict=False) * scale).cast(pl.String)
    return pl.when(plain).then(value).otherwise(text)


def to_canonical(raw: pl.DataFrame, layout: CustodianLayout, name: str, as_of: dt.date) -> tuple[pl.DataFrame, str | None]:
    """A custodian's text frame (with ``_line``) → the canonical text frame, or a file-level error.

    Every output value is text, as if the custodian had written the canonical layout; values that
    cannot be normalized pass through unchanged so that parsing reports them.
    """
    mapping, contract = layout.mapping(name), _contract(name)
    date_format = mapping.date_format or layout.date_format
    decimal = mapping.decimal or layout.decimal
    thousands = mapping.thousands if mapping.thousands is not None else layout.thousands
    missing = [f"{mapping.columns[f]} ({f})" for f in mapping.columns if mapping.columns[f] not in raw.columns]
    if missing:
        return raw.clear(), f"missing column(s) {', '.join(missing)}"
    exprs: list[pl.Expr] = [pl.col(LINE)]
    for spec in column_specs(contract.model):
        f = spec.name
        if f in mapping.constants:
            exprs.append(pl.lit(mapping.constants[f].format(as_of=as_of)).alias(f))
            continue
        source = mapping.columns.get(f, f)
        if source not in raw.columns:
            continue  # parse_frame reports a missing required column, or fills an optional one
        text = pl.col(source).cast(pl.String)
        if spec.dtype in (float, int):
            sign = mapping.signs.get(f)
            scale = mapping.units.get(f, 1.0) * (-1.0 if sign == "negate" else 1.0)
            if decimal != "." or thousands or layout.negative_parentheses:
                text = _number(text, decimal, thousands, layout.negative_parentheses)
            if spec.dtype is float and sign == "abs":
                text = pl.when(text.str.starts_with("-")).then(text.str.strip_chars_start("-")).otherwise(text)
            if spec.dtype is float and scale != 1.0:
                text = _scaled(text, scale)
        elif spec.dtype is dt.date and date_format != "%Y-%m-%d":
            parsed = text.str.strip_chars().str.strptime(pl.Date, date_format, strict=False)
            text = pl.when(parsed.is_not_null()).then(parsed.dt.strftime("%Y-%m-%d")).otherwise(text)
        if f in mapping.codes:
            stripped = text.str.strip_chars()
            text = stripped.replace_strict(mapping.codes[f], default=stripped, return_dtype=pl.String)
        exprs.append(text.alias(f))
    return raw.select(exprs), None


def source_column(layout: CustodianLayout, name: str, field: str) -> str:
    """How a canonical field is named in the custodian's file, for error messages."""
    source = layout.mapping(name).columns.get(field)
    return f"{source} ({field})" if source and source != field else field


# --- the way out: canonical frames in a custodian's shape (the desk's trade files, the sample firm) ---

def _with_thousands(value: pl.Expr, sep: str) -> pl.Expr:
    """Non-negative number as text with a thousands separator (decimals kept as written)."""
    text = value.cast(pl.String)
    whole, frac = text.str.split_exact(".", 1).struct.field("field_0"), text.str.split_exact(".", 1).struct.field("field_1")
    n = whole.cast(pl.Int64)
    groups = [(n // 10**9) % 1000, (n // 10**6) % 1000, (n // 1000) % 1000, n % 1000]
    parts = pl.concat_str([g.cast(pl.String).str.zfill(3) for g in groups], separator=sep).str.strip_chars_start("0" + sep)
    parts = pl.when(n == 0).then(pl.lit("0")).otherwise(parts)
    return pl.when(frac.is_null()).then(parts).otherwise(pl.concat_str([parts, frac], separator="."))


def from_canonical(frame: pl.DataFrame, layout: CustodianLayout, name: str) -> pl.DataFrame:
    """The inverse of ``custodian_layout.to_canonical``: a canonical frame in a custodian's shape."""
    m = layout.mapping(name)
    exprs = []
    for col, dtype in frame.schema.items():
        if col in m.constants:
            continue
        e = pl.col(col)
        if dtype == pl.Float64:
            per = 1.0 / m.units.get(col, 1.0)
            e = e * per if per != 1.0 else e
            if m.signs.get(col) == "abs" and name == "transactions":
                e = pl.when(pl.col("transaction_type") == "sell").then(-e).otherwise(e)  # sells come negative
            negative = e < 0
            magnitude = e.abs().round(0).cast(pl.Int64) if per != 1.0 else e.abs()
            text = _with_thousands(magnitude, layout.thousands) if layout.thousands else magnitude.cast(pl.String)
            if layout.decimal != ".":
                text = text.str.replace(".", layout.decimal, literal=True)
            sign = (pl.lit("(") + text + pl.lit(")")) if layout.negative_parentheses else (pl.lit("-") + text)
            e = pl.when(negative).then(sign).otherwise(text)
        elif dtype == pl.Date:
            e = e.dt.strftime(layout.date_format)
        if col in m.codes:
            e = e.replace({v: k for k, v in m.codes[col].items()})
        exprs.append(e.alias(m.columns.get(col, col)))
    return frame.select(exprs)
