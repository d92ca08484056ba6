"""Données (admins): the imports journal with each import's rejected rows, the freshness of
the data per site and channel, the days a site was open but sent nothing, and the e-mails
`deliver` gave up on."""

import polars as pl
import streamlit as st

from dashboard.charts import exports
from dashboard.core import config
from dashboard.core import formatting as fmt
from dashboard.core import localtime
from dashboard.ui import cache, identity, widgets
from queries import imports

KINDS = {"contacts": "Contacts", "acts": "Actes", "agents": "Agents",
         "agent-sessions": "Sessions des agents",
         "local-reception": "Accueil des services locaux", "surveys": "Enquête usagers",
         "staff-surveys": "Baromètre des agents", "incidents": "Incidents des outils",
         "training": "Formations", "schedules": "Planning"}
STATUSES = {"loaded": "Chargé", "partial": "Chargé, avec rejets", "failed": "Échec"}
CHANNELS = {"phone": "Téléphone", "email": "Courriel"}


def fr_datetime(value) -> str:
    """29/03/2015 14:05 (a naive local datetime), "—" when missing."""
    if value is None:
        return fmt.MISSING
    return f"{fmt.fr_date(value.date())} {value:%H:%M}"


def texts(values, fn) -> pl.Series:
    return pl.Series([fn(v) for v in values], dtype=pl.String)


url = cache.db_url()
user, _ = identity.page_user()
if user.role != "admin":
    st.error("Cette page est réservée aux administrateurs.")
    st.stop()

st.title("Données")
st.caption("Les imports, leurs lignes rejetées, la fraîcheur des données et les jours "
           "sans données, par site et par canal.")

# -- imports journal ------------------------------------------------------------------------
st.header("Historique des imports")
history = cache.import_history(url)
if history.height == 0:
    st.info("Aucun import enregistré. Importez un export avec "
            "`python -m dashboard ingest contacts FICHIER.csv` (voir le README).")
else:
    table = pl.DataFrame({
        "N°": history["id"],
        "Début": texts(history["started_local"], fr_datetime),
        "Par": history["imported_by"].fill_null(fmt.MISSING),
        "Type": texts(history["kind"], lambda k: KINDS.get(k, k)),
        "Fichier": history["file_name"],
        "Source": history["source"],
        "Lues": texts(history["rows_read"], fmt.fr_number),
        "Insérées": texts(history["rows_inserted"], fmt.fr_number),
        "Mises à jour": texts(history["rows_updated"], fmt.fr_number),
        "Inchangées": texts(history["rows_unchanged"], fmt.fr_number),
        "Ignorées": texts(history["rows_skipped"], fmt.fr_number),
        "Rejetées": texts(history["rows_rejected"], fmt.fr_number),
        "Statut": texts(history["status"], lambda s: STATUSES.get(s, s)),
        "Message": history["message"].fill_null(""),
    })
    widgets.data_table(table)
    # The downloads carry numbers and dates, not the French text shown.
    counts = {"Lues": "rows_read", "Insérées": "rows_inserted", "Mises à jour": "rows_updated",
              "Inchangées": "rows_unchanged", "Ignorées": "rows_skipped",
              "Rejetées": "rows_rejected"}
    widgets.download_csv(table, "imports.csv", key="dl-imports", export=exports.Table(
        table.with_columns(history["started_local"].alias("Début"),
                           *(history[raw].alias(name) for name, raw in counts.items()))))

    st.subheader("Lignes rejetées")
    with_rejects = history.filter(pl.col("rows_rejected") > 0)
    if with_rejects.height == 0:
        st.caption("Aucun import n'a rejeté de ligne.")
    else:
        labels = {
            row["id"]: (f"N° {row['id']} · {fr_datetime(row['started_local'])} · "
                        f"{row['file_name']} · {fmt.fr_number(row['rows_rejected'])} rejet"
                        f"{'s' if row['rows_rejected'] > 1 else ''}")
            for row in with_rejects.iter_rows(named=True)
        }
        chosen = st.selectbox("Import", list(labels), format_func=labels.get,
                              key="quarantine-import")
        rejected = cache.quarantine_file(url, chosen)
        # The recorded path is shown as text (it is data, like the file's name).
        path = fmt.md_text(rejected.path)
        if rejected.content is not None:
            widgets.download_lines(rejected.content, rejected.name, key="dl-quarantine",
                                   label="Télécharger les lignes rejetées",
                                   sheet="Lignes rejetées")
            st.caption(f"Chaque ligne rejetée avec son numéro de ligne dans le fichier et la "
                       f"raison du rejet ; fichier {path}.")
        elif rejected.path is None:
            st.warning("Aucun fichier de rejets n'a été enregistré pour cet import.")
        elif rejected.reason == imports.GONE:
            st.warning(f"Le fichier des lignes rejetées n'existe plus : {path}.")
        elif rejected.reason == imports.OUTSIDE_FOLDER:
            st.warning(f"Le fichier enregistré pour cet import n'est pas dans le dossier des "
                       f"rejets ({fmt.md_text(config.quarantine_dir())}, réglage "
                       "`DASHBOARD_QUARANTINE_DIR`) : il n'est pas proposé. Fichier "
                       f"enregistré : {path}.")
        else:
            why = {imports.NOT_A_FILE: "ce n'est pas un fichier",
                   imports.TOO_BIG: f"trop volumineux, {fmt.md_text(rejected.detail)} octets",
                   imports.UNREADABLE: "illisible par le serveur"}.get(
                rejected.reason, "fichier inutilisable")
            st.warning(f"Le fichier des lignes rejetées ne peut pas être proposé ({why}) : "
                       f"{path}.")

