"""One verdict per KPI and month, in words, that never contradicts itself.

RAG (the month against the target), the SPC variation (is the change real?), the SPC
assurance (will the process keep meeting the target?) and the trajectory (will it be met by
the due month?) are combined here, and only here, into one sentence. Every page, chart title
and the board pack take their rating words from :func:`verdict` (through :func:`assess`).

The consistency rules the sentence keeps (tested over every KPI, month and area of the demo
council, ``tests/unit/test_verdict.py``; written down in ``docs/spc.md``):

1. It says "meets the target" exactly when RAG is green, "misses the target" exactly when
   RAG is amber or red.
2. It never says the process consistently meets the target in a month that misses it, nor
   that it consistently misses it in a month that meets it. Assurance is stated only when
   the month lies within its limits; a month beyond them has left the process those limits
   describe, so the sentence says assurance is not yet known.
3. It never calls the same month both an improvement and a deterioration.
4. A month that meets the target inside limits that straddle it says so: "but the process
   can still miss it: limits 82–97%".
5. A month with a small base (fewer than ``spc.SMALL_BASE`` cases) says the base is too
   small to read month-to-month movement, and makes no special-cause claim; but not to the
   board, which sees no counts (saying so would bound the base and give the count back): its
   month is rated as any month.
6. After the due month, "target met"/"target missed" agrees with rule 1 (both judge the
   latest value with ``spc.meets_target``); a month with no value (or hidden) has no trend
   status at all.
7. Every limit it quotes lies within the measure's range.

No Streamlit, no plotly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from csc import kpis, privacy, spc, wording

SMALL_BASE_WORDS = "too small a base to read month-to-month movement"
NOT_JUDGED_WORDS = "whether the process will keep {verb} the target is not known yet: this month is beyond its limits"
#: Why the board gets no rating worked out from every month of a series with a hidden month.
NOT_RATED_HIDDEN = "some months are suppressed to protect small numbers, and a rating would give them back"
#: Why a month has no rating of change or assurance when it is the only month shown with a value.
NOT_RATED_ONE_MONTH = "only one month is shown (choose more months to judge change)"


@dataclass(frozen=True)
class Verdict:
    """What one KPI says for its latest month, in parts and as one sentence.

    ``assurance`` is the assurance the sentence states (None when it states none: no target,
    a small base, or a month beyond its limits). ``headline`` is the sentence's first part
    with the KPI's title, for a chart title. ``notes`` are one-line explanations for the
    chart: where the limits come from, the rebase, trial limits, small bases.
    """

    period: str | None
    value: float | None
    target: float | None
    rag: str | None
    meets_target: bool | None
    variation: str | None
    rule: str | None
    assurance: str | None
    trajectory: str | None
    small_base: bool
    denominator: float | None
    lpl: float | None
    upl: float | None
    suppressed: bool
    sentence: str
    headline: str
    notes: tuple[str, ...] = ()
    # the sentence says "a real improvement": this month's signal, or the evidenced shift the
    # limits were recalculated from (the Overview counts these, as its words say them)
    improved: bool = False
    # why a month rated against its target has no assurance, in words for the chart: "the latest
    # month is beyond its limits", "too few months to set limits yet"; None: judged, or not to be
    unjudged: str | None = None
    # why the month has no rating of change, assurance or trend at all (the board's, with a month of
    # the series hidden: NOT_RATED_HIDDEN); None: rated as usual
    not_rated: str | None = None


@dataclass(frozen=True)
class Assessment:
    result: spc.XmrResult
    trajectory: spc.Trajectory | None
    verdict: Verdict


def small_base_applies(kpi: kpis.Kpi) -> bool:
    """Does the KPI's denominator count cases (a percentage of cases, or a median of
    records)? Rates of FTE and counts have no base of cases to be small."""
    return kpi.aggregate == "median" or kpi.is_count_proportion


def start_index(periods: list[str], start: str | None) -> int | None:
    """Index of the first period at or after the action's start (None: no start)."""
    if not start or not periods:
        return None
    return next((i for i, p in enumerate(periods) if p >= start), len(periods))


