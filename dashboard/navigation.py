"""Which pages exist, at which URL, and for which roles."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageDef:
    """One page of the app."""

    path: str
    title: str
    icon: str
    url_path: str
    roles: tuple[str, ...]
    section: str


MANAGERS = ("supervisor", "national", "admin")

PAGES: tuple[PageDef, ...] = (
    PageDef("pages/accueil.py", "Accueil", ":material/home:", "accueil", MANAGERS, "Vue d'ensemble"),
    PageDef("pages/aujourdhui.py", "Aujourd'hui", ":material/today:", "aujourdhui", MANAGERS,
            "Pilotage du site"),
    PageDef("pages/campagnes.py", "Campagnes", ":material/stacked_line_chart:", "campagnes",
            MANAGERS, "Pilotage du site"),
    PageDef("pages/actes.py", "Actes de gestion", ":material/task_alt:", "actes", MANAGERS,
            "Pilotage du site"),
    PageDef("pages/bilan.py", "Bilan des pilotes", ":material/summarize:", "bilan",
            ("national", "admin"), "Direction nationale"),
    PageDef("pages/effectifs.py", "Effectifs", ":material/groups:", "effectifs",
            ("supervisor", "national", "admin"), "Direction nationale"),
    PageDef("pages/mes_statistiques.py", "Mes statistiques", ":material/person:",
            "mes-statistiques", ("agent",), "Mon activité"),
)


def pages_for(role: str) -> list[PageDef]:
    """The pages a role may open, in menu order."""
    return [p for p in PAGES if role in p.roles]


def page_url(role: str, page: PageDef) -> str:
    """The URL path of PAGE for ROLE: its role's first page is served at the root."""
    first = pages_for(role)[0] if pages_for(role) else None
    return "" if page == first else page.url_path
