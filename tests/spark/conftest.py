"""One SparkSession (local[2], 1 GB) for the whole test session, and two councils' Parquet
exports: the demo council under two codes with different seeds, four months each."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from csc import demo, parquet, spark
from csc.store import Store

MONTHS = ("2011-01", "2011-04")
COUNCILS = {"north-shire": 7, "south-borough": 8}  # code -> demo seed


def _need_java() -> None:
    if not spark.java_available():
        if os.environ.get("CI") == "true":
            pytest.fail("Spark needs Java: ./dev test installs a JRE under CI")
        pytest.skip("no Java on this machine (apt-get install default-jre-headless)")


@pytest.fixture(scope="session")
def spark_session():
    _need_java()
    session = spark.session("local[2]", memory="1g", app="csc-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def councils(tmp_path_factory) -> dict[str, Path]:
    """code -> the council's database; both exported into one Parquet folder (`parquet_dir`)."""
    root = tmp_path_factory.mktemp("region")
    dbs = {}
    for code, seed in COUNCILS.items():
        db = root / code / "csc.duckdb"
        demo.run_demo(db, first=MONTHS[0], last=MONTHS[1], seed=seed, out_dir=root / code / "extracts")
        with Store.open(db, read_only=True) as store:
            parquet.export_parquet(store, root / "parquet", council=code)
        dbs[code] = db
    return dbs


@pytest.fixture(scope="session")
def parquet_dir(councils) -> Path:
    return next(iter(councils.values())).parent.parent / "parquet"
