"""The synthetic demo council: two years of realistic monthly extracts.

The council has three area offices (Cambridge City, Huntingdon, Fenland) and an intake
service, the Integrated Access Team, with its Contact Centre in St Ives. Its story follows
the May 2011 Cabinet report on the February 2011 unannounced Ofsted inspection: a service
that had already improved, with five weaknesses still showing, then the action plan from
May 2011 moving them at different speeds in different offices, Fenland lagging on changes
of social worker. ``docs/demo-data.md`` gives every assumption and its source.

How it works: a day-by-day model of the workforce (joiners, leavers, agency cover of
vacancies) and of every child's case (referral, initial assessment at intake, transfer to
an area team, core assessment, child protection plan, worker changes when workers leave or
cases are reallocated) is run from three years before the first month. Each month's
workbook then holds what a real extract holds: the records that started in the month and
those that changed in it, as they stood at the month end; the first month's workbook also
carries the open caseload and the history the KPIs look back over.

Public API: :func:`generate`, :func:`write_workbook`, :func:`import_datetime`,
:func:`run_demo`.
"""

from __future__ import annotations

import datetime as dt
import inspect
import math
import zipfile
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from pathlib import Path

import holidays
import numpy as np
import pandas as pd

__all__ = [
    "AREAS",
    "INTAKE_AREA",
    "INTAKE_TEAM",
    "SHEET_COLUMNS",
    "TEAMS",
    "DemoImportError",
    "generate",
    "import_datetime",
    "run_demo",
    "write_workbook",
]

# --------------------------------------------------------------------------- the council

INTAKE_TEAM = "Integrated Access Team"
#: area_office of the intake service's own staff and establishment (its work carries the
#: area the child lives in).
INTAKE_AREA = "Integrated Access"
AREAS = ("Cambridge City", "Huntingdon", "Fenland")

#: (team, area office, funded FTE of qualified social work posts, unqualified staff)
TEAMS = (
    (INTAKE_TEAM, INTAKE_AREA, 16.0, 8),
    ("Cambridge North Team", "Cambridge City", 24.0, 2),
    ("Cambridge South Team", "Cambridge City", 24.0, 2),
    ("South Cambridgeshire Team", "Cambridge City", 24.0, 2),
    ("Huntingdon Team", "Huntingdon", 28.0, 2),
    ("St Neots Team", "Huntingdon", 27.0, 2),
    ("Wisbech Team", "Fenland", 22.0, 2),
    ("March Team", "Fenland", 21.0, 2),
    ("Chatteris and Whittlesey Team", "Fenland", 20.0, 2),
)

#: the sheets of an extract and their columns, in the order of the extract spec
SHEET_COLUMNS: dict[str, tuple[str, ...]] = {
    "referrals": ("referral_id", "child_id", "referral_date", "area_office", "team", "source"),
    "assessments": (
        "assessment_id", "child_id", "assessment_type", "start_date", "completed_date",
        "child_seen", "area_office", "team", "worker_id",
    ),
    "cp_plans": (
        "cp_plan_id", "child_id", "start_date", "end_date", "category", "previous_plans",
        "area_office", "team", "worker_id",
    ),
    "involvements": (
        "involvement_id", "child_id", "worker_id", "start_date", "end_date", "area_office",
        "team", "change_reason",
    ),
    "transfers": (
        "transfer_id", "child_id", "from_team", "to_team", "requested_date", "accepted_date",
        "area_office",
    ),
    "workforce": (
        "worker_id", "area_office", "team", "role", "is_qualified", "is_agency", "fte",
        "start_date", "end_date", "leave_reason",
    ),
    "establishment": ("team", "area_office", "funded_fte"),
    "audits": ("audit_id", "child_id", "audit_date", "area_office", "subject", "grade", "is_smart"),
    "supervisions": ("supervision_id", "worker_id", "supervision_date"),
}

# share of referrals by the area the child lives in (about its share of funded posts)
AREA_SHARE = (0.38, 0.29, 0.33)
REFERRALS_PER_YEAR = 5000.0
REFERRAL_GROWTH = 0.025  # a year: referrals were still rising after 2008
# referrals by month (Jan..Dec): dips in August and December, school-term peaks
SEASON = (1.00, 1.04, 1.08, 0.94, 1.06, 1.08, 1.04, 0.74, 0.98, 1.08, 1.12, 0.84)
CHRISTMAS_FACTOR = 0.55  # 20 December to 2 January, on top of December's dip
SOURCES = (
    ("Police", 0.22), ("Schools", 0.14), ("Health services", 0.14),
    ("Local authority services", 0.11), ("Individual", 0.09), ("Other legal agency", 0.04),
    ("Housing", 0.03), ("Anonymous", 0.02), ("Other", 0.12), ("Unknown", 0.09),
)
P_NO_ASSESSMENT = 0.08  # referral closed without an initial assessment
P_CP = 0.087            # initial assessments leading to a child protection plan
P_ONGOING = 0.30        # initial assessments leading to other ongoing (CIN) work
P_CORE_NON_CP = 0.70    # ongoing non-CP cases that get a core assessment
P_OLD_REFERRAL = 0.08   # referrals of a child last referred more than 12 months before
CATEGORIES = (
    ("Neglect", 0.43), ("Emotional abuse", 0.28), ("Physical abuse", 0.12),
    ("Sexual abuse", 0.05), ("Multiple", 0.12),
)
# duration of a CP plan: (share, from months, to months)
CP_DURATION = ((0.15, 0.5, 3.0), (0.20, 3.0, 6.0), (0.36, 6.0, 12.0), (0.25, 12.0, 23.5),
               (0.04, 24.5, 34.0))
# duration of other area work after the transfer: (share, median days, sigma)
CASE_DURATION = ((0.40, 200.0, 0.5), (0.35, 600.0, 0.5), (0.25, 1750.0, 0.6))
LEAVE_REASONS = (
    ("Resignation", 0.60), ("Retirement", 0.12), ("End of fixed-term contract", 0.10),
    ("Career break", 0.06), ("Dismissal", 0.03), ("Other", 0.09),
)
RANDOM_CHANGE_REASONS = (
    ("ORGRST", 0.35), ("MANAGE", 0.33), ("ABSENC", 0.15), ("CHCHAN", 0.08),
    ("FCONTA", 0.06), ("OTHERS", 0.03),
)
INTAKE_CHANGE_RATE = 0.25  # a year: reallocations within the intake service (absence)

# workforce, by group: Cambridge City, Huntingdon, Fenland, intake
LEAVE_RATE = (0.12, 0.145, 0.18, 0.16)     # permanent qualified, a year
AGENCY_COVER = (0.85, 1.0, 1.3, 1.0)       # agency FTE per vacant FTE
AGENCY_END_RATE = (0.7, 0.7, 0.9, 0.8)     # agency assignments ending, a year
HIRE_RATE = (0.88, 0.82, 0.77, 0.9)        # permanent hires a year per vacant FTE
RECRUITMENT_BOOST = 1.3                    # hire rate from June 2011 (new model's campaign)
SUPERVISION_REGULAR = (0.93, 0.92, 0.90, 0.93)  # share of gaps of 4-6 weeks

# ------------------------------------------------------------------------------- the story

_D = dt.date.toordinal
PRE_FROM = _D(dt.date(2009, 4, 1))      # improvement after the August 2009 inspection ...
INSPECTION = _D(dt.date(2011, 2, 16))   # ... up to the February 2011 inspection
RECRUITMENT_FROM = _D(dt.date(2011, 6, 1))

