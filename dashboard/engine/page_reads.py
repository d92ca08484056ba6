"""The metrics each page's engine calls read (compute_kpis' `metrics`): the costly
statistics nobody reads — median reply time, e-mail stock, acts, staffing — are skipped.

Shared by the pages (pages/) and the benchmark (bench/pages.py), which must make the
same calls.
"""

from __future__ import annotations

from dashboard.metrics.definitions import SURVEY_METRICS, all_but

SURVEYS = tuple(sorted(SURVEY_METRICS))  # read by the review only
STAFFING = ("agent_hours", "occupancy", "handled_per_agent_hour", "agents_logged_in",
            "required_agents", "staffing_gap")
ACT_KEYS = ("acts", "acts_per_100_handled")

# Aujourd'hui: the intraday charts (calls, agents logged in and required, service level),
# the départements' table (with the stock), the agents' table (with acts and hours).
TODAY_SLOTS = ("offered", "answered", "abandoned", "agents_logged_in", "required_agents",
               "service_level")
# Its tiles (the day and the same weekday a week before), and whether the day had activity.
TODAY_TILES = ("received", "answer_rate", "service_level", "asa_seconds", "aht_seconds",
               "abandoned", "emails_received", "backlog", "reply_within_48h_rate", "acts",
               "offered", "deflected", "ivr_ended")
TODAY_DEPARTMENTS = all_but("median_reply_hours", *SURVEYS)
TODAY_AGENTS = all_but("median_reply_hours", "backlog", *SURVEYS)
# Campagnes: contacts received per day and half-hour.
CAMPAIGN_LOAD = all_but("median_reply_hours", "backlog", *ACT_KEYS, *STAFFING, *SURVEYS)
# Actes: acts and handled contacts.
ACTS = all_but("median_reply_hours", "backlog", *STAFFING, *SURVEYS)
# Actes: its tiles (acts, per 100 handled, online promotion, repeat contacts) and whether
# the period had activity.
ACTS_TOTAL = ("acts", "acts_per_100_handled", "online_promotion_rate", "repeat_contact_rate",
              "offered", "emails_received", "answered", "emails_replied")
# Effectifs: staffing and the calls behind it.
TEAM = all_but("median_reply_hours", "backlog", *ACT_KEYS, *SURVEYS)
# Accueil: the last day's calls, answer rate and e-mails, in all and per site.
HOME = ("received", "answer_rate", "emails_received")
# Bilan: sites and départements side by side (its tables, volumes and indicators charts);
# the review report reads every metric of them (staffing included) when it is built.
REVIEW_SIDES = ("received", "emails_received", "answer_rate", "service_level",
                "reply_within_48h_rate", "reply_within_5wd_rate", "aht_seconds",
                "acts_per_100_handled", "online_promotion_rate", "repeat_contact_rate")
# Bilan and its review report, by week and by campaign per département: the ramp-up and
# the campaign peaks read calls offered and the answer rate only.
REVIEW_WEEKS = ("offered", "answer_rate")
# Mes statistiques and its team medians: handled contacts, acts, whether one worked.
AGENT_OWN = all_but("median_reply_hours", "backlog", *STAFFING[1:], *SURVEYS)