def rate(kpi: kpis.Kpi, df: pd.DataFrame, target: float | None, start: str | None, rebase: bool = True) -> spc.XmrResult:
    """The SPC result for a KPI series: baseline before the action's start, evidence, rebase
    (`spc.baseline_xmr`); with ``rebase=False`` one set of limits for every month. Limits are
    truncated to the measure's range."""
    periods = list(df["period"])
    values = [None if pd.isna(v) else float(v) for v in df["value"]]
    bounds = spc.bounds_for_unit(kpi.unit)
    if rebase and start:
        return spc.baseline_xmr(values, start_index(periods, start), kpi.improvement, target, bounds=bounds)
    return spc.xmr(values, improvement=kpi.improvement, target=target, bounds=bounds)


def assess(kpi: kpis.Kpi, df: pd.DataFrame, target: float | None, start: str | None = None,
           due_period: str | None = None, rebase: bool = True, shown: pd.DataFrame | None = None) -> Assessment:
    """The SPC result, the trajectory and the verdict of a KPI series, as every page needs them.

    ``shown``: the board's copy of the same series (`csc.report.series(..., suppress=True)`, with
    its `suppressed` flags). With no month hidden, the ratings come from ``df``, the true figures,
    and equal the director's. With a month hidden, the board gets no rating that is worked out
    from every month (SPC variation, assurance, the trend's projection: a red-team review worked
    hidden counts out exactly from them, over the months and rebase it chose), only those of a
    month's own value (RAG, and met or missed past the due month), in words that name no hidden
    value; the result to draw is the published months only, without mean, limits or ratings
    (`csc.privacy.published_only`)."""
    result = rate(kpi, df, target, start, rebase)
    traj = None
    if due_period and start and len(df):
        traj = spc.trajectory(list(df["period"]), list(df["value"]), start, due_period, target, kpi.improvement,
                              unit=kpi.unit_suffix, bounds=(0, 100) if kpi.unit == "pct" else None)
    hide_value = hide_limits = False
    if shown is not None and "suppressed" in shown and len(df):
        hidden = shown["suppressed"].fillna(False).astype(bool)
        hide_limits = bool(hidden.any())
        last = shown[shown["period"] == df["period"].iloc[-1]]
        hide_value = last.empty or bool(last["suppressed"].fillna(False).astype(bool).iloc[0])
    vd = for_kpi(kpi, df, result, target, traj, hide_value=hide_value, hide_limits=hide_limits,
                 hide_count=shown is not None)
    if shown is not None and hide_limits:
        # no rating worked out from every month: with the shown months it gives the hidden ones back
        result = privacy.published_only(rate(kpi, shown, target, start, rebase))
    elif shown is not None and len(df):
        # the board's chart: the true limits and signals, with each month's value as published
        # (a rate rounded as shown: at full precision it gives its fraction back), and the mean
        # and limits rounded the same way (over the months the board chooses, one or two, they
        # are those months' values)
        import dataclasses

        published = dict(zip(shown["period"], shown["value"]))
        periods = list(df["period"])
        result = privacy.spc_as_shown(dataclasses.replace(result, points=tuple(
            dataclasses.replace(p, value=None if p.value is None else _published(published.get(periods[p.index])))
            for p in result.points)))
    if shown is not None:  # the board's trend line, if drawn, as precise as its figures
        traj = privacy.trajectory_as_shown(traj)
    return Assessment(result, traj, vd)


