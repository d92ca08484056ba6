"""The ground floor: settings (config), who sees which rows (access), what the user asked
for (filters: Filters, Overrides), local time, working days and French number and date
formatting, the contact statistics declared once (contact_stats), which reverse proxy
header mode believes (proxy_trust), and the pattern of imported codes (codes).

Used by every other layer; imports nothing from dashboard or queries outside core.
"""
