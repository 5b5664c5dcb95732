"""Grades as the sector shows them: order (best first), printed label and colour, defined once
for every view of them (the xlsx export, the web view, alert emails). Colours follow Ofsted's
own: outstanding dark green, good light green/teal, requires improvement amber, inadequate red."""

from __future__ import annotations

from typing import NamedTuple

from etl.records import JTAI_THEMES


class GradeStyle(NamedTuple):
    label: str
    fill: str  # background, #RRGGBB
    text: str  # text colour readable on that background


# best first; adequate (2012-13 frameworks) sits between good and requires improvement
GRADE_STYLES: dict[str, GradeStyle] = {
    "outstanding": GradeStyle("Outstanding", "#00703C", "#FFFFFF"),
    "good": GradeStyle("Good", "#A3D9C9", "#0B0C0C"),
    "adequate": GradeStyle("Adequate", "#FFF1A8", "#0B0C0C"),
    "requires_improvement": GradeStyle("Requires improvement", "#F8B133", "#0B0C0C"),
    "inadequate": GradeStyle("Inadequate", "#D4351C", "#FFFFFF"),
    "not_judged": GradeStyle("Not judged", "#DEE0E2", "#0B0C0C"),
}
GRADE_ORDER: tuple[str, ...] = tuple(GRADE_STYLES)
# the area SEND outcome's own scale, best first (etl.records.AREA_SEND_OUTCOMES): coloured like
# the grades for reading at a glance, never ranked with them
OUTCOME_STYLES: dict[str, GradeStyle] = {
    "positive": GradeStyle("Positive", "#A3D9C9", "#0B0C0C"),
    "inconsistent": GradeStyle("Inconsistent", "#F8B133", "#0B0C0C"),
    "systemic_failings": GRADE_STYLES["inadequate"]._replace(label="Systemic failings"),
}
STYLES: dict[str, GradeStyle] = {**GRADE_STYLES, **OUTCOME_STYLES}  # every value an area can hold
# what a letter says a visit looked at (etl.records.VISIT_AREAS, in that order), as a sentence
# names it, and the letters' kinds
VISIT_AREA_LABELS: dict[str, str] = {
    "help_and_protection": "help and protection",
    "in_care": "children in care",
    "care_leavers": "care leavers",
    "impact_of_leaders": "the impact of leaders",
}
LETTER_LABELS: dict[str, str] = {
    "focused_visit": "focused visit",
    "monitoring_visit": "monitoring visit",
    "jtai": "joint targeted area inspection",
}


def priority_action_count(n: int) -> str:
    return f"{n} area{'s' if n != 1 else ''} for priority action"


def theme_label(theme: str | None) -> str | None:
    """'domestic_abuse' -> 'the response to domestic abuse' (a JTAI's theme); None for none."""
    return f"the response to {JTAI_THEMES[theme]}" if theme in JTAI_THEMES else None


def looked_at(kind: str | None, areas, theme: str | None = None) -> str | None:
    """What a letter looked at, in words: a JTAI's theme ("the response to domestic abuse"),
    another letter's areas ("children in care, care leavers"); None for neither."""
    return (kind == "jtai" and theme_label(theme)) or visit_focus(areas)


def letter_subject(kind: str | None, areas, theme: str | None = None) -> str:
    """What a letter is, in words: a JTAI by its theme ("joint inspection of the response to
    initial need and risk"), another letter by its kind and what it looked at ("focused visit:
    care leavers")."""
    if kind == "jtai" and (label := theme_label(theme)):
        return f"joint inspection of {label}"
    focus = visit_focus(areas)
    return LETTER_LABELS.get(kind or "", "letter") + (f": {focus}" if focus else "")


def visit_focus(areas) -> str | None:
    """('care_leavers', 'in_care') -> 'children in care, care leavers'; None for no areas."""
    order = list(VISIT_AREA_LABELS)
    ordered = sorted(areas or (), key=lambda a: (order.index(a) if a in order else len(order), a))
    return ", ".join(VISIT_AREA_LABELS.get(a, a.replace("_", " ")) for a in ordered) or None


# the headline areas (latest_inspections' grade columns), in the order every view shows them
HEADLINE_AREAS: tuple[str, ...] = (
    "overall_effectiveness",
    "impact_of_leaders",
    "help_and_protection",
    "in_care",
    "care_leavers",
)


# every tracked area as a page or a sheet names it
AREA_LABELS: dict[str, str] = {
    "overall_effectiveness": "Overall effectiveness",
    "impact_of_leaders": "Impact of leaders",
    "help_and_protection": "Help and protection",
    "in_care": "Children in care",
    "care_leavers": "Care leavers",
    "adoption_performance": "Adoption performance",
    "lscb": "LSCB",
    "lac_outcomes": "LAC outcomes",
    "lac_capacity_to_improve": "LAC capacity to improve",
    "lac_quality_of_provision": "LAC quality of provision",
    "lac_leadership_management": "LAC leadership and management",
    "area_send_outcome": "Area SEND outcome",
}
FRAMEWORK_LABELS: dict[str, str] = {
    "lac": "LAC",
    "sif": "SIF",
    "ilacs_2018": "ILACS 2018",
    "ilacs_2023": "ILACS 2023",
    "ilacs_2026": "ILACS 2026",
    "area_send_2016": "Area SEND 2016",
    "area_send_2023": "Area SEND 2023",
}
# every kind of publication (etl.records.KINDS) in words
KIND_LABELS: dict[str, str] = {
    "inspection": "Inspection report",
    **{k: v.capitalize() for k, v in LETTER_LABELS.items()},
    "area_send": "Area SEND inspection",
    "other": "Other publication",
}
# a grade as Ofsted's reports print it, where that is longer than the badge's label
PRINTED: dict[str, str] = {
    "requires_improvement": "Requires improvement to be good",
    "positive": "Positive experiences and outcomes",
    "inconsistent": "Inconsistent experiences and outcomes",
    "systemic_failings": "Widespread and/or systemic failings",
}


def area_label(area: str) -> str:
    return AREA_LABELS.get(area, area.replace("_", " ").capitalize())


def printed(grade: str | None) -> str:
    """'requires_improvement' -> 'Requires improvement to be good', as the reports print it;
    unknown values in words ('not_read' -> 'Not read'); None -> ''."""
    if grade is None:
        return ""
    return PRINTED.get(grade) or (STYLES[grade].label if grade in STYLES else grade.replace("_", " ").capitalize())


def label(grade: str | None) -> str:
    """'requires_improvement' -> 'Requires improvement'; unknown values pass through; None -> ''."""
    if grade is None:
        return ""
    style = STYLES.get(grade)
    return style.label if style else grade


def style(grade: str | None) -> GradeStyle | None:
    return STYLES.get(grade) if grade else None
