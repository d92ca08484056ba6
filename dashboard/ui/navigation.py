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
    PageDef("views/accueil.py", "Accueil", ":material/home:", "accueil", MANAGERS, "Vue d'ensemble"),
    PageDef("views/aujourdhui.py", "Aujourd'hui", ":material/today:", "aujourdhui", MANAGERS,
            "Pilotage du site"),
    PageDef("views/campagnes.py", "Campagnes", ":material/stacked_line_chart:", "campagnes",
            MANAGERS, "Pilotage du site"),
    PageDef("views/actes.py", "Actes de gestion", ":material/task_alt:", "actes", MANAGERS,
            "Pilotage du site"),
    PageDef("views/detail.py", "Détail des contacts", ":material/table_rows:", "detail",
            MANAGERS, "Pilotage du site"),
    PageDef("views/bilan.py", "Bilan des pilotes", ":material/summarize:", "bilan",
            ("national", "admin"), "Direction nationale"),
    PageDef("views/effectifs.py", "Effectifs", ":material/groups:", "effectifs",
            ("supervisor", "national", "admin"), "Direction nationale"),
    PageDef("views/mes_statistiques.py", "Mes statistiques", ":material/person:",
            "mes-statistiques", ("agent",), "Mon activité"),
    PageDef("views/donnees.py", "Données", ":material/database:", "donnees", ("admin",),
            "Administration"),
)


def pages_for(role: str) -> list[PageDef]:
    """The pages a role may open, in menu order."""
    return [p for p in PAGES if role in p.roles]


def page_url(role: str, page: PageDef) -> str:
    """The URL path of PAGE for ROLE: its role's first page is served at the root."""
    first = pages_for(role)[0] if pages_for(role) else None
    return "" if page == first else page.url_path