def _published(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def for_kpi(kpi: kpis.Kpi, df: pd.DataFrame, result: spc.XmrResult, target: float | None,
            traj: spc.Trajectory | None = None, hide_value: bool = False, hide_limits: bool = False,
            hide_count: bool = False) -> Verdict:
    """`verdict` for a KPI series as `csc.report.series` returns it."""
    suppressed = list(df["suppressed"]) if "suppressed" in df else None
    return verdict(
        title=kpi.title,
        unit=kpi.unit_suffix,
        direction=kpi.improvement,
        periods=list(df["period"]),
        values=list(df["value"]),
        denominators=list(df["denominator"]) if "denominator" in df and small_base_applies(kpi) else None,
        result=result,
        target=target,
        trajectory=traj,
        suppressed=suppressed,
        fmt=kpi.format,
        hide_value=hide_value,
        hide_limits=hide_limits,
        hide_count=hide_count,
    )


#: Said of limits set from fewer than `spc.MIN_POINTS_FOR_LIMITS` months.
TRIAL_WORDS = f"set on fewer than {spc.MIN_POINTS_FOR_LIMITS} months"


def _limits_words(lpl: float | None, upl: float | None, unit: str) -> str:
    if lpl is None or upl is None:
        return ""
    low = spc.format_value(lpl, "")
    return f"{low}–{spc.format_value(upl, unit)}"


def verdict(
    *,
    title: str,
    unit: str,
    direction: str,
    periods: list[Any],
    values: list[Any],
    result: spc.XmrResult,
    target: float | None = None,
    trajectory: spc.Trajectory | None = None,
    denominators: list[Any] | None = None,
    suppressed: list[Any] | None = None,
    small_base_threshold: int = spc.SMALL_BASE,
    fmt: Any = None,
    hide_value: bool = False,
    hide_limits: bool = False,
    hide_count: bool = False,
) -> Verdict:
    """The one verdict for the latest month of a series (see the module's rules). ``fmt``
    formats the value and the target (default `spc.format_value` with ``unit``), given a number
    of decimal places as well where a value must not read as the target it misses (`spc.apart`).

    For the board (`assess` with ``shown``): ``hide_value`` words the month's value as c and
    gives the month no rating (RAG, signal, assurance: with 5 or fewer cases a rating can fix the
    figure); ``hide_limits`` (a month of the series is hidden) quotes no limits or mean and gives
    no rating worked out from every month (signal, assurance, the trend's projection), only the
    month's own (RAG; met or missed past the due month); ``hide_count``
    (always for the board, which sees rates and never the counts behind them) names no count of
    cases. The ratings of a month the board sees are unchanged: they come from the true series."""
    fmt = fmt or (lambda x, places=1: spc.format_value(x, unit, places))
    direction = spc.normalise_direction(direction)
    target = spc.clean_value(target)
    n = len(periods)
    last = n - 1
    period = periods[last] if n else None
    is_suppressed = bool(suppressed[last]) if suppressed and n and not pd.isna(suppressed[last]) else False
    value = spc.clean_value(values[last]) if n else None
    month = spc.period_label(period) if period is not None else "this month"
    denominator = spc.clean_value(denominators[last]) if denominators and n else None
    small = denominators is not None and spc.small_base(denominator, small_base_threshold)
    # The board sees a rate without its base: "a small base" beside a shown rate would bound the
    # base to 6-9 cases, and a rate to one decimal then fits one fraction only (87.5% = 7 of 8), so
    # its complement (1) could be worked out. Nor may anything else the board reads differ with the
    # base: a review found the assurance clause (and the limits it quotes) dropped for a small base
    # only, and a signal on the chart worded "no significant change". The board's words for a month
    # it sees are those of any month, the true ratings as its chart draws them; only the director,
    # who sees the counts, is told the base is too small to read the month's movement.
    if small and hide_count and not hide_value:
        small = False
    notes = _notes(periods, result, unit, None if hide_count else denominators, small_base_threshold, hide_limits)
    point = result.points[last] if n and len(result.points) == n else None
    lpl, upl = (point.lpl, point.upl) if point else (None, None)
    shown_value, shown_denominator = (None, None) if hide_value else (value, denominator)
    if hide_count:
        shown_denominator = None
    shown_lpl, shown_upl = (None, None) if hide_limits else (lpl, upl)

    def done(sentence: str, head: str, **parts) -> Verdict:
        base = dict(period=period, value=shown_value, target=target, rag=None, meets_target=None, variation=None,
                    rule=None, assurance=None, trajectory=trajectory.status if trajectory else None,
                    small_base=small,
                    denominator=shown_denominator, lpl=shown_lpl, upl=shown_upl, suppressed=is_suppressed or hide_value)
        base.update(parts)
        if not sentence.startswith("c ("):  # a hidden value stays a lower-case c, as everywhere
            sentence = sentence[0].upper() + sentence[1:]
        return Verdict(sentence=sentence if sentence.endswith(".") else sentence + ".",
                       headline=f"{title}: {head}", notes=notes, **base)

    # No rating of a month with no value, the trend's status included: it judges (or projects from)
    # the latest month that has one, which may be hidden from the board (a review: with August empty
    # the board read "target missed in July 2011" of a July shown as c).
    if is_suppressed:
        text = f"{month}: suppressed to protect small numbers, so no rating"
        return done(text, text, trajectory=None)
    if value is None:
        text = f"no value for {month}"
        return done(text, text, trajectory=None)

    has_target = target is not None and direction != spc.NEUTRAL
    if hide_value:
        # The board, a month it may not see: no rating of the month either. A figure hidden for 5
        # or fewer cases, rated against its target or its limits, can be fixed by the rating
        # (green against a target of 90% is then 100%; a review found such pairs on the demo
        # council). The trend's projection is kept, in words that say nothing of the month.
        # Nor the trend's projection: fitted through the hidden value, its words changed with it (a
        # red-team review: "off track" only when c was 5).
        text = f"c (suppressed to protect small numbers) in {month}, not rated this month"
        return done(text, text, small_base=False, trajectory=None, not_rated=NOT_RATED_HIDDEN)
    # never "95.0% misses the target of 95.0%": more decimal places, but not for the board, whose
    # rates are published to one (`privacy.shown`: more would give back the fraction behind them)
    value_words = fmt(value) if hide_count else spc.apart(value, target if has_target else None, fmt)
    rag = spc.rag(value, target, direction) if has_target else None
    meets = spc.meets_target(value, target, direction) if has_target else None
    target_words = fmt(target) if has_target else ""
    if has_target:
        verb = "meets" if meets else "misses"
        rag_words = wording.RAG_WORDS[rag].lower()
        if value_words == target_words and value != target:  # the board's: the rating says which side
            rag_words += f": just {'under' if value < target else 'over'} it before rounding"
        first = f"{value_words} in {month} {verb} the target of {target_words} ({rag_words})"
    else:
        first = f"{value_words} in {month} (no target)"

    variation = point.point_type if point else None
    rule = point.rule if point else None
    limits = "" if hide_limits else _limits_words(lpl, upl, unit)
    lim_word = "limits"
    if limits and result.segments and result.segments[-1].trial:
        # limits from a few months move as months come: the Action page's chart said so, the
        # sentence (the Overview's, the pack's) did not (a review read "consistently meets it" of 4)
        lim_word, limits = "trial limits", f"{limits}, {TRIAL_WORDS}"
    limits_from = " from before the action" if (result.baseline_months and result.shift is None) else ""
    moved = None
    if hide_limits:
        # the board, a month hidden in the series: no rating worked out from every month (`assess`)
        second = f"no rating of change, assurance or trend: {NOT_RATED_HIDDEN}"
        past_due = trajectory is not None and trajectory.status in (spc.TARGET_MET, spc.TARGET_MISSED)
        fourth = _trajectory_words(trajectory, meets) if past_due else None
        sentence = f"{first}; {second}" + (f"; {fourth}" if fourth else "")
        return done(sentence, f"{first}; not rated for change", rag=rag, meets_target=meets,
                    trajectory=trajectory.status if past_due else None, not_rated=NOT_RATED_HIDDEN)
    if not small and sum(spc.clean_value(x) is not None for x in values) < 2:
        # one month chosen: no limits and nothing to compare it with, so no "no significant change"
        # (a review read it of a single September, called "a real improvement" with the default months)
        fourth = _trajectory_words(trajectory, meets)
        sentence = f"{first}; no rating of change, as {NOT_RATED_ONE_MONTH}" + (f"; {fourth}" if fourth else "")
        return done(sentence, f"{first}; not rated for change", rag=rag, meets_target=meets,
                    not_rated=NOT_RATED_ONE_MONTH)
    if small:
        count = spc.format_value(denominator, "")
        second = (f"a small base this month, {SMALL_BASE_WORDS}" if hide_value or hide_count
                  else f"only {count} case{'s' if count != '1' else ''} this month, {SMALL_BASE_WORDS}")
        variation_stated, rule = spc.COMMON_CAUSE, None
    elif variation in (None, spc.COMMON_CAUSE):
        # the limits are quoted once: here, or in the assurance clause when there is one
        quoted = limits and not (has_target and result.assurance is not None)
        second = "no significant change" + (f" ({lim_word}{limits_from} {limits})" if quoted else "")
        variation_stated = variation
        moved, held = _shift_words(result, periods, direction, fmt) if not hide_limits else (None, False)
        if moved:  # steady at a new level: the change that made it is still the news (a review)
            second += f"; {moved}"
    else:
        if variation == spc.SPECIAL_CAUSE_IMPROVEMENT:
            kind = "a real improvement"
        elif variation == spc.SPECIAL_CAUSE_CONCERN:
            kind = "a real deterioration"
        else:
            kind = "a real change " + ("upwards" if variation == spc.SPECIAL_CAUSE_NEUTRAL_HIGH else "downwards")
        how = wording.RULE_WORDS.get(rule, "special cause")
        if rule == spc.RULE_OUTSIDE_LIMITS and limits:
            how = f"outside the {lim_word}{limits_from} {limits}"
        second = f"{kind} ({how})"
        variation_stated = variation

    third = None
    assurance = unjudged = None
    if has_target and not small and point is not None and lpl is None and upl is None:
        unjudged = "too few months to set limits yet"
    if has_target and not small and result.assurance is not None and point is not None and lpl is not None:
        if rule == spc.RULE_OUTSIDE_LIMITS:
            third = NOT_JUDGED_WORDS.format(verb="meeting" if meets else "missing")
            unjudged = "the latest month is beyond its limits"
        else:
            assurance = result.assurance
            lim = f": {lim_word} {limits_from.strip() + ' ' if limits_from else ''}{limits}" if limits else ""
            if assurance == spc.CONSISTENT_PASS:
                third = (f"and the process consistently meets it{lim}" if meets
                         else f"but the process usually meets it{lim}")
            elif assurance == spc.CONSISTENT_FAIL:
                third = (f"and the process will keep missing it unless it changes{lim}" if not meets
                         else f"but the process usually misses it{lim}")
            else:
                third = (f"but the process can still miss it{lim}" if meets
                         else f"but the process can also meet it{lim}")

    fourth = _trajectory_words(trajectory, meets)
    sentence = first
    for part in (second, third, fourth):
        if part:
            sentence += (", " if part.startswith(("but ", "and ")) else "; ") + part
    improved = variation_stated == spc.SPECIAL_CAUSE_IMPROVEMENT or bool(moved and held and _shift_better(result, direction))
    return done(sentence, f"{first}; {second}", rag=rag, meets_target=meets, variation=variation_stated, rule=rule,
                assurance=assurance, improved=improved, unjudged=unjudged)


def _shift_words(result: spc.XmrResult, periods: list[Any], direction: str, fmt) -> tuple[str | None, bool]:
    """("a real improvement since May 2011 (the level moved from 24.8% to 19%)", True): the
    evidenced shift the limits were recalculated from (`spc.baseline_xmr`), in the measure's
    direction, and whether it has held; (None, False) when there is none. Said beside "no
    significant change", which is about the latest month. It has not held when a month after the
    run of months that evidenced it is special cause the other way (against the new limits): a
    review read "a real improvement since May 2011" of an office whose December and January were
    above the new limits, back over the level before the action. Then the words say so, and the
    measure is not counted as showing a real improvement."""
    shift = result.shift
    if shift is None or result.mean is None or not 0 <= shift.index < len(periods):
        return None, False
    better = _shift_better(result, direction)
    level = f"the level moved from {fmt(shift.baseline_mean)} to {fmt(result.mean)}"
    if better is None:
        return f"a real change {'upwards' if shift.side > 0 else 'downwards'} since {spc.period_label(periods[shift.index])} ({level})", True
    undoing = spc.SPECIAL_CAUSE_CONCERN if better else spc.SPECIAL_CAUSE_IMPROVEMENT
    after_run = [p for p in result.points if p.segment == len(result.segments) - 1][shift.run:]
    against = [periods[p.index] for p in after_run if p.point_type == undoing and p.index < len(periods)]
    kind = "a real improvement" if better else "a real deterioration"
    if not against:
        return f"{kind} since {spc.period_label(periods[shift.index])} ({level})", True
    named = wording.joined([spc.period_label(p) for p in against[:3]]) + (" and later months" if len(against) > 3 else "")
    signal = "concern" if better else "improvement"
    return (f"{level} from {spc.period_label(periods[shift.index])} and has not held ({signal} in {named}, "
            "against the new limits)"), False


def _shift_better(result: spc.XmrResult, direction: str) -> bool | None:
    """Whether the evidenced shift (`result.shift`) went the measure's better way; None with no
    shift or no better way."""
    if result.shift is None or direction == spc.NEUTRAL:
        return None
    return (result.shift.side > 0) == (direction == spc.INCREASE)


def _trajectory_words(traj: spc.Trajectory | None, meets: bool | None) -> str | None:
    if traj is None:
        return None
    due = spc.period_label(traj.due_period)
    status = traj.status
    if status in (spc.TARGET_MET, spc.TARGET_MISSED):
        return f"the due month, {due}, " + ("is this month" if traj.latest_period == traj.due_period else "has passed")
    if status == spc.NOT_ENOUGH_DATA:
        return f"too early to project to {due}"
    if status == spc.NO_TARGET:
        return None
    words = {spc.ON_TRACK: f"on track to meet it by {due}", spc.AT_RISK: f"at risk of missing it by {due}",
             spc.OFF_TRACK: f"not on track to meet it by {due}"}[status]
    if (meets and status != spc.ON_TRACK) or (meets is False and status == spc.ON_TRACK):
        return "but " + words if meets is False else "but the trend is " + words
    return words


def _notes(periods: list[Any], result: spc.XmrResult, unit: str, denominators: list[Any] | None,
           threshold: int, hide_limits: bool = False) -> tuple[str, ...]:
    """One-line explanations for the chart: where the limits come from, rebases, trial limits
    and small bases."""
    notes: list[str] = []
    if not periods:
        return ()
    if hide_limits:  # the board's chart with a hidden month draws no mean or limits: none to explain
        notes.append("No mean or limits are drawn, and no rating of change, assurance or trend is given: some months are "
                     "suppressed to protect small numbers, and the limits and ratings would give them back.")
    base = result.baseline_months if not hide_limits else None
    if base:
        first, last = spc.period_label(periods[0]), spc.period_label(periods[base - 1])
        seg0 = result.segments[0]
        trial = " (trial limits: fewer than 12 months)" if seg0.trial else ""
        notes.append(f"Limits from the {seg0.n_fixed} months before the action started ({first} to {last}){trial}, "
                     "extended forward to judge the change.")
    elif base == 0:
        notes.append("Fewer than 2 months before the action started, too few to set limits from: limits from every "
                     "month shown"
                     + (" (trial limits)." if result.trial_limits else "."))
    elif result.trial_limits and not hide_limits and result.lpl is not None:  # (none drawn: none to explain)
        notes.append("Trial limits: fewer than 12 months since the limits were set.")
    if result.shift is not None and not hide_limits:
        side = "above" if result.shift.side > 0 else "below"
        seg = result.segments[-1]
        notes.append(
            f"New limits from {spc.period_label(periods[result.shift.index])}: {result.shift.run} steady months in a row "
            f"{side} the mean before the action"
            + ("" if hide_limits else f" ({spc.format_value(result.shift.baseline_mean, unit)})")
            + (" (trial limits while fewer than 12 months)." if seg.trial else ".")
        )
    if denominators is not None:
        small = [p for p, d in zip(periods, denominators) if spc.small_base(d, threshold)]
        if small:
            notes.append(f"Small base (fewer than {threshold} cases) in {len(small)} month"
                         f"{'s' if len(small) != 1 else ''}, marked ◇: month-to-month movement there is noise.")
    return tuple(notes)


def small_base_flags(kpi: kpis.Kpi, df: pd.DataFrame) -> list[bool]:
    """For each month of a series: is its base small?"""
    if not small_base_applies(kpi) or "denominator" not in df:
        return [False] * len(df)
    return [spc.small_base(d) for d in df["denominator"]]
