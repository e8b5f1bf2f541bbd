"""Reading lists into a club: read the text (`parse`, `text`, `items`), plan the import
against the catalog (`plan`), write it (`services`). Writing a list out is
`papers.reading_list`.
"""
