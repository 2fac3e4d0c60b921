"""The frameworks a review may rate its findings with (``report.synthesis.certainty`` in its codebook).

Generic methodology, pure data: each framework's components (a column of the synthesis workbook's findings
sheet, its header in the report, the words it is rated in), the overall judgement and what the framework
calls it, and the title of the summary table the report prints. GRADE-CERQual rates qualitative evidence
synthesis findings (how far a finding is a reasonable representation of the phenomenon: confidence); GRADE
rates a body of evidence on an effect (how sure the estimate is: certainty); ``none`` rates nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

LEVELS = ("high", "moderate", "low", "very low")  # both frameworks' overall scale, in their own words


@dataclass(frozen=True)
class Component:
    column: str  # in the findings sheet
    header: str  # in the report's summary table
    scale: tuple[str, ...]  # the words it is rated in, best first


@dataclass(frozen=True)
class Framework:
    name: str  # as the codebook declares it
    title: str  # as a reader knows it
    heading: str  # of the report's summary table
    word: str  # what the overall judgement is called ("" when nothing is rated)
    components: tuple[Component, ...]
    overall: str  # the overall judgement's column in the findings sheet ("" when nothing is rated)
    method: str  # the methods' sentence saying how findings were rated

    @property
    def rated(self) -> dict[str, tuple[str, ...]]:
        """Each rated column of the findings sheet with the words allowed in it (the overall one last)."""
        out = {c.column: c.scale for c in self.components}
        return {**out, self.overall: LEVELS} if self.overall else out

    @property
    def columns(self) -> list[str]:
        """The findings sheet's columns for this framework: the rated ones, then the explanation."""
        return [*self.rated, "explanation"] if self.rated else []

    @property
    def headers(self) -> list[tuple[str, str]]:
        """(column, header) of the summary table after the finding and its studies."""
        if not self.rated:
            return []
        return [*((c.column, c.header) for c in self.components), (self.overall, self.word.capitalize()),
                ("explanation", "Explanation")]


_CONCERNS = ("no or very minor concerns", "minor concerns", "moderate concerns", "serious concerns")
_SERIOUS = ("not serious", "serious", "very serious")
# the GRADE Handbook's (and GRADEpro's) words for publication bias: suspected or not, never 'very serious'
_PUBLICATION = ("undetected", "strongly suspected")

GRADE_CERQUAL = Framework(
    name="grade-cerqual", title="GRADE-CERQual", heading="Summary of qualitative findings (GRADE-CERQual)",
    word="confidence",
    components=(Component("methodological_limitations", "Methodological limitations", _CONCERNS),
                Component("coherence", "Coherence", _CONCERNS), Component("adequacy", "Adequacy", _CONCERNS),
                Component("relevance", "Relevance", _CONCERNS)),
    overall="overall_confidence",
    method="The confidence in each review finding was assessed with GRADE-CERQual: its methodological "
           "limitations, coherence, adequacy of data and relevance, each rated from no or very minor concerns to "
           "serious concerns, give an overall confidence of high, moderate, low or very low.")
GRADE = Framework(
    name="grade", title="GRADE", heading="Summary of findings (GRADE)", word="certainty",
    components=(Component("risk_of_bias", "Risk of bias", _SERIOUS),
                Component("inconsistency", "Inconsistency", _SERIOUS),
                Component("indirectness", "Indirectness", _SERIOUS),
                Component("imprecision", "Imprecision", _SERIOUS),
                Component("publication_bias", "Publication bias", _PUBLICATION)),
    overall="certainty",
    method="The certainty of the evidence behind each finding was assessed with GRADE: risk of bias, "
           "inconsistency, indirectness and imprecision, each rated not serious, serious or very serious, and "
           "publication bias, undetected or strongly suspected, give a certainty of high, moderate, low or very low.")
NONE = Framework(name="none", title="", heading="", word="", components=(), overall="", method="")

FRAMEWORKS = {f.name: f for f in (GRADE_CERQUAL, GRADE, NONE)}
# a codebook that declares none: what every codebook meant before the key existed (the package rated findings
# with GRADE-CERQual only), so a team's workbook, its ratings and its report stay as they were
DEFAULT = GRADE_CERQUAL.name
