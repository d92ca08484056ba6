"""The service's header, drawn once by the app frame above every page: the service's name
and who is looking at what (role, site), a skip link for keyboard users, the page's
language, and the look of a state service (DSFR colours, Marianne where installed).

No DSFR asset is bundled: the DSFR's terms keep its files, the Marianne fonts and the
"République française" block to the State's own sites. Only colours and a font *name*
are used here, with system fonts behind it.
"""

from __future__ import annotations

import html

import streamlit as st

from dashboard.core.access import Scope
from dashboard.core.filters import Filters
from dashboard.ui import cache

SERVICE_NAME = "Tableau de bord des centres de contact"
SKIP_LABEL = "Aller au contenu"

_STYLE = """
<style>
.cc-banner { border-bottom: 1px solid #DDDDDD; padding: 0 0 0.5rem 0; margin: 0;
  display: flex; flex-wrap: wrap; align-items: baseline; gap: 0.25rem 1rem; }
.cc-banner__name { font-weight: 700; font-size: 1.25rem; color: #000091; margin: 0;
  border-left: 4px solid #000091; padding-left: 0.5rem; }
.cc-banner__context { color: #3A3A3A; margin: 0; font-size: 0.95rem; }
.cc-skip { position: absolute; left: 0.5rem; top: -4rem; z-index: 1000002;
  background: #FFFFFF; color: #000091; padding: 0.5rem 1rem; font-weight: 700;
  border: 2px solid #000091; text-decoration: underline; }
.cc-skip:focus { top: 0.5rem; }
/* A visible focus ring everywhere (RGAA 10.7), in the DSFR's focus blue. */
a:focus-visible, button:focus-visible, [tabindex]:focus-visible, input:focus-visible,
[role=option]:focus-visible { outline: 2px solid #0A76F6 !important; outline-offset: 2px; }
</style>
"""

# Runs in the page itself: French as the page language (RGAA 8.3), and a skip link
# placed first in the document so that the first Tab reaches it; it moves the focus to
# the page's title, past the menu and the filters.
_SCRIPT = """
<script>
(() => {
  document.documentElement.lang = "fr";
  if (document.getElementById("cc-skip")) return;
  const link = document.createElement("a");
  link.id = "cc-skip";
  link.className = "cc-skip";
  link.href = "#contenu";
  link.textContent = SKIP_LABEL;
  link.addEventListener("click", (event) => {
    event.preventDefault();
    const main = document.querySelector("[data-testid=stMain]");
    const target = (main && main.querySelector("h1")) || main;
    if (!target) return;
    target.setAttribute("tabindex", "-1");
    target.id = target.id || "contenu";
    target.focus();
    target.scrollIntoView({block: "start"});
  });
  document.body.insertBefore(link, document.body.firstChild);
})();
</script>
"""


def place(url: str, scope: Scope, filters: Filters | None) -> str | None:
    """The site(s) in view: the chosen ones, the scope's own, or "Tous les sites"."""
    if filters is None:
        return None
    periods = cache.coverage_periods(url)
    names = dict(zip(periods["site"], periods["site_name"]))
    sites = filters.sites or ((scope.site,) if scope.site else ())
    if not sites:
        return "Tous les sites" if scope.sees_all_sites else None
    return ", ".join(names.get(s, s) for s in sites)


def context_line(role_label: str, where: str | None) -> str:
    """"Superviseur de site · Rouen": the role, then the site(s) in view."""
    return " · ".join(part for part in (role_label, where) if part)


def render(role_label: str, where: str | None) -> None:
    """Draw the header at the top of the main area (once per run, by app.py)."""
    context = html.escape(context_line(role_label, where))
    st.html(
        _STYLE
        + '<div class="cc-banner">'
        + f'<p class="cc-banner__name">{html.escape(SERVICE_NAME)}</p>'
        + f'<p class="cc-banner__context">{context}</p>'
        + "</div>"
        + _SCRIPT.replace("SKIP_LABEL", repr(SKIP_LABEL)),
        unsafe_allow_javascript=True,
    )