# -- freshness ------------------------------------------------------------------------------
st.header("Fraîcheur des données")
fresh = cache.data_freshness(url)
if fresh.height == 0:
    st.info("Aucun contact dans la base pour l'instant.")
else:
    fresh_table = pl.DataFrame({
        "Site": fresh["site_name"],
        "Canal": texts(fresh["channel"], lambda c: CHANNELS.get(c, c)),
        "Contacts": texts(fresh["contacts"], fmt.fr_number),
        "Premier jour": texts(fresh["first_day"], fmt.fr_date),
        "Dernier jour": texts(fresh["last_day"], fmt.fr_date),
        "Dernier contact reçu (heure du site)": texts(fresh["last_received_local"],
                                                      fr_datetime),
        "Dernier import": texts(fresh["last_import_local"], fr_datetime),
    })
    widgets.data_table(fresh_table)
    fresh_export = fresh_table.with_columns(
        fresh["contacts"].alias("Contacts"), fresh["first_day"].alias("Premier jour"),
        fresh["last_day"].alias("Dernier jour"),
        fresh["last_received_local"].alias("Dernier contact reçu (heure du site)"),
        fresh["last_import_local"].alias("Dernier import"))
    widgets.download_csv(fresh_table, "fraicheur.csv", key="dl-freshness",
                         export=exports.Table(fresh_export))

# -- gaps -----------------------------------------------------------------------------------
st.header("Jours sans données")
gaps = cache.data_gaps(url)
until = fresh["last_day"].max() if fresh.height else None
st.caption("Jours où un site était ouvert (jours d'ouverture du site, hors jours fériés) et "
           "couvrait des départements, sans aucun contact d'un canal, depuis le premier "
           f"contact de ce canal jusqu'au {fmt.fr_date(until)}, dernier jour avec des "
           "données.")
if fresh.height == 0:
    pass
elif gaps.height == 0:
    st.success("Aucun jour manquant.")
else:
    names = dict(zip(fresh["site"], fresh["site_name"]))
    gap_table = pl.DataFrame({
        "Site": texts(gaps["site"], lambda s: names.get(s, s)),
        "Canal": texts(gaps["channel"], lambda c: CHANNELS.get(c, c)),
        "Du": texts(gaps["first_day"], fmt.fr_date),
        "Au": texts(gaps["last_day"], fmt.fr_date),
        "Jours ouvrés manquants": texts(gaps["missing_days"], fmt.fr_number),
    })
    total = int(gaps["missing_days"].sum())
    st.warning(f"{fmt.fr_number(total)} jour{'s' if total > 1 else ''} ouvré"
               f"{'s' if total > 1 else ''} sans données, en {fmt.fr_number(gaps.height)} "
               f"période{'s' if gaps.height > 1 else ''}.")
    widgets.data_table(gap_table)
    gap_export = gap_table.with_columns(
        gaps["first_day"].alias("Du"), gaps["last_day"].alias("Au"),
        gaps["missing_days"].alias("Jours ouvrés manquants"))
    widgets.download_csv(gap_table, "jours-sans-donnees.csv", key="dl-gaps",
                         export=exports.Table(gap_export))

# -- e-mails given up on ----------------------------------------------------------------------
st.header("Envois par courriel en échec")
failed = cache.failed_deliveries(url)
st.caption("Messages des abonnements (python -m dashboard deliver) abandonnés après "
           "leur dernière tentative, les plus récents d'abord. Heures de Paris.")
if failed.height == 0:
    st.success("Aucun envoi en échec.")
else:
    kinds = {"daily": "Quotidien", "weekly": "Hebdomadaire", "alert": "Alerte"}
    paris = localtime.to_local(pl.col("updated_at"), config.DEFAULT_TIMEZONE)
    failed_table = failed.with_columns(paris.alias("local")).select(
        pl.col("login").alias("Utilisateur"), pl.col("email").alias("Adresse"),
        texts(failed["kind"], lambda k: kinds.get(k, k)).alias("Envoi"),
        pl.col("period").alias("Période"),
        texts(failed["attempts"], fmt.fr_number).alias("Tentatives"),
        pl.col("error").fill_null(fmt.MISSING).alias("Dernière réponse"),
        pl.col("local").map_elements(fr_datetime, return_dtype=pl.String).alias("Abandonné le"),
    )
    st.warning(f"{fmt.fr_number(failed.height)} envoi{'s' if failed.height > 1 else ''} en "
               "échec : vérifiez l'adresse ou le serveur de courriel (DASHBOARD_SMTP_URL). "
               "Les périodes suivantes sont envoyées normalement.")
    widgets.data_table(failed_table)