#: per action, per area (City, Huntingdon, Fenland): when the change starts and is complete
RAMPS: dict[str, tuple[tuple[dt.date, dt.date], ...]] = {
    "A1": ((dt.date(2011, 5, 16), dt.date(2011, 8, 31)),
           (dt.date(2011, 6, 1), dt.date(2011, 10, 31)),
           (dt.date(2011, 7, 1), dt.date(2012, 1, 31))),
    "A2": ((dt.date(2011, 5, 16), dt.date(2012, 1, 31)),
           (dt.date(2011, 6, 1), dt.date(2012, 3, 31)),
           (dt.date(2011, 7, 1), dt.date(2012, 7, 31))),
    "A3": ((dt.date(2011, 5, 16), dt.date(2011, 8, 31)),
           (dt.date(2011, 6, 1), dt.date(2011, 9, 30)),
           (dt.date(2011, 11, 1), dt.date(2013, 10, 31))),
    "A4": ((dt.date(2011, 5, 16), dt.date(2011, 8, 15)),
           (dt.date(2011, 6, 1), dt.date(2011, 9, 15)),
           (dt.date(2011, 6, 15), dt.date(2011, 10, 15))),
    "S": ((dt.date(2011, 5, 1), dt.date(2012, 3, 31)),) * 3,
}

#: name: (action, value in April 2009, value at the inspection, values after the action)
STORY: dict[str, tuple[str, float, float, tuple[float, float, float]]] = {
    # A1: median working days from transfer request to acceptance
    "transfer_median": ("A1", 12.0, 8.5, (2.5, 2.8, 3.2)),
    # A3: share of CP cases the intake service keeps until the conference
    "keep_to_icpc": ("A3", 0.60, 0.55, (0.08, 0.10, 0.40)),
    # A3: reallocations a year of a case in an area team (besides leavers)
    "realloc_rate": ("A3", 0.32, 0.30, (0.03, 0.05, 0.22)),
    # A2: audits of assessments graded Good or Outstanding; CP plans judged SMART
    "audit_good": ("A2", 0.45, 0.56, (0.84, 0.81, 0.76)),
    "plan_smart": ("A2", 0.40, 0.52, (0.94, 0.91, 0.86)),
    # A4: assessments allocated to unqualified staff (intake; area teams)
    "unqualified_ia": ("A4", 0.22, 0.16, (0.0, 0.0, 0.0)),
    "unqualified_core": ("A4", 0.12, 0.08, (0.0, 0.0, 0.0)),
    "force_qualified": ("A4", 0.0, 0.0, (1.0, 1.0, 1.0)),
    # statutory practice kept (S2)
    "ia_timely": ("S", 0.80, 0.83, (0.85, 0.85, 0.84)),
    "core_timely": ("S", 0.76, 0.79, (0.81, 0.81, 0.80)),
    "re_referral": ("S", 0.225, 0.225, (0.21, 0.21, 0.215)),
}
P_UNQUALIFIED_SUPPORT = (0.07, 0.07, 0.07)  # non-assessment work held by unqualified staff
# A3's lag in Fenland: its teams were reorganised in autumn 2011, moving cases between workers
RESTRUCTURE_AREA = 2
RESTRUCTURE = (dt.date(2011, 9, 1), dt.date(2012, 1, 31))
RESTRUCTURE_RATE = 0.30  # extra reallocations a year of each Fenland case meanwhile

# A5: working days from the month end to the import
TIMELINESS_BEFORE = (12, 18)
TIMELINESS_AFTER = (3, 5)
TIMELINESS_RAMP = (dt.date(2011, 5, 1), dt.date(2011, 8, 31))  # import dates

BURN_IN_MONTHS = 36
INF = 10**7
NONE = -1
_EPOCH = dt.date(1970, 1, 1).toordinal()
_EARLIEST = dt.date(1991, 1, 2).toordinal()


class DemoImportError(RuntimeError):
    """An import of a generated workbook was refused."""


# ---------------------------------------------------------------------------- calendar

def _period(text: str) -> tuple[int, int]:
    try:
        year, month = (int(p) for p in str(text).split("-"))
    except ValueError:
        raise ValueError(f"period {text!r} is not YYYY-MM") from None
    if not (1 <= month <= 12 and 1990 <= year <= 2100):
        raise ValueError(f"period {text!r} is not YYYY-MM")
    return year, month


def _add_months(day: dt.date, n: int) -> dt.date:
    m = day.year * 12 + day.month - 1 + n
    y, mo = divmod(m, 12)
    last = _month_end(y, mo + 1).day
    return dt.date(y, mo + 1, min(day.day, last))


def _month_end(year: int, month: int) -> dt.date:
    if month == 12:
        return dt.date(year, 12, 31)
    return dt.date(year, month + 1, 1) - dt.timedelta(days=1)


class _Calendar:
    """Working days (Monday-Friday, not an England and Wales bank holiday) as ordinals."""

    def __init__(self, last: int):
        self.d0 = dt.date(1990, 1, 1).toordinal()
        self.d1 = last
        years = range(1990, dt.date.fromordinal(last).year + 1)
        bank = holidays.country_holidays("GB", subdiv="ENG", years=years)
        n = last - self.d0 + 1
        days = np.arange(self.d0, last + 1)
        weekday = (days - 1) % 7  # ordinal 1 (0001-01-01) is a Monday
        is_wd = weekday < 5
        for h in bank:
            o = h.toordinal() - self.d0
            if 0 <= o < n:
                is_wd[o] = False
        self.is_wd = is_wd.tolist()
        self.cwd = np.cumsum(is_wd).tolist()  # working days <= day
        self.wd_days = days[is_wd].tolist()

    def wd(self, a: int, b: int) -> int:
        """Working days d with a < d <= b."""
        return self.cwd[b - self.d0] - self.cwd[a - self.d0]

    def add(self, a: int, n: int) -> int:
        """The n-th working day after a (a itself for n = 0)."""
        if n <= 0:
            return a
        i = self.cwd[a - self.d0] + n - 1
        if i >= len(self.wd_days):
            return INF
        return self.wd_days[i]

    def on_or_after(self, a: int) -> int:
        if a > self.d1:
            return INF
        return a if self.is_wd[a - self.d0] else self.add(a, 1)

    def in_month(self, m0: int, m1: int) -> list[int]:
        lo = self.cwd[m0 - 1 - self.d0]
        hi = self.cwd[m1 - self.d0]
        return self.wd_days[lo:hi]


# ------------------------------------------------------------------------ random stream

class _Rand:
    """Buffered draws from one numpy Generator: fast scalars, same sequence every run."""

    def __init__(self, seed: int):
        self.gen = np.random.default_rng(seed)
        self._u: list[float] = []
        self._ui = 0
        self._n: list[float] = []
        self._ni = 0

    def u(self) -> float:
        if self._ui >= len(self._u):
            self._u = self.gen.random(1 << 16).tolist()
            self._ui = 0
        v = self._u[self._ui]
        self._ui += 1
        return v

    def normal(self) -> float:
        if self._ni >= len(self._n):
            self._n = self.gen.standard_normal(1 << 16).tolist()
            self._ni = 0
        v = self._n[self._ni]
        self._ni += 1
        return v

    def exp(self, mean: float) -> float:
        return -mean * math.log(1.0 - self.u())

    def int(self, lo: int, hi: int) -> int:
        """Uniform integer lo..hi inclusive."""
        return lo + int(self.u() * (hi - lo + 1))

    def pick(self, cum: list[float]) -> int:
        """Index drawn from cumulative weights."""
        return bisect_right(cum, self.u() * cum[-1])

    def poisson(self, lam: float) -> int:
        return int(self.gen.poisson(lam)) if lam > 0 else 0


def _cum(weights) -> list[float]:
    out, s = [], 0.0
    for w in weights:
        s += w
        out.append(s)
    return out


