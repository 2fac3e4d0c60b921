"""Each matching-normalisation step on its own (examples from real exports)."""

from __future__ import annotations

import pytest

from review import matchkeys as mk


def test_fold_removes_case_accents_and_punctuation_but_keeps_other_scripts():
    assert mk.fold("Osipovič, D.") == "osipovic d"
    assert mk.fold("Gesundheitsämter—Straße") == "gesundheitsamter strasse"
    assert mk.fold("Платформенная занятость: масштабы") == "платформенная занятость масштабы"


def test_drop_placeholder():
    assert mk.drop_placeholder("UNKNOWN") == ""
    assert mk.drop_placeholder("[No title]") == ""
    assert mk.drop_placeholder("Anonymous") == ""
    assert mk.drop_placeholder("Unknown pleasures") == "Unknown pleasures"


@pytest.mark.parametrize(("title", "key"), [
    ("Colposcopy to evaluate abnormal cervical cytology in 2008. [Review] [57 refs]",
     "colposcopy to evaluate abnormal cervical cytology in 2008"),
    ("HPV testing after treatment of CIN 3: meta-analysis (Provisional abstract)",
     "hpv testing after treatment of cin 3 meta analysis"),
    ("[A study on the use of mycobacterium vaccine in the treatment of tuberculosis].",
     "a study on the use of mycobacterium vaccine in the treatment of tuberculosis"),
    ("Outcome in cirrhosis (author's transl)", "outcome in cirrhosis"),
    ("Effects of (A) and (B) on care", "effects of a and b on care"),  # a bracket that is part of the title stays
])
def test_title_key_drops_database_notes(title, key):
    assert mk.title_key(title) == key


def test_title_variants_split_off_the_original_language_title():
    main, original = mk.title_variants(
        "Crowdwork: Applying a relational inequality theory [Arbeiten in der Crowd: Perspektiven der Theorie]")
    assert main == "crowdwork applying a relational inequality theory"
    assert original == "arbeiten in der crowd perspektiven der theorie"
    assert mk.title_variants("Outcomes [Review] [12 refs]") == ("outcomes", "")


@pytest.mark.parametrize(("a", "b", "conflict"), [
    ("symposium part 1 should the bethesda system", "symposium part 2 should the bethesda system", True),
    ("diagnostic methods part i conventional cytology", "diagnostic methods part 1 conventional cytology", False),
    ("five year follow up of patients", "six year follow up of patients", True),
    ("weekly versus standard docetaxel d2 for first line", "weekly versus standard docetaxel d4 for first line", True),
    ("application of p16ink4a and hpv pcr", "application of p16 ink4a and hpv pcr", False),
    ("a trial among 10 000 women", "a trial among 10000 women", False),
    ("primary result of the 2nd mist2 trial", "primary result of the second mist2 trial", False),
])
def test_title_numbers(a, b, conflict):
    na, nb = mk.title_numbers(a), mk.title_numbers(b)
    assert (not (na <= nb or nb <= na)) is conflict


@pytest.mark.parametrize(("title", "kind"), [
    ("erratum to how do requirements evolve over time", "erratum"),
    ("correction to accountable to whom for what", "erratum"),
    ("retraction note effect of x on y", "retraction"),
    ("comment on the spatial politics of place", "comment"),
    ("reply to letter regarding ics", "comment"),
    ("success scale in a data producing organization the socio technical evolution in response to disasters", ""),
])
def test_notice_kind_reads_the_start_of_the_title(title, kind):
    assert mk.notice_kind(title) == kind


def test_is_abstract_venue():
    assert mk.is_abstract_venue("Circulation. Conference: American Heart Association Scientific Sessions")
    assert mk.is_abstract_venue("Circulation", issue="21 SUPPL. 1")
    assert mk.is_abstract_venue("Endocrine Reviews", issue="3 MeetingAbstracts")
    assert mk.is_abstract_venue("Journal of Clinical Virology", pages="S109-S112")
    assert not mk.is_abstract_venue("International Conference on Information Systems")  # a full paper
    assert not mk.is_abstract_venue("BMJ Open", issue="2", pages="e065993")


@pytest.mark.parametrize(("a", "b", "agree"), [
    ("Curr Opin Lipidol", "Current opinion in lipidology", True),
    ("Soc Sci Med", "Social Science & Medicine", True),
    ("Pharmacological Reports", "Pharmacol Rep", True),  # same number of words, either order
    ("BMJ", "BMJ (Clinical research ed.)", True),
    ("Journal of Clinical Virology", "Journal of clinical virology : the official publication of the PASCV", True),
    ("Langenbecks Arch Surg", "Langenbeck's Archives of Surgery", True),
    ("ICIS : Transforming Society with Digital Innovation", "International Conference on Information Systems", True),
    ("Circulation. Conference: American Heart Association", "Circulation", True),
    ("Annals of Internal Medicine", "ACP Journal Club", False),
    ("Respirology", "Chest", False),
])
def test_containers_agree(a, b, agree):
    assert mk.containers_agree(mk.container_key(a), mk.container_key(b)) is agree


@pytest.mark.parametrize(("pages", "first", "last"), [
    ("217-226", "217", "226"), ("221-8", "221", "228"), ("1262-70", "1262", "1270"), ("e065993", "65993", ""),
    ("e0137960", "137960", ""), ("A175.E1638", "a175", ""), ("Suppl-29", "", "29"), ("", "", ""),
])
def test_first_and_last_page(pages, first, last):
    assert (mk.first_page(pages), mk.last_page(pages)) == (first, last)


def test_number_key_and_author_key():
    assert mk.number_key("Vol. 13") == "13"
    assert mk.number_key("UNKNOWN") == ""
    assert mk.author_key("van der Berg") == "vanderberg"
    assert mk.author_key("Osipovič") == "osipovic"


def test_is_proceedings():
    assert mk.is_proceedings(mk.container_key("Proceedings of the 51st Hawaii International Conference"))
    assert not mk.is_proceedings(mk.container_key("Journal of Global Information Technology Management"))
