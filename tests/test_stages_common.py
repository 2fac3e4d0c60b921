"""What every stage after screening shares: the included studies, cited as the screening workbooks cite them."""

from __future__ import annotations

from review.citations import citations
from review.fileio import write_csv
from review.model import RECORD_COLUMNS
from review.stages.common import included_frame


def test_an_included_study_keeps_the_letter_it_has_among_all_the_studies(tmp_path):
    studies = [{"study_id": "Smith2020", "authors": "Smith, Ann", "year": "2020", "title": "Alpha"},
               {"study_id": "Smith2020b", "authors": "Smith, Ann", "year": "2020", "title": "Beta"},
               {"study_id": "Jones2019", "authors": "Jones, Bo", "year": "2019", "title": "Gamma"}]
    write_csv(tmp_path / "unique.csv", [*RECORD_COLUMNS, "study_id"], studies)
    write_csv(tmp_path / "included.csv", ["study_id"], [{"study_id": "Smith2020b"}, {"study_id": "Jones2019"}])
    frame = included_frame(tmp_path / "unique.csv", tmp_path / "included.csv")
    shown = dict(zip(frame["study_id"], frame["citation"]))
    assert shown == {"Smith2020b": "Smith 2020b", "Jones2019": "Jones 2019"}
    assert shown["Smith2020b"] == citations(studies)["Smith2020b"]  # as the screening workbooks show it
    assert list(frame[frame["study_id"] == "Smith2020b"]["year_suffix"]) == ["b"]
