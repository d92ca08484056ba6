"""The phone queue of a simulated site: a discrete-event simulation of one blended
multi-server FIFO queue with impatient callers (M/G/N+M), driven by the agents' sessions,
the agents taking e-mails between calls.
"""

from __future__ import annotations

import heapq
from collections import deque

EMAIL_URGENT_AGE = 40 * 3600
# (backlog age up to, an e-mail after every N calls) once the oldest e-mail is overdue
EMAIL_URGENT_EVERY = ((60 * 3600, 3), (96 * 3600, 2), (1 << 62, 1))
SATURATION_MIN, SATURATION_PER_AGENT = 3, 0.8


def _simulate_queue(call_t, call_patience, call_handle, email_t, email_handle,
                    sess_agent, sess_start, sess_end, tick_t, tick_n, n_agents):
    """Blended M/G/N+M FIFO queue driven by agent sessions; see the simulation docstring.

    All times are integer local seconds. At tick_t[k] the planner's phone reserve becomes
    tick_n[k]: agents take e-mails only while more than that many logged-in agents are left
    for calls (or when the oldest e-mail is overdue). Returns per call (state 1 answered,
    2 abandoned, 3 deflected; service start; agent) and per e-mail (start or -1; agent).
    """
    inf = 1 << 62
    n_calls, n_emails = len(call_t), len(email_t)
    state = [0] * n_calls
    start = [0] * n_calls
    served = [-1] * n_calls
    e_start = [-1] * n_emails
    e_agent = [-1] * n_emails
    # Events at the same second: logouts, then logins, then reserve ticks.
    events = sorted(
        [(e, 0, a, 0) for a, e in zip(sess_agent, sess_end)]
        + [(s, 1, a, e) for a, s, e in zip(sess_agent, sess_start, sess_end)]
        + [(t, 2, n, 0) for t, n in zip(tick_t, tick_n)]
    )
    logged = [False] * n_agents
    busy = [False] * n_agents
    on_email = [False] * n_agents
    session_end = [0] * n_agents
    since_email = [0] * n_agents
    idle: dict[int, None] = {}  # insertion-ordered: the longest idle agent first
    waiting: deque[int] = deque()
    deadlines: list[tuple[int, int]] = []
    backlog: deque[int] = deque()
    frees: list[tuple[int, int]] = []
    n_waiting = n_logged = n_emailing = 0
    reserve = 1
    ci = ei = si = 0
    n_events = len(events)

    def expire(t):
        nonlocal n_waiting
        while deadlines and deadlines[0][0] <= t:
            _, i = heapq.heappop(deadlines)
            if state[i] == 0:
                state[i] = 2
                n_waiting -= 1

    def take_email(a, t, urgent):
        """Agent A starts the oldest e-mail if allowed and if it ends within its session."""
        nonlocal n_emailing
        if not backlog or (not urgent and n_logged - n_emailing - 1 < reserve):
            return False
        j = backlog[0]
        if t + email_handle[j] > session_end[a]:
            return False
        backlog.popleft()
        e_start[j] = t
        e_agent[j] = a
        busy[a] = on_email[a] = True
        n_emailing += 1
        since_email[a] = 0
        heapq.heappush(frees, (t + email_handle[j], a))
        return True

    def answer(a, i, t):
        state[i] = 1
        start[i] = t
        served[i] = a
        busy[a] = True
        since_email[a] += 1
        heapq.heappush(frees, (t + call_handle[i], a))

    def dispatch(a, t):
        """Agent A is logged in and free at T: give it work or make it idle."""
        nonlocal n_waiting
        expire(t)
        # An overdue e-mail backlog gets every few tasks of each agent, calls or not, the
        # more often the older it is (a supervisor moves agents to the e-mails).
        if backlog:
            age = t - email_t[backlog[0]]
            if age > EMAIL_URGENT_AGE:
                every = next(n for limit, n in EMAIL_URGENT_EVERY if age <= limit)
                if since_email[a] >= every and take_email(a, t, True):
                    return
        if n_waiting:
            while True:
                i = waiting.popleft()
                if state[i] == 0:
                    break
            n_waiting -= 1
            answer(a, i, t)
            return
        if not take_email(a, t, False):
            idle[a] = None

    def idle_to_email(t):
        """Idle agents take e-mails while the reserve (or an overdue backlog) allows."""
        for a in list(idle):
            if not backlog:
                break
            urgent = t - email_t[backlog[0]] > EMAIL_URGENT_AGE
            if not urgent and n_logged - n_emailing - 1 < reserve:
                break
            if take_email(a, t, urgent):
                del idle[a]

    while True:
        tf = frees[0][0] if frees else inf
        ts = events[si][0] if si < n_events else inf
        te = email_t[ei] if ei < n_emails else inf
        tc = call_t[ci] if ci < n_calls else inf
        t = min(tf, ts, te, tc)
        if t == inf:
            break
        if tf == t:
            _, a = heapq.heappop(frees)
            busy[a] = False
            if on_email[a]:
                on_email[a] = False
                n_emailing -= 1
            if logged[a]:
                dispatch(a, t)
        elif ts == t:
            _, kind, a, end = events[si]
            si += 1
            if kind == 1:
                logged[a] = True
                n_logged += 1
                session_end[a] = end
                if not busy[a]:
                    dispatch(a, t)
            elif kind == 0:
                logged[a] = False
                n_logged -= 1
                idle.pop(a, None)
            else:
                reserve = a
                idle_to_email(t)
        elif te == t:
            backlog.append(ei)
            ei += 1
            if idle and len(backlog) == 1:
                # Idle agents with an older backlog waiting are held back by the reserve.
                idle_to_email(t)
        else:
            i = ci
            ci += 1
            expire(t)
            if idle:
                a = next(iter(idle))
                del idle[a]
                answer(a, i, t)
            elif n_waiting >= max(SATURATION_MIN, int(SATURATION_PER_AGENT * n_logged)):
                state[i] = 3
            else:
                waiting.append(i)
                heapq.heappush(deadlines, (t + call_patience[i], i))
                n_waiting += 1
    expire(inf)
    return state, start, served, e_start, e_agent
