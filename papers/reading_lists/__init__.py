"""Reading lists into a club: read the text (`parse`, `text`, `items`), plan the import
against the catalog (`plan`), write it (`services`). Writing a list out is
`writer` (the README and .bib text) and `export` (a club's list, grouped for them).
"""
