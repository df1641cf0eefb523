"""The lotwise command, as a user runs it."""


from typer.testing import CliRunner

from flows.cli import app


def test_sample_firm_command_writes_the_layout(tmp_path):
    result = CliRunner().invoke(app, ["sample-firm", "--households", "12", "--seed", "3", "--as-of", "2026-11-20",
                                      "--out", str(tmp_path / "day")])
    assert result.exit_code == 0, result.output
    assert "12 households" in result.output
    files = sorted(p.relative_to(tmp_path / "day").as_posix() for p in (tmp_path / "day").rglob("*.csv"))
    assert "firm/securities.csv" in files and "firm/households.csv" in files
    custodians = {f.split("/")[1] for f in files if f.startswith("custodians/")}
    assert len(custodians) >= 2
    for c in custodians:
        for name in ("accounts", "positions", "lots", "transactions", "cash"):
            assert f"custodians/{c}/{name}.csv" in files


def test_bad_date_is_refused_in_words(tmp_path):
    result = CliRunner().invoke(app, ["sample-firm", "--as-of", "20261120", "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert "is not a date" in result.output
