"""Pure geometry for the registry: CRS, Chinese map-service coordinates, file reading, checks.

Nothing here touches the database or the web layer.
"""
