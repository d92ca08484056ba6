"""Which pages exist, at which URL, and for which roles.

Every page opens at its own path (/accueil, /mes-statistiques…) and a role's home also at
the root. A path that is no page, or a page of another role, opens the role's home with a
French message: Streamlit would otherwise show its English "Page not found" dialog.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

# pages/ sits at the project root, never beside the entry script (dashboard/ui/app.py):
# there Streamlit would serve it as a version-1 multipage app before the process's first
# st.navigation call, without the frame.
from dashboard.core.config import ROOT


@dataclass(frozen=True)
class PageDef:
    """One page of the app."""

    path: str  # relative to the project root, e.g. "pages/accueil.py"
    title: str
    icon: str
    url_path: str
    roles: tuple[str, ...]
    section: str

    @property
    def file(self) -> str:
        """The page's absolute file path, as st.Page, st.page_link and AppTest take it."""
        return str(ROOT / self.path)


MANAGERS = ("supervisor", "national", "admin")

PAGES: tuple[PageDef, ...] = (
    PageDef("pages/accueil.py", "Accueil", ":material/home:", "accueil", MANAGERS,
            "Vue d'ensemble"),
    PageDef("pages/aujourdhui.py", "Aujourd'hui", ":material/today:", "aujourdhui", MANAGERS,
            "Pilotage du site"),
    PageDef("pages/campagnes.py", "Campagnes", ":material/stacked_line_chart:", "campagnes",
            MANAGERS, "Pilotage du site"),
    PageDef("pages/actes.py", "Actes de gestion", ":material/task_alt:", "actes", MANAGERS,
            "Pilotage du site"),
    PageDef("pages/detail.py", "Détail des contacts", ":material/table_rows:", "detail",
            MANAGERS, "Pilotage du site"),
    PageDef("pages/bilan.py", "Bilan des pilotes", ":material/summarize:", "bilan",
            ("national", "admin"), "Direction nationale"),
    PageDef("pages/effectifs.py", "Effectifs", ":material/groups:", "effectifs",
            ("supervisor", "national", "admin"), "Direction nationale"),
    PageDef("pages/mes_statistiques.py", "Mes statistiques", ":material/person:",
            "mes-statistiques", ("agent",), "Mon activité"),
    PageDef("pages/donnees.py", "Données", ":material/database:", "donnees", ("admin",),
            "Administration"),
)


def pages_for(role: str) -> list[PageDef]:
    """The pages a role may open, in menu order."""
    return [p for p in PAGES if role in p.roles]


def home(role: str) -> PageDef | None:
    """The role's home: its first page, also served at the root URL."""
    pages = pages_for(role)
    return pages[0] if pages else None


def page_url(role: str, page: PageDef) -> str:
    """The URL path the app's own links use for PAGE: the root for ROLE's home (the menu's
    entry for it), the page's own path otherwise. Its own path opens it too."""
    return "" if page == home(role) else page.url_path


UNKNOWN_PAGE = "Cette page n'existe pas. Voici votre page d'accueil."
FORBIDDEN_PAGE = "Cette page n'est pas accessible avec votre rôle. Voici votre page d'accueil."


def refusal(role: str, path: str) -> str | None:
    """The French message for URL path PATH ("", "bilan", "nimportequoi") when ROLE cannot
    open it, or None for the root and the role's own pages."""
    if path == "" or path in {p.url_path for p in pages_for(role)}:
        return None
    if path in {p.url_path for p in PAGES}:
        return FORBIDDEN_PAGE
    return UNKNOWN_PAGE


def registrable(path: str) -> bool:
    """Whether st.Page can take PATH as its url_path unchanged (no slash, no edge space)."""
    return bool(path) and "/" not in path and path == path.strip()


def requested_path() -> str:
    """The URL path the browser asked for on this run ("" for the root or on a rerun,
    where the browser names the page by its hash instead)."""
    # Streamlit's own record of the path it is about to resolve (no public API gives it
    # before st.navigation; st.context.url is rewritten with the previous run's pages).
    ctx = get_script_run_ctx()
    return (ctx.pages_manager.intended_page_name or "") if ctx else ""


def st_pages(role: str, stand_in: str | None = None) -> dict[str, list[st.Page]]:
    """The st.navigation sections for ROLE: the home at the root (its menu entry) and,
    hidden, at its own path; every other page of the role at its own path. With STAND_IN,
    a hidden page at that path that runs the home, so that Streamlit finds a page there
    and never runs a page the role may not open."""
    first = home(role)
    sections: dict[str, list[st.Page]] = {}
    for page in pages_for(role):
        entries = sections.setdefault(page.section, [])
        if page == first:
            entries.append(st.Page(page.file, title=page.title, icon=page.icon,
                                   url_path="", default=True))
            entries.append(st.Page(page.file, title=page.title, icon=page.icon,
                                   url_path=page.url_path, visibility="hidden"))
        else:
            entries.append(st.Page(page.file, title=page.title, icon=page.icon,
                                   url_path=page.url_path))
    if first is not None and stand_in and registrable(stand_in) and refusal(role, stand_in):
        sections[first.section].append(st.Page(first.file, title=first.title, icon=first.icon,
                                                url_path=stand_in, visibility="hidden"))
    return sections


def page_file(path: str) -> str:
    """The absolute file path of the page at PATH ("pages/detail.py"), for st.page_link."""
    (page,) = [p for p in PAGES if p.path == path]
    return page.file