def _lin(d: int, d0: int, d1: int) -> float:
    if d <= d0:
        return 0.0
    if d >= d1:
        return 1.0
    return (d - d0) / (d1 - d0)


# ----------------------------------------------------------------------------- the model

class _Model:
    def __init__(self, first: str, last: str, seed: int):
        fy, fm = _period(first)
        ly, lm = _period(last)
        if (ly, lm) < (fy, fm):
            raise ValueError(f"last period {last} is before first period {first}")
        self.periods = []
        y, m = fy, fm
        while (y, m) <= (ly, lm):
            self.periods.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        self.F0 = dt.date(fy, fm, 1).toordinal()
        self.L1 = _month_end(ly, lm).toordinal()
        self.T0 = _add_months(dt.date(fy, fm, 1), -BURN_IN_MONTHS).toordinal()
        self.cal = _Calendar(self.L1 + 12 * 366)
        self.r = _Rand(seed)
        self.team_names = [t[0] for t in TEAMS]
        self.team_group = [3 if t[1] == INTAKE_AREA else AREAS.index(t[1]) for t in TEAMS]
        self.area_teams = [[i for i, t in enumerate(TEAMS) if t[1] == a] for a in AREAS]
        self.area_team_cum = [_cum([TEAMS[i][2] for i in ts]) for ts in self.area_teams]
        self._restructure = tuple(_D(d) for d in RESTRUCTURE)
        self.ramps = {
            k: [(_D(a), _D(b)) for a, b in v] for k, v in RAMPS.items()
        }
        # month starts from the burn-in to the last month
        self.month_starts = []
        d = dt.date.fromordinal(self.T0)
        while d.toordinal() <= self.L1:
            self.month_starts.append(d.toordinal())
            d = _add_months(d, 1)
        self._init_tables()

    # ----------------------------------------------------------------- story helpers
    def story(self, name: str, area: int, d: int) -> float:
        action, v0, v1, post = STORY[name]
        v = v0 + (v1 - v0) * _lin(d, PRE_FROM, INSPECTION)
        a, b = self.ramps[action][area]
        return v + (post[area] - v) * _lin(d, a, b)

    def month_index(self, d: int) -> int:
        """Index into month_starts of the month holding d."""
        return bisect_right(self.month_starts, d) - 1

    # ------------------------------------------------------------------ record tables
    def _init_tables(self):
        # workers
        self.w_team: list[int] = []
        self.w_role: list[str] = []
        self.w_q: list[bool] = []
        self.w_ag: list[bool] = []
        self.w_mgr: list[bool] = []
        self.w_fte: list[float] = []
        self.w_start: list[int] = []
        self.w_end: list[int] = []
        self.w_reason: list[str | None] = []
        # children
        self.c_area: list[int] = []
        self.c_team: list[int] = []
        self.c_closed: list[int] = []
        self.c_last_ref: list[int] = []
        self.c_hidden_plans: list[int] = []
        self.c_plans: list[int] = []
        # referrals: child, day, area, source
        self.ref: list[tuple[int, int, int, int]] = []
        # assessments: child, type (0 initial, 1 core), start, completed, seen, area
        self.asm: list[tuple[int, int, int, int, int, int]] = []
        self.asm_segs: list[list[tuple[int, int]]] = []
        # cp plans: child, start, end, category, previous, area
        self.cp: list[tuple[int, int, int, int, int, int]] = []
        self.cp_segs: list[list[tuple[int, int]]] = []
        # involvements: child, worker, start, end, area, reason
        self.inv: list[tuple[int, int, int, int, int, str | None]] = []
        # transfers: child, to team, requested, accepted, area
        self.trf: list[tuple[int, int, int, int, int]] = []
        # supervisions: worker, day; audits: child, day, area, subject, grade, smart
        self.sup: list[tuple[int, int]] = []
        self.aud: list[tuple[int, int, int, int, int, int]] = []

    # ------------------------------------------------------------------- workforce
    def _new_worker(self, team, role, q, ag, mgr, fte, start) -> int:
        self.w_team.append(team)
        self.w_role.append(role)
        self.w_q.append(q)
        self.w_ag.append(ag)
        self.w_mgr.append(mgr)
        self.w_fte.append(fte)
        self.w_start.append(max(start, _EARLIEST))
        self.w_end.append(INF)
        self.w_reason.append(None)
        return len(self.w_team) - 1

    def _fte(self) -> float:
        u = self.r.u()
        if u < 0.80:
            return 1.0
        if u < 0.88:
            return 0.8
        if u < 0.95:
            return 0.6
        return 0.5

    def _simulate_workforce(self):
        r, cal = self.r, self.cal
        T0 = self.T0
        reasons_cum = _cum(w for _, w in LEAVE_REASONS)
        active: list[list[int]] = []
        unq_target = []
        for ti, (_name, _area, funded, n_unq) in enumerate(TEAMS):
            g = self.team_group[ti]
            vac = LEAVE_RATE[g] / (LEAVE_RATE[g] + HIRE_RATE[g])
            ws = [self._new_worker(ti, "Team Manager", True, False, True, 1.0,
                                   cal.on_or_after(T0 - int(r.exp(6 * 365)) - 200))]
            perm = 1.0
            while perm < funded * (1 - vac) - 0.3:
                fte = self._fte()
                role = "Senior Practitioner" if r.u() < 0.2 else "Social Worker"
                ws.append(self._new_worker(ti, role, True, False, False, fte,
                                           cal.on_or_after(T0 - int(r.exp(5 * 365)) - 30)))
                perm += fte
            for _ in range(round(AGENCY_COVER[g] * (funded - perm))):
                ws.append(self._new_worker(ti, "Locum Social Worker", True, True, False, 1.0,
                                           cal.on_or_after(T0 - r.int(10, 300))))
            role_u = "Social Work Assistant" if g == 3 else "Family Support Worker"
            for _ in range(n_unq):
                ws.append(self._new_worker(ti, role_u, False, False, False,
                                           1.0 if r.u() < 0.75 else 0.6,
                                           cal.on_or_after(T0 - int(r.exp(4 * 365)) - 30)))
            active.append(ws)
            unq_target.append(n_unq)

        for k, m0 in enumerate(self.month_starts):
            m1 = (self.month_starts[k + 1] - 1) if k + 1 < len(self.month_starts) else self.L1
            days = cal.in_month(m0, m1)
            boost = RECRUITMENT_BOOST if m0 >= RECRUITMENT_FROM else 1.0
            for ti, (_name, _area, funded, _n) in enumerate(TEAMS):
                g = self.team_group[ti]
                ws = active[ti]

                def leave(w, reason, days=days):
                    ok = [d for d in days if d > self.w_start[w] + 20]
                    if ok:
                        self.w_end[w] = ok[r.int(0, len(ok) - 1)]
                        self.w_reason[w] = reason

                for w in ws:
                    if self.w_end[w] != INF:
                        continue
                    if self.w_ag[w]:
                        rate = AGENCY_END_RATE[g]
                    elif self.w_mgr[w]:
                        rate = 0.06
                    elif self.w_q[w]:
                        rate = LEAVE_RATE[g]
                    else:
                        rate = 0.12
                    if r.u() < 1 - math.exp(-rate / 12):
                        reason = ("End of agency assignment" if self.w_ag[w]
                                  else LEAVE_REASONS[r.pick(reasons_cum)][0])
                        leave(w, reason)
                staying = [w for w in ws if self.w_end[w] == INF]
                perm = sum(self.w_fte[w] for w in staying if self.w_q[w] and not self.w_ag[w])
                if not any(self.w_mgr[w] for w in staying) and r.u() < 0.6:
                    ws.append(self._new_worker(ti, "Team Manager", True, False, True, 1.0,
                                               days[r.int(0, len(days) - 1)]))
                    perm += 1.0
                gap = funded - perm
                for _ in range(r.poisson(max(gap, 0.0) * HIRE_RATE[g] * boost / 12)):
                    fte = self._fte()
                    if perm + fte > funded + 0.5:
                        break
                    u = r.u()
                    role = ("Newly Qualified Social Worker" if u < 0.3 else
                            "Senior Practitioner" if u < 0.45 else "Social Worker")
                    ws.append(self._new_worker(ti, role, True, False, False, fte,
                                               days[r.int(0, len(days) - 1)]))
                    perm += fte
                gap = funded - perm
                agency = [w for w in staying if self.w_ag[w]]
                want = AGENCY_COVER[g] * max(gap, 0.0)
                if len(agency) < want - 0.5:
                    for _ in range(round(want - len(agency))):
                        if r.u() < 0.7:
                            ws.append(self._new_worker(
                                ti, "Locum Social Worker", True, True, False, 1.0,
                                days[r.int(0, len(days) - 1)]))
                elif len(agency) > want + 1.0 and r.u() < 0.5:
                    leave(min(agency, key=lambda w: (self.w_start[w], w)),
                          "End of agency assignment")
                unq = [w for w in staying if not self.w_q[w]]
                if len(unq) < unq_target[ti] and r.u() < 0.5:
                    role_u = "Social Work Assistant" if g == 3 else "Family Support Worker"
                    ws.append(self._new_worker(ti, role_u, False, False, False,
                                               1.0 if r.u() < 0.75 else 0.6,
                                               days[r.int(0, len(days) - 1)]))
                active[ti] = [w for w in ws if self.w_end[w] >= m1 + 1]
        # a leaving date after the last month is not known yet
        for w, e in enumerate(self.w_end):
            if e > self.L1:
                self.w_end[w] = INF
                self.w_reason[w] = None
        # workers in post, by team and month, for allocation
        n_months = len(self.month_starts)
        self.in_post = [[[] for _ in range(n_months)] for _ in TEAMS]
        for w in range(len(self.w_team)):
            k0 = max(0, self.month_index(self.w_start[w]))
            k1 = n_months - 1 if self.w_end[w] >= INF else self.month_index(self.w_end[w])
            for k in range(k0, k1 + 1):
                self.in_post[self.w_team[w]][k].append(w)

    def _pick(self, team: int, area: int, t: int, qualified: bool, exclude: int = -1) -> int:
        """A worker of the team in post at t (fte-weighted), falling back sensibly."""
        k = self.month_index(t)
        ws_start, ws_end = self.w_start, self.w_end
        teams = [team]
        if team == 0:
            teams += list(range(1, len(TEAMS)))
        else:
            teams += [i for i in self.area_teams[area] if i != team] + [0]
        for ti in teams:
            pool = [w for w in self.in_post[ti][k]
                    if ws_start[w] <= t and ws_end[w] > t and not self.w_mgr[w]
                    and w != exclude]
            if not pool:
                continue
            for cand in (
                [w for w in pool if self.w_q[w] == qualified and ws_end[w] > t + 15],
                [w for w in pool if self.w_q[w] == qualified],
                [w for w in pool if self.w_q[w]],
                pool,
            ):
                if cand:
                    cum = _cum(self.w_fte[w] for w in cand)
                    return cand[self.r.pick(cum)]
        raise RuntimeError(f"no worker in post on {dt.date.fromordinal(t)}")

    # --------------------------------------------------------------------- allocation
    def _need_qualified(self, area, t, windows, intake) -> bool:
        for kind, s, e in windows:
            if s <= t < e:
                p = self.story("unqualified_core" if kind else "unqualified_ia", area, t)
                return self.r.u() >= p
        return self.r.u() >= (0.10 if intake else P_UNQUALIFIED_SUPPORT[area])

    def _realloc_rate(self, area: int, d: int) -> tuple[float, float]:
        """Reallocations a year of an area case on day d: (all, of which restructure)."""
        base = self.story("realloc_rate", area, d)
        extra = RESTRUCTURE_RATE if (area == RESTRUCTURE_AREA
                                     and self._restructure[0] <= d <= self._restructure[1]) else 0.0
        return base + extra, extra

    def _next_random(self, area, t, end, intake) -> tuple[int, str | None]:
        """The next reallocation that is not a leaver's (day, reason), or (INF, None)."""
        r = self.r
        if intake:
            x = t + r.exp(365.0 / INTAKE_CHANGE_RATE)
            if x >= end:
                return INF, None
            return self.cal.on_or_after(math.ceil(x)), None
        lam_max = STORY["realloc_rate"][1] + RESTRUCTURE_RATE
        x = float(t)
        while True:
            x += r.exp(365.0 / lam_max)
            if x >= end or x > self.L1:
                return INF, None
            rate, extra = self._realloc_rate(area, int(x))
            u = r.u() * lam_max
            if u < rate:
                return self.cal.on_or_after(math.ceil(x)), ("ORGRST" if u < extra else None)

    def _allocate(self, child, area, team, start, end, reason, windows, intake,
                  worker=None) -> list[tuple[int, int, int]]:
        """Involvements (start, end, worker) covering a case's time with one team."""
        out: list[tuple[int, int, int]] = []
        if start > self.L1:
            return out
        assert start <= end, (start, end)
        r = self.r
        t = start
        w = worker if worker is not None else self._pick(
            team, area, t, self._need_qualified(area, t, windows, intake))
        cum_reasons = self._change_cum
        while True:
            t_next, why = INF, None
            if self.w_end[w] < end:
                t_next, why = self.w_end[w], "LEFTRL"
            tr, reason_r = self._next_random(area, t, min(end, t_next), intake)
            if tr < t_next:
                t_next = tr
                why = reason_r or RANDOM_CHANGE_REASONS[r.pick(cum_reasons)][0]
            if not self.w_q[w]:
                for _kind, s, _e in windows:
                    if t < s < t_next and r.u() < self.story("force_qualified", area, s):
                        t_next, why = s, "MANAGE"
                        break
            if t_next >= end or t_next > self.L1:
                self.inv.append((child, w, t, end, area, reason))
                out.append((t, end, w))
                return out
            self.inv.append((child, w, t, t_next, area, reason))
            out.append((t, t_next, w))
            t, reason = t_next, why
            w = self._pick(team, area, t, self._need_qualified(area, t, windows, intake),
                           exclude=w)

    @staticmethod
    def _segments(invs, s, e) -> list[tuple[int, int]]:
        """(from day, worker) holding a record from s, changing strictly before e."""
        cur = None
        segs = []
        for a, _b, w in invs:
            if a <= s:
                cur = w
            elif a < e:
                segs.append((a, w))
        if cur is None:
            cur = invs[0][2]
        return [(s, cur)] + segs

    # -------------------------------------------------------------------------- cases
    def _new_child(self, area: int) -> int:
        self.c_area.append(area)
        self.c_team.append(self.area_teams[area][self.r.pick(self.area_team_cum[area])])
        self.c_closed.append(INF)
        self.c_last_ref.append(NONE)
        u = self.r.u()
        self.c_hidden_plans.append(0 if u < 0.87 else 1 if u < 0.98 else 2)
        self.c_plans.append(0)
        return len(self.c_area) - 1

    @staticmethod
    def _band(bands, u: float):
        """The band (share, ...) that u in [0, 1) falls in, shares taken in order."""
        for band in bands:
            if u < band[0]:
                return band
            u -= band[0]
        return bands[-1]

    def _case_days(self) -> int:
        _share, median, sigma = self._band(CASE_DURATION, self.r.u())
        return max(20, int(median * math.exp(sigma * self.r.normal())))

    def _cp_days(self) -> float:
        _share, lo, hi = self._band(CP_DURATION, self.r.u())
        return (lo + (hi - lo) * self.r.u()) * 30.44

    def _seed_caseload(self):
        """Area cases already open at the start of the burn-in (stationary draw)."""
        r, cal, T0 = self.r, self.cal, self.T0
        for area in range(3):
            # arrivals a year to area teams: referrals x assessed x ongoing non-CP share
            rate = REFERRALS_PER_YEAR * AREA_SHARE[area] * (1 - P_NO_ASSESSMENT) * P_ONGOING
            draws = [self._case_days() for _ in range(4000)]
            mean_days = sum(draws) / len(draws)
            n = int(rate * mean_days / 365.0)
            cum = _cum(draws)
            for _ in range(n):
                total = draws[r.pick(cum)]
                age = int(r.u() * total)
                start = cal.on_or_after(max(T0 - age, _EARLIEST))
                end = cal.on_or_after(T0 + (total - age) + 1)
                child = self._new_child(area)
                team = self.c_team[child]
                w = self._pick(team, area, T0, r.u() >= P_UNQUALIFIED_SUPPORT[area])
                inv_start = max(start, self.w_start[w], T0 - int(r.exp(240)))
                self._allocate(child, area, team, inv_start, end, None, [], False, worker=w)
                self.c_closed[child] = end

    def _referral_days(self) -> list[int]:
        """Referral dates: a Poisson count on every working day, with seasonality."""
        cal, r = self.cal, self.r
        days = cal.in_month(self.T0, self.L1)

        def factor(d: int) -> float:
            date = dt.date.fromordinal(d)
            f = SEASON[date.month - 1]
            if (date.month == 12 and date.day >= 20) or (date.month == 1 and date.day <= 2):
                f *= CHRISTMAS_FACTOR
            return f

        ref0, ref1 = _D(dt.date(2010, 4, 1)), _D(dt.date(2011, 3, 31))
        norm = sum(factor(d) for d in cal.in_month(ref0, ref1))
        base = REFERRALS_PER_YEAR / norm
        mid = (ref0 + ref1) / 2
        lam = np.array([base * factor(d) * (1 + REFERRAL_GROWTH * (d - mid) / 365.25)
                        for d in days])
        counts = r.gen.poisson(lam)
        out = []
        for d, c in zip(days, counts.tolist()):
            out.extend([d] * c)
        return out

    def _choose_child(self, d: int, pool_days: list[int], pool_child: list[int]) -> int:
        r = self.r
        u = r.u()
        p12 = self.story("re_referral", 0, d)
        if u < p12:
            lo, hi = bisect_left(pool_days, d - 360), bisect_left(pool_days, d - 7)
            window = None
        elif u < p12 + P_OLD_REFERRAL:
            lo, hi = bisect_left(pool_days, d - 3 * 365), bisect_left(pool_days, d - 370)
            window = d - 370
        else:
            lo = hi = 0
        if hi > lo:
            for _ in range(25):
                c = pool_child[r.int(lo, hi - 1)]
                if self.c_closed[c] < d and (window is None or self.c_last_ref[c] < window):
                    return c
        return self._new_child(r.pick(self._area_cum))

    def _ia_days(self, area, d) -> int:
        r = self.r
        if r.u() < self.story("ia_timely", area, d):
            return 1 + r.pick(self._ia_cum)
        return min(45, 8 + int(r.exp(5.0)))

    def _core_days(self, area, d) -> int:
        r = self.r
        if r.u() < self.story("core_timely", area, d):
            return r.int(12, 35)
        return min(120, 36 + int(r.exp(12.0)))

    def _seen(self, core: bool) -> int:
        u = self.r.u()
        if u < (0.96 if core else 0.93):
            return 0
        return 1 if u < (0.99 if core else 0.98) else 2

    def _transfer_wait(self, area, d) -> int:
        m = self.story("transfer_median", area, d)
        return max(0, round(m * math.exp(0.55 * self.r.normal())))

    def _simulate_cases(self):
        r, cal, L1 = self.r, self.cal, self.L1
        self._change_cum = _cum(w for _, w in RANDOM_CHANGE_REASONS)
        self._area_cum = _cum(AREA_SHARE)
        self._ia_cum = _cum((0.04, 0.08, 0.12, 0.16, 0.18, 0.20, 0.22))
        src_cum = _cum(w for _, w in SOURCES)
        cat_cum = _cum(w for _, w in CATEGORIES)
        self._seed_caseload()
        pool_days: list[int] = []
        pool_child: list[int] = []
        for d in self._referral_days():
            child = self._choose_child(d, pool_days, pool_child)
            area, team = self.c_area[child], self.c_team[child]
            self.ref.append((child, d, area, r.pick(src_cum)))
            self.c_last_ref[child] = d
            pool_days.append(d)
            pool_child.append(child)
            if r.u() < P_NO_ASSESSMENT:
                self.c_closed[child] = d
                continue
            ia_start = d if r.u() < 0.7 else cal.add(d, 1)
            ia_end = cal.add(ia_start, self._ia_days(area, ia_start))
            u = r.u()
            cp = u < P_CP
            ongoing = u < P_CP + P_ONGOING
            if not ongoing:
                close = cal.add(ia_end, r.int(0, 3))
                windows = [(0, ia_start, ia_end)]
                invs = self._allocate(child, area, 0, ia_start, close, None, windows, True)
                self._add_assessment(child, 0, ia_start, ia_end, area, invs)
                self.c_closed[child] = close
                continue
            core_start = core_end = None
            if cp or r.u() < P_CORE_NON_CP:
                core_start = cal.add(ia_end, r.int(0, 2))
                core_end = cal.add(core_start, self._core_days(area, core_start))
            if cp:
                icpc = cal.add(ia_end, r.int(6, 15))
                keep = r.u() < self.story("keep_to_icpc", area, icpc)
                requested = cal.add(icpc, r.int(0, 2)) if keep else cal.add(ia_end, r.int(0, 1))
                plan_end = cal.on_or_after(icpc + int(self._cp_days()))
                step_down = r.int(0, 20) if r.u() < 0.3 else 20 + int(r.exp(150))
                case_end = cal.on_or_after(plan_end + step_down)
            else:
                requested = cal.add(ia_end, r.int(0, 1))
            accepted = cal.add(requested, self._transfer_wait(area, requested))
            if not cp:
                case_end = cal.on_or_after(accepted + self._case_days())
            if core_end is not None:
                case_end = max(case_end, cal.add(core_end, r.int(3, 20)))
            # an area team holds the case a while, even when the plan ended while it waited
            case_end = max(case_end, cal.add(accepted, r.int(10, 30)))
            windows = [(0, ia_start, ia_end)]
            if core_start is not None:
                windows.append((1, core_start, core_end))
            invs = self._allocate(child, area, 0, ia_start, accepted, None, windows, True)
            invs += self._allocate(child, area, team, accepted, case_end, "TSPROC", windows,
                                   False)
            self._add_assessment(child, 0, ia_start, ia_end, area, invs)
            if core_start is not None and core_start <= L1:
                self._add_assessment(child, 1, core_start, core_end, area, invs)
            if requested <= L1:
                self.trf.append((child, team, requested, accepted, area))
            if cp and icpc <= L1:
                prev = self.c_hidden_plans[child] + self.c_plans[child]
                self.c_plans[child] += 1
                self.cp.append((child, icpc, plan_end, r.pick(cat_cum), prev, area))
                self.cp_segs.append(self._segments(invs, icpc, plan_end))
            self.c_closed[child] = case_end

    def _add_assessment(self, child, kind, start, end, area, invs):
        if start > self.L1:
            return
        self.asm.append((child, kind, start, end, self._seen(kind == 1), area))
        self.asm_segs.append(self._segments(invs, start, end))

    # --------------------------------------------------------------- supervision, audit
    def _simulate_supervision(self):
        r, cal = self.r, self.cal
        lo = self.F0 - 60
        for w in range(len(self.w_team)):
            start, end = self.w_start[w], min(self.w_end[w], self.L1)
            if end < lo:
                continue
            g = self.team_group[self.w_team[w]]
            t = start + r.int(5, 15) if start >= lo - 45 else lo - r.int(0, 42)
            while True:
                d = cal.on_or_after(t)
                if d > end:
                    break
                if d >= lo:
                    self.sup.append((w, d))
                gap = r.int(28, 42) if r.u() < SUPERVISION_REGULAR[g] else r.int(43, 80)
                t = d + gap

    def _simulate_audits(self):
        r, cal = self.r, self.cal
        done = [[] for _ in AREAS]  # (completed day, child)
        for child, _k, _s, end, _seen, area in self.asm:
            if end <= self.L1:
                done[area].append((end, child))
        for lst in done:
            lst.sort()
        done_days = [[x[0] for x in lst] for lst in done]
        plans = [[] for _ in AREAS]
        for child, start, end, _c, _p, area in self.cp:
            plans[area].append((start, end, child))
        for lst in plans:
            lst.sort()
        plan_days = [[x[0] for x in lst] for lst in plans]
        area_cum = _cum(AREA_SHARE)
        k0 = self.month_index(self.F0)
        for k in range(k0, len(self.month_starts)):
            m0 = self.month_starts[k]
            m1 = (self.month_starts[k + 1] - 1) if k + 1 < len(self.month_starts) else self.L1
            days = cal.in_month(m0, m1)
            for subject, mean in ((0, 45.0), (1, 20.0)):
                for _ in range(r.poisson(mean)):
                    d = days[r.int(0, len(days) - 1)]
                    area = r.pick(area_cum)
                    child = NONE
                    if subject == 0:
                        lo = bisect_left(done_days[area], d - 90)
                        hi = bisect_right(done_days[area], d)
                        if hi > lo:
                            child = done[area][r.int(lo, hi - 1)][1]
                    else:
                        lo = bisect_left(plan_days[area], d - 400)
                        hi = bisect_right(plan_days[area], d)
                        for _ in range(10):
                            if hi <= lo:
                                break
                            s, e, c = plans[area][r.int(lo, hi - 1)]
                            if e > d:
                                child = c
                                break
                    if r.u() < self.story("audit_good", area, d):
                        grade = 0 if r.u() < 0.1 else 1
                    else:
                        grade = 2 if r.u() < 0.8 else 3
                    smart = NONE
                    if subject == 1:
                        v = r.u()
                        smart = 2 if v < 0.03 else (
                            0 if r.u() < self.story("plan_smart", area, d) else 1)
                    self.aud.append((child, d, area, subject, grade, smart))

    def run(self):
        self._simulate_workforce()
        self._simulate_cases()
        self._simulate_supervision()
        self._simulate_audits()
        return self


