"""Which pages exist, at which URL, and for which roles."""

from __future__ import annotations

from dataclasses import dataclass

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


def page_url(role: str, page: PageDef) -> str:
    """The URL path of PAGE for ROLE: its role's first page is served at the root."""
    first = pages_for(role)[0] if pages_for(role) else None
    return "" if page == first else page.url_path


def page_file(path: str) -> str:
    """The absolute file path of the page at PATH ("pages/detail.py"), for st.page_link."""
    (page,) = [p for p in PAGES if p.path == path]
    return page.file
