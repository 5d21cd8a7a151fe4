"""Folium map builders: data in, folium.Map out — no database, no web (see issue 6)."""