# ---------------------------------------------------------------------------- emission

_GRADES = np.array(["Outstanding", "Good", "Adequate", "Inadequate"], dtype=object)
_FLAGS = np.array(["Y", "N", None], dtype=object)


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    return np.array([f"{prefix}{i + 1:0{width}d}" for i in range(n)], dtype=object)


def _months(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of ordinal days."""
    return (days - _EPOCH).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


class _Emitter:
    """Turns the model's records into one dict of DataFrames per month."""

    def __init__(self, model: _Model):
        self.m = model
        F0, L1 = model.F0, model.L1
        self.F0, self.L1 = F0, L1
        self.m_first = int(_months(np.array([F0]))[0])
        self.n = len(model.periods)
        d0 = model.cal.d0
        self.d0 = d0
        n = L1 - d0 + 1
        lut = np.empty(n + 1, dtype=object)
        lut[:n] = [dt.date.fromordinal(d0 + i) for i in range(n)]
        lut[n] = None
        self.lut, self.lut_none = lut, n
        self.month_ends = [
            (_add_months(dt.date.fromordinal(F0), k + 1) - dt.timedelta(days=1)).toordinal()
            for k in range(self.n)
        ]
        self.month_starts = [_add_months(dt.date.fromordinal(F0), k).toordinal()
                             for k in range(self.n)]
        self.areas = np.array(AREAS, dtype=object)
        self.teams = np.array(model.team_names, dtype=object)
        self.f0_minus_6 = _add_months(dt.date.fromordinal(F0), -6).toordinal()
        self.f0_minus_12 = _add_months(dt.date.fromordinal(F0), -12).toordinal()

    # ------------------------------------------------------------------ helpers
    def dates(self, days: np.ndarray, m1: int | None = None) -> np.ndarray:
        """date objects; None where the day is NONE, or after m1 when given."""
        idx = days - self.d0
        bad = days < self.d0
        if m1 is not None:
            bad |= days > m1
        idx = np.where(bad, self.lut_none, idx)
        return self.lut[idx]

    def by_month(self, ents: list[np.ndarray], days: list[np.ndarray],
                 first: np.ndarray | None, n_ent: int) -> list[np.ndarray]:
        """Entity indices to emit in each month: event days in range, plus a first load."""
        keys = []
        for e, d in zip(ents, days):
            ok = (d >= self.F0) & (d <= self.L1)
            keys.append((_months(d[ok]) - self.m_first) * n_ent + e[ok])
        if first is not None:
            keys.append(first.astype(np.int64))
        allk = np.unique(np.concatenate(keys)) if keys else np.array([], dtype=np.int64)
        month = allk // max(n_ent, 1)
        cuts = np.searchsorted(month, np.arange(self.n + 1))
        return [allk[cuts[k]:cuts[k + 1]] % max(n_ent, 1) for k in range(self.n)]

    # ------------------------------------------------------------------ sheets
    def build(self) -> list[tuple[str, dict[str, pd.DataFrame]]]:
        m = self.m
        F0 = self.F0
        # workers
        W = len(m.w_team)
        w_id = _ids("W", W, 5)
        w_team = np.array(m.w_team)
        w_start = np.array(m.w_start)
        w_end = np.array(m.w_end)
        w_area = np.array([TEAMS[t][1] for t in m.w_team], dtype=object)
        w_role = np.array(m.w_role, dtype=object)
        w_q = np.where(np.array(m.w_q), "Y", "N").astype(object)
        w_ag = np.where(np.array(m.w_ag), "Y", "N").astype(object)
        w_fte = np.array(m.w_fte, dtype=float)
        w_reason = np.array(m.w_reason, dtype=object)
        # children
        c_id = _ids("C", len(m.c_area), 6)

        # referrals
        ref = np.array(m.ref, dtype=np.int64).reshape(-1, 4)
        r_id = _ids("R", len(ref), 7)
        r_src = np.array([s for s, _ in SOURCES], dtype=object)
        first = np.flatnonzero((ref[:, 1] >= self.f0_minus_12) & (ref[:, 1] < F0))
        r_months = self.by_month([np.arange(len(ref))], [ref[:, 1]], first, len(ref))

        # assessments
        asm = np.array(m.asm, dtype=np.int64).reshape(-1, 6)
        A = len(asm)
        a_id = _ids("A", A, 7)
        seg_e, seg_d, seg_w = self._flat(m.asm_segs)
        first = np.flatnonzero((asm[:, 2] < F0) & (asm[:, 3] >= F0))
        a_months = self.by_month([np.arange(A), np.arange(A), seg_e],
                                 [asm[:, 2], asm[:, 3], seg_d], first, A)
        a_keys = seg_e * (1 << 21) + (seg_d - self.d0)

        # cp plans
        cp = np.array(m.cp, dtype=np.int64).reshape(-1, 6)
        P = len(cp)
        p_id = _ids("CP", P, 6)
        pseg_e, pseg_d, pseg_w = self._flat(m.cp_segs)
        first = np.flatnonzero((cp[:, 1] < F0) & (cp[:, 2] >= F0))
        p_months = self.by_month([np.arange(P), np.arange(P), pseg_e],
                                 [cp[:, 1], cp[:, 2], pseg_d], first, P)
        p_keys = pseg_e * (1 << 21) + (pseg_d - self.d0)
        cats = np.array([c for c, _ in CATEGORIES], dtype=object)
        # children on a plan open at F0: their plan's start (for the involvement history)
        open_cp = {}
        for child, s, e, *_ in m.cp:
            if s < F0 <= e:
                open_cp[child] = min(s, open_cp.get(child, INF))

        # involvements
        inv = np.array([x[:5] for x in m.inv], dtype=np.int64).reshape(-1, 5)
        I_ = len(inv)
        i_id = _ids("I", I_, 7)
        i_reason = np.array([x[5] for x in m.inv], dtype=object)
        cp_start = np.array([open_cp.get(c, INF) for c in inv[:, 0].tolist()], dtype=np.int64)
        first = np.flatnonzero((inv[:, 2] < F0) & (
            (inv[:, 3] >= self.f0_minus_6) | (inv[:, 3] >= cp_start)))
        i_months = self.by_month([np.arange(I_), np.arange(I_)], [inv[:, 2], inv[:, 3]],
                                 first, I_)
        history_workers = set(inv[first, 1].tolist())

        # transfers
        trf = np.array(m.trf, dtype=np.int64).reshape(-1, 5)
        T = len(trf)
        t_id = _ids("T", T, 6)
        first = np.flatnonzero((trf[:, 2] < F0) & (trf[:, 3] >= F0))
        t_months = self.by_month([np.arange(T), np.arange(T)], [trf[:, 2], trf[:, 3]],
                                 first, T)

        # supervisions, audits
        sup = np.array(m.sup, dtype=np.int64).reshape(-1, 2)
        sup = sup[np.lexsort((sup[:, 0], sup[:, 1]))]
        s_id = _ids("S", len(sup), 7)
        first = np.flatnonzero((sup[:, 1] >= F0 - 42) & (sup[:, 1] < F0))
        s_months = self.by_month([np.arange(len(sup))], [sup[:, 1]], first, len(sup))
        aud = np.array(m.aud, dtype=np.int64).reshape(-1, 6)
        aud = aud[np.argsort(aud[:, 1], kind="stable")]
        au_id = _ids("AU", len(aud), 6)
        au_months = self.by_month([np.arange(len(aud))], [aud[:, 1]], None, len(aud))

        out = []
        for k, period in enumerate(m.periods):
            M0, M1 = self.month_starts[k], self.month_ends[k]
            sheets: dict[str, pd.DataFrame] = {}

            e = r_months[k]
            sheets["referrals"] = self._frame("referrals", {
                "referral_id": r_id[e], "child_id": c_id[ref[e, 0]],
                "referral_date": self.dates(ref[e, 1]), "area_office": self.areas[ref[e, 2]],
                "team": np.full(len(e), INTAKE_TEAM, dtype=object),
                "source": r_src[ref[e, 3]],
            })

            e = a_months[k]
            done = asm[e, 3] <= M1
            as_of = np.where(done, asm[e, 3] - 1, M1)
            as_of = np.maximum(as_of, asm[e, 2])
            wk = seg_w[np.searchsorted(a_keys, e * (1 << 21) + (as_of - self.d0), "right") - 1]
            sheets["assessments"] = self._frame("assessments", {
                "assessment_id": a_id[e], "child_id": c_id[asm[e, 0]],
                "assessment_type": np.where(asm[e, 1] == 1, "Core", "Initial").astype(object),
                "start_date": self.dates(asm[e, 2]), "completed_date": self.dates(asm[e, 3], M1),
                "child_seen": np.where(done, _FLAGS[asm[e, 4]], None),
                "area_office": self.areas[asm[e, 5]], "team": self.teams[w_team[wk]],
                "worker_id": w_id[wk],
            })

            e = p_months[k]
            as_of = np.minimum(cp[e, 2], M1)
            wk = pseg_w[np.searchsorted(p_keys, e * (1 << 21) + (as_of - self.d0), "right") - 1]
            sheets["cp_plans"] = self._frame("cp_plans", {
                "cp_plan_id": p_id[e], "child_id": c_id[cp[e, 0]],
                "start_date": self.dates(cp[e, 1]), "end_date": self.dates(cp[e, 2], M1),
                "category": cats[cp[e, 3]], "previous_plans": cp[e, 4].astype(float),
                "area_office": self.areas[cp[e, 5]], "team": self.teams[w_team[wk]],
                "worker_id": w_id[wk],
            })

            e = i_months[k]
            wk = inv[e, 1]
            sheets["involvements"] = self._frame("involvements", {
                "involvement_id": i_id[e], "child_id": c_id[inv[e, 0]], "worker_id": w_id[wk],
                "start_date": self.dates(inv[e, 2]), "end_date": self.dates(inv[e, 3], M1),
                "area_office": self.areas[inv[e, 4]], "team": self.teams[w_team[wk]],
                "change_reason": i_reason[e],
            })

            e = t_months[k]
            sheets["transfers"] = self._frame("transfers", {
                "transfer_id": t_id[e], "child_id": c_id[trf[e, 0]],
                "from_team": np.full(len(e), INTAKE_TEAM, dtype=object),
                "to_team": self.teams[trf[e, 1]], "requested_date": self.dates(trf[e, 2]),
                "accepted_date": self.dates(trf[e, 3], M1),
                "area_office": self.areas[trf[e, 4]],
            })

            in_post = (w_start <= M1) & (w_end >= M0)
            if k == 0:
                in_post |= (w_end >= self.f0_minus_12) & (w_start <= M1)
                if history_workers:
                    in_post[sorted(history_workers)] = True
            e = np.flatnonzero(in_post)
            ended = w_end[e] <= M1
            sheets["workforce"] = self._frame("workforce", {
                "worker_id": w_id[e], "area_office": w_area[e],
                "team": self.teams[w_team[e]], "role": w_role[e], "is_qualified": w_q[e],
                "is_agency": w_ag[e], "fte": w_fte[e], "start_date": self.dates(w_start[e]),
                "end_date": self.dates(w_end[e], M1),
                "leave_reason": np.where(ended, w_reason[e], None),
            })

            sheets["establishment"] = self._frame("establishment", {
                "team": np.array([t[0] for t in TEAMS], dtype=object),
                "area_office": np.array([t[1] for t in TEAMS], dtype=object),
                "funded_fte": np.array([t[2] for t in TEAMS], dtype=float),
            })

            e = au_months[k]
            ch = aud[e, 0]
            sheets["audits"] = self._frame("audits", {
                "audit_id": au_id[e],
                "child_id": np.where(ch >= 0, c_id[np.maximum(ch, 0)], None),
                "audit_date": self.dates(aud[e, 1]), "area_office": self.areas[aud[e, 2]],
                "subject": np.where(aud[e, 3] == 1, "cp_plan", "assessment").astype(object),
                "grade": _GRADES[aud[e, 4]],
                "is_smart": np.where(aud[e, 5] >= 0, _FLAGS[np.maximum(aud[e, 5], 0)], None),
            })

            e = s_months[k]
            sheets["supervisions"] = self._frame("supervisions", {
                "supervision_id": s_id[e], "worker_id": w_id[sup[e, 0]],
                "supervision_date": self.dates(sup[e, 1]),
            })
            out.append((period, sheets))
        return out

    @staticmethod
    def _flat(segs: list[list[tuple[int, int]]]):
        ent, day, wk = [], [], []
        for i, s in enumerate(segs):
            for d, w in s:
                ent.append(i)
                day.append(d)
                wk.append(w)
        return (np.array(ent, dtype=np.int64), np.array(day, dtype=np.int64),
                np.array(wk, dtype=np.int64))

    @staticmethod
    def _frame(sheet: str, cols: dict[str, np.ndarray]) -> pd.DataFrame:
        assert tuple(cols) == SHEET_COLUMNS[sheet], sheet
        return pd.DataFrame(cols)


# ------------------------------------------------------------------------------ public

def generate(first: str = "2010-04", last: str = "2012-03",
             seed: int = 2011) -> list[tuple[str, dict[str, pd.DataFrame]]]:
    """Each month's extract workbook content, from ``first`` to ``last`` (``YYYY-MM``).

    Returns ``[(period, {sheet: DataFrame})]`` in month order; the columns of each frame
    are exactly the extract spec's. Same arguments, same output.
    """
    model = _Model(first, last, seed).run()
    return _Emitter(model).build()


class _FixedTimeZip(zipfile.ZipFile):
    """A zip whose entries carry a fixed time, so the same content gives the same bytes."""

    _TIME = (2012, 4, 1, 0, 0, 0)

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo = zipfile.ZipInfo(zinfo_or_arcname, date_time=self._TIME)
            zinfo.compress_type = self.compression
            zinfo.external_attr = 0o600 << 16
            zinfo_or_arcname = zinfo
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        with open(filename, "rb") as fh:
            self.writestr(arcname or Path(filename).name, fh.read())


def write_workbook(sheets: dict[str, pd.DataFrame], path) -> Path:
    """Write one sheet per key (header row = column names) to an .xlsx file.

    Uses openpyxl in write-only mode; ``datetime.date`` values become Excel date cells
    with a date number format, missing values empty cells. The bytes depend only on the
    content (fixed document and zip times).
    """
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook(write_only=True)
    fixed = dt.datetime(2012, 4, 1)
    wb.properties.creator = "csc demo"
    wb.properties.created = fixed
    for name, df in sheets.items():
        ws = wb.create_sheet(title=name)
        ws.append([str(c) for c in df.columns])
        cols = []
        for c in df.columns:
            s = df[c]
            values = s.tolist()
            if s.dtype != object or s.hasnans:
                values = [None if (v is None or (isinstance(v, float) and v != v)) else v
                          for v in values]
            cols.append(values)
        for row in zip(*cols):
            ws.append(row)
    tmp = path.with_name(path.name + ".part")
    with _FixedTimeZip(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        wb.properties.modified = fixed
        ExcelWriter(wb, archive).save()
    tmp.replace(path)
    return path


def import_datetime(period: str, seed: int = 2011) -> dt.datetime:
    """When the demo council imports a month's extract (action A5's story).

    About 15 working days after the month end before May 2011, falling to about 4 by
    August 2011; a morning time of day.
    """
    y, m = _period(period)
    end = _month_end(y, m)
    years = range(end.year, end.year + 2)
    bank = holidays.country_holidays("GB", subdiv="ENG", years=years)
    rng = np.random.default_rng([seed, y, m])
    approx = end + dt.timedelta(days=14)
    share = _lin(approx.toordinal(), *(d.toordinal() for d in TIMELINESS_RAMP))
    lo = round(TIMELINESS_BEFORE[0] + (TIMELINESS_AFTER[0] - TIMELINESS_BEFORE[0]) * share)
    hi = round(TIMELINESS_BEFORE[1] + (TIMELINESS_AFTER[1] - TIMELINESS_BEFORE[1]) * share)
    n = int(rng.integers(lo, hi + 1))
    d = end
    while n > 0:
        d += dt.timedelta(days=1)
        if d.weekday() < 5 and d not in bank:
            n -= 1
    minute = int(rng.integers(0, 150))
    return dt.datetime(d.year, d.month, d.day, 9, 0) + dt.timedelta(minutes=minute)


def run_demo(db_path, first: str = "2010-04", last: str = "2012-03", out_dir=None,
             seed: int = 2011, progress: Callable[[int, int, str], None] | None = None,
             store=None) -> list:
    """Generate the demo council, write a workbook a month, and import them in order.

    The workbooks go to ``out_dir`` when given; by default to a private temporary folder (0700)
    removed afterwards, so nothing sits in the data folder in clear (the store keeps each import's
    file encrypted in ``uploads/``). They are imported through ``Store.import_file``,
    the path an analyst's upload takes, as user ``demo`` and at the time
    :func:`import_datetime` gives (action A5's story). ``store`` may be an already open
    ``csc.store.Store`` (e.g. the app's); otherwise ``db_path`` is opened and closed.
    ``progress(done, total, message)`` is called from the calling thread as it goes.
    Returns the import results; raises :class:`DemoImportError` if an import is refused.

    Writing (pure Python) runs in a background thread while the previous month imports
    (mostly native code), which keeps the whole run well inside a minute.
    """
    import queue
    import threading

    n = _count_months(first, last)  # also validates the periods
    total = 1 + n
    import shutil
    import tempfile

    db_path = Path(db_path) if db_path is not None else None
    scratch = None
    if out_dir is not None:
        out = Path(out_dir)
    else:
        out = scratch = Path(tempfile.mkdtemp(prefix="csc-demo-"))

    def tick(done: int, message: str):
        if progress is not None:
            progress(done, total, message)

    tick(0, "Generating the demo council")
    workbooks = generate(first, last, seed)
    written: queue.Queue = queue.Queue(maxsize=4)
    stop = threading.Event()

    def write_all():
        try:
            for period, sheets in workbooks:
                if stop.is_set():
                    return
                written.put((period, write_workbook(sheets, out / f"extract-{period}.xlsx"), None))
        except BaseException as exc:  # handed to the importing thread
            written.put((None, None, exc))

    own = store is None
    if own:
        from csc.store import Store  # imported here: generation does not need the store

        store = Store.open(db_path)
    writer = threading.Thread(target=write_all, name="demo-writer", daemon=True)
    results = []
    try:
        params = inspect.signature(store.import_file).parameters
        takes_time = "imported_at" in params or any(
            p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        writer.start()
        for k in range(n):
            period, path, exc = written.get()
            if exc is not None:
                raise exc
            tick(1 + k, f"Importing {period}")
            kwargs = {"period": period, "user": "demo"}
            if takes_time:
                kwargs["imported_at"] = import_datetime(period, seed)
            res = store.import_file(path, **kwargs)
            if getattr(res, "status", None) == "refused":
                errors = [p.message for p in getattr(res, "problems", [])
                          if getattr(p, "severity", "error") == "error"]
                raise DemoImportError(
                    f"the demo extract for {period} was refused: " + "; ".join(errors[:5]))
            results.append(res)
        tick(total, "Demo council loaded")
    finally:
        stop.set()
        if writer.is_alive():
            while writer.is_alive():
                try:
                    written.get(timeout=0.1)
                except queue.Empty:
                    pass
        if own:
            store.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return results


def _count_months(first: str, last: str) -> int:
    fy, fm = _period(first)
    ly, lm = _period(last)
    n = (ly - fy) * 12 + lm - fm + 1
    if n < 1:
        raise ValueError(f"last period {last} is before first period {first}")
    return n
